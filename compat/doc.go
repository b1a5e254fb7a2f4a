// Package compat runs Temporal and converted durable code side by side
// during a cut-over.
//
// [Client] satisfies go.temporal.io/sdk/client.Client, so callers swap one
// constructor and change nothing else. Starting calls (ExecuteWorkflow,
// SignalWithStartWorkflow) choose a side per workflow type by a rollout
// [Policy]: off, a share of executions chosen deterministically from the
// workflow ID, allow and deny lists, and a kill switch that sends new
// executions back to Temporal. The decision is persisted in the durable
// store, so follow-up calls for an ID (signals, queries, updates,
// cancellation, termination, GetWorkflow, DescribeWorkflowExecution,
// GetWorkflowHistory) go wherever that ID was started, from any process.
// ScheduleClient routes schedules the same way, by the action's workflow
// type: a schedule and the workflows it starts live on one side.
// Everything else passes through to Temporal.
//
// Functions of the client's method names (DescribeWorkflowExecution,
// ListWorkflow, GetWorkflowHistory, ScheduleClient, ...) answer on a
// durable engine alone in Temporal's types; converted code calls them
// where it called the client. [GetWorkflowHistory] reads a run's journal
// as Temporal history events ([HistoryFromDurable]), the reverse of
// compat/replay.
//
// Shadow mode verifies a sampled share of the executions that ran on
// Temporal: once one closes, its history is replayed through the converted
// workflow with compat/replay; divergences are logged and counted and
// never affect the caller.
//
// Every decision is logged with slog and counted in [Client.Vars].
package compat
