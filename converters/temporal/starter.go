package temporal

import (
	"reflect"

	"github.com/dave/dst"
)

// starterRule converts the client calls that start and talk to workflows:
// ExecuteWorkflow is Engine.Start (client.StartWorkflowOptions becomes
// durable.StartOptions), SignalWorkflow, QueryWorkflow, CancelWorkflow,
// TerminateWorkflow and GetWorkflow drop their run ID (which must be "") and
// become Signal, Query, Cancel, Terminate and Run. A WorkflowRun is a
// durable.Run: GetID is ID, GetRunID is RunID, Get keeps its meaning.
var starterRule = rule{
	Name: "starter",
	Doc:  "ExecuteWorkflow, SignalWorkflow and QueryWorkflow to engine calls",
	Run: func(p *pass) {
		p.convertStruct(structMap{path: pkgClient, name: "StartWorkflowOptions", to: target{DurablePath, "StartOptions"}, anchor: "options-fields",
			fields: map[string]string{
				"ID": "ID", "TaskQueue": "Queue", "WorkflowExecutionTimeout": "ExecutionTimeout",
				"WorkflowRunTimeout": "RunTimeout", "RetryPolicy": "RetryPolicy",
			}})
		// runIDAt is the index of the run ID argument each method drops.
		methods := map[string]struct {
			to      string
			runIDAt int
		}{
			"ExecuteWorkflow":   {"Start", -1},
			"SignalWorkflow":    {"Signal", 2},
			"QueryWorkflow":     {"Query", 2},
			"CancelWorkflow":    {"Cancel", 2},
			"TerminateWorkflow": {"Terminate", 2},
			"GetWorkflow":       {"Run", 2},
		}
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, recv, m := methodCall(n)
			if call == nil || p.marked(call) || p.containsMarked(call) {
				return true
			}
			switch {
			case temporalType(p.typeOf(recv), "Client") != "":
				spec, ok := methods[m]
				switch {
				case m == "Close":
					return true
				case !ok:
					p.todo(call, "unrecognised", "client method %s has no automatic conversion", m)
					return true
				case spec.runIDAt >= 0 && (len(call.Args) <= spec.runIDAt || !isEmptyString(call.Args[spec.runIDAt])):
					p.todo(call, "external-run-id", "%s with a run ID; durable addresses the current run of a workflow ID", m)
					return true
				case m == "TerminateWorkflow" && len(call.Args) > 4:
					p.todo(call, "unrecognised", "TerminateWorkflow details are not supported")
					return true
				}
				if spec.runIDAt >= 0 {
					call.Args = append(call.Args[:spec.runIDAt], call.Args[spec.runIDAt+1:]...)
				}
				if m == "GetWorkflow" {
					call.Args = call.Args[1:]
				}
				call.Fun.(*dst.SelectorExpr).Sel.Name = spec.to
				p.changed()
			case temporalType(p.typeOf(recv), "WorkflowRun") != "":
				switch m {
				case "GetID":
					call.Fun.(*dst.SelectorExpr).Sel.Name = "ID"
				case "GetRunID":
					call.Fun.(*dst.SelectorExpr).Sel.Name = "RunID"
				case "Get":
					return true
				default:
					p.todo(call, "unrecognised", "WorkflowRun.%s has no automatic conversion", m)
					return true
				}
				p.changed()
			}
			return true
		})
		p.renameIdents(pkgClient, map[string]target{"WorkflowRun": {DurablePath, "Run"}})
	},
}

// containsMarked reports whether n holds a node a rule marked TODO.
func (p *pass) containsMarked(n dst.Node) bool {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return false
	}
	found := false
	dst.Inspect(n, func(x dst.Node) bool {
		if p.todos[x] {
			found = true
		}
		return !found
	})
	return found
}
