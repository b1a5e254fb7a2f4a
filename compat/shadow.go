package compat

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/durablego/toolkit/compat/replay"
)

// ShadowLimitDefault bounds the sampled executions whose close a client
// waits for at once; beyond it, samples are skipped (and counted).
const ShadowLimitDefault = 100

type shadowConfig struct {
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
}

func defaultShadowConfig() shadowConfig {
	ctx, cancel := context.WithCancel(context.Background())
	return shadowConfig{sem: make(chan struct{}, ShadowLimitDefault), ctx: ctx, cancel: cancel}
}

// WithShadowLimit sets how many sampled executions the client waits for
// at once. Defaults to ShadowLimitDefault.
func WithShadowLimit(n int) Option {
	return func(c *Client) { c.shadow.sem = make(chan struct{}, max(n, 1)) }
}

// maybeShadow verifies run in the background once it closes, if the
// policy samples it. Nothing it does reaches the caller.
func (c *Client) maybeShadow(workflow, workflowID string, run client.WorkflowRun) {
	if !c.policy.Load().shadowed(workflow, workflowID) {
		return
	}
	select {
	case c.shadow.sem <- struct{}{}:
	default:
		c.vars.Add("shadow.skipped", 1)
		c.log.Warn("compat: shadow limit reached; not verifying", "workflow", workflow, "workflow_id", workflowID)
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() { <-c.shadow.sem }()
		ctx := c.shadow.ctx
		// The outcome does not matter, only that the execution closed.
		_ = run.Get(ctx, nil)
		if ctx.Err() != nil {
			return
		}
		_, _ = c.Shadow(ctx, workflowID, run.GetRunID())
	}()
}

// Shadow fetches the history of a closed Temporal execution and verifies
// it against the converted workflow registered on the engine. The result
// is logged and counted (shadow.verified, shadow.diverged, shadow.errors)
// as well as returned.
func (c *Client) Shadow(ctx context.Context, workflowID, runID string) (*replay.Report, error) {
	rep, err := c.shadowVerify(ctx, workflowID, runID)
	switch {
	case err != nil:
		c.vars.Add("shadow.errors", 1)
		c.log.Warn("compat: shadow verification failed", "workflow_id", workflowID, "run_id", runID, "error", err)
	case !rep.OK():
		c.vars.Add("shadow.diverged", 1)
		c.log.Error("compat: shadow divergence", "workflow", rep.Workflow, "workflow_id", workflowID, "run_id", runID,
			"event_id", rep.Divergence.EventID, "history", rep.Divergence.History, "code", rep.Divergence.Code)
	default:
		c.vars.Add("shadow.verified", 1)
		c.log.Info("compat: shadow verified", "workflow", rep.Workflow, "workflow_id", workflowID, "run_id", runID, "events", rep.Events)
	}
	return rep, err
}

func (c *Client) shadowVerify(ctx context.Context, workflowID, runID string) (*replay.Report, error) {
	it := c.Client.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("compat: fetch history of %s: %w", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	return replay.Verify(ctx, c.engine, h, replay.WithWorkflowID(workflowID))
}
