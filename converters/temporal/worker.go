package temporal

import (
	"go/token"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// StoreDSNDefault is the store a converted worker opens. Review it: use
// "postgres://..." when several processes share the work.
const StoreDSNDefault = "sqlite:durable.db"

// workerRule converts worker programs: client.Dial is durable.Open, the
// worker is the engine itself (worker.New(c, ...) is c), Register*WithOptions
// take durable.WithName, and w.Run(worker.InterruptCh()) waits for an
// interrupt while the engine runs the workflows.
var workerRule = rule{
	Name: "worker",
	Doc:  "client.Dial, worker.New, Register* and Run to durable.Open and Register*",
	Run: func(p *pass) {
		dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
			n := c.Node()
			if p.marked(n) || p.containsMarked(n) {
				return true
			}
			if call, name := callOf(n, pkgClient); call != nil {
				switch name {
				case "Dial", "NewLazyClient", "NewClient", "DialContext":
					ctxArg := dst.Expr(&dst.CallExpr{Fun: &dst.Ident{Path: "context", Name: "Background"}})
					if name == "DialContext" && len(call.Args) == 2 {
						ctxArg = call.Args[0]
					}
					call.Fun = durableIdent("Open")
					call.Args = []dst.Expr{ctxArg, &dst.BasicLit{Kind: token.STRING, Value: `"` + StoreDSNDefault + `"`}}
					p.findings = append(p.findings, newFinding(p.pos(call), p.rule, SeverityNote,
						"client."+name+" became durable.Open(ctx, \""+StoreDSNDefault+"\"); the Temporal connection options were dropped: choose the store DSN", ""))
					p.changed()
				}
				return true
			}
			if call, name := callOf(n, pkgWorker); call != nil && name == "New" && len(call.Args) >= 1 {
				if len(call.Args) >= 2 {
					p.findings = append(p.findings, newFinding(p.pos(call), p.rule, SeverityNote,
						"worker.New became the engine itself; it serves every queue unless durable.Open gets durable.WithQueues(...)", ""))
				}
				c.Replace(call.Args[0])
				p.changed()
				return true
			}
			call, recv, m := methodCall(n)
			if call == nil || temporalType(p.typeOf(recv), "Worker", "AggregatedWorker") == "" {
				return true
			}
			switch m {
			case "RegisterWorkflow", "RegisterActivity":
			case "RegisterWorkflowWithOptions", "RegisterActivityWithOptions":
				if name := registerName(call); name != nil {
					call.Fun.(*dst.SelectorExpr).Sel.Name = m[:len(m)-len("WithOptions")]
					call.Args[1] = &dst.CallExpr{Fun: durableIdent("WithName"), Args: []dst.Expr{name}}
					p.changed()
				} else {
					p.todo(call, "register-options", "only RegisterOptions{Name: ...} converts (to durable.WithName)")
				}
			case "Stop":
				call.Fun.(*dst.SelectorExpr).Sel.Name = "Close"
				p.changed()
			case "Run":
				p.convertRun(c, call)
			default:
				p.todo(call, "unrecognised", "worker method %s has no automatic conversion", m)
			}
			return true
		})
		p.replaceRuns()
		p.pointerTypes(pkgClient, map[string]string{"Client": "Engine"})
		p.pointerTypes(pkgWorker, map[string]string{"Worker": "Engine"})
	},
}

// registerName returns the Name of a RegisterOptions literal that sets
// nothing else.
func registerName(call *dst.CallExpr) dst.Expr {
	if len(call.Args) != 2 {
		return nil
	}
	lit, ok := call.Args[1].(*dst.CompositeLit)
	if !ok || len(lit.Elts) != 1 {
		return nil
	}
	kv, ok := lit.Elts[0].(*dst.KeyValueExpr)
	if !ok || !isIdent(lit.Type, pkgWorkflow, "RegisterOptions") && !isIdent(lit.Type, pkgActivity, "RegisterOptions") {
		return nil
	}
	if key, ok := kv.Key.(*dst.Ident); ok && key.Name == "Name" {
		return kv.Value
	}
	return nil
}

// convertRun replaces "w.Run(worker.InterruptCh())" (a statement, or the
// right-hand side of "err = " or "err := ") with a block that waits for an
// interrupt: the engine runs workflows from Open on.
func (p *pass) convertRun(c *dstutil.Cursor, call *dst.CallExpr) {
	if len(call.Args) != 1 || !isCallTo(call.Args[0], pkgWorker, "InterruptCh") {
		p.todo(call, "worker-run", "worker Run with a custom stop channel; wait on it instead, the engine runs from durable.Open on")
		return
	}
	p.pendingRuns = append(p.pendingRuns, call)
}

func isCallTo(e dst.Expr, path, name string) bool {
	call, n := callOf(e, path)
	return call != nil && n == name
}

// waitInterrupt is the block that replaces w.Run(worker.InterruptCh()).
func waitInterrupt() *dst.BlockStmt {
	sig := func() *dst.Ident { return &dst.Ident{Name: "interrupt"} }
	return &dst.BlockStmt{List: []dst.Stmt{
		&dst.AssignStmt{Lhs: []dst.Expr{sig()}, Tok: token.DEFINE, Rhs: []dst.Expr{&dst.CallExpr{
			Fun:  &dst.Ident{Name: "make"},
			Args: []dst.Expr{&dst.ChanType{Dir: dst.SEND | dst.RECV, Value: &dst.Ident{Path: "os", Name: "Signal"}}, &dst.BasicLit{Kind: token.INT, Value: "1"}},
		}}},
		&dst.ExprStmt{X: &dst.CallExpr{Fun: &dst.Ident{Path: "os/signal", Name: "Notify"}, Args: []dst.Expr{sig(),
			&dst.Ident{Path: "os", Name: "Interrupt"}, &dst.Ident{Path: "syscall", Name: "SIGTERM"}}}},
		&dst.ExprStmt{X: &dst.UnaryExpr{Op: token.ARROW, X: sig()}},
	}}
}

// replaceRuns swaps the statements holding the recorded Run calls.
func (p *pass) replaceRuns() {
	if len(p.pendingRuns) == 0 {
		return
	}
	want := map[*dst.CallExpr]bool{}
	for _, r := range p.pendingRuns {
		want[r] = true
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		stmt, ok := c.Node().(dst.Stmt)
		if !ok || c.Index() < 0 {
			return true
		}
		call := getSite(stmt, func(call *dst.CallExpr) bool { return want[call] })
		if call == nil {
			return true
		}
		delete(want, call)
		block := waitInterrupt()
		block.Decs.NodeDecs = *stmt.Decorations()
		switch s := stmt.(type) {
		case *dst.ExprStmt:
			c.Replace(block)
		case *dst.AssignStmt:
			c.Replace(block)
			if id, ok := s.Lhs[0].(*dst.Ident); ok && s.Tok == token.DEFINE && id.Name != "_" {
				c.InsertBefore(varDecl(id.Name, "error"))
			}
		default:
			p.todo(stmt, "worker-run", "worker Run in a form the converter does not rewrite")
			return true
		}
		p.changed()
		return true
	})
	for r := range want {
		p.todo(r, "worker-run", "worker Run in a form the converter does not rewrite")
	}
	p.pendingRuns = nil
}
