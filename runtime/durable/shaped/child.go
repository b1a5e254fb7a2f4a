package shaped

import (
	"context"
	"encoding/json"

	"github.com/durablego/toolkit/runtime/durable"
)

// WorkflowExecution names a run (workflow.Execution).
type WorkflowExecution struct {
	ID    string
	RunID string
}

// ChildWorkflowFuture is the future of a child workflow
// (workflow.ChildWorkflowFuture): durable.ChildWorkflowFuture, which
// interceptors return.
type ChildWorkflowFuture = durable.ChildWorkflowFuture

// ExecuteChildWorkflow starts a child workflow (workflow.ExecuteChildWorkflow);
// options come from the context (durable.WithChildOptions).
func ExecuteChildWorkflow(ctx context.Context, childWorkflow any, args ...any) ChildWorkflowFuture {
	f := durable.ChildAsync[json.RawMessage](ctx, childWorkflow, args...)
	return &childFuture{rawFuture: rawFuture{f: f}, ctx: ctx}
}

type childFuture struct {
	rawFuture
	ctx context.Context
}

func (c *childFuture) GetChildWorkflowExecution() Future {
	id, runID := durable.ChildExecution(c.f)
	return Ready(c.ctx, WorkflowExecution{ID: id, RunID: runID}, nil)
}

func (c *childFuture) SignalChildWorkflow(ctx context.Context, signalName string, data any) Future {
	id, _ := durable.ChildExecution(c.f)
	return Ready(ctx, nil, durable.SignalExternal(ctx, id, signalName, data))
}

// SignalExternalWorkflow signals another run (workflow.SignalExternalWorkflow).
// The run ID is ignored: the signal goes to the workflow ID's current run.
func SignalExternalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) Future {
	return Ready(ctx, nil, durable.SignalExternal(ctx, workflowID, signalName, arg))
}

// RequestCancelExternalWorkflow asks another run to cancel
// (workflow.RequestCancelExternalWorkflow).
func RequestCancelExternalWorkflow(ctx context.Context, workflowID, runID string) Future {
	return Ready(ctx, nil, durable.CancelExternal(ctx, workflowID))
}
