package temporal

import (
	"go/types"
	"strings"

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
		headers := p.headerSuites()
		dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
			call, recv, m := methodCall(c.Node())
			if call == nil || p.marked(call) || !p.isSuiteMethod(call) {
				return true
			}
			if m == "SetHeader" && len(call.Args) == 1 {
				// The suite keeps its header for the environments it makes
				// (durabletest.WorkflowTestSuite).
				call.Args[0] = &dst.CallExpr{Fun: &dst.Ident{Path: CompatPath, Name: "Header"}, Args: []dst.Expr{call.Args[0]}}
				p.changed()
				return true
			}
			ctor := map[string]string{"NewTestWorkflowEnvironment": "NewEnv", "NewTestActivityEnvironment": "NewActivityEnv"}[m]
			if ctor == "" || len(call.Args) != 0 {
				return true
			}
			t := p.testingT(call)
			if t == nil {
				p.todo(call, "testsuite", "no *testing.T in scope for durabletest.%s", ctor)
				return true
			}
			if ctor == "NewEnv" && headers[suiteTypeKey(p.typeOf(recv))] {
				// A suite that sets a header makes its environments.
				c.Replace(&dst.CallExpr{Fun: &dst.SelectorExpr{X: recv, Sel: &dst.Ident{Name: "NewEnv"}}, Args: []dst.Expr{t}})
				p.changed()
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
		table := map[string]target{
			"TestWorkflowEnvironment": {DurableTestPath, "Env"},
			"TestActivityEnvironment": {DurableTestPath, "ActivityEnv"},
			"TestUpdateCallback":      {DurableTestPath, "TestUpdateCallback"},
		}
		for key := range headers {
			if strings.HasSuffix(key, ".WorkflowTestSuite") && strings.HasPrefix(key, temporalPrefix) {
				// A suite value that sets a header stays one.
				table["WorkflowTestSuite"] = target{DurableTestPath, "WorkflowTestSuite"}
			}
		}
		p.renameIdents(pkgTestsuite, table)
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
	headers := p.headerSuites()
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
				if headers[p.enclosingTypeKey(n)] {
					n.Type = &dst.Ident{Path: DurableTestPath, Name: "WorkflowTestSuite"}
				} else {
					c.Delete()
				}
				p.changed()
			}
		}
		return true
	})
}

// updateCallbacks adapts the reading of update results in tests:
// durabletest's UpdateCallbacks have Temporal's method set, but Complete
// gets the result as a durable.Value to decode where Temporal passes the
// value itself. In the OnComplete functions of testsuite.TestUpdateCallback
// literals, type assertions on the value become durabletest.As / AsOK; an
// OnComplete that reads the value otherwise is marked TODO. A test's own
// callbacks type (methods Accept, Reject and Complete(interface{}, error))
// compiles unchanged; the assertions on the value in its Complete method,
// and in the func(interface{}, error) fields of its literals, are
// rewritten the same way.
func (p *pass) updateCallbacks() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		switch n := n.(type) {
		case *dst.CompositeLit:
			temporal := isIdent(n.Type, pkgTestsuite, "TestUpdateCallback")
			if !temporal && !p.isUpdateCallbacks(p.typeOf(n)) {
				return true
			}
			for _, e := range n.Elts {
				kv, ok := e.(*dst.KeyValueExpr)
				if !ok {
					continue
				}
				fn, ok := kv.Value.(*dst.FuncLit)
				if !ok || p.marked(fn) || (temporal && !isIdent(kv.Key, "", "OnComplete")) || (!temporal && !completeShaped(p.typeOf(fn))) {
					continue
				}
				if name := firstParam(fn.Type); name != "" && !decodeAssertions(fn.Body, name) && usesName(fn.Body, name) && temporal {
					p.todo(kv, "testsuite", "OnComplete receives the update's result as a durable.Value: read it with durabletest.As[T](%s)", name)
				}
			}
		case *dst.FuncDecl:
			if n.Recv == nil || n.Name.Name != "Complete" || n.Body == nil || len(n.Recv.List) != 1 {
				return true
			}
			if obj := p.objOf(n.Name); obj == nil || !completeShaped(obj.Type()) || !p.isUpdateCallbacks(obj.(*types.Func).Type().(*types.Signature).Recv().Type()) {
				return true
			}
			if name := firstParam(n.Type); name != "" {
				decodeAssertions(n.Body, name)
			}
		}
		return true
	})
}

