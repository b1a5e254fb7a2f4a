package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Run is a handle on a workflow's execution.
type Run interface {
	// ID returns the workflow ID.
	ID() string
	// RunID returns the ID of the run the handle started with; "" for a
	// handle from Engine.Run, which follows the workflow ID's newest run.
	RunID() string
	// Get waits until the run closes and decodes its result into valuePtr
	// (which may be nil), following continue-as-new to the last run. It
	// returns the workflow's error; for a stuck run, its NonDeterminismError
	// or PanicError, without waiting.
	Get(ctx context.Context, valuePtr any) error
}

// Value is a result to decode: a query's or an update's.
type Value interface{ Get(valuePtr any) error }

type rawValue struct {
	raw  json.RawMessage
	what string
	// typ is the Go type the value was made from (an update handler's
	// result type) when this process ran the handler, else nil.
	typ reflect.Type
}

func (v rawValue) Get(ptr any) error { return decodeInto(v.what, v.raw, ptr) }

// Decoded returns the value v holds as a value of the type its producer
// returned (an update handler's result type) when that is known, which is
// when the handler ran in this process. Test code written against
// Temporal's update callbacks, which get the handler's value itself, uses
// it; other code decodes with Get into a variable of the type it expects.
func Decoded(v Value) (any, bool) {
	rv, ok := v.(rawValue)
	if !ok || rv.typ == nil {
		return nil, false
	}
	ptr := reflect.New(rv.typ)
	if err := rv.Get(ptr.Interface()); err != nil {
		return nil, false
	}
	return ptr.Elem().Interface(), true
}

type runHandle struct {
	e          *Engine
	workflowID string
	runID      string // "" follows the workflow ID's newest run
	started    bool   // made by this engine's Start: the run was running
}

func (r *runHandle) ID() string { return r.workflowID }

// RunID returns the ID of the run the handle started from ("" for a handle
// made by Engine.Run, which follows the workflow ID's newest run).
func (r *runHandle) RunID() string { return r.runID }

// Run returns a handle on the newest run of a workflow ID.
func (e *Engine) Run(id string) Run { return &runHandle{e: e, workflowID: id} }

