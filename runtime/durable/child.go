package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// ParentClosePolicy says what happens to a child when its parent closes.
type ParentClosePolicy int

const (
	// ParentCloseTerminate terminates the child (Temporal's default).
	ParentCloseTerminate ParentClosePolicy = iota
	// ParentCloseAbandon leaves the child running.
	ParentCloseAbandon
	// ParentCloseRequestCancel cancels the child.
	ParentCloseRequestCancel
)

// ChildOptions configure child workflows, as Temporal's ChildWorkflowOptions.
type ChildOptions struct {
	// ID is the child's workflow ID. "": the parent's ID and the call's
	// position, which replay reproduces.
	ID string
	// Queue routes the child to workers of that queue. "": the parent's.
	Queue string
	// ExecutionTimeout bounds the child's attempts: past it the child is
	// terminated and the call fails with a *TimeoutError. RunTimeout is
	// accepted for Temporal compatibility and treated the same way.
	ExecutionTimeout, RunTimeout time.Duration
	// RetryPolicy retries a failed child (same workflow ID, a new run).
	// nil: a failed child is not retried, as in Temporal.
	RetryPolicy       *RetryPolicy
	ParentClosePolicy ParentClosePolicy
	// WaitForCancellation is accepted for Temporal compatibility: a
	// cancelled child call returns at once; the child is asked to cancel.
	WaitForCancellation bool
	// Memo and SearchAttributes are the child's initial memo and search
	// attributes, as StartOptions'.
	Memo, SearchAttributes map[string]any
	// CronSchedule runs the child on a cron schedule, as StartOptions': its
	// future resolves only when the schedule ends (the child is cancelled
	// or terminated). With a schedule, RunTimeout bounds each run.
	CronSchedule string
}

// WithChildOptions returns a context whose child workflows use o.
func WithChildOptions(ctx context.Context, o ChildOptions) context.Context {
	return context.WithValue(ctx, childOptionsKey, o)
}

func childOptionsOf(ctx context.Context) ChildOptions {
	o, _ := ctx.Value(childOptionsKey).(ChildOptions)
	return o
}

// Child runs a child workflow and waits for its result.
func Child[R any](ctx context.Context, workflow any, args ...any) (R, error) {
	return ChildAsync[R](ctx, workflow, args...).Get(ctx)
}

// ChildAsync starts a child workflow and returns a future of its result.
// With ChildOptions.RetryPolicy, a failed child is started again (same
// workflow ID, new run) after the policy's backoff; with
// ChildOptions.ExecutionTimeout, a child that runs longer is terminated and
// the future holds a *TimeoutError.
func ChildAsync[R any](ctx context.Context, workflow any, args ...any) Future[R] {
	in := instanceOf(ctx, "ChildAsync")
	if in.icptOut != nil {
		name, _, _, err := in.e.reg.workflowCall("durable.Child", workflow, args)
		if err != nil {
			return failedFuture[R](in, err)
		}
		return typedFuture[R](ctx, in, in.icptOut.ExecuteChildWorkflow(ctx, name, args...), "result of child "+name)
	}
	return childAsync[R](ctx, in, workflow, args)
}

// childAsync starts a child workflow (ChildAsync without interceptors).
func childAsync[R any](ctx context.Context, in *instance, workflow any, args []any) Future[R] {
	name, _, raw, err := in.e.reg.workflowCall("durable.Child", workflow, args)
	if err != nil {
		return failedFuture[R](in, err)
	}
	opts := childOptionsOf(ctx)
	if opts.ExecutionTimeout <= 0 && opts.CronSchedule == "" {
		opts.ExecutionTimeout = opts.RunTimeout
	}
	what := "result of child " + name
	if opts.RetryPolicy == nil && opts.ExecutionTimeout <= 0 {
		c := in.startChild(ctx, name, raw, opts, 1)
		c.p.child = c
		return &future[R]{p: c.p, what: what}
	}
	p := newPromise(in)
	in.sched.spawn("child "+name, func() { in.superviseChild(ctx, name, raw, opts, p) })
	return &future[R]{p: p, what: what}
}

