package temporal

import "github.com/dave/dst"

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
