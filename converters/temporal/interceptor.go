package temporal

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"github.com/dave/dst"
)

// InterceptorPath is the import path of the runtime's interceptor package.
const InterceptorPath = "github.com/durablego/toolkit/runtime/durable/interceptor"

const pkgInterceptor = "go.temporal.io/sdk/interceptor"

// interceptorRule converts worker interceptors. The types of
// go.temporal.io/sdk/interceptor that the runtime has (WorkerInterceptor,
// the inbound and outbound interceptors of workflows and activities, their
// Base types and inputs) become the same names in
// runtime/durable/interceptor, so a program's interceptor keeps its
// structure while the context, logger and future rules convert its method
// signatures. worker.Options{Interceptors: ...} becomes
// durable.WithInterceptors on the durable.Open of the worker's client, and
// the test environment's SetWorkerOptions keeps them. Methods the runtime
// never calls (an outbound GetVersion or SideEffect, ...) and
// client interceptors are marked: they would compile and do nothing.
var interceptorRule = rule{
	Name: "interceptors",
	Doc:  "worker interceptors to runtime/durable/interceptor and durable.WithInterceptors",
	Run: func(p *pass) {
		p.interceptorMethods()
		p.workerInterceptors()
		p.renameIdents(pkgInterceptor, interceptorTypes)
	},
}

// interceptorTypes are the interceptor package's names the runtime has.
var interceptorTypes = func() map[string]target {
	m := map[string]target{}
	for _, n := range []string{
		"WorkerInterceptor", "WorkerInterceptorBase",
		"ActivityInboundInterceptor", "ActivityInboundInterceptorBase",
		"ActivityOutboundInterceptor", "ActivityOutboundInterceptorBase",
		"WorkflowInboundInterceptor", "WorkflowInboundInterceptorBase",
		"WorkflowOutboundInterceptor", "WorkflowOutboundInterceptorBase",
		"ExecuteActivityInput", "ExecuteWorkflowInput", "HandleSignalInput", "HandleQueryInput", "UpdateInput",
	} {
		m[n] = target{InterceptorPath, n}
	}
	return m
}()

// interceptorMethodsKept are the methods of each Base type the runtime
// calls; a program's override of any other method of the Base is marked.
var interceptorMethodsKept = map[string]map[string]bool{
	"WorkerInterceptorBase":           {"InterceptActivity": true, "InterceptWorkflow": true},
	"ActivityInboundInterceptorBase":  {"Init": true, "ExecuteActivity": true},
	"ActivityOutboundInterceptorBase": {"GetLogger": true, "GetInfo": true, "RecordHeartbeat": true, "HasHeartbeatDetails": true, "GetHeartbeatDetails": true},
	"WorkflowInboundInterceptorBase":  {"Init": true, "ExecuteWorkflow": true, "HandleSignal": true, "HandleQuery": true, "ValidateUpdate": true, "ExecuteUpdate": true},
	"WorkflowOutboundInterceptorBase": {
		"ExecuteActivity": true, "ExecuteLocalActivity": true, "ExecuteChildWorkflow": true, "GetInfo": true, "GetLogger": true,
		"Now": true, "NewTimer": true, "Sleep": true, "SignalExternalWorkflow": true, "RequestCancelExternalWorkflow": true,
	},
}

// interceptorMethods marks the methods of the program's interceptors that
// override a Base method the runtime does not call.
func (p *pass) interceptorMethods() {
	for _, decl := range p.file.Decls {
		fd, ok := decl.(*dst.FuncDecl)
		if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
			continue
		}
		afd, ok := p.astOf(fd).(*ast.FuncDecl)
		if !ok {
			continue
		}
		fn, ok := p.pkg.TypesInfo.Defs[afd.Name].(*types.Func)
		if !ok {
			continue
		}
		recv := fn.Type().(*types.Signature).Recv().Type()
		if ptr, ok := recv.(*types.Pointer); ok {
			recv = ptr.Elem()
		}
		st, ok := recv.Underlying().(*types.Struct)
		if !ok {
			continue
		}
		for i := 0; i < st.NumFields(); i++ {
			f := st.Field(i)
			if !f.Embedded() {
				continue
			}
			base := interceptorBase(f.Type())
			kept, known := interceptorMethodsKept[base]
			if !known {
				continue
			}
			if m, _, _ := types.LookupFieldOrMethod(types.NewPointer(types.Unalias(f.Type())), true, nil, fn.Name()); m != nil && !kept[fn.Name()] {
				p.todoKeep(fd, "interceptors", "the durable runtime does not call "+base+"."+fn.Name()+": what this method does will not happen")
			}
		}
	}
}

