package temporal

import (
	"go/types"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// sessionRule converts Temporal's sessions to durable's, which keep their
// names and meaning: workflow.CreateSession, RecreateSession,
// CompleteSession, GetSessionInfo, SessionOptions, SessionInfo,
// SessionState and its constants, and ErrSessionFailed become durable's.
// A worker's EnableSessionWorker goes (every durable engine is a session
// worker unless durable.WithoutSessionWorker says otherwise), as do the
// test environment's worker options.
var sessionRule = rule{
	Name: "session",
	Doc:  "sessions to durable.CreateSession and friends",
	Run: func(p *pass) {
		table := map[string]target{}
		for _, n := range []string{
			"CreateSession", "RecreateSession", "CompleteSession", "GetSessionInfo",
			"SessionOptions", "SessionInfo", "SessionState", "ErrSessionFailed",
			"SessionStateOpen", "SessionStateFailed", "SessionStateClosed",
		} {
			table[n] = target{DurablePath, n}
		}
		p.renameIdents(pkgWorkflow, table)
		p.sessionWorkerOptions()
		p.inlineSessionOptions()
	},
}

// sessionWorkerOptions removes EnableSessionWorker from worker.Options
// literals: durable engines are session workers by default.
// MaxConcurrentSessionExecutionSize stays where the options stay, and is
// noted: its counterpart is durable.WithSessionWorker(n) on the engine.
func (p *pass) sessionWorkerOptions() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		lit, ok := n.(*dst.CompositeLit)
		if !ok || !isIdent(lit.Type, pkgWorker, "Options") || p.marked(lit) {
			return true
		}
		kept := lit.Elts[:0]
		for _, e := range lit.Elts {
			if kv, ok := e.(*dst.KeyValueExpr); ok {
				switch {
				case isIdent(kv.Key, "", "EnableSessionWorker"):
					p.changed()
					continue
				case isIdent(kv.Key, "", "MaxConcurrentSessionExecutionSize"):
					p.findings = append(p.findings, newFinding(p.pos(kv), p.rule, SeverityNote,
						"MaxConcurrentSessionExecutionSize: bound the engine's sessions with durable.WithSessionWorker(n) on durable.Open", ""))
				}
			}
			kept = append(kept, e)
		}
		lit.Elts = kept
		if len(kept) == 0 {
			lit.Decs.Lbrace = nil
		}
		return true
	})
}

// inlineSessionOptions moves a worker.Options literal that set only
// session fields, kept in a variable that only worker.New reads
// ("opts := worker.Options{EnableSessionWorker: true}; worker.New(c, q,
// opts)"), into the call, so that the worker rule drops it with the other
// options instead of keeping a variable of Temporal's type.
func (p *pass) inlineSessionOptions() {
	type def struct {
		lit  *dst.CompositeLit
		uses int
		arg  *dst.CallExpr
		idx  int
	}
	defs := map[types.Object]*def{}
	dst.Inspect(p.file, func(n dst.Node) bool {
		as, ok := n.(*dst.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 || p.marked(as) {
			return true
		}
		lit, ok := as.Rhs[0].(*dst.CompositeLit)
		id, isID := as.Lhs[0].(*dst.Ident)
		if !ok || !isID || !isIdent(lit.Type, pkgWorker, "Options") || !onlySessionFields(lit) {
			return true
		}
		if obj := p.objOf(id); obj != nil {
			defs[obj] = &def{lit: lit}
		}
		return true
	})
	if len(defs) == 0 {
		return
	}
	dst.Inspect(p.file, func(n dst.Node) bool {
		if call, name := callOf(n, pkgWorker); call != nil && name == "New" {
			for i, a := range call.Args {
				if id, ok := a.(*dst.Ident); ok {
					if d := defs[p.objOf(id)]; d != nil {
						d.arg, d.idx = call, i
					}
				}
			}
		}
		if id, ok := n.(*dst.Ident); ok {
			if d := defs[p.objOf(id)]; d != nil {
				d.uses++
			}
		}
		return true
	})
	inlined := map[*dst.CompositeLit]bool{}
	for _, d := range defs {
		// Two idents: the definition and worker.New's argument.
		if d.arg != nil && d.uses == 2 {
			d.arg.Args[d.idx] = d.lit
			inlined[d.lit] = true
		}
	}
	if len(inlined) == 0 {
		return
	}
	dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
		if as, ok := c.Node().(*dst.AssignStmt); ok && len(as.Rhs) == 1 {
			if lit, ok := as.Rhs[0].(*dst.CompositeLit); ok && inlined[lit] {
				c.Delete()
				p.changed()
			}
		}
		return true
	}, nil)
}

// onlySessionFields reports whether a worker.Options literal sets session
// fields and nothing else.
func onlySessionFields(lit *dst.CompositeLit) bool {
	for _, e := range lit.Elts {
		kv, ok := e.(*dst.KeyValueExpr)
		if !ok || !isIdent(kv.Key, "", "EnableSessionWorker", "MaxConcurrentSessionExecutionSize") {
			return false
		}
	}
	return true
}
