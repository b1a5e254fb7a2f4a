package temporal

import (
	"go/types"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// testsuiteRule converts tests written with go.temporal.io/sdk/testsuite to
// runtime/durabletest, which keeps Temporal's method names (ExecuteWorkflow,
// OnActivity(...).Return(...), RegisterDelayedCallback, SignalWorkflow,
// QueryWorkflow, IsWorkflowCompleted, GetWorkflowError, GetWorkflowResult,
// AssertExpectations): suite.NewTestWorkflowEnvironment() becomes
// durabletest.NewEnv(t) and NewTestActivityEnvironment() becomes
// durabletest.NewActivityEnv(t), with t the test's *testing.T (s.T() in a
// testify suite). The WorkflowTestSuite values and embedded fields go away.
var testsuiteRule = rule{
	Name: "testsuite",
	Doc:  "testsuite tests to durabletest with the same method names",
	Run: func(p *pass) {
		converted := map[types.Object]int{}
		dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
			call, recv, m := methodCall(c.Node())
			if call == nil || len(call.Args) != 0 || p.marked(call) || !p.isSuiteMethod(call) {
				return true
			}
			ctor := map[string]string{"NewTestWorkflowEnvironment": "NewEnv", "NewTestActivityEnvironment": "NewActivityEnv"}[m]
			if ctor == "" {
				return true
			}
			t := p.testingT(call)
			if t == nil {
				p.todo(call, "testsuite", "no *testing.T in scope for durabletest.%s", ctor)
				return true
			}
			if id, ok := recv.(*dst.Ident); ok {
				if obj := p.objOf(id); obj != nil {
					converted[obj]++
				}
			}
			c.Replace(&dst.CallExpr{Fun: &dst.Ident{Path: DurableTestPath, Name: ctor}, Args: []dst.Expr{t}})
			p.changed()
			return true
		})
		p.dropSuiteValues(converted)
		p.envMethods()
		p.encodedValues()
		p.devServer()
		p.replayers()
		p.updateCallbacks()
		p.renameIdents(pkgTestsuite, map[string]target{
			"TestWorkflowEnvironment": {DurableTestPath, "Env"},
			"TestActivityEnvironment": {DurableTestPath, "ActivityEnv"},
			"TestUpdateCallback":      {DurableTestPath, "TestUpdateCallback"},
		})
	},
}

// isSuiteMethod reports whether call calls a method of
// testsuite.WorkflowTestSuite, directly or promoted through an embedding
// struct (a testify suite that embeds it).
func (p *pass) isSuiteMethod(call *dst.CallExpr) bool {
	fn, ok := p.objOf(call.Fun.(*dst.SelectorExpr)).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != pkgTestsuite && fn.Pkg().Path() != pkgInternal {
		return false
	}
	recv := fn.Type().(*types.Signature).Recv()
	return recv != nil && temporalType(recv.Type(), "WorkflowTestSuite") != ""
}

// testingT returns the expression of the test's *testing.T at n: a
// parameter of the enclosing function, or recv.T() for a suite method.
func (p *pass) testingT(n dst.Node) dst.Expr {
	for cur := p.parent(n); cur != nil; cur = p.parent(cur) {
		var ft *dst.FuncType
		var recv *dst.FieldList
		switch f := cur.(type) {
		case *dst.FuncLit:
			ft = f.Type
		case *dst.FuncDecl:
			ft, recv = f.Type, f.Recv
		default:
			continue
		}
		for _, field := range ft.Params.List {
			if star, ok := field.Type.(*dst.StarExpr); ok && isIdent(star.X, "testing", "T") && len(field.Names) == 1 {
				return &dst.Ident{Name: field.Names[0].Name}
			}
		}
		if recv != nil && len(recv.List) == 1 && len(recv.List[0].Names) == 1 {
			name := recv.List[0].Names[0]
			if obj := p.objOf(name); obj != nil {
				if m, _, _ := types.LookupFieldOrMethod(obj.Type(), true, obj.Pkg(), "T"); m != nil {
					return &dst.CallExpr{Fun: &dst.SelectorExpr{X: &dst.Ident{Name: name.Name}, Sel: &dst.Ident{Name: "T"}}}
				}
			}
		}
	}
	return nil
}

