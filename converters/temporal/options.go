package temporal

import "github.com/dave/dst"

// optionsRule converts activity, local activity and child workflow options
// to durable.CallOptions, LocalCallOptions and ChildOptions field by field.
// Fields that only tune Temporal's server (droppedOptions) are removed with
// a note; other fields without a counterpart are kept and marked TODO.
var optionsRule = rule{
	Name: "options",
	Doc:  "activity and child options to durable.CallOptions and ChildOptions",
	Run: func(p *pass) {
		p.dropOptions()
		p.convertStruct(structMap{path: pkgWorkflow, name: "ActivityOptions", to: target{DurablePath, "CallOptions"}, anchor: "options-fields",
			fields: map[string]string{
				"TaskQueue": "Queue", "ScheduleToCloseTimeout": "ScheduleToCloseTimeout", "ScheduleToStartTimeout": "ScheduleToStartTimeout",
				"StartToCloseTimeout": "StartToCloseTimeout", "HeartbeatTimeout": "HeartbeatTimeout",
				"WaitForCancellation": "WaitForCancellation", "RetryPolicy": "RetryPolicy",
			}})
		p.convertStruct(structMap{path: pkgWorkflow, name: "LocalActivityOptions", to: target{DurablePath, "LocalCallOptions"}, anchor: "options-fields",
			fields: map[string]string{
				"ScheduleToCloseTimeout": "ScheduleToCloseTimeout", "StartToCloseTimeout": "StartToCloseTimeout", "RetryPolicy": "RetryPolicy",
			}})
		p.convertStruct(structMap{path: pkgWorkflow, name: "ChildWorkflowOptions", to: target{DurablePath, "ChildOptions"}, anchor: "options-fields",
			fields: map[string]string{
				"WorkflowID": "ID", "TaskQueue": "Queue", "WorkflowExecutionTimeout": "ExecutionTimeout",
				"WorkflowRunTimeout": "RunTimeout", "RetryPolicy": "RetryPolicy", "WaitForCancellation": "WaitForCancellation",
				"ParentClosePolicy": "ParentClosePolicy", "Memo": "Memo", "SearchAttributes": "SearchAttributes",
				"CronSchedule": "CronSchedule",
			}})
		p.renameIdents(pkgEnums, map[string]target{
			"PARENT_CLOSE_POLICY_UNSPECIFIED":    {DurablePath, "ParentCloseTerminate"},
			"PARENT_CLOSE_POLICY_TERMINATE":      {DurablePath, "ParentCloseTerminate"},
			"PARENT_CLOSE_POLICY_ABANDON":        {DurablePath, "ParentCloseAbandon"},
			"PARENT_CLOSE_POLICY_REQUEST_CANCEL": {DurablePath, "ParentCloseRequestCancel"},
			"ParentClosePolicy":                  {DurablePath, "ParentClosePolicy"},
		})
		p.renameIdents(pkgWorkflow, map[string]target{
			"WithActivityOptions":      {DurablePath, "WithCallOptions"},
			"WithLocalActivityOptions": {DurablePath, "WithLocalCallOptions"},
			"WithChildOptions":         {DurablePath, "WithChildOptions"},
		})
	},
}

// droppedOptions are the option fields that tune only Temporal's server
// and mean nothing to the durable runtime, with the reason given in the
// note that replaces them.
var droppedOptions = map[string]map[string]string{
	"ChildWorkflowOptions": {
		"WorkflowTaskTimeout": "durable has no workflow tasks",
		"StaticSummary":       "durable has no UI metadata",
		"StaticDetails":       "durable has no UI metadata",
	},
	"ActivityOptions": {
		"DisableEagerExecution": "durable has no eager execution",
		"Summary":               "durable has no UI metadata",
	},
	"LocalActivityOptions": {
		"Summary": "durable has no UI metadata",
	},
	"StartWorkflowOptions": {
		"WorkflowTaskTimeout": "durable has no workflow tasks",
		"StaticSummary":       "durable has no UI metadata",
		"StaticDetails":       "durable has no UI metadata",
	},
}

// dropOptions removes the droppedOptions fields of option literals and
// leaves a comment and a note where each was.
func (p *pass) dropOptions() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		lit, ok := n.(*dst.CompositeLit)
		if !ok || p.marked(lit) {
			return true
		}
		name := temporalType(p.typeOf(lit), "ChildWorkflowOptions", "ActivityOptions", "LocalActivityOptions", "StartWorkflowOptions")
		drop := droppedOptions[name]
		if drop == nil {
			return true
		}
		var keep []dst.Expr
		var notes []string
		for _, el := range lit.Elts {
			if kv, ok := el.(*dst.KeyValueExpr); ok {
				if key, ok := kv.Key.(*dst.Ident); ok && drop[key.Name] != "" {
					msg := name + "." + key.Name + " dropped: " + drop[key.Name]
					p.findings = append(p.findings, newFinding(p.pos(kv), p.rule, SeverityNote, msg, "options-fields"))
					notes = append(notes, "// migrate: "+msg)
					continue
				}
			}
			if len(notes) > 0 {
				el.Decorations().Start.Prepend(notes...)
				el.Decorations().Before = dst.NewLine
				notes = nil
			}
			keep = append(keep, el)
		}
		if len(keep) == len(lit.Elts) {
			return true
		}
		if len(notes) > 0 {
			at := p.anchorOf(lit).Decorations()
			at.Start.Append(notes...)
			at.Before = dst.NewLine
		}
		lit.Elts = keep
		p.changed()
		return true
	})
}
