package temporal

import (
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const pkgMocks = "go.temporal.io/sdk/mocks"

// mocksRule converts tests that fake the Temporal client with Temporal's
// mocks (mocks.Client, mocks.Value, mocks.WorkflowRun) to durabletest's
// MockClient, MockValue and MockRun, which record calls under the same
// method names and arguments, so the tests' expectations stay as written.
//
// A mock can only stand in for an interface, so in a directory whose files
// use Temporal's mocks, client.Client becomes durable.Client (which
// *durable.Engine implements) instead of *durable.Engine. The decision is
// per directory because a package's tests (package p and p_test) are
// separate packages for the converter, and the code they test must take
// the mock.
var mocksRule = rule{
	Name: "mocks",
	Doc:  "Temporal's mocks.Client, mocks.Value, mocks.WorkflowRun to durabletest's; client.Client to durable.Client where tests use them",
	Run: func(p *pass) {
		p.renameIdents(pkgMocks, map[string]target{
			"Client":      {DurableTestPath, "MockClient"},
			"Value":       {DurableTestPath, "MockValue"},
			"WorkflowRun": {DurableTestPath, "MockRun"},
		})
		if p.mocksDir {
			p.renameIdents(pkgClient, map[string]target{"Client": {DurablePath, "Client"}})
		}
	},
}

// dirUsesTemporalMocks reports whether a Go file in dir imports Temporal's
// mocks package. The loader asks once per directory.
func dirUsesTemporalMocks(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == pkgMocks {
				return true
			}
		}
	}
	return false
}

// typeFrom reports whether t, or what it points to, is a named type of
// package path.
func typeFrom(t types.Type, path string) bool {
	if t == nil {
		return false
	}
	if pt, ok := types.Unalias(t).(*types.Pointer); ok {
		t = pt.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == path
}
