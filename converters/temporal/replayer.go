package temporal

import (
	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// ReplayPath is the import path of the package that replays Temporal
// histories (and durable runs) through converted workflow code.
const ReplayPath = "github.com/durablego/toolkit/compat/replay"

// replayerRule converts Temporal's workflow replayer to replay's, which
// has the same methods: a replay test keeps replaying the histories the
// old code made, now through the converted code, and a program that
// replayed executions from a Temporal server replays durable runs from the
// store (ReplayWorkflowExecution gets the engine where it got the
// client's WorkflowService).
var replayerRule = rule{
	Name: "replayer",
	Doc:  "worker.NewWorkflowReplayer to replay.NewWorkflowReplayer (compat/replay)",
	Run: func(p *pass) {
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, recv, m := methodCall(n)
			if call == nil || p.marked(call) || temporalType(p.typeOf(recv), "WorkflowReplayer") == "" {
				return true
			}
			switch m {
			case "RegisterWorkflow", "ReplayWorkflowHistory", "ReplayWorkflowHistoryFromJSONFile", "ReplayPartialWorkflowHistoryFromJSONFile":
			case "RegisterWorkflowWithOptions":
				if name := registerName(call); name != nil {
					call.Args[1] = &dst.CallExpr{Fun: durableIdent("WithName"), Args: []dst.Expr{name}}
					p.changed()
				} else {
					p.todo(call, "register-options", "only RegisterOptions{Name: ...} converts (to durable.WithName)")
				}
			case "ReplayWorkflowExecution":
				// The history comes from the durable store: the engine
				// the client became stands where its service was.
				if len(call.Args) == 5 {
					if svc, client, name := methodCall(call.Args[1]); svc != nil && name == "WorkflowService" && len(svc.Args) == 0 {
						call.Args[1] = client
						p.changed()
					}
				}
			default:
				p.todo(call, "replayer", "WorkflowReplayer.%s has no durable counterpart", m)
			}
			return true
		})
		dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
			call, name := callOf(c.Node(), pkgWorker)
			if call == nil || name != "NewWorkflowReplayer" || p.marked(call) {
				return true
			}
			call.Fun = &dst.Ident{Path: ReplayPath, Name: "NewWorkflowReplayer", Decs: call.Fun.(*dst.Ident).Decs}
			p.changed()
			return true
		}, nil)
		dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
			id, ok := c.Node().(*dst.Ident)
			if !ok || id.Path != pkgWorker || id.Name != "WorkflowReplayer" || p.marked(id) {
				return true
			}
			c.Replace(&dst.StarExpr{X: &dst.Ident{Path: ReplayPath, Name: "WorkflowReplayer"}, Decs: dst.StarExprDecorations{NodeDecs: id.Decs.NodeDecs}})
			p.changed()
			return true
		}, nil)
	},
}