// isUpdateCallbacks reports whether t, or a pointer to it, has the methods
// of Temporal's UpdateCallbacks: Accept(), Reject(error) and
// Complete(interface{}, error).
func (p *pass) isUpdateCallbacks(t types.Type) bool {
	if t == nil {
		return false
	}
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	if _, ok := t.(*types.Named); !ok {
		return false
	}
	ms := types.NewMethodSet(types.NewPointer(t))
	method := func(name string) *types.Signature {
		if sel := ms.Lookup(nil, name); sel != nil {
			sig, _ := sel.Type().(*types.Signature)
			return sig
		}
		for i := range ms.Len() {
			if ms.At(i).Obj().Name() == name {
				sig, _ := ms.At(i).Type().(*types.Signature)
				return sig
			}
		}
		return nil
	}
	accept, reject, complete := method("Accept"), method("Reject"), method("Complete")
	return accept != nil && accept.Params().Len() == 0 &&
		reject != nil && reject.Params().Len() == 1 && isErrorType(reject.Params().At(0).Type()) &&
		complete != nil && completeShaped(complete)
}

// completeShaped reports whether t is a func(interface{}, error) without
// results (a method's receiver aside).
func completeShaped(t types.Type) bool {
	sig, ok := t.(*types.Signature)
	if !ok || sig.Params().Len() != 2 || sig.Results().Len() != 0 {
		return false
	}
	iface, ok := sig.Params().At(0).Type().Underlying().(*types.Interface)
	return ok && iface.Empty() && isErrorType(sig.Params().At(1).Type())
}

func isErrorType(t types.Type) bool { return types.Identical(t, types.Universe.Lookup("error").Type()) }

// firstParam returns the name of a function's first parameter ("" when it
// has none, or it is unnamed or _).
func firstParam(ft *dst.FuncType) string {
	if ft.Params == nil || len(ft.Params.List) == 0 || len(ft.Params.List[0].Names) == 0 {
		return ""
	}
	if name := ft.Params.List[0].Names[0].Name; name != "_" {
		return name
	}
	return ""
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

// headerSuites are the types (suiteTypeKey) of the package whose values
// call WorkflowTestSuite.SetHeader or SetLogger: Temporal's suite itself,
// or test suites that embed it. They keep a durabletest.WorkflowTestSuite,
// which holds the header and the logger for the environments they make.
func (p *pass) headerSuites() map[string]bool {
	if p.headers != nil {
		return p.headers
	}
	p.headers = map[string]bool{}
	for _, sel := range p.pkg.TypesInfo.Selections {
		fn, ok := sel.Obj().(*types.Func)
		if !ok || fn.Name() != "SetHeader" && fn.Name() != "SetLogger" || fn.Pkg() == nil || fn.Pkg().Path() != pkgTestsuite && fn.Pkg().Path() != pkgInternal {
			continue
		}
		if recv := fn.Type().(*types.Signature).Recv(); recv != nil && temporalType(recv.Type(), "WorkflowTestSuite") != "" {
			p.headers[suiteTypeKey(sel.Recv())] = true
		}
	}
	return p.headers
}

// suiteTypeKey names a suite type, through a pointer.
func suiteTypeKey(t types.Type) string {
	if t == nil {
		return ""
	}
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	return types.TypeString(types.Unalias(t), nil)
}

// enclosingTypeKey is the suiteTypeKey of the struct type a field is
// declared in; "" when there is none.
func (p *pass) enclosingTypeKey(f *dst.Field) string {
	for cur := p.parent(f); cur != nil; cur = p.parent(cur) {
		if ts, ok := cur.(*dst.TypeSpec); ok {
			if obj := p.objOf(ts.Name); obj != nil {
				return suiteTypeKey(obj.Type())
			}
			return ""
		}
	}
	return ""
}
