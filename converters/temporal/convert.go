package temporal

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/format"
	"go/token"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/dave/dst/decorator"
	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// DurablePath is the import path of the runtime that converted code targets.
const DurablePath = "github.com/durablego/toolkit/runtime/durable"

// DurableTestPath is the import path of the test environment converted tests use.
const DurableTestPath = "github.com/durablego/toolkit/runtime/durabletest"

// ToolkitModule is the module converted code must require.
const ToolkitModule = "github.com/durablego/toolkit"

// Options configures [Convert] and [Analyze].
type Options struct {
	// Dir is the directory the patterns are relative to; empty means the
	// current directory.
	Dir string
	// Patterns are go/packages patterns such as "./...".
	Patterns []string
	// Env, when set, replaces the environment of the go command.
	Env []string
	// Tags are build tags (go build -tags) the files to convert need.
	Tags []string
	// ProgressFunc, when set, is called once the packages are loaded and
	// after each file is converted, with the files done and the total.
	ProgressFunc func(done, total int)
	// Store is how converted worker and client programs open their store:
	// StoreDSN (durable.Open on $DURABLE_DSN, the default when empty),
	// StoreSQLite or StorePostgres (durable.New on that backend's store,
	// for programs that link one backend).
	Store StoreKind

	// partial drops the errors of packages that do not type-check from
	// the result (tests of golden outputs against an unfinished runtime).
	partial bool
}

// File is one source file the conversion changed.
type File struct {
	// Path is the file's absolute path.
	Path      string
	Original  []byte
	Converted []byte
}

// Result is the outcome of [Convert]. Nothing is written until the caller
// asks for it with [Result.Write] or [Result.WriteTree].
type Result struct {
	// Files are the files the conversion changed, sorted by path. Files of
	// a package that does not load or type-check are never among them.
	Files []*File
	// Findings are the places left for a person (SeverityTODO) and notes.
	Findings []Finding
	// Errors are load, type and internal errors. The packages they name are
	// left as they are; the other packages are converted.
	Errors []Finding
	// Broken are the import paths of the packages left unconverted because
	// of Errors.
	Broken []string
	// Uses counts every Temporal API the input referenced, by "pkg.Name".
	Uses map[string]int
	// GoGet, when not empty, is the command that adds the runtime requirement
	// to a module whose converted code needs it.
	GoGet []string

	// SourceFiles are every Go file of the loaded packages, for WriteTree.
	SourceFiles []string
	// Root is the directory WriteTree paths are relative to.
	Root string
}

// FollowUps reports how many places need a person.
func (r *Result) FollowUps() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == SeverityTODO {
			n++
		}
	}
	return n
}

// Convert loads the packages matched by opts.Patterns and converts them in
// memory. It returns an error only when opts are invalid or the go command
// cannot run at all; problems in the code are reported in Result.Errors.
func Convert(ctx context.Context, opts Options) (*Result, error) {
	if opts.Store == "" {
		opts.Store = StoreDSN
	}
	if !slices.Contains(StoreKinds(), opts.Store) {
		return nil, fmt.Errorf("convert: unknown store %q (want dsn, sqlite or postgres)", opts.Store)
	}
	l, err := load(ctx, opts)
	if err != nil {
		return nil, err
	}
	for i := range l.units {
		l.units[i].store = opts.Store
	}
	res := &Result{Uses: map[string]int{}, Root: l.root, SourceFiles: l.allFiles, Errors: l.errors, Broken: l.broken}
	modsNeeding := map[*packages.Module]bool{}
	progress := func(done int) {
		if opts.ProgressFunc != nil {
			opts.ProgressFunc(done, len(l.units))
		}
	}
	progress(0)
	done := 0
	for _, group := range groupUnits(l.units) {
		if len(group[0].pkg.Errors) > 0 {
			done += len(group)
			progress(done)
			continue
		}
		uses := map[string]int{}
		files, findings, errs := convertPackage(group, uses)
		for k, v := range uses {
			res.Uses[k] += v
		}
		res.Findings = append(res.Findings, findings...)
		if len(errs) > 0 {
			// An internal error leaves the whole package as it is.
			res.Errors = append(res.Errors, errs...)
			res.Broken = append(res.Broken, group[0].pkg.PkgPath)
			files = nil
		}
		for _, f := range files {
			res.Files = append(res.Files, f.file)
			if f.unit.pkg.Module != nil && bytes.Contains(f.file.Converted, []byte(`"`+ToolkitModule+"/")) {
				modsNeeding[f.unit.pkg.Module] = true
			}
		}
		done += len(group)
		progress(done)
	}
	progress(len(l.units))
	sortFindings(res.Findings)
	sortFindings(res.Errors)
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	for mod := range modsNeeding {
		if hint := goGetHint(mod); hint != "" && !slices.Contains(res.GoGet, hint) {
			res.GoGet = append(res.GoGet, hint)
		}
	}
	if opts.partial {
		res.Errors, res.Broken = nil, nil
	}
	sort.Strings(res.Broken)
	res.Broken = slices.Compact(res.Broken)
	sort.Strings(res.GoGet)
	return res, nil
}