// interceptorBase returns the name of Temporal's interceptor Base type t
// is, or "": the interceptor package declares them as aliases of its
// internal package's types.
func interceptorBase(t types.Type) string {
	if a, ok := t.(*types.Alias); ok && a.Obj().Pkg() != nil && a.Obj().Pkg().Path() == pkgInterceptor {
		return a.Obj().Name()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return ""
	}
	switch n.Obj().Pkg().Path() {
	case pkgInterceptor, pkgInternal:
		return n.Obj().Name()
	}
	return ""
}

// todoKeep reports a TODO on a declaration and comments it, without
// keeping later rules from converting it: the method must still compile.
func (p *pass) todoKeep(fd *dst.FuncDecl, anchor, msg string) {
	p.findings = append(p.findings, newFinding(p.pos(fd), p.rule, SeverityTODO, msg, anchor))
	comment := "// TODO(migrate): " + msg + " (see docs/unsupported.md#" + anchor + ")"
	for _, c := range fd.Decs.Start {
		if c == comment {
			return
		}
	}
	fd.Decs.Start.Append(comment)
	p.changed()
}

// workerInterceptors converts worker.Options{Interceptors: ...} given to
// worker.New into durable.WithInterceptors on the durable.Open of the
// worker's client, when the client is dialled in the same function. Any
// other worker.Options literal with interceptors (held in a variable,
// passed to a helper) is marked, unless a test environment's
// SetWorkerOptions takes it (testsuite_env.go keeps them there).
func (p *pass) workerInterceptors() {
	done := map[*dst.CompositeLit]bool{}
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, name := callOf(n, pkgWorker)
		if call == nil || name != "New" || len(call.Args) != 3 || p.marked(call) {
			return true
		}
		lit := workerOptionsLit(call.Args[2])
		if lit == nil {
			lit = p.optionsVar(call, call.Args[2])
		}
		if lit == nil {
			return true
		}
		kv := interceptorsKV(lit)
		if kv == nil {
			return true
		}
		done[lit] = true
		elts, ok := p.interceptorElts(kv.Value)
		if !ok {
			return true // the unsupported rule marked it
		}
		dial := p.dialOf(call, call.Args[0])
		if dial == nil {
			p.todo(kv, "interceptors", "pass these interceptors to durable.Open as durable.WithInterceptors(...): the client is not dialled in this function")
			return true
		}
		opt := &dst.CallExpr{Fun: durableIdent("WithInterceptors"), Args: elts, Ellipsis: len(elts) == 1 && !isSliceLit(kv.Value)}
		// The field's comments go with the interceptors.
		opt.Decs.Start = append(opt.Decs.Start, kv.Decs.Start...)
		if len(opt.Decs.Start) > 0 {
			opt.Decs.Before = dst.NewLine
		}
		p.addOpenOption(dial, opt)
		p.dropElt(lit, kv)
		p.findings = append(p.findings, newFinding(p.pos(kv), p.rule, SeverityNote,
			"worker.Options.Interceptors became durable.WithInterceptors on durable.Open: every engine that works these runs needs the same interceptors (docs/api.md#interceptors)", ""))
		return true
	})
	dst.Inspect(p.file, func(n dst.Node) bool {
		lit, ok := n.(*dst.CompositeLit)
		if !ok || done[lit] || !isIdent(lit.Type, pkgWorker, "Options") || p.marked(lit) {
			return true
		}
		kv := interceptorsKV(lit)
		if kv == nil || p.marked(kv) || p.testEnvOptions(lit) {
			return true
		}
		if _, ok := p.interceptorElts(kv.Value); ok {
			p.todo(kv, "interceptors", "pass these interceptors to durable.Open as durable.WithInterceptors(...): these worker options do not go to a worker.New of a client dialled in the same function")
		}
		return true
	})
}

// optionsVar returns the worker.Options literal the variable v was
// declared with (opts := worker.Options{...}), in the function around at.
func (p *pass) optionsVar(at dst.Node, v dst.Expr) *dst.CompositeLit {
	id, ok := v.(*dst.Ident)
	if !ok {
		return nil
	}
	obj := p.objOf(id)
	if obj == nil {
		return nil
	}
	var lit *dst.CompositeLit
	if body := p.funcBody(at); body != nil {
		dst.Inspect(body, func(n dst.Node) bool {
			if as, ok := n.(*dst.AssignStmt); ok && as.Tok == token.DEFINE && len(as.Lhs) == 1 && len(as.Rhs) == 1 && p.objOf(as.Lhs[0]) == obj {
				lit = workerOptionsLit(as.Rhs[0])
			}
			return lit == nil
		})
	}
	return lit
}

