package compat

import (
	"context"

	"github.com/durablego/toolkit/runtime/durable"
)

// CompleteActivity completes an activity that completes asynchronously
// where it runs: a durable task token (durable.IsTaskToken) goes to the
// durable engine, any other to Temporal. During a cut-over the same code
// (an approval UI, a callback handler) completes activities of both sides.
func (c *Client) CompleteActivity(ctx context.Context, taskToken []byte, result any, err error) error {
	if durable.IsTaskToken(taskToken) {
		return c.engine.CompleteActivity(ctx, taskToken, result, err)
	}
	return c.Client.CompleteActivity(ctx, taskToken, result, err)
}

// CompleteActivityByID completes an activity of the execution workflowID
// where that execution runs.
func (c *Client) CompleteActivityByID(ctx context.Context, namespace, workflowID, runID, activityID string, result any, err error) error {
	if c.sideOf(ctx, workflowID) == Durable {
		return c.engine.CompleteActivityByID(ctx, namespace, workflowID, runID, activityID, result, err)
	}
	return c.Client.CompleteActivityByID(ctx, namespace, workflowID, runID, activityID, result, err)
}

// RecordActivityHeartbeat records a heartbeat by task token where the
// activity runs, as CompleteActivity routes.
func (c *Client) RecordActivityHeartbeat(ctx context.Context, taskToken []byte, details ...any) error {
	if durable.IsTaskToken(taskToken) {
		return c.engine.RecordActivityHeartbeat(ctx, taskToken, details...)
	}
	return c.Client.RecordActivityHeartbeat(ctx, taskToken, details...)
}

// RecordActivityHeartbeatByID records a heartbeat for an activity of the
// execution workflowID where that execution runs.
func (c *Client) RecordActivityHeartbeatByID(ctx context.Context, namespace, workflowID, runID, activityID string, details ...any) error {
	if c.sideOf(ctx, workflowID) == Durable {
		return c.engine.RecordActivityHeartbeatByID(ctx, namespace, workflowID, runID, activityID, details...)
	}
	return c.Client.RecordActivityHeartbeatByID(ctx, namespace, workflowID, runID, activityID, details...)
}