// goGetHint returns the command that adds the runtime to mod's
// requirements, or "" when mod is the toolkit itself or already requires
// (or replaces) it.
func goGetHint(mod *packages.Module) string {
	if mod.Path == ToolkitModule || mod.GoMod == "" {
		return ""
	}
	data, err := os.ReadFile(mod.GoMod)
	if err != nil {
		return ""
	}
	f, err := modfile.ParseLax(mod.GoMod, data, nil)
	if err != nil {
		return ""
	}
	for _, r := range f.Require {
		if r.Mod.Path == ToolkitModule {
			return ""
		}
	}
	for _, r := range f.Replace {
		if r.Old.Path == ToolkitModule {
			return ""
		}
	}
	return fmt.Sprintf("cd %s && go get %s@latest", filepath.Dir(mod.GoMod), ToolkitModule)
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// groupUnits splits units by package variant, keeping their order.
func groupUnits(units []unit) [][]unit {
	index := map[*packages.Package]int{}
	var groups [][]unit
	for _, u := range units {
		i, ok := index[u.pkg]
		if !ok {
			i = len(groups)
			index[u.pkg] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], u)
	}
	return groups
}

type convertedFile struct {
	unit unit
	file *File
}

// convertPackage converts the files of one package variant with the typed
// rules; when they leave a TODO that the shaped conversion may avoid, the
// whole package is converted again in Temporal's shape (package shaped),
// since futures and channels cross functions and files, and the result
// with fewer TODOs is kept.
func convertPackage(group []unit, uses map[string]int) (files []convertedFile, findings, errs []Finding) {
	typedUses := map[string]int{}
	files, findings, errs = convertGroup(group, Suite, typedUses)
	if len(errs) == 0 && needsShaped(findings) {
		sfiles, sfindings, serrs := convertGroup(group, shapedSuite(), map[string]int{})
		if len(serrs) == 0 && countTODO(sfindings) < countTODO(findings) {
			files, findings = sfiles, sfindings
		}
	}
	for k, v := range typedUses {
		uses[k] += v
	}
	return files, findings, errs
}

// convertGroup converts the files of one package with the given rules.
func convertGroup(group []unit, suite []rule, uses map[string]int) (files []convertedFile, findings, errs []Finding) {
	dec := new(*decorator.Decorator)
	for _, u := range group {
		u.dec = dec
		f, fs, err := convertFile(u, suite, uses)
		findings = append(findings, fs...)
		if err != nil {
			errs = append(errs, newFinding(token.Position{Filename: u.filename}, "convert", SeverityError, err.Error(), ""))
			continue
		}
		if f != nil {
			files = append(files, convertedFile{u, f})
		}
	}
	return files, findings, errs
}

