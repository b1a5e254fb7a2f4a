package compat

import (
	"context"
	"expvar"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/durablego/toolkit/runtime/durable"
)

var _ client.Client = (*Client)(nil)

// Client is a Temporal client that routes workflow executions to Temporal
// or to a durable Engine by a rollout policy. Methods it does not override
// go to the embedded Temporal client.
type Client struct {
	client.Client // Temporal, for everything not routed

	engine *durable.Engine
	routes *routes
	log    *slog.Logger
	policy atomic.Pointer[Policy]
	vars   *expvar.Map
	shadow shadowConfig

	watchMu   sync.Mutex
	watchStop context.CancelFunc
	wg        sync.WaitGroup
}

// Option configures New.
type Option func(*Client)

// WithLogger sets the logger of routing decisions and shadow results.
// Defaults to slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// New returns a client that starts executions on tc (Temporal) or e (the
// durable engine, with the converted workflows registered) according to
// policy. The routing table lives in e's store.
func New(tc client.Client, e *durable.Engine, policy Policy, opts ...Option) (*Client, error) {
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	c := &Client{Client: tc, engine: e, routes: newRoutes(e.Store()), log: slog.Default(), vars: new(expvar.Map).Init()}
	c.shadow = defaultShadowConfig()
	for _, o := range opts {
		o(c)
	}
	c.policy.Store(&policy)
	return c, nil
}

// Policy returns the policy in force.
func (c *Client) Policy() Policy { return *c.policy.Load() }

// SetPolicy replaces the policy; new executions follow it at once.
func (c *Client) SetPolicy(p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	c.policy.Store(&p)
	c.log.Info("compat: policy changed", "workflows", len(p.Workflows))
	c.vars.Add("policy.changes", 1)
	return nil
}

// Vars returns the client's counters: route.<side>.<reason> per decision,
// route.errors, shadow.verified, shadow.diverged, shadow.errors,
// shadow.skipped and policy.changes. Publish them with
// expvar.Publish("compat", c.Vars()).
func (c *Client) Vars() *expvar.Map { return c.vars }

// Close stops the policy watcher and waits for shadow verifications in
// flight. It does not close the Temporal client or the engine.
func (c *Client) Close() {
	c.watchMu.Lock()
	if c.watchStop != nil {
		c.watchStop()
	}
	c.watchMu.Unlock()
	c.shadow.cancel()
	c.wg.Wait()
}

// workflowName names a workflow as Temporal does: a string as is, a
// function by its name.
func workflowName(wf any) string {
	if s, ok := wf.(string); ok {
		return s
	}
	v := reflect.ValueOf(wf)
	if v.Kind() != reflect.Func {
		return fmt.Sprintf("%T", wf)
	}
	full := strings.TrimSuffix(runtime.FuncForPC(v.Pointer()).Name(), "-fm")
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		full = full[i+1:]
	}
	return full
}

// decide routes a new execution and records the decision.
func (c *Client) decide(ctx context.Context, workflow, workflowID string) (Decision, error) {
	d := c.policy.Load().Decide(workflow, workflowID)
	c.vars.Add("route."+string(d.Side)+"."+d.Reason, 1)
	c.log.Info("compat: route", "workflow", workflow, "workflow_id", workflowID, "side", d.Side, "reason", d.Reason)
	if err := c.routes.put(ctx, workflowID, workflow, d); err != nil {
		c.vars.Add("route.errors", 1)
		return d, err
	}
	return d, nil
}

// sideOf returns where an ID runs: where it was started, or, for an ID
// the routing table does not know, the durable engine if it has a run of
// that ID and Temporal otherwise.
func (c *Client) sideOf(ctx context.Context, workflowID string) Side {
	side, ok, err := c.routes.get(ctx, workflowID)
	if err != nil {
		c.vars.Add("route.errors", 1)
		c.log.Warn("compat: routing table", "workflow_id", workflowID, "error", err)
	}
	if ok {
		return side
	}
	if _, err := c.engine.Describe(ctx, workflowID); err == nil {
		return Durable
	}
	return Temporal
}

// ExecuteWorkflow starts an execution on the side the policy picks for
// the workflow type and ID (a missing ID is generated, as Temporal does).
func (c *Client) ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error) {
	if options.ID == "" {
		options.ID = uuid.NewString()
	}
	name := workflowName(workflow)
	d, err := c.decide(ctx, name, options.ID)
	if err != nil {
		return nil, err
	}
	if d.Side == Durable {
		run, err := c.engine.Start(ctx, durableStartOptions(options.ID, options), name, args...)
		if err != nil {
			return nil, err
		}
		return newDurableRun(run, options.ID, ""), nil
	}
	run, err := c.Client.ExecuteWorkflow(ctx, options, workflow, args...)
	if err != nil {
		return nil, err
	}
	c.maybeShadow(name, options.ID, run)
	return run, nil
}

