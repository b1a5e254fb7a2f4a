package temporal

// activityHelpersRule converts the activity package's helpers:
// activity.GetInfo to durable.GetActivityInfo (with its fields),
// RecordHeartbeat, HasHeartbeatDetails and GetHeartbeatDetails.
var activityHelpersRule = rule{
	Name: "activityhelpers",
	Doc:  "activity info and heartbeats to durable activity helpers",
	Run: func(p *pass) {
		p.convertInfo("ActivityInfo", map[string]string{
			"ActivityID": "ActivityID", "ActivityType.Name": "Activity", "Attempt": "Attempt",
			"WorkflowExecution.ID": "WorkflowID", "WorkflowExecution.RunID": "RunID", "WorkflowType.Name": "Workflow",
			"TaskQueue": "Queue", "ScheduledTime": "ScheduledTime", "StartedTime": "StartedTime",
			"Deadline": "Deadline", "HeartbeatTimeout": "HeartbeatTimeout", "TaskToken": "TaskToken",
			"WorkflowNamespace": namespaceField, "Namespace": namespaceField,
		})
		p.renameIdents(pkgActivity, map[string]target{
			"GetInfo":             {DurablePath, "GetActivityInfo"},
			"Info":                {DurablePath, "ActivityInfo"},
			"RecordHeartbeat":     {DurablePath, "RecordHeartbeat"},
			"HasHeartbeatDetails": {DurablePath, "HasHeartbeatDetails"},
			"GetHeartbeatDetails": {DurablePath, "HeartbeatDetails"},
			"GetClient":           {DurablePath, "ActivityClient"},
			"ErrResultPending":    {DurablePath, "ErrResultPending"},
		})
	},
}
