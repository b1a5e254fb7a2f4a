package durable

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// This file gives the Engine the methods of Temporal's client.Client that
// have a durable meaning, in Temporal's shape: code converted from
// Temporal keeps calling them wherever it holds the client (a variable, a
// struct field, a global used by HTTP handlers). Each takes a run ID where
// Temporal's does: "" addresses the newest run of the workflow ID, a run ID
// exactly that run (ErrNotFound once it has closed, for signals, updates,
// cancellation and termination). The converter prefers the shorter native
// calls (Start, Signal, Query, Cancel, Terminate, Run) when the run ID is "".

// ExecuteWorkflow is Start under Temporal's name.
func (e *Engine) ExecuteWorkflow(ctx context.Context, opts StartOptions, workflow any, args ...any) (Run, error) {
	return e.Start(ctx, opts, workflow, args...)
}

// GetWorkflow returns a handle on run runID of workflow ID id, or on its
// newest run when runID is "". Get follows continue-as-new and retries
// from that run on, as Temporal's does.
func (e *Engine) GetWorkflow(ctx context.Context, id, runID string) Run {
	return &runHandle{e: e, workflowID: id, runID: runID}
}

// SignalWorkflow delivers a signal to run runID of workflow ID id ("": its
// open run).
func (e *Engine) SignalWorkflow(ctx context.Context, id, runID, name string, arg any) error {
	if runID == "" {
		return e.Signal(ctx, id, name, arg)
	}
	raw, err := encodeValue(arg)
	if err != nil {
		return fmt.Errorf("durable: Signal %s %q: %w", id, name, err)
	}
	if err := e.checkRun(ctx, id, runID, "Signal"); err != nil {
		return err
	}
	return e.deliver(ctx, &store.DeliverParams{WorkflowID: id, RunID: runID, Kind: inboxSignal, Name: name, Data: raw}, "Signal")
}

// SignalWithStartWorkflow is SignalWithStart in Temporal's shape: the
// workflow ID is an argument (it overrides opts.ID).
func (e *Engine) SignalWithStartWorkflow(ctx context.Context, id, signal string, arg any, opts StartOptions, workflow any, args ...any) (Run, error) {
	opts.ID = id
	return e.SignalWithStart(ctx, opts, workflow, signal, arg, args...)
}

// QueryWorkflow queries run runID of workflow ID id ("": its newest run).
func (e *Engine) QueryWorkflow(ctx context.Context, id, runID, name string, args ...any) (Value, error) {
	return e.queryRun(ctx, id, runID, name, args)
}

// CancelWorkflow asks run runID of workflow ID id ("": its open run) to
// cancel.
func (e *Engine) CancelWorkflow(ctx context.Context, id, runID string) error {
	if runID == "" {
		return e.Cancel(ctx, id)
	}
	if err := e.checkRun(ctx, id, runID, "Cancel"); err != nil {
		return err
	}
	return e.deliver(ctx, &store.DeliverParams{WorkflowID: id, RunID: runID, Kind: inboxCancel}, "Cancel")
}

// TerminateWorkflow ends run runID of workflow ID id ("": its open run) at
// once. details are not kept: the reason is.
func (e *Engine) TerminateWorkflow(ctx context.Context, id, runID, reason string, details ...any) error {
	if runID == "" {
		return e.Terminate(ctx, id, reason)
	}
	if err := e.checkRun(ctx, id, runID, "Terminate"); err != nil {
		return err
	}
	return e.terminate(ctx, &store.DeliverParams{WorkflowID: id, RunID: runID, Kind: inboxTerminate, Data: mustJSON(reason)})
}

// checkRun returns ErrNotFound unless runID is a run of workflow ID id.
func (e *Engine) checkRun(ctx context.Context, id, runID, op string) error {
	if _, err := e.runOf(ctx, id, runID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("durable: %s %s: %w (%v)", op, id, ErrNotFound, err)
		}
		return fmt.Errorf("durable: %s %s: %w", op, id, err)
	}
	return nil
}

// UpdateStage is how far UpdateWorkflow waits, as Temporal's
// WorkflowUpdateStage says.
type UpdateStage int

const (
	// UpdateStageUnspecified waits as UpdateStageCompleted does.
	UpdateStageUnspecified UpdateStage = iota
	// UpdateStageAdmitted waits as UpdateStageAccepted does.
	UpdateStageAdmitted
	// UpdateStageAccepted returns once the update was handed to the run,
	// in order with signals sent afterwards; Get waits for its result.
	UpdateStageAccepted
	// UpdateStageCompleted returns once the update's handler has finished.
	UpdateStageCompleted
)