// ChildExecution returns the workflow ID and run ID of the child run a
// future from ChildAsync waits for (Temporal's GetChildWorkflowExecution),
// or empty strings for any other future or a child that failed to start.
func ChildExecution(f Waiter) (workflowID, runID string) {
	type promised interface{ promise() *promise }
	if pf, ok := f.(promised); ok {
		if c := pf.promise().child; c != nil {
			return c.workflowID, c.runID
		}
	}
	return "", ""
}

// superviseChild runs a child's attempts under its retry policy and
// execution timeout, and resolves p with the outcome.
func (in *instance) superviseChild(ctx context.Context, name string, raw json.RawMessage, opts ChildOptions, p *promise) {
	for attempt := 1; ; attempt++ {
		c := in.startChild(ctx, name, raw, opts, attempt)
		p.child = c
		var timedOut bool
		if opts.ExecutionTimeout > 0 {
			tctx, cancel := context.WithCancel(ctx)
			t := in.startTimer(tctx, opts.ExecutionTimeout)
			_ = in.await(context.WithoutCancel(ctx), func() bool { return c.p.ready || t.isReady() }, &c.p.q, &t.p.q)
			cancel()
			timedOut = !c.p.ready
			if timedOut {
				in.terminateChild(c, "execution timeout")
			}
		} else {
			_ = in.await(context.WithoutCancel(ctx), func() bool { return c.p.ready }, &c.p.q)
		}
		var err error
		if timedOut {
			err = &TimeoutError{Kind: "Execution"}
		} else if c.p.err == nil {
			in.resolve(p, c.p.raw, nil)
			return
		} else {
			err = c.p.err
		}
		if opts.RetryPolicy == nil {
			in.resolve(p, nil, err)
			return
		}
		wait, ok := opts.RetryPolicy.backoff(toFailure(err), attempt)
		if !ok || timedOut {
			in.resolve(p, nil, err)
			return
		}
		if err := Sleep(ctx, wait); err != nil {
			in.resolve(p, nil, err)
			return
		}
	}
}

// terminateChild ends a child the parent gave up on.
func (in *instance) terminateChild(c *childCall, reason string) {
	if c.done {
		return
	}
	c.done = true
	in.command(journal.ChildCancelRequested, &journal.IDData{ID: c.id})
	if !in.replaying() {
		raw, _ := json.Marshal(reason)
		in.m.Step().Deliveries = append(in.m.Step().Deliveries, &store.DeliverParams{WorkflowID: c.workflowID, Kind: inboxTerminate, Data: raw})
	}
}

