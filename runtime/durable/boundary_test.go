package durable

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// textReaders are the places outside this package allowed to read an
// error's text, with the reason; nothing else may (see
// TestNoPackageReadsRuntimeText).
var textReaders = map[string]string{
	// cobra reports an unknown command only as text.
	"cmd/durable/durablecli/root.go": "cobra's unknown-command error",
}

// TestNoPackageReadsRuntimeText keeps the runtime's messages free to
// change: no package of the module outside runtime/durable decides on an
// error's text (strings.Contains(err.Error(), ...), err.Error() == ...) or
// on a value's printed type (fmt.Sprintf("%T", v) == ...). They use the
// typed errors (NonDeterminismError's Kind, Seq, Expected and Found,
// errors.Is/As) instead.
func TestNoPackageReadsRuntimeText(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel == "runtime/durable", d.Name() == "testdata", strings.HasPrefix(d.Name(), "."), d.Name() == "e2e":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || textReaders[rel] != "" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && isPkg(sel.X, "strings") && len(n.Args) > 0 && readsText(n.Args[0]) {
					t.Errorf("%s: strings.%s on an error's text or a printed type; use the typed error", fset.Position(n.Pos()), sel.Sel.Name)
				}
			case *ast.BinaryExpr:
				// Whether there is a message at all (== "") reads no text.
				if (n.Op == token.EQL || n.Op == token.NEQ) && (readsText(n.X) || readsText(n.Y)) && !isEmpty(n.X) && !isEmpty(n.Y) {
					t.Errorf("%s: compares an error's text or a printed type; use the typed error", fset.Position(n.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readsText reports whether e is x.Error() or fmt.Sprintf("%T", ...).
func readsText(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if sel.Sel.Name == "Error" && len(call.Args) == 0 {
		return true
	}
	if isPkg(sel.X, "fmt") && sel.Sel.Name == "Sprintf" && len(call.Args) > 0 {
		lit, ok := call.Args[0].(*ast.BasicLit)
		return ok && lit.Value == `"%T"`
	}
	return false
}

func isPkg(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isEmpty(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Value == `""`
}
