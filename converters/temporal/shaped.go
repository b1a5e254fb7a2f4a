package temporal

import (
	"github.com/dave/dst"
)

// ShapedPath is the import path of the runtime package with Temporal's
// workflow shape (futures and channels that decode into pointers).
const ShapedPath = "github.com/durablego/toolkit/runtime/durable/shaped"

// shapedRule converts futures, channels, timers, selectors, side effects,
// child workflows and external signals to runtime/durable/shaped, which has
// Temporal's shape on a context.Context: the code keeps its form
// ("f := shaped.ExecuteActivity(ctx, A, x)"; "f.Get(ctx, &r)") and every
// wait stays a durable yield point. In a package where the typed rules
// cannot convert every use (see convertPackage), it takes over what they
// leave: stored futures and channels, and every selector.
var shapedRule = rule{
	Name: "shaped",
	Doc:  "futures, channels and selectors to durable/shaped where types are not proven locally",
	Run: func(p *pass) {
		// AddReceive(ctx.Done(), cb): a channel closed on cancellation.
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, recv, m := methodCall(n)
			if call == nil || m != "AddReceive" || len(call.Args) != 2 || temporalType(p.typeOf(recv), "Selector") == "" {
				return true
			}
			if ctx := p.ctxDone(call.Args[0]); ctx != nil {
				call.Args[0] = &dst.CallExpr{Fun: &dst.Ident{Path: ShapedPath, Name: "Done"}, Args: []dst.Expr{ctx}}
				p.changed()
			}
			return true
		})
		table := map[string]target{}
		for _, name := range shapedNames {
			table[name] = target{ShapedPath, name}
		}
		table["Execution"] = target{ShapedPath, "WorkflowExecution"}
		p.renameIdents(pkgWorkflow, table)
		p.renameIdents("go.temporal.io/sdk/converter", map[string]target{"EncodedValue": {ShapedPath, "EncodedValue"}})
	},
}

// shapedNames are the names package shaped has under the same name as
// package workflow.
var shapedNames = []string{
	"Future", "Settable", "ChildWorkflowFuture", "ReceiveChannel", "SendChannel", "Channel", "Selector",
	"ExecuteActivity", "ExecuteLocalActivity", "ExecuteChildWorkflow", "NewTimer", "GetSignalChannel",
	"NewChannel", "NewNamedChannel", "NewBufferedChannel", "NewNamedBufferedChannel", "NewFuture",
	"NewSelector", "NewNamedSelector", "SideEffect", "MutableSideEffect", "SignalExternalWorkflow",
	"RequestCancelExternalWorkflow",
}

// typedRules are the rules whose stored and selector forms shapedRule
// takes over.
var typedRules = map[string]bool{
	"activity": true, "child": true, "timer": true, "sideeffect": true, "signal": true,
	"coroutine": true, "selector": true,
}

// shapedSuite is Suite with shapedRule after the typed rules, which then
// convert only the calls read where they are made (see pass.shaped); the
// typed selector rule is left out, since every selector becomes shaped's.
func shapedSuite() []rule {
	var out []rule
	for _, r := range Suite {
		switch r.Name {
		case "selector":
			out = append(out, shapedRule)
		default:
			out = append(out, r)
		}
	}
	return out
}

// noCounterpart lists the anchors of TODOs for features the runtime does not
// have; the shaped conversion cannot remove them, so they do not call for it.
var noCounterpart = map[string]bool{
	"interceptors": true, "data-converters": true, "nexus": true, "dynamic-workflows": true,
}

// needsShaped reports whether a typed conversion left a TODO the shaped
// conversion may avoid.
func needsShaped(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == SeverityTODO && !noCounterpart[f.Anchor] {
			return true
		}
	}
	return false
}

func countTODO(findings []Finding) int {
	n := 0
	for _, f := range findings {
		if f.Severity == SeverityTODO {
			n++
		}
	}
	return n
}

// isShaped reports whether suite is the shaped suite.
func isShaped(suite []rule) bool {
	for _, r := range suite {
		if r.Name == shapedRule.Name {
			return true
		}
	}
	return false
}
