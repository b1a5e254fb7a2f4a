package temporal

import (
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

const pkgConverter = "go.temporal.io/sdk/converter"

// envMethods converts the test environments' methods whose arguments are
// Temporal types: Register*WithOptions take durable.WithName,
// SetWorkerOptions takes a durabletest.WorkerOptions that keeps what has a
// meaning there (BackgroundActivityContext), and SetDataConverter goes
// when it sets Temporal's default (JSON) converter, payloads being JSON in
// durable, and is marked TODO otherwise (durabletest accepts and ignores
// it).
func (p *pass) envMethods() {
	isEnv := func(recv dst.Expr) bool {
		return temporalType(p.typeOf(recv), "TestWorkflowEnvironment", "TestActivityEnvironment") != ""
	}
	// isConverted reports whether recv is a durabletest environment already
	// (converting converted code again marks SetDataConverter the same way).
	isConverted := func(recv dst.Expr) bool {
		t := p.typeOf(recv)
		if ptr, ok := t.(*types.Pointer); ok {
			t = ptr.Elem()
		}
		n, ok := t.(*types.Named)
		return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == DurableTestPath && (n.Obj().Name() == "Env" || n.Obj().Name() == "ActivityEnv")
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		if es, ok := c.Node().(*dst.ExprStmt); ok && c.Index() >= 0 {
			if call, recv, m := methodCall(es.X); call != nil && m == "SetDataConverter" && len(call.Args) == 1 &&
				isEnv(recv) && !p.marked(call) && isDefaultDataConverter(call.Args[0]) {
				c.Delete()
				p.changed()
				return true
			}
		}
		call, recv, m := methodCall(c.Node())
		if call != nil && m == "SetDataConverter" && len(call.Args) == 1 && isConverted(recv) && !isDefaultDataConverter(call.Args[0]) {
			p.todo(call, "data-converters", dataConverterTODO)
			return true
		}
		if call == nil || p.marked(call) || !isEnv(recv) {
			return true
		}
		switch m {
		case "RegisterWorkflowWithOptions", "RegisterActivityWithOptions":
			if name := registerName(call); name != nil {
				call.Fun.(*dst.SelectorExpr).Sel.Name = strings.TrimSuffix(m, "WithOptions")
				call.Args[1] = &dst.CallExpr{Fun: durableIdent("WithName"), Args: []dst.Expr{name}}
				p.changed()
			} else {
				p.todo(call, "register-options", "only RegisterOptions{Name: ...} converts (to durable.WithName)")
			}
		case "SetWorkerOptions":
			if len(call.Args) == 1 {
				p.workerOptions(call, call.Args[0])
			}
		case "SetDataConverter":
			if len(call.Args) == 1 && !isDefaultDataConverter(call.Args[0]) {
				p.todo(call, "data-converters", dataConverterTODO)
			}
		}
		return true
	})
}

const dataConverterTODO = "payloads are JSON in durable: durabletest ignores this data converter, so what it encodes differently does not happen in the test"

// isDefaultDataConverter reports whether e is converter.GetDefaultDataConverter(),
// whose payloads are JSON, as durable's are.
func isDefaultDataConverter(e dst.Expr) bool {
	call, name := callOf(e, pkgConverter)
	return call != nil && name == "GetDefaultDataConverter" && len(call.Args) == 0
}

// workerOptions turns a worker.Options literal into durabletest.WorkerOptions:
// BackgroundActivityContext stays, tuning and worker features (pollers,
// rates, sessions, deadlock detection, ...) go away, and interceptors are
// marked TODO, since dropping them would change what the test checks.
func (p *pass) workerOptions(call *dst.CallExpr, arg dst.Expr) {
	lit, ok := arg.(*dst.CompositeLit)
	if !ok || !isIdent(lit.Type, pkgWorker, "Options") {
		p.todo(call, "testsuite", "SetWorkerOptions takes a durabletest.WorkerOptions (BackgroundActivityContext)")
		return
	}
	var kept []dst.Expr
	for _, e := range lit.Elts {
		kv, ok := e.(*dst.KeyValueExpr)
		if !ok {
			p.todo(call, "testsuite", "SetWorkerOptions takes a durabletest.WorkerOptions (BackgroundActivityContext)")
			return
		}
		switch kv.Key.(*dst.Ident).Name {
		case "BackgroundActivityContext":
			kept = append(kept, kv)
		case "Interceptors":
			if !p.convertibleInterceptors(kv) {
				p.todo(call, "testsuite", "Temporal's own worker interceptors (tracing) have no counterpart in durabletest: remove them from the test")
				return
			}
			kept = append(kept, kv)
		}
	}
	lit.Type = &dst.Ident{Path: DurableTestPath, Name: "WorkerOptions"}
	lit.Elts = kept
	if len(kept) == 0 {
		lit.Decs.Lbrace = nil
	}
	p.changed()
}

