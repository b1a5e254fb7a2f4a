package temporal

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dave/dst/decorator"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
)

var (
	fuzzImportsOnce sync.Once
	fuzzImports     map[string]*types.Package
	fuzzImportsErr  error
)

// temporalImports type-checks the Temporal SDK packages once (from export
// data) so that fuzz inputs can be checked without running go list.
func temporalImports(t testing.TB) map[string]*types.Package {
	fuzzImportsOnce.Do(func() {
		cfg := &packages.Config{
			Mode: packages.NeedName | packages.NeedTypes | packages.NeedImports | packages.NeedDeps,
			Dir:  "testdata/mod",
			Env:  testEnv(),
		}
		pkgs, err := packages.Load(cfg, pkgWorkflow, pkgActivity, pkgTemporal, pkgClient, pkgWorker, pkgTestsuite,
			pkgLog, "go.temporal.io/sdk/converter", "go.temporal.io/sdk/interceptor", "context", "time", "errors", "fmt", "testing", "math/rand", "strings")
		if err != nil {
			fuzzImportsErr = err
			return
		}
		fuzzImports = map[string]*types.Package{}
		packages.Visit(pkgs, nil, func(p *packages.Package) {
			if p.Types != nil {
				fuzzImports[p.PkgPath] = p.Types
			}
		})
	})
	require.NoError(t, fuzzImportsErr)
	return fuzzImports
}

type mapImporter map[string]*types.Package

func (m mapImporter) Import(path string) (*types.Package, error) {
	if p, ok := m[path]; ok {
		return p, nil
	}
	return nil, errors.New("not available: " + path)
}

// FuzzConvert checks that no Go source panics the converter. Inputs that do
// not parse or type-check are what Convert reports as errors without
// converting; the others go through every rule and must restore to source
// that parses.
func FuzzConvert(f *testing.F) {
	if testing.Short() {
		f.Skip("loads the Temporal SDK")
	}
	for _, s := range loadScenarios(f) {
		for _, m := range []map[string][]byte{s.in, s.out} {
			for _, d := range m {
				f.Add(d)
			}
		}
	}
	imports := temporalImports(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		fset := token.NewFileSet()
		name := filepath.Join(dir, "fuzz.go")
		file, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return
		}
		info := &types.Info{
			Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{},
			Implicits: map[ast.Node]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{},
			Scopes: map[ast.Node]*types.Scope{}, Instances: map[*ast.Ident]types.Instance{},
		}
		var typeErr error
		conf := types.Config{Importer: mapImporter(imports), Error: func(err error) {
			if typeErr == nil {
				typeErr = err
			}
		}}
		tpkg, _ := conf.Check("example.com/fuzz", fset, []*ast.File{file}, info)
		if typeErr != nil {
			return // Convert reports type errors and converts nothing
		}
		require.NoError(t, os.WriteFile(name, src, 0o644))
		pkg := &packages.Package{ID: "example.com/fuzz", Name: file.Name.Name, PkgPath: "example.com/fuzz", Fset: fset,
			Syntax: []*ast.File{file}, CompiledGoFiles: []string{name}, Types: tpkg, TypesInfo: info}
		u := unit{pkg: pkg, file: file, filename: name, dec: new(*decorator.Decorator)}
		for _, suite := range [][]rule{Suite, shapedSuite()} {
			u.dec = new(*decorator.Decorator)
			out, _, err := convertFile(u, suite, map[string]int{})
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("converter panicked on:\n%s\n%v", src, err)
			}
			if out != nil {
				_, perr := parser.ParseFile(token.NewFileSet(), "out.go", out.Converted, parser.ParseComments)
				require.NoError(t, perr, "converted source does not parse:\n%s", out.Converted)
			}
		}
	})
}
