package compat

import (
	"context"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/durablego/toolkit/runtime/durable"
)

// durableRun is a client.WorkflowRun for an execution on the durable
// engine.
type durableRun struct {
	run        durable.Run
	workflowID string
	runID      string
}

func newDurableRun(run durable.Run, workflowID, runID string) *durableRun {
	if runID == "" {
		if r, ok := run.(interface{ RunID() string }); ok {
			runID = r.RunID()
		}
	}
	return &durableRun{run: run, workflowID: workflowID, runID: runID}
}

func (r *durableRun) GetID() string                  { return r.workflowID }
func (r *durableRun) GetRunID() string               { return r.runID }
func (r *durableRun) GetFirstExecutionRunID() string { return r.runID }

// Get waits for the execution's result (following continue-as-new) and
// decodes it into valuePtr; it returns the workflow's error.
func (r *durableRun) Get(ctx context.Context, valuePtr any) error { return r.run.Get(ctx, valuePtr) }

// GetWithOptions is Get; the durable engine always follows continue-as-new.
func (r *durableRun) GetWithOptions(ctx context.Context, valuePtr any, _ client.WorkflowRunGetOptions) error {
	return r.run.Get(ctx, valuePtr)
}

// encodedValue is a converter.EncodedValue over a durable query result.
type encodedValue struct{ v durable.Value }

func (e encodedValue) HasValue() bool         { return e.v != nil }
func (e encodedValue) Get(valuePtr any) error { return e.v.Get(valuePtr) }

// updateHandle is a client.WorkflowUpdateHandle for a durable update,
// which has completed when UpdateWorkflow returns.
type updateHandle struct {
	workflowID, runID, updateID string
	value                       durable.Value
}

func (h *updateHandle) WorkflowID() string { return h.workflowID }
func (h *updateHandle) RunID() string      { return h.runID }
func (h *updateHandle) UpdateID() string   { return h.updateID }
func (h *updateHandle) Get(ctx context.Context, valuePtr any) error {
	if valuePtr == nil {
		return nil
	}
	return h.value.Get(valuePtr)
}

// DescribeWorkflowExecution describes an execution where it runs; for the
// durable side, see the function DescribeWorkflowExecution.
func (c *Client) DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if c.sideOf(ctx, workflowID) != Durable {
		return c.Client.DescribeWorkflowExecution(ctx, workflowID, runID)
	}
	return DescribeWorkflowExecution(ctx, c.engine, workflowID, runID)
}