// encodedValues retypes the listeners' converter.EncodedValues parameters
// (SetOnActivityStartedListener, SetOnActivityHeartbeatListener) to
// durabletest.Values, which has the same Get.
func (p *pass) encodedValues() {
	if !strings.HasSuffix(p.filename, "_test.go") {
		return
	}
	p.renameIdents(pkgConverter, map[string]target{"EncodedValues": {DurableTestPath, "Values"}})
}

// devServer converts testsuite.StartDevServer to durabletest.StartDevServer,
// an engine on an in-memory store in the test's process: the server's
// client and the workers on it are that engine. The server's options have
// no counterpart and go away (ClientOptions stays, ignored).
func (p *pass) devServer() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, name := callOf(n, pkgTestsuite)
		if call == nil || name != "StartDevServer" || p.marked(call) {
			return true
		}
		call.Fun = &dst.Ident{Path: DurableTestPath, Name: "StartDevServer"}
		if len(call.Args) == 2 {
			opts := &dst.CompositeLit{Type: &dst.Ident{Path: DurableTestPath, Name: "DevServerOptions"}}
			if lit, ok := call.Args[1].(*dst.CompositeLit); ok {
				// ClientOptions stays (ignored) so that the variables it
				// reads stay used.
				for _, e := range lit.Elts {
					if kv, ok := e.(*dst.KeyValueExpr); ok && isIdent(kv.Key, "", "ClientOptions") {
						opts.Elts = append(opts.Elts, kv)
					}
				}
			}
			call.Args[1] = opts
		}
		p.changed()
		return true
	})
}

// replayers skips tests that replay a Temporal history with a replayer
// made with options (worker.WorkflowReplayerOptions): the options have no
// counterpart. A plain worker.NewWorkflowReplayer converts (replayerRule).
func (p *pass) replayers() {
	done := map[*dst.BlockStmt]bool{}
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, name := callOf(n, pkgWorker)
		if call == nil || name != "NewWorkflowReplayerWithOptions" || p.marked(call) {
			return true
		}
		body := p.enclosingBody(call)
		t := p.testingT(call)
		if body == nil || t == nil || done[body] || skipsAlready(body) {
			return true
		}
		done[body] = true
		const why = "replays a Temporal event history; durable runs replay their own journals " +
			"(durabletest's replay check, Engine.Verify, migrate verify): record a journal and verify it instead"
		skip := &dst.ExprStmt{X: &dst.CallExpr{
			Fun:  &dst.SelectorExpr{X: t, Sel: &dst.Ident{Name: "Skip"}},
			Args: []dst.Expr{&dst.BasicLit{Kind: token.STRING, Value: strconv.Quote("TODO(migrate): " + why)}},
		}}
		skip.Decs.Before = dst.NewLine
		skip.Decs.After = dst.EmptyLine
		body.List = append([]dst.Stmt{skip}, body.List...)
		p.findings = append(p.findings, newFinding(p.pos(call), p.rule, SeverityTODO, "the test "+why+"; it is skipped", "testsuite"))
		p.changed()
		return true
	})
}

// skipsAlready reports whether body starts with the t.Skip replayers puts
// there (converting converted code again changes nothing).
func skipsAlready(body *dst.BlockStmt) bool {
	if len(body.List) == 0 {
		return false
	}
	es, ok := body.List[0].(*dst.ExprStmt)
	if !ok {
		return false
	}
	call, recv, m := methodCall(es.X)
	if call == nil || recv == nil || m != "Skip" || len(call.Args) != 1 {
		return false
	}
	lit, ok := call.Args[0].(*dst.BasicLit)
	return ok && strings.HasPrefix(lit.Value, `"TODO(migrate): replays`)
}

// enclosingBody returns the body of the function declaration or literal
// around n.
func (p *pass) enclosingBody(n dst.Node) *dst.BlockStmt {
	for cur := p.parent(n); cur != nil; cur = p.parent(cur) {
		switch f := cur.(type) {
		case *dst.FuncLit:
			return f.Body
		case *dst.FuncDecl:
			return f.Body
		}
	}
	return nil
}
