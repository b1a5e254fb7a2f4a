package durable

import (
	"context"
	"errors"
	"fmt"

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