// startChild journals a child's start and creates its run in the commit.
func (in *instance) startChild(ctx context.Context, name string, raw json.RawMessage, opts ChildOptions, attempt int) *childCall {
	id := in.m.NewID()
	childID := opts.ID
	if childID == "" {
		childID = in.workflowID + "/child-" + strconv.FormatInt(id, 10)
	}
	data := &journal.ChildStartedData{ID: id, Workflow: name, WorkflowID: childID, Args: raw}
	header, herr := in.e.inject(ctx, nil) // propagate.go; an error fails the start below
	c := &childCall{id: id, workflowID: childID, p: newPromise(in), policy: opts.ParentClosePolicy}
	if in.replaying() {
		got := in.command(journal.ChildStarted, data)
		if d, err := journal.Decode(journal.ChildStarted, got); err == nil {
			data = d.(*journal.ChildStartedData)
		}
	} else {
		data.RunID = newID()
		childOpts, err := encodeStartOptions(StartOptions{Memo: opts.Memo, SearchAttributes: opts.SearchAttributes})
		now := in.e.cfg.clock.Now()
		if err == nil && opts.CronSchedule != "" {
			var delay time.Duration
			if delay, err = in.e.cronFirstDelay(opts.CronSchedule, 0, now); err == nil { // cron.go
				now = now.Add(delay)
				childOpts = withCron(childOpts, cronOptions{CronSchedule: opts.CronSchedule})
			}
		}
		if err == nil && herr != nil {
			data.Error = toFailure(NewNonRetryableApplicationError(fmt.Sprintf("child workflow %s: %v", name, herr), "ContextPropagationError", nil))
		} else if err != nil {
			data.Error = toFailure(NewNonRetryableApplicationError(fmt.Sprintf("child workflow %s: %v", name, err), "ArgumentError", nil))
		} else if run, err := in.e.store.CurrentRun(in.e.ctx, childID); err == nil && run.Status.Open() {
			data.Error = toFailure(NewNonRetryableApplicationError(fmt.Sprintf("child workflow %s: workflow ID %q is already running", name, childID), "ChildWorkflowExecutionAlreadyStarted", nil))
		}
		in.command(journal.ChildStarted, data)
		if data.Error == nil {
			queue := opts.Queue
			if queue == "" {
				queue = in.queue
			}
			started := &journal.StartedData{
				Workflow: name, Args: raw, Queue: queue, WorkflowID: childID,
				ParentID: in.workflowID, ParentRun: in.runID, ParentSeq: id, Attempt: attempt,
				Header: header,
			}
			if opts.CronSchedule != "" {
				started.RunTimeout = max(opts.RunTimeout, 0)
			}
			started.Options = withTraceparent(childOpts, in.spanContext()) // telemetry.go
			p := &store.CreateRunParams{
				Run: &store.Run{
					RunID: data.RunID, WorkflowID: childID, Workflow: name, Queue: queue, Status: store.StatusRunning,
					Input: raw, ParentRunID: in.runID, WakeAt: eventTime(now),
				},
				Events: []store.Event{{Kind: journal.Started, Data: journal.Encode(started), At: eventTime(now)}},
			}
			if in.e.serves(queue) && in.e.reg.workflow(name) != nil {
				p.Owner, p.Lease = in.e.workerID, in.e.cfg.lease
			}
			in.m.Step().Runs = append(in.m.Step().Runs, p)
		}
	}
	c.runID = data.RunID
	if data.Error != nil {
		c.done = true
		in.resolve(c.p, nil, fromFailure(data.Error))
		return c
	}
	in.extra.children = append(in.extra.children, c)
	in.watchCancel(ctx, func() {
		if c.done {
			return
		}
		c.done = true
		in.command(journal.ChildCancelRequested, &journal.IDData{ID: id})
		if !in.replaying() {
			in.m.Step().Deliveries = append(in.m.Step().Deliveries, &store.DeliverParams{WorkflowID: c.workflowID, Kind: inboxCancel})
		}
		in.resolve(c.p, nil, &CanceledError{})
	})
	return c
}

// childCall is a child workflow the run waits for.
type childCall struct {
	id         int64
	workflowID string
	runID      string
	p          *promise
	done       bool
	policy     ParentClosePolicy
}

// onChildResult applies a journaled child outcome.
func (in *instance) onChildResult(ev store.Event, d *journal.ResultData) {
	for _, c := range in.extra.children {
		if c.id == d.ID {
			if c.done {
				return
			}
			c.done = true
			in.resolve(c.p, d.Result, fromFailure(d.Error))
			return
		}
	}
	in.nondeterminism(ev, "no such child waiting")
}

// notifyParent reports a closing run's outcome to its parent, and applies
// the parent-close policy to its own open children.
func (in *instance) notifyParent(u *store.RunUpdate) {
	if in.m.ReadOnly() {
		return
	}
	chained := in.scheduleCron(u) // cron.go: the schedule's next run
	for _, c := range in.extra.children {
		if c.done {
			continue
		}
		switch c.policy {
		case ParentCloseTerminate:
			in.m.Step().Deliveries = append(in.m.Step().Deliveries, &store.DeliverParams{WorkflowID: c.workflowID, Kind: inboxTerminate, Data: []byte(`"parent closed"`)})
		case ParentCloseRequestCancel:
			in.m.Step().Deliveries = append(in.m.Step().Deliveries, &store.DeliverParams{WorkflowID: c.workflowID, Kind: inboxCancel})
		}
	}
	if in.started.ParentRun == "" || u.Status == store.StatusContinued || chained {
		return
	}
	rd := &journal.ResultData{ID: in.started.ParentSeq}
	if u.Status == store.StatusCompleted {
		rd.Result = u.Result
	} else {
		f := &journal.Failure{}
		if err := jsonUnmarshal(u.Error, f); err != nil || f.Message == "" && f.Kind == "" {
			f = &journal.Failure{Kind: "application", Message: "child workflow " + string(u.Status)}
		}
		rd.Error = f
	}
	in.m.Step().Deliveries = append(in.m.Step().Deliveries, &store.DeliverParams{RunID: in.started.ParentRun, Kind: inboxChild, Data: journal.Encode(rd)})
}