// SignalWithStartWorkflow signals the execution of workflowID where it
// runs, or starts one on the side the policy picks.
func (c *Client) SignalWithStartWorkflow(ctx context.Context, workflowID string, signalName string, signalArg any,
	options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error) {
	name := workflowName(workflow)
	side, known, err := c.routes.get(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	if !known || !c.open(ctx, side, workflowID) {
		d, err := c.decide(ctx, name, workflowID)
		if err != nil {
			return nil, err
		}
		side = d.Side
	}
	if side == Durable {
		run, err := c.engine.SignalWithStart(ctx, durableStartOptions(workflowID, options), name, signalName, signalArg, workflowArgs...)
		if err != nil {
			return nil, err
		}
		return newDurableRun(run, workflowID, ""), nil
	}
	run, err := c.Client.SignalWithStartWorkflow(ctx, workflowID, signalName, signalArg, options, workflow, workflowArgs...)
	if err != nil {
		return nil, err
	}
	c.maybeShadow(name, workflowID, run)
	return run, nil
}

// open reports whether the ID has an open execution on side; a failed
// look-up counts as open, so that the execution is not started twice.
func (c *Client) open(ctx context.Context, side Side, workflowID string) bool {
	if side == Durable {
		info, err := c.engine.Describe(ctx, workflowID)
		return err != nil || info.Status == "running" || info.Status == "stuck"
	}
	resp, err := c.Client.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return true
	}
	return resp.GetWorkflowExecutionInfo().GetCloseTime() == nil
}

// GetWorkflow returns a handle on an execution, on whichever side it runs.
func (c *Client) GetWorkflow(ctx context.Context, workflowID string, runID string) client.WorkflowRun {
	if c.sideOf(ctx, workflowID) == Durable {
		return newDurableRun(c.engine.Run(workflowID), workflowID, runID)
	}
	return c.Client.GetWorkflow(ctx, workflowID, runID)
}

// SignalWorkflow signals an execution where it runs.
func (c *Client) SignalWorkflow(ctx context.Context, workflowID string, runID string, signalName string, arg any) error {
	if c.sideOf(ctx, workflowID) == Durable {
		return c.engine.Signal(ctx, workflowID, signalName, arg)
	}
	return c.Client.SignalWorkflow(ctx, workflowID, runID, signalName, arg)
}

// CancelWorkflow asks an execution to cancel where it runs.
func (c *Client) CancelWorkflow(ctx context.Context, workflowID string, runID string) error {
	if c.sideOf(ctx, workflowID) == Durable {
		return c.engine.Cancel(ctx, workflowID)
	}
	return c.Client.CancelWorkflow(ctx, workflowID, runID)
}

// TerminateWorkflow ends an execution where it runs.
func (c *Client) TerminateWorkflow(ctx context.Context, workflowID string, runID string, reason string, details ...any) error {
	if c.sideOf(ctx, workflowID) == Durable {
		return c.engine.Terminate(ctx, workflowID, reason)
	}
	return c.Client.TerminateWorkflow(ctx, workflowID, runID, reason, details...)
}

// QueryWorkflow queries an execution where it runs.
func (c *Client) QueryWorkflow(ctx context.Context, workflowID string, runID string, queryType string, args ...any) (converter.EncodedValue, error) {
	if c.sideOf(ctx, workflowID) == Durable {
		v, err := c.engine.Query(ctx, workflowID, queryType, args...)
		if err != nil {
			return nil, err
		}
		return encodedValue{v}, nil
	}
	return c.Client.QueryWorkflow(ctx, workflowID, runID, queryType, args...)
}

// UpdateWorkflow sends an update to an execution where it runs. On the
// durable side the call waits for the update's result whatever
// WaitForStage says.
func (c *Client) UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if c.sideOf(ctx, options.WorkflowID) == Durable {
		v, err := c.engine.Update(ctx, options.WorkflowID, options.UpdateName, options.Args...)
		if err != nil {
			return nil, err
		}
		id := options.UpdateID
		if id == "" {
			id = uuid.NewString()
		}
		return &updateHandle{workflowID: options.WorkflowID, runID: options.RunID, updateID: id, value: v}, nil
	}
	return c.Client.UpdateWorkflow(ctx, options)
}

// durableStartOptions carries what the durable side enforces of Temporal's
// start options: the workflow ID, the execution and run timeouts and the
// retry policy. The task queue is not carried: the durable engine behind
// the client serves its own queues.
func durableStartOptions(id string, o client.StartWorkflowOptions) durable.StartOptions {
	opts := durable.StartOptions{ID: id, ExecutionTimeout: o.WorkflowExecutionTimeout, RunTimeout: o.WorkflowRunTimeout}
	if p := o.RetryPolicy; p != nil {
		opts.RetryPolicy = &durable.RetryPolicy{
			InitialInterval: p.InitialInterval, BackoffCoefficient: p.BackoffCoefficient,
			MaximumInterval: p.MaximumInterval, MaximumAttempts: int(p.MaximumAttempts),
			NonRetryableErrorTypes: p.NonRetryableErrorTypes,
		}
	}
	return opts
}