// unit is one source file to convert, with the package variant that owns it.
type unit struct {
	pkg      *packages.Package
	file     *ast.File
	filename string
	// mocksDir is set when a Go file of the unit's directory imports
	// Temporal's mocks (see mocksRule).
	mocksDir bool
	dec      **decorator.Decorator // shared by the files of one package in one conversion
	store    StoreKind             // Options.Store
}

type loaded struct {
	units    []unit
	errors   []Finding
	broken   []string
	allFiles []string
	root     string
}

// load runs go/packages once and picks, for every file, one package variant
// that contains it: the in-package test variant "p [p.test]" covers both p's
// files and its _test.go files, so it goes first.
func load(ctx context.Context, opts Options) (*loaded, error) {
	cfg := &packages.Config{
		Mode:    packages.LoadSyntax | packages.NeedModule,
		Context: ctx,
		Dir:     opts.Dir,
		Env:     opts.Env,
		Tests:   true,
	}
	if len(opts.Tags) > 0 {
		cfg.BuildFlags = []string{"-tags=" + strings.Join(opts.Tags, ",")}
	}
	patterns := opts.Patterns
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	// listLoad type-checks the packages without compiling them; should the
	// go command's output not be what it expects, go/packages loads them.
	pkgs, err := listLoad(ctx, cfg, patterns)
	if err != nil {
		pkgs, err = packages.Load(cfg, patterns...)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", strings.Join(patterns, " "), err)
	}
	root := opts.Dir
	if root == "" {
		root, _ = os.Getwd()
	}
	root, _ = filepath.Abs(root)
	l := &loaded{root: root}
	var keep []*packages.Package
	for _, p := range pkgs {
		if strings.HasSuffix(p.ID, ".test") {
			continue // the generated test main
		}
		keep = append(keep, p)
	}
	sort.SliceStable(keep, func(i, j int) bool { return len(keep[i].Syntax) > len(keep[j].Syntax) })
	seenErr := map[string]bool{}
	claimed := map[string]bool{}
	for _, p := range keep {
		if len(p.Errors) > 0 {
			l.broken = append(l.broken, p.PkgPath)
		}
		for _, e := range p.Errors {
			if e.Kind == packages.ListError && strings.HasPrefix(e.Msg, "# ") && len(p.Errors) > 1 {
				continue // the go command's summary of the type errors listed beside it
			}
			pos := parsePos(e.Pos)
			if pos.Filename == "" {
				pos.Filename = p.PkgPath
			}
			f := newFinding(pos, "load", SeverityError, e.Msg, "")
			if !seenErr[f.String()] {
				seenErr[f.String()] = true
				l.errors = append(l.errors, f)
			}
		}
		for i, af := range p.Syntax {
			if i >= len(p.CompiledGoFiles) {
				break
			}
			name := p.CompiledGoFiles[i]
			if claimed[name] || !strings.HasSuffix(name, ".go") {
				continue
			}
			claimed[name] = true
			l.allFiles = append(l.allFiles, name)
			l.units = append(l.units, unit{pkg: p, file: af, filename: name})
		}
	}
	sort.Strings(l.allFiles)
	sort.SliceStable(l.units, func(i, j int) bool { return l.units[i].filename < l.units[j].filename })
	mocks := map[string]bool{}
	for i := range l.units {
		dir := filepath.Dir(l.units[i].filename)
		uses, ok := mocks[dir]
		if !ok {
			uses = dirUsesTemporalMocks(dir)
			mocks[dir] = uses
		}
		l.units[i].mocksDir = uses
	}
	return l, nil
}

// parsePos parses the "file:line:col" of a packages.Error.
func parsePos(s string) token.Position {
	var pos token.Position
	parts := strings.Split(s, ":")
	if len(parts) >= 3 {
		fmt.Sscan(parts[len(parts)-1], &pos.Column)
		fmt.Sscan(parts[len(parts)-2], &pos.Line)
		pos.Filename = strings.Join(parts[:len(parts)-2], ":")
	} else if len(parts) == 2 {
		fmt.Sscan(parts[1], &pos.Line)
		pos.Filename = parts[0]
	} else {
		pos.Filename = s
	}
	return pos
}

