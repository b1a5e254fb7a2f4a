package temporal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/tools/go/packages"
)

// listLoad loads the packages patterns match, test variants included,
// parsed and type-checked from source, as packages.Load does with
// LoadSyntax, but without compiling them.
//
// packages.Load asks `go list -export` for the export data of every
// package it lists, so the go command compiles the matched packages too,
// main packages and test variants included, although their types come
// from source: on a module of a few hundred packages that is most of the
// conversion's time, and more than `go vet` spends (it compiles only what
// other packages import). Here `go list` runs without -export for the
// module's packages, `go list -export` only for the packages outside the
// module they import (which the build cache keeps from one run to the
// next), and the module's packages are type-checked from source in
// dependency order, imports of the module's own packages resolved to the
// packages checked here.
func listLoad(ctx context.Context, cfg *packages.Config, patterns []string) ([]*packages.Package, error) {
	listed, err := goList(ctx, cfg, append([]string{"-e", "-json=ImportPath,Name,Dir,Standard,Module,CompiledGoFiles,Imports,ImportMap,ForTest,DepOnly,Error,Incomplete",
		"-compiled=true", "-test=true", "-deps=true", "-find=false"}, cfg.BuildFlags...), patterns)
	if err != nil {
		return nil, err
	}
	byID := map[string]*listedPackage{}
	for _, p := range listed {
		byID[p.ImportPath] = p
		for i, f := range p.CompiledGoFiles {
			if !filepath.IsAbs(f) {
				p.CompiledGoFiles[i] = filepath.Join(p.Dir, f)
			}
		}
	}
	local := func(p *listedPackage) bool {
		return p != nil && !p.Standard && p.Module != nil && p.Module.Main && !strings.HasSuffix(p.ImportPath, ".test")
	}
	external := map[string]bool{}
	for _, p := range listed {
		if !local(p) {
			continue
		}
		for _, id := range p.Imports {
			if id != "unsafe" && id != "C" && !local(byID[id]) {
				external[id] = true
			}
		}
	}
	exports, err := exportFiles(ctx, cfg, external)
	if err != nil {
		return nil, err
	}

	fset := token.NewFileSet()
	if cfg.Fset != nil {
		fset = cfg.Fset
	}
	var (
		impMu sync.Mutex
		gc    = importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
			f := exports[path]
			if f == "" {
				return nil, fmt.Errorf("no export data for %s", path)
			}
			return os.Open(f)
		})
	)
	goarch := runtime.GOARCH
	for _, kv := range cfg.Env {
		if v, ok := strings.CutPrefix(kv, "GOARCH="); ok && v != "" {
			goarch = v
		}
	}
	sizes := types.SizesFor("gc", goarch)

	// One checker per local package, each waiting for the local packages
	// it imports.
	type result struct {
		pkg  *packages.Package
		done chan struct{}
	}
	results := map[string]*result{}
	for _, p := range listed {
		if local(p) {
			results[p.ImportPath] = &result{done: make(chan struct{})}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, p := range listed {
		if !local(p) {
			continue
		}
		r := results[p.ImportPath]
		g.Go(func() error {
			defer close(r.done)
			for _, id := range p.Imports {
				if dep := results[id]; dep != nil {
					select {
					case <-dep.done:
					case <-gctx.Done():
						return gctx.Err()
					}
				}
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			r.pkg = checkListed(p, fset, sizes, func(id string) (*types.Package, error) {
				if id == "unsafe" {
					return types.Unsafe, nil
				}
				if dep := results[id]; dep != nil {
					if dep.pkg == nil || dep.pkg.Types == nil {
						return nil, fmt.Errorf("%s did not load", id)
					}
					return dep.pkg.Types, nil
				}
				impMu.Lock()
				defer impMu.Unlock()
				return gc.Import(id)
			})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var roots []*packages.Package
	for _, p := range listed {
		if p.DepOnly || !local(p) {
			continue
		}
		pkg := results[p.ImportPath].pkg
		imported := map[string]*types.Package{}
		if pkg.Types != nil {
			for _, t := range pkg.Types.Imports() {
				imported[t.Path()] = t
			}
		}
		pkg.Imports = map[string]*packages.Package{}
		for path, id := range importPaths(p) {
			if r := results[id]; r != nil {
				pkg.Imports[path] = r.pkg
				continue
			}
			// A package from export data: its name and types, as
			// go/packages gives them, for the decorator's name resolution.
			stub := &packages.Package{ID: id, PkgPath: id}
			if t := imported[id]; t != nil {
				stub.Name, stub.Types = t.Name(), t
			}
			pkg.Imports[path] = stub
		}
		roots = append(roots, pkg)
	}
	return roots, nil
}

// listedPackage is what `go list -json` says of a package.
type listedPackage struct {
	ImportPath      string
	Name            string
	Dir             string
	Standard        bool
	Module          *packages.Module
	CompiledGoFiles []string
	Imports         []string
	ImportMap       map[string]string
	ForTest         string
	DepOnly         bool
	Incomplete      bool
	Error           *struct{ Pos, Err string }
	Export          string // with -export
}

// importPaths maps the import paths a package's files write to the IDs of
// the packages they denote (test variants, vendored packages).
func importPaths(p *listedPackage) map[string]string {
	out := make(map[string]string, len(p.Imports))
	inverse := map[string]string{}
	for path, id := range p.ImportMap {
		inverse[id] = path
	}
	for _, id := range p.Imports {
		path := id
		if src, ok := inverse[id]; ok {
			path = src
		}
		out[path] = id
	}
	return out
}

// checkListed parses and type-checks one package; errors are recorded on
// the package, as go/packages records them.
func checkListed(p *listedPackage, fset *token.FileSet, sizes types.Sizes, imp func(id string) (*types.Package, error)) *packages.Package {
	pkg := &packages.Package{
		ID:              p.ImportPath,
		Name:            p.Name,
		PkgPath:         pkgPathOf(p),
		Fset:            fset,
		CompiledGoFiles: p.CompiledGoFiles,
		GoFiles:         p.CompiledGoFiles,
		Module:          p.Module,
	}
	if p.Error != nil {
		pkg.Errors = append(pkg.Errors, packages.Error{Pos: p.Error.Pos, Msg: p.Error.Err, Kind: packages.ListError})
	}
	for _, name := range p.CompiledGoFiles {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.AllErrors)
		if f != nil {
			pkg.Syntax = append(pkg.Syntax, f)
		}
		if err != nil {
			var list scanner.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					pkg.Errors = append(pkg.Errors, packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
				}
			} else {
				pkg.Errors = append(pkg.Errors, packages.Error{Pos: name, Msg: err.Error(), Kind: packages.ParseError})
			}
		}
	}
	paths := importPaths(p)
	info := &types.Info{
		Types:        map[ast.Expr]types.TypeAndValue{},
		Defs:         map[*ast.Ident]types.Object{},
		Uses:         map[*ast.Ident]types.Object{},
		Implicits:    map[ast.Node]types.Object{},
		Instances:    map[*ast.Ident]types.Instance{},
		Scopes:       map[ast.Node]*types.Scope{},
		Selections:   map[*ast.SelectorExpr]*types.Selection{},
		FileVersions: map[*ast.File]string{},
	}
	conf := types.Config{
		Importer: importerFunc(func(path string) (*types.Package, error) {
			id, ok := paths[path]
			if !ok {
				id = path
			}
			return imp(id)
		}),
		Sizes: sizes,
		Error: func(err error) {
			var te types.Error
			if errors.As(err, &te) {
				pkg.Errors = append(pkg.Errors, packages.Error{Pos: te.Fset.Position(te.Pos).String(), Msg: te.Msg, Kind: packages.TypeError})
				return
			}
			pkg.Errors = append(pkg.Errors, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.TypeError})
		},
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	pkg.Types, _ = conf.Check(pkgPathOf(p), fset, pkg.Syntax, info)
	pkg.TypesInfo = info
	pkg.TypesSizes = sizes
	pkg.IllTyped = len(pkg.Errors) > 0
	return pkg
}

// pkgPathOf is a package's path without its test-variant suffix
// ("p [p.test]" is p).
func pkgPathOf(p *listedPackage) string {
	path, _, _ := strings.Cut(p.ImportPath, " ")
	return path
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// exportFiles returns the export data files of packages, which the go
// command compiles (or finds in its build cache).
func exportFiles(ctx context.Context, cfg *packages.Config, pkgs map[string]bool) (map[string]string, error) {
	out := map[string]string{}
	if len(pkgs) == 0 {
		return out, nil
	}
	args := append([]string{"-e", "-export=true", "-json=ImportPath,Export"}, cfg.BuildFlags...)
	var ids []string
	for id := range pkgs {
		ids = append(ids, id)
	}
	listed, err := goList(ctx, cfg, args, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range listed {
		out[p.ImportPath] = p.Export
	}
	return out, nil
}

// goList runs `go list` in cfg's directory and environment and decodes
// its JSON stream.
func goList(ctx context.Context, cfg *packages.Config, args, patterns []string) ([]*listedPackage, error) {
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"list"}, args...), append([]string{"--"}, patterns...)...)...)
	cmd.Dir = cfg.Dir
	cmd.Env = cfg.Env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil && stdout.Len() == 0 {
		return nil, fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var out []*listedPackage
	dec := json.NewDecoder(&stdout)
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: decode: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}
