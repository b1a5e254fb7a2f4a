package durable

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// TerminateRun ends run runID of workflow ID id ("": its open run) as
// TerminateWorkflow does, and closes a stuck run at once: no worker works
// a stuck run, so a termination left in its inbox would wait for a
// Resume. Operators' tools (the durable CLI, the web UI) terminate
// through it.
func (e *Engine) TerminateRun(ctx context.Context, id, runID, reason string) error {
	r, err := e.runOf(ctx, id, runID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("durable: Terminate %s: %w (no open run)", id, ErrNotFound)
		}
		return fmt.Errorf("durable: Terminate %s: %w", id, err)
	}
	if !r.Status.Open() {
		return fmt.Errorf("durable: Terminate %s: %w (run %s is %s)", id, ErrNotFound, r.RunID, r.Status)
	}
	if r.Status != store.StatusStuck {
		return e.TerminateWorkflow(ctx, id, r.RunID, reason)
	}
	f := toFailure(&TerminatedError{Reason: reason})
	err = e.store.SetRunStatus(ctx, &store.SetRunStatusParams{RunID: r.RunID, Status: store.StatusTerminated, Error: journal.Encode(f)})
	if errors.Is(err, store.ErrNotFound) {
		// It closed or was resumed meanwhile: terminate what it is now.
		return e.TerminateWorkflow(ctx, id, r.RunID, reason)
	}
	if err != nil {
		return fmt.Errorf("durable: Terminate %s: %w", id, err)
	}
	e.notifyChange(r.WorkflowID)
	return nil
}

// terminate delivers a termination and waits for the run it reached to
// close, as Temporal's TerminateWorkflow returns once the run is
// terminated: a start of the same workflow ID right after finds it free.
// The wait ends early when no worker can close the run now (it is not
// leased, or its lease ran out, and this engine does not serve its queue):
// the run closes when a worker takes it.
func (e *Engine) terminate(ctx context.Context, p *store.DeliverParams) error {
	item, err := e.deliverItem(ctx, p, "Terminate")
	if err != nil {
		return err
	}
	backoff := 5 * time.Millisecond
	for {
		changed := e.watch(p.WorkflowID)
		if r := e.outcome(item.RunID); r != nil {
			return nil
		}
		r, err := e.store.GetRun(ctx, item.RunID)
		if err != nil {
			// Delivered; whether it closed yet is unknown.
			return nil
		}
		if !r.Status.Open() {
			return nil
		}
		held := r.Owner != "" && time.Now().Before(r.LeaseUntil)
		if !held && !e.serves(r.Queue) {
			return nil
		}
		stop := e.watchClose(item.RunID, p.WorkflowID)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-time.After(backoff):
			backoff = min(backoff*2, e.cfg.poll)
		}
		if stop != nil {
			stop()
		}
		if ctx.Err() != nil {
			return nil // delivered: the run closes when its worker takes it
		}
	}
}