// funcBody is the body of the function declaration around n.
func (p *pass) funcBody(n dst.Node) *dst.BlockStmt {
	for cur := p.parent(n); cur != nil; cur = p.parent(cur) {
		if fd, ok := cur.(*dst.FuncDecl); ok {
			return fd.Body
		}
	}
	return nil
}

// testEnvOptions reports whether lit is the argument of a test
// environment's SetWorkerOptions.
func (p *pass) testEnvOptions(lit *dst.CompositeLit) bool {
	var par dst.Node = p.parent(lit)
	if u, ok := par.(*dst.UnaryExpr); ok && u.Op == token.AND {
		par = p.parent(u)
	}
	call, recv, m := methodCall(par)
	return call != nil && m == "SetWorkerOptions" && temporalRecv(p, recv)
}

// workerOptionsLit returns the worker.Options literal e is (or points to).
func workerOptionsLit(e dst.Expr) *dst.CompositeLit {
	if u, ok := e.(*dst.UnaryExpr); ok && u.Op == token.AND {
		e = u.X
	}
	lit, ok := e.(*dst.CompositeLit)
	if !ok || !isIdent(lit.Type, pkgWorker, "Options") {
		return nil
	}
	return lit
}

// interceptorsKV is lit's Interceptors field, or nil.
func interceptorsKV(lit *dst.CompositeLit) *dst.KeyValueExpr {
	for _, el := range lit.Elts {
		if kv, ok := el.(*dst.KeyValueExpr); ok {
			if key, ok := kv.Key.(*dst.Ident); ok && key.Name == "Interceptors" {
				return kv
			}
		}
	}
	return nil
}

func isSliceLit(e dst.Expr) bool {
	_, ok := e.(*dst.CompositeLit)
	return ok
}

// interceptorElts returns the interceptors of an Interceptors value as
// arguments of durable.WithInterceptors (the elements of a slice literal,
// or the slice itself to spread), or false when one of them is Temporal's
// own (a tracing interceptor of the contrib packages), which stays
// Temporal code.
func (p *pass) interceptorElts(v dst.Expr) ([]dst.Expr, bool) {
	var elts []dst.Expr
	if lit, ok := v.(*dst.CompositeLit); ok {
		elts = lit.Elts
	} else {
		elts = []dst.Expr{v}
	}
	for _, el := range elts {
		if p.temporalInterceptor(el) {
			return nil, false
		}
	}
	out := make([]dst.Expr, len(elts))
	for i, el := range elts {
		out[i] = dst.Clone(el).(dst.Expr)
	}
	return out, true
}

// temporalInterceptor reports whether e is an interceptor the Temporal SDK
// makes: a call into one of its packages, or a value of its
// interceptor.Interceptor type or of a contrib package's type.
func (p *pass) temporalInterceptor(e dst.Expr) bool {
	if call, ok := e.(*dst.CallExpr); ok {
		if id, ok := call.Fun.(*dst.Ident); ok && strings.HasPrefix(id.Path, temporalPrefix) {
			return true
		}
	}
	t := p.typeOf(e)
	if t == nil {
		return false
	}
	s := t.String()
	return s == pkgInterceptor+".Interceptor" || strings.Contains(s, "go.temporal.io/sdk/contrib/")
}

// dialOf returns the client.Dial (or variant) call whose result the
// identifier client holds, when it is assigned in the function around at.
func (p *pass) dialOf(at dst.Node, client dst.Expr) *dst.CallExpr {
	obj := p.objOf(client)
	if obj == nil {
		return nil
	}
	body := p.funcBody(at)
	if body == nil {
		return nil
	}
	var dial *dst.CallExpr
	dst.Inspect(body, func(n dst.Node) bool {
		as, ok := n.(*dst.AssignStmt)
		if !ok || len(as.Rhs) != 1 || len(as.Lhs) == 0 {
			return true
		}
		call, name := callOf(as.Rhs[0], pkgClient)
		if call == nil {
			return true
		}
		switch name {
		case "Dial", "DialContext", "NewClient", "NewLazyClient":
			if p.objOf(as.Lhs[0]) == obj {
				dial = call
			}
		}
		return dial == nil
	})
	return dial
}

// unsupportedInterceptor reports whether name is a name of Temporal's
// interceptor package with no counterpart (client interceptors, Nexus
// operations, tracing helpers).
func unsupportedInterceptor(name string) bool {
	_, ok := interceptorTypes[name]
	return !ok
}

// convertibleInterceptors reports whether the Interceptors field kv of a
// worker.Options holds only interceptors the runtime can install (the
// program's own, not Temporal's).
func (p *pass) convertibleInterceptors(kv *dst.KeyValueExpr) bool {
	_, ok := p.interceptorElts(kv.Value)
	return ok
}