func (r *runHandle) Get(ctx context.Context, valuePtr any) error {
	runID := r.runID
	// A worker engine hears of closures of its own runs at once, so it
	// reads the store again only as a fallback; a client-only engine polls.
	backoff := r.e.cfg.poll
	if r.e.cfg.clientOnly && !r.e.canWatchClose() {
		backoff = 5 * time.Millisecond
	}
	// A client-only engine's close watcher reads the run's outcome when it
	// closes: a run this engine started needs no read before the first wait.
	assumeRunning := r.started && r.e.canWatchClose()
	for {
		changed := r.e.watch(r.workflowID)
		var (
			run *store.Run
			err error
		)
		switch {
		case assumeRunning:
			assumeRunning = false
			run = &store.Run{RunID: runID, Status: store.StatusRunning}
		case runID == "":
			err = r.e.retryClient(ctx, "Get "+r.workflowID, func(ctx context.Context, _ int) (err error) {
				run, err = r.e.store.CurrentRun(ctx, r.workflowID)
				return err
			})
		case r.e.outcome(runID) != nil:
			run = r.e.outcome(runID) // closed here: no read needed
		case r.e.instance(runID) != nil && !r.e.cfg.clientOnly:
			// Loaded here: its closure records the outcome and wakes us.
			run = &store.Run{RunID: runID, Status: store.StatusRunning}
		default:
			err = r.e.retryClient(ctx, "Get "+r.workflowID, func(ctx context.Context, _ int) (err error) {
				run, err = r.e.store.GetRun(ctx, runID)
				return err
			})
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("durable: Get %s: %w", r.workflowID, ErrNotFound)
		}
		if errors.Is(err, ErrUnavailable) {
			return err
		}
		if err != nil {
			return fmt.Errorf("durable: Get %s: %w", r.workflowID, err)
		}
		switch run.Status {
		case store.StatusCompleted:
			if run.NextRunID != "" { // the next run of a cron schedule
				runID = run.NextRunID
				continue
			}
			return decodeInto("result of workflow "+r.workflowID, run.Result, valuePtr)
		case store.StatusContinued:
			if run.NextRunID != "" {
				runID = run.NextRunID
				continue
			}
		case store.StatusFailed:
			if run.NextRunID != "" { // retried by the run's retry policy
				runID = run.NextRunID
				continue
			}
			fallthrough
		case store.StatusStuck, store.StatusCanceled, store.StatusTerminated:
			var f journal.Failure
			if err := json.Unmarshal(run.Error, &f); err != nil {
				return fmt.Errorf("durable: run %s is %s (error undecodable: %v)", run.RunID, run.Status, err)
			}
			if run.Status == store.StatusCanceled {
				return &CanceledError{Message: trimCanceled(f.Message)}
			}
			return fromFailure(&f)
		}
		// A client-only engine's close watcher wakes us when the run closes.
		stop := r.e.watchClose(run.RunID, r.workflowID)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-time.After(backoff):
			backoff = min(backoff*2, r.e.cfg.poll)
		}
		if stop != nil {
			stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Query asks the open (or closed) run of a workflow ID a question its
// query handler answers from the run's current state. Nothing is journaled.
func (e *Engine) Query(ctx context.Context, id, name string, args ...any) (Value, error) {
	return e.queryRun(ctx, id, "", name, args)
}

// queryRun queries run runID of workflow ID id, or its newest run when
// runID is "". It tries again while the store is unavailable.
func (e *Engine) queryRun(ctx context.Context, id, runID, name string, args []any) (Value, error) {
	var v Value
	err := e.retryClient(ctx, fmt.Sprintf("Query %s %q", id, name), func(ctx context.Context, _ int) (err error) {
		v, err = e.queryRunOnce(ctx, id, runID, name, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (e *Engine) queryRunOnce(ctx context.Context, id, runID, name string, args []any) (Value, error) {
	run, err := e.runOf(ctx, id, runID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("durable: Query %s %q: %w", id, name, ErrNotFound)
		}
		return nil, fmt.Errorf("durable: Query %s %q: %w", id, name, err)
	}
	what := fmt.Sprintf("query %q of %s", name, id)
	if in := e.instance(run.RunID); in != nil {
		reply := make(chan queryReply, 1)
		if in.post(msgQuery{name: name, args: args, reply: reply}) {
			select {
			case r := <-reply:
				if !errors.Is(r.err, errRunMoved) {
					if r.err != nil {
						return nil, fmt.Errorf("durable: Query %s %q: %w", id, name, r.err)
					}
					return rawValue{raw: r.value, what: what}, nil
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	v, err := e.queryByReplay(ctx, run, name, args)
	if err != nil {
		return nil, fmt.Errorf("durable: Query %s %q: %w", id, name, err)
	}
	return rawValue{raw: v, what: what}, nil
}

// queryByReplay rebuilds a run's state from its journal in a throwaway
// instance that never writes, and asks it.
func (e *Engine) queryByReplay(ctx context.Context, run *store.Run, name string, args []any) (json.RawMessage, error) {
	if e.reg.workflow(run.Workflow) == nil {
		return nil, &NotRegisteredError{Kind: "workflow", Name: run.Workflow, why: "its state cannot be rebuilt"}
	}
	events, err := e.store.LoadJournal(ctx, run.RunID, 0)
	if err != nil {
		return nil, err
	}
	in, err := e.rebuild(run, events, false)
	if err != nil {
		return nil, err
	}
	defer in.teardown()
	if in.halt != nil {
		return nil, in.halt
	}
	return in.runQuery(name, args)
}

// runOf returns run runID of workflow ID id, or the newest run of id when
// runID is "". A run of another workflow ID is store.ErrNotFound.
func (e *Engine) runOf(ctx context.Context, id, runID string) (*store.Run, error) {
	if runID == "" {
		return e.store.CurrentRun(ctx, id)
	}
	r, err := e.store.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	if id != "" && r.WorkflowID != id {
		return nil, fmt.Errorf("run %s is a run of workflow ID %q: %w", runID, r.WorkflowID, store.ErrNotFound)
	}
	return r, nil
}