// dropSuiteValues deletes WorkflowTestSuite variables whose every use was
// converted, and WorkflowTestSuite fields embedded in test suites.
func (p *pass) dropSuiteValues(converted map[types.Object]int) {
	uses := map[types.Object]int{}
	for id, obj := range p.pkg.TypesInfo.Uses {
		if converted[obj] > 0 && p.pkg.Fset.File(id.Pos()) != nil && p.pkg.Fset.File(id.Pos()).Name() == p.filename {
			uses[obj]++
		}
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		switch n := c.Node().(type) {
		case *dst.AssignStmt:
			if len(n.Lhs) == 1 && c.Index() >= 0 {
				if obj := p.objOf(n.Lhs[0]); obj != nil && converted[obj] > 0 && converted[obj] == uses[obj] {
					c.Delete()
					p.changed()
				}
			}
		case *dst.DeclStmt:
			if gd, ok := n.Decl.(*dst.GenDecl); ok && len(gd.Specs) == 1 && c.Index() >= 0 {
				if vs, ok := gd.Specs[0].(*dst.ValueSpec); ok && len(vs.Names) == 1 {
					if obj := p.objOf(vs.Names[0]); obj != nil && converted[obj] > 0 && converted[obj] == uses[obj] {
						c.Delete()
						p.changed()
					}
				}
			}
		case *dst.Field:
			if len(n.Names) == 0 && c.Index() >= 0 && isIdent(n.Type, pkgTestsuite, "WorkflowTestSuite") {
				c.Delete()
				p.changed()
			}
		}
		return true
	})
}

// updateCallbacks retypes the OnComplete callback of testsuite.TestUpdateCallback
// literals: durabletest passes the update's result as a durable.Value to
// decode where Temporal passes the value itself. A callback that ignores the
// value only changes its parameter's type; one that reads it is marked TODO,
// since the read must become a Get into a variable of the handler's type.
func (p *pass) updateCallbacks() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		lit, ok := n.(*dst.CompositeLit)
		if !ok || !isIdent(lit.Type, pkgTestsuite, "TestUpdateCallback") {
			return true
		}
		for _, e := range lit.Elts {
			kv, ok := e.(*dst.KeyValueExpr)
			if !ok || !isIdent(kv.Key, "", "OnComplete") {
				continue
			}
			fn, ok := kv.Value.(*dst.FuncLit)
			if !ok || len(fn.Type.Params.List) == 0 || p.marked(fn) {
				continue
			}
			first := fn.Type.Params.List[0]
			if len(first.Names) > 1 {
				continue
			}
			if len(first.Names) == 1 && first.Names[0].Name != "_" && usesName(fn.Body, first.Names[0].Name) &&
				!decodeAssertions(fn.Body, first.Names[0].Name) {
				p.todo(kv, "testsuite", "OnComplete receives a durable.Value: decode the update's result with %s.Get(&v)", first.Names[0].Name)
			}
			first.Type = durableIdent("Value")
			p.changed()
		}
		return true
	})
}

// decodeAssertions rewrites the type assertions on name in body, when they
// are its only uses, to decoding: "name.(T)" becomes durabletest.As[T](name)
// and "v, ok := name.(T)" durabletest.AsOK[T](name). It reports whether it
// did.
func decodeAssertions(body *dst.BlockStmt, name string) bool {
	isName := func(e dst.Expr) bool { id, ok := e.(*dst.Ident); return ok && id.Path == "" && id.Name == name }
	asserts, uses := 0, 0
	dst.Inspect(body, func(n dst.Node) bool {
		switch n := n.(type) {
		case *dst.TypeAssertExpr:
			if isName(n.X) && n.Type != nil {
				asserts++
				return false
			}
		case *dst.Ident:
			if isName(n) {
				uses++
			}
		}
		return true
	})
	if asserts == 0 || uses > 0 {
		return false
	}
	call := func(fn string, ta *dst.TypeAssertExpr) *dst.CallExpr {
		return &dst.CallExpr{Fun: &dst.IndexExpr{X: &dst.Ident{Path: DurableTestPath, Name: fn}, Index: ta.Type}, Args: []dst.Expr{ta.X}}
	}
	dstutil.Apply(body, func(c *dstutil.Cursor) bool {
		switch n := c.Node().(type) {
		case *dst.AssignStmt:
			if len(n.Lhs) == 2 && len(n.Rhs) == 1 {
				if ta, ok := n.Rhs[0].(*dst.TypeAssertExpr); ok && isName(ta.X) {
					n.Rhs[0] = call("AsOK", ta)
				}
			}
		case *dst.ValueSpec:
			if len(n.Names) == 2 && len(n.Values) == 1 {
				if ta, ok := n.Values[0].(*dst.TypeAssertExpr); ok && isName(ta.X) {
					n.Values[0] = call("AsOK", ta)
				}
			}
		case *dst.TypeAssertExpr:
			if isName(n.X) && n.Type != nil {
				c.Replace(call("As", n))
			}
		}
		return true
	}, nil)
	return true
}

// usesName reports whether an unqualified identifier called name occurs in n.
func usesName(n dst.Node, name string) bool {
	found := false
	dst.Inspect(n, func(n dst.Node) bool {
		if id, ok := n.(*dst.Ident); ok && id.Path == "" && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}
