package temporal

// optionsRule converts activity, local activity and child workflow options
// to durable.CallOptions, LocalCallOptions and ChildOptions field by field.
var optionsRule = rule{
	Name: "options",
	Doc:  "activity and child options to durable.CallOptions and ChildOptions",
	Run: func(p *pass) {
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
			}})
		p.renameIdents(pkgWorkflow, map[string]target{
			"WithActivityOptions":      {DurablePath, "WithCallOptions"},
			"WithLocalActivityOptions": {DurablePath, "WithLocalCallOptions"},
			"WithChildOptions":         {DurablePath, "WithChildOptions"},
		})
	},
}
