// Package harness runs compat/replay over Temporal histories for the
// converted workflows of a Go package, which `migrate verify` names on its
// command line. Go cannot load a package's functions at run time, so the
// harness generates a small main package that imports the package,
// registers its workflows and calls replay.Main, builds it in the
// package's own module (its go.mod and go.sum stay untouched) and runs it.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/types"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"golang.org/x/tools/go/packages"

	"github.com/durablego/toolkit/compat/replay"
)

// ToolkitModule is the module the converted code and the harness import.
const ToolkitModule = "github.com/durablego/toolkit"

// Options configure Verify.
type Options struct {
	Dir       string   // where to resolve Package; "" is the current directory
	Package   string   // the package holding the converted workflows
	Histories []string // history files or directories of *.json files
	Workflow  string   // replay every history through this workflow; "": by the history's type
	Stdout    io.Writer
	Stderr    io.Writer
}

// Verify replays every history and returns replay's exit code
// (replay.ExitOK, ExitDiverged or ExitError). The error is for a harness
// that could not run at all (no such package, nothing registrable, a
// build failure); it comes with replay.ExitError.
func Verify(ctx context.Context, o Options) (int, error) {
	files, err := Histories(o.Histories)
	if err != nil {
		return replay.ExitError, err
	}
	if len(files) == 0 {
		return replay.ExitError, fmt.Errorf("no history files (*.json) in %s", strings.Join(o.Histories, ", "))
	}
	pkg, workflows, err := Workflows(o.Dir, o.Package)
	if err != nil {
		return replay.ExitError, err
	}
	bin, cleanup, err := build(ctx, pkg, workflows)
	if err != nil {
		return replay.ExitError, err
	}
	defer cleanup()
	var args []string
	if o.Workflow != "" {
		args = append(args, "-workflow", o.Workflow)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, files...)...)
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode(), nil
		}
		return replay.ExitError, fmt.Errorf("run the verifier: %w", err)
	}
	return replay.ExitOK, nil
}

// Histories expands files and directories into history files: a directory
// contributes its *.json files, recursively, in lexical order.
func Histories(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, abs)
			continue
		}
		var found []string
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
				found = append(found, path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}

// Workflows loads a package and returns the names of its exported
// functions that have a durable workflow's shape:
// func(context.Context, args...) (R, error) or func(context.Context, args...) error.
func Workflows(dir, pattern string) (*packages.Package, []string, error) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes | packages.NeedModule, Dir: dir}
	pkgs, err := packages.Load(cfg, pattern)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", pattern, err)
	}
	if len(pkgs) != 1 {
		return nil, nil, fmt.Errorf("load %s: want one package, got %d", pattern, len(pkgs))
	}
	pkg := pkgs[0]
	if len(pkg.Errors) > 0 {
		var msgs []string
		for _, e := range pkg.Errors {
			msgs = append(msgs, e.Error())
		}
		return nil, nil, fmt.Errorf("load %s:\n%s", pattern, strings.Join(msgs, "\n"))
	}
	if pkg.Name == "main" {
		return nil, nil, fmt.Errorf("%s is a main package, which cannot be imported; move the workflows to their own package", pkg.PkgPath)
	}
	if pkg.Module == nil || pkg.Module.Dir == "" {
		return nil, nil, fmt.Errorf("%s is not in a module", pkg.PkgPath)
	}
	var names []string
	scope := pkg.Types.Scope()
	for _, name := range scope.Names() {
		fn, ok := scope.Lookup(name).(*types.Func)
		if ok && fn.Exported() && isWorkflow(fn.Type().(*types.Signature)) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%s has no exported func(context.Context, ...) (R, error) or error", pkg.PkgPath)
	}
	return pkg, names, nil
}

func isWorkflow(sig *types.Signature) bool {
	if sig.TypeParams().Len() > 0 || sig.Variadic() || sig.Params().Len() == 0 {
		return false
	}
	if !isNamed(sig.Params().At(0).Type(), "context", "Context") {
		return false
	}
	res := sig.Results()
	return (res.Len() == 1 || res.Len() == 2) && isNamed(res.At(res.Len()-1).Type(), "", "error")
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := t.(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	if obj.Pkg() == nil {
		return pkg == "" && obj.Name() == name
	}
	return obj.Pkg().Path() == pkg && obj.Name() == name
}

var mainTemplate = template.Must(template.New("main").Parse(`// Code generated by migrate verify; DO NOT EDIT.

package main

import (
	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"

	wf {{printf "%q" .Path}}
)

func main() {
	replay.Main(func(e *durable.Engine) {
{{- range .Workflows}}
		e.RegisterWorkflow(wf.{{.}})
{{- end}}
	})
}
`))

// build writes the verifier's main package into the module (in a
// directory the go command's ./... patterns skip), builds it against a
// copy of the module's go.mod and go.sum, and returns the binary.
func build(ctx context.Context, pkg *packages.Package, workflows []string) (string, func(), error) {
	root := pkg.Module.Dir
	tmp, err := os.MkdirTemp("", "migrate-verify-")
	if err != nil {
		return "", nil, err
	}
	src, err := os.MkdirTemp(root, "_migrate_verify_")
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(src); os.RemoveAll(tmp) }
	var main bytes.Buffer
	if err := mainTemplate.Execute(&main, struct {
		Path      string
		Workflows []string
	}{pkg.PkgPath, workflows}); err != nil {
		cleanup()
		return "", nil, err
	}
	gomod := pkg.Module.GoMod
	if gomod == "" {
		gomod = filepath.Join(root, "go.mod")
	}
	modData, err := os.ReadFile(gomod)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	if pkg.Module.Path != ToolkitModule && !bytes.Contains(modData, []byte(ToolkitModule)) {
		cleanup()
		return "", nil, fmt.Errorf("%s does not require %s, which converted code imports", gomod, ToolkitModule)
	}
	sumData, _ := os.ReadFile(strings.TrimSuffix(gomod, ".mod") + ".sum")
	for name, data := range map[string][]byte{"verify.mod": modData, "verify.sum": sumData, "main.go": main.Bytes()} {
		dir := tmp
		if name == "main.go" {
			dir = src
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	bin := filepath.Join(tmp, "verify")
	cmd := exec.CommandContext(ctx, "go", "build", "-modfile="+filepath.Join(tmp, "verify.mod"), "-mod=mod", "-o", bin, "./"+filepath.Base(src))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build the verifier for %s: %w\n%s", pkg.PkgPath, err, out.String())
	}
	return bin, cleanup, nil
}