// UpdateWorkflowOptions are the inputs of UpdateWorkflow, as Temporal's
// client.UpdateWorkflowOptions are.
type UpdateWorkflowOptions struct {
	// UpdateID names the update; "": a random ID.
	UpdateID string
	// WorkflowID and RunID address the run ("" RunID: the open run).
	WorkflowID, RunID string
	// UpdateName is the name of the update handler.
	UpdateName string
	// Args are the handler's arguments.
	Args []any
	// WaitForStage is how far UpdateWorkflow waits.
	WaitForStage UpdateStage
	// FirstExecutionRunID is accepted for Temporal's shape and unused.
	FirstExecutionRunID string
}

// UpdateHandle is an update sent with UpdateWorkflow, as Temporal's
// client.WorkflowUpdateHandle is.
type UpdateHandle interface {
	WorkflowID() string
	RunID() string
	UpdateID() string
	// Get waits for the update's result and decodes it into valuePtr
	// (which may be nil); it returns the handler's error, or the
	// validator's when the update was rejected (ErrUpdateRejected).
	Get(ctx context.Context, valuePtr any) error
}

type updateHandle struct {
	workflowID, runID, updateID string
	wait                        func(ctx context.Context) (Value, error)
	// life bounds the one wait every Get shares: the engine's context,
	// so that a wait no caller hears the end of stops when the engine
	// closes, while one caller giving up does not end it for the others.
	life  context.Context
	once  sync.Once
	done  chan struct{}
	value Value
	err   error
}

func (h *updateHandle) WorkflowID() string { return h.workflowID }
func (h *updateHandle) RunID() string      { return h.runID }
func (h *updateHandle) UpdateID() string   { return h.updateID }

func (h *updateHandle) Get(ctx context.Context, valuePtr any) error {
	v, err := h.Value(ctx)
	if err != nil {
		return err
	}
	if valuePtr == nil {
		return nil
	}
	return v.Get(valuePtr)
}