func importsTemporal(f *ast.File) bool {
	for _, imp := range f.Imports {
		if strings.HasPrefix(strings.Trim(imp.Path.Value, `"`), temporalPrefix) {
			return true
		}
	}
	return false
}

// convertFile runs the Suite over one file. It returns nil when nothing changed.
func convertFile(u unit, suite []rule, uses map[string]int) (f *File, findings []Finding, err error) {
	if !importsTemporal(u.file) {
		return nil, nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if *u.dec == nil {
		*u.dec = decorator.NewDecoratorFromPackage(u.pkg)
	}
	dec := *u.dec
	df, err := dec.DecorateFile(u.file)
	if err != nil {
		return nil, nil, fmt.Errorf("decorate: %w", err)
	}
	p := newPass(u, dec, df)
	p.shaped = isShaped(suite)
	p.countUses(uses)
	for _, r := range suite {
		p.rule = r.Name
		p.parents = nil
		r.Run(p)
	}
	p.keepUnread()
	findings = p.findings
	if !p.dirty {
		return nil, findings, nil
	}
	orig, err := os.ReadFile(u.filename)
	if err != nil {
		return nil, findings, err
	}
	out, err := p.restore()
	if err != nil {
		return nil, findings, err
	}
	if bytes.Equal(orig, out) {
		return nil, findings, nil
	}
	return &File{Path: u.filename, Original: orig, Converted: out}, findings, nil
}

func (p *pass) restore() ([]byte, error) {
	r := decorator.NewRestorerWithImports(p.pkg.PkgPath, p.resolver())
	fr := r.FileRestorer()
	// A package that declares a name one of the toolkit's packages goes by
	// (a func replay, a var durable) imports that package under another
	// name; the restorer only avoids clashes between imports.
	for _, path := range []string{DurablePath, ShapedPath, DurableTestPath, CompatPath, ReplayPath} {
		name := path[strings.LastIndexByte(path, '/')+1:]
		if p.pkg.Types != nil && p.pkg.Types.Scope().Lookup(name) != nil {
			fr.Alias[path] = name + "pkg"
		}
	}
	af, err := fr.RestoreFile(p.file)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, r.Fset, af); err != nil {
		return nil, fmt.Errorf("print: %w", err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt converted code: %w", err)
	}
	return out, nil
}

// Write replaces every converted file in place. Each file is written to a
// temporary file in its directory and renamed over the original, so a reader
// sees either the old or the new content.
//
// Packages listed in Broken are not among the files and stay untouched.
func (r *Result) Write() error {
	for _, f := range r.Files {
		if err := writeAtomic(f.Path, f.Converted); err != nil {
			return err
		}
	}
	return nil
}

// WriteTree writes every source file of the loaded packages below dir, at its
// path relative to Root: converted content where the conversion changed it,
// the original otherwise. go.mod and go.sum files next to those sources are
// copied too.
func (r *Result) WriteTree(dir string) error {
	changed := map[string][]byte{}
	for _, f := range r.Files {
		changed[f.Path] = f.Converted
	}
	copyFile := func(src string) error {
		rel, err := filepath.Rel(r.Root, src)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("write %s: outside %s", src, r.Root)
		}
		data, ok := changed[src]
		if !ok {
			if data, err = os.ReadFile(src); err != nil {
				return err
			}
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return writeAtomic(dst, data)
	}
	for _, name := range r.SourceFiles {
		if err := copyFile(name); err != nil {
			return err
		}
	}
	for _, extra := range []string{"go.mod", "go.sum"} {
		if _, err := os.Stat(filepath.Join(r.Root, extra)); err == nil {
			if err := copyFile(filepath.Join(r.Root, extra)); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".migrate-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
