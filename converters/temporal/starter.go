package temporal

import (
	"reflect"
	"slices"
	"strings"

	"github.com/dave/dst"
)

// starterRule converts the client calls that start and talk to workflows,
// wherever the receiver has type client.Client (a variable, a field, a
// global): ExecuteWorkflow is Engine.Start (client.StartWorkflowOptions
// becomes durable.StartOptions); SignalWorkflow, QueryWorkflow,
// CancelWorkflow, TerminateWorkflow and GetWorkflow with an empty run ID
// become Signal, Query, Cancel, Terminate and Run. With a run ID, and for
// SignalWithStartWorkflow, UpdateWorkflow, UpdateWithStartWorkflow and
// NewWithStartWorkflowOperation, the engine's Temporal-shaped methods of
// the same name are called (runtime/durable/client.go), and their option
// types, stages and handles retarget. A WorkflowRun is a durable.Run: GetID
// is ID, GetRunID is RunID, Get keeps its meaning.
var starterRule = rule{
	Name: "starter",
	Doc:  "ExecuteWorkflow, SignalWorkflow, QueryWorkflow, UpdateWorkflow and the other client calls to engine calls",
	Run: func(p *pass) {
		p.dropFields(pkgClient, "StartWorkflowOptions", "EnableEagerStart")
		p.convertStruct(structMap{path: pkgClient, name: "StartWorkflowOptions", to: target{DurablePath, "StartOptions"}, anchor: "options-fields",
			fields: map[string]string{
				"ID": "ID", "TaskQueue": "Queue", "WorkflowExecutionTimeout": "ExecutionTimeout",
				"WorkflowRunTimeout": "RunTimeout", "RetryPolicy": "RetryPolicy", "StartDelay": "StartDelay",
				"WorkflowIDReusePolicy": "WorkflowIDReusePolicy", "WorkflowIDConflictPolicy": "WorkflowIDConflictPolicy",
				"CronSchedule": "CronSchedule", "Memo": "Memo", "SearchAttributes": "SearchAttributes",
				"TypedSearchAttributes": "TypedSearchAttributes",
			}})
		p.existingRunSemantics()
		p.convertStruct(structMap{path: pkgClient, name: "UpdateWorkflowOptions", to: target{DurablePath, "UpdateWorkflowOptions"}, anchor: "options-fields",
			fields: map[string]string{
				"UpdateID": "UpdateID", "WorkflowID": "WorkflowID", "RunID": "RunID", "UpdateName": "UpdateName",
				"Args": "Args", "WaitForStage": "WaitForStage", "FirstExecutionRunID": "FirstExecutionRunID",
			}})
		p.convertStruct(structMap{path: pkgClient, name: "UpdateWithStartWorkflowOptions", to: target{DurablePath, "UpdateWithStartWorkflowOptions"}, anchor: "options-fields",
			fields: map[string]string{"StartWorkflowOperation": "StartWorkflowOperation", "UpdateOptions": "UpdateOptions"}})
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
		// shaped are the methods the engine has in Temporal's shape.
		shaped := map[string]bool{
			"SignalWithStartWorkflow": true, "UpdateWorkflow": true, "UpdateWithStartWorkflow": true,
			"NewWithStartWorkflowOperation": true,
			// Asynchronous activity completion (runtime/durable/async.go).
			"CompleteActivity": true, "CompleteActivityByID": true,
			"RecordActivityHeartbeat": true, "RecordActivityHeartbeatByID": true,
		}
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, recv, m := methodCall(n)
			if call == nil || p.marked(call) || p.astOf(call) == nil {
				return true // none, marked, or made by a rule (c.Serve)
			}
			switch {
			case typeFrom(p.typeOf(recv), pkgMocks):
				// durabletest.MockClient has every method, in both shapes.
				return true
			case temporalType(p.typeOf(recv), "Client") != "":
				spec, ok := methods[m]
				switch {
				case m == "Close" || shaped[m]:
					return true
				case m == "ScheduleClient" && len(call.Args) == 0:
					// compat.ScheduleClient(c): Temporal's schedule client
					// served by the engine's durable schedules.
					call.Args = []dst.Expr{recv}
					call.Fun = &dst.Ident{Path: CompatPath, Name: m}
					p.changed()
					return true
				case compatCalls[m]:
					// compat.M(ctx, c, args...): durable's answer in
					// Temporal's types.
					call.Args = append([]dst.Expr{call.Args[0], recv}, call.Args[1:]...)
					call.Fun = &dst.Ident{Path: CompatPath, Name: m}
					p.changed()
					return true
				case !ok:
					p.todo(call, "unrecognised", "client method %s has no automatic conversion", m)
					return true
				case spec.runIDAt >= 0 && len(call.Args) <= spec.runIDAt:
					p.todo(call, "unrecognised", "%s in a form the converter does not rewrite", m)
					return true
				case spec.runIDAt >= 0 && !isEmptyString(call.Args[spec.runIDAt]):
					// The engine's method of Temporal's shape takes the run ID.
					return true
				case m == "TerminateWorkflow" && len(call.Args) > 4:
					return true // the shaped TerminateWorkflow takes the details
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
		p.renameIdents(pkgClient, map[string]target{
			"WorkflowRun":                      {DurablePath, "Run"},
			"WorkflowUpdateHandle":             {DurablePath, "UpdateHandle"},
			"WithStartWorkflowOperation":       {DurablePath, "WithStartWorkflowOperation"},
			"WorkflowUpdateStageUnspecified":   {DurablePath, "UpdateStageUnspecified"},
			"WorkflowUpdateStageAdmitted":      {DurablePath, "UpdateStageAdmitted"},
			"WorkflowUpdateStageAccepted":      {DurablePath, "UpdateStageAccepted"},
			"WorkflowUpdateStageCompleted":     {DurablePath, "UpdateStageCompleted"},
			"HistoryEventIterator":             {CompatPath, "HistoryEventIterator"},
			"DescribeTaskQueueEnhancedOptions": {CompatPath, "DescribeTaskQueueEnhancedOptions"},
			"TaskQueueDescription":             {CompatPath, "TaskQueueDescription"},
			"TaskQueueVersionInfo":             {CompatPath, "TaskQueueVersionInfo"},
			"TaskQueueTypeInfo":                {CompatPath, "TaskQueueTypeInfo"},
			"TaskQueuePollerInfo":              {CompatPath, "TaskQueuePollerInfo"},
			"TaskQueueStats":                   {CompatPath, "TaskQueueStats"},
			"TaskQueueType":                    {CompatPath, "TaskQueueType"},
			"TaskQueueTypeUnspecified":         {CompatPath, "TaskQueueTypeUnspecified"},
			"TaskQueueTypeWorkflow":            {CompatPath, "TaskQueueTypeWorkflow"},
			"TaskQueueTypeActivity":            {CompatPath, "TaskQueueTypeActivity"},
			"TaskQueueTypeNexus":               {CompatPath, "TaskQueueTypeNexus"},
		})
		p.renameIdents(pkgEnums, map[string]target{
			"WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED":                 {DurablePath, "IDReuseAllowDuplicate"},
			"WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE":             {DurablePath, "IDReuseAllowDuplicate"},
			"WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY": {DurablePath, "IDReuseAllowDuplicateFailedOnly"},
			"WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE":            {DurablePath, "IDReuseRejectDuplicate"},
			"WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING":        {DurablePath, "IDReuseTerminateIfRunning"},
			"WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED":              {DurablePath, "IDConflictFail"},
			"WORKFLOW_ID_CONFLICT_POLICY_FAIL":                     {DurablePath, "IDConflictFail"},
			"WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING":             {DurablePath, "IDConflictUseExisting"},
			"WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING":       {DurablePath, "IDConflictTerminateExisting"},
		})
	},
}

// compatCalls are the client methods whose results are Temporal's service
// types; package compat answers them from the durable store.
var compatCalls = map[string]bool{
	"DescribeWorkflowExecution": true, "ListWorkflow": true, "CountWorkflow": true,
	"ListOpenWorkflow": true, "ListClosedWorkflow": true,
	"DescribeTaskQueueEnhanced": true, "DescribeTaskQueue": true,
	// An iterator of Temporal history events made from the run's journal.
	"GetWorkflowHistory": true,
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

// dropFields removes the given keys from the composite literals of a
// Temporal struct: settings that mean nothing on durable (EnableEagerStart:
// a worker engine runs a run's first step within Start already).
func (p *pass) dropFields(path, name string, keys ...string) {
	dst.Inspect(p.file, func(n dst.Node) bool {
		lit, ok := n.(*dst.CompositeLit)
		if !ok || p.marked(lit) || temporalType(p.typeOf(lit), name) == "" {
			return true
		}
		if t := p.typeOf(lit); t == nil || !strings.HasSuffix(t.String(), path+"."+name) && !strings.HasSuffix(t.String(), pkgInternal+"."+name) {
			return true
		}
		kept := lit.Elts[:0]
		for _, el := range lit.Elts {
			if kv, ok := el.(*dst.KeyValueExpr); ok {
				if id, ok := kv.Key.(*dst.Ident); ok && slices.Contains(keys, id.Name) {
					p.changed()
					continue
				}
			}
			kept = append(kept, el)
		}
		lit.Elts = kept
		return true
	})
}

// existingRunSemantics keeps what Temporal's client does when a workflow ID
// already has an open run: ExecuteWorkflow returns that run rather than an
// error unless WorkflowExecutionErrorWhenAlreadyStarted is true. A converted
// start options literal without its own conflict policy gets
// WorkflowIDConflictPolicy: durable.IDConflictUseExisting; with
// WorkflowExecutionErrorWhenAlreadyStarted: true it keeps durable's default
// (ErrAlreadyStarted), and the field goes.
func (p *pass) existingRunSemantics() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		lit, ok := n.(*dst.CompositeLit)
		if !ok || p.marked(lit) || !isIdent(lit.Type, DurablePath, "StartOptions") || temporalType(p.typeOf(lit), "StartWorkflowOptions") == "" {
			return true
		}
		useExisting := true
		var keep []dst.Expr
		for _, el := range lit.Elts {
			kv, ok := el.(*dst.KeyValueExpr)
			if !ok {
				return true // positional fields: leave the literal alone
			}
			switch key, _ := kv.Key.(*dst.Ident); {
			case key == nil:
			case key.Name == "WorkflowIDConflictPolicy":
				useExisting = false
			case key.Name == "WorkflowExecutionErrorWhenAlreadyStarted":
				v, ok := kv.Value.(*dst.Ident)
				if !ok || (v.Name != "true" && v.Name != "false") {
					return true // not a constant: the options rule marks it
				}
				useExisting = useExisting && v.Name == "false"
				continue
			}
			keep = append(keep, el)
		}
		if useExisting {
			kv := &dst.KeyValueExpr{Key: &dst.Ident{Name: "WorkflowIDConflictPolicy"}, Value: durableIdent("IDConflictUseExisting")}
			if len(keep) > 0 && keep[0].Decorations().Before == dst.NewLine {
				kv.Decs.Before, kv.Decs.After = dst.NewLine, dst.NewLine
			}
			keep = append(keep, kv)
		}
		lit.Elts = keep
		p.changed()
		return true
	})
}