// Value waits for the update's result as Get does and returns it
// undecoded, so that Decoded can give the handler's own value when the
// handler ran in this process (durabletest passes it to a test's update
// callbacks, as Temporal's test environment does).
func (h *updateHandle) Value(ctx context.Context) (Value, error) {
	h.once.Do(func() {
		go func() {
			h.value, h.err = h.wait(h.life)
			close(h.done)
		}()
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-h.done:
	}
	return h.value, h.err
}

// UpdateWorkflow sends an update to a run and returns its handle. Errors
// of the update itself (a rejection, the handler's error) come from the
// handle's Get; UpdateWorkflow returns an error when the update could not
// be sent (ErrNotFound: no such open run). Where this engine does not have
// the workflow registered, the update's validator does not run.
func (e *Engine) UpdateWorkflow(ctx context.Context, opts UpdateWorkflowOptions) (UpdateHandle, error) {
	id, name := opts.WorkflowID, opts.UpdateName
	if name == "" {
		return nil, fmt.Errorf("durable: UpdateWorkflow %s: UpdateName is required", id)
	}
	run, err := e.findOpenRun(ctx, id, opts.RunID, fmt.Sprintf("Update %s %q", id, name))
	if err != nil {
		return nil, err
	}
	updateID := opts.UpdateID
	if updateID == "" {
		updateID = newID()
	}
	wait, err := e.sendUpdate(ctx, run, updateID, name, opts.Args)
	if err != nil {
		return nil, err
	}
	h := &updateHandle{workflowID: run.WorkflowID, runID: run.RunID, updateID: updateID, wait: wait, life: e.ctx, done: make(chan struct{})}
	switch opts.WaitForStage {
	case UpdateStageAdmitted, UpdateStageAccepted:
	default:
		if err := h.Get(ctx, nil); err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return h, nil
}

// sendUpdate hands an update to a run: to its instance when loaded here
// (its mailbox keeps the order with later signals), else through its inbox
// after validating it against the replayed state. wait returns the result.
func (e *Engine) sendUpdate(ctx context.Context, run *store.Run, updateID, name string, args []any) (wait func(context.Context) (Value, error), err error) {
	what := fmt.Sprintf("update %q of %s", name, run.WorkflowID)
	if in := e.instance(run.RunID); in != nil {
		reply := make(chan updateReply, 1)
		if in.post(&updateRequest{id: updateID, name: name, args: args, reply: reply}) {
			return func(ctx context.Context) (Value, error) {
				select {
				case r := <-reply:
					if errors.Is(r.err, errRunMoved) {
						w, err := e.sendRemoteUpdate(ctx, run, updateID, name, args, what)
						if err != nil {
							return nil, err
						}
						return w(ctx)
					}
					if r.err != nil {
						return nil, r.err
					}
					return rawValue{raw: r.value, what: what, typ: r.typ}, nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}, nil
		}
	}
	return e.sendRemoteUpdate(ctx, run, updateID, name, args, what)
}

func (e *Engine) sendRemoteUpdate(ctx context.Context, run *store.Run, updateID, name string, args []any, what string) (func(context.Context) (Value, error), error) {
	if e.reg.workflow(run.Workflow) != nil {
		if err := e.validateByReplay(ctx, run, name, args); err != nil {
			rejected := &rejectedError{err}
			return func(context.Context) (Value, error) { return nil, rejected }, nil
		}
	}
	raw, err := encodeArgs(args)
	if err != nil {
		return nil, fmt.Errorf("durable: Update %s %q: %w", run.WorkflowID, name, err)
	}
	data := journal.Encode(&journal.UpdateData{Update: updateID, Name: name, Args: raw})
	item, err := e.deliverOnce(ctx, &store.DeliverParams{RunID: run.RunID, Kind: inboxUpdate, Name: name, Data: data}, fmt.Sprintf("Update %s %q", run.WorkflowID, name))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("durable: Update %s %q: %w", run.WorkflowID, name, noOpenRun(run.WorkflowID, ""))
		}
		return nil, fmt.Errorf("durable: Update %s %q: %w", run.WorkflowID, name, err)
	}
	e.nudge(item.RunID)
	return func(ctx context.Context) (Value, error) { return e.awaitUpdate(ctx, run.RunID, updateID, what) }, nil
}

// WithStartWorkflowOperation is the start half of UpdateWithStartWorkflow,
// as Temporal's client.WithStartWorkflowOperation is.
type WithStartWorkflowOperation interface {
	// Get waits until UpdateWithStartWorkflow has started (or found) the
	// run and returns it.
	Get(ctx context.Context) (Run, error)
}

type withStartOp struct {
	opts     StartOptions
	workflow any
	args     []any
	done     chan struct{}
	used     bool
	run      Run
	err      error
}

func (o *withStartOp) Get(ctx context.Context) (Run, error) {
	select {
	case <-o.done:
		return o.run, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// NewWithStartWorkflowOperation prepares the start that
// UpdateWithStartWorkflow performs.
func (e *Engine) NewWithStartWorkflowOperation(opts StartOptions, workflow any, args ...any) WithStartWorkflowOperation {
	return &withStartOp{opts: opts, workflow: workflow, args: args, done: make(chan struct{})}
}

// UpdateWithStartWorkflowOptions are the inputs of UpdateWithStartWorkflow.
type UpdateWithStartWorkflowOptions struct {
	StartWorkflowOperation WithStartWorkflowOperation
	UpdateOptions          UpdateWorkflowOptions
}

// UpdateWithStartWorkflow starts the operation's workflow (by its
// StartOptions; IDConflictUseExisting takes the open run instead) and
// sends it the update. The two steps are not one transaction: the run
// exists even when sending the update fails.
func (e *Engine) UpdateWithStartWorkflow(ctx context.Context, opts UpdateWithStartWorkflowOptions) (UpdateHandle, error) {
	op, ok := opts.StartWorkflowOperation.(*withStartOp)
	if !ok || op == nil {
		return nil, errors.New("durable: UpdateWithStartWorkflow: StartWorkflowOperation must come from NewWithStartWorkflowOperation")
	}
	if op.used {
		return nil, errors.New("durable: UpdateWithStartWorkflow: the start operation was used already")
	}
	op.used = true
	op.run, op.err = e.Start(ctx, op.opts, op.workflow, op.args...)
	close(op.done)
	if op.err != nil {
		return nil, op.err
	}
	u := opts.UpdateOptions
	u.WorkflowID, u.RunID = op.run.ID(), op.run.RunID()
	return e.UpdateWorkflow(ctx, u)
}
