package durable

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// IDReusePolicy says whether Start may start a workflow ID whose newest run
// has closed, as Temporal's WorkflowIdReusePolicy does.
type IDReusePolicy int

const (
	// IDReuseAllowDuplicate starts a new run whatever the last one's
	// outcome (the default).
	IDReuseAllowDuplicate IDReusePolicy = iota
	// IDReuseAllowDuplicateFailedOnly starts a new run only when the last
	// one did not complete: it failed, timed out, was cancelled or
	// terminated.
	IDReuseAllowDuplicateFailedOnly
	// IDReuseRejectDuplicate never reuses the ID: ErrAlreadyStarted.
	IDReuseRejectDuplicate
	// IDReuseTerminateIfRunning terminates the open run of the ID, if any,
	// and starts a new one (Temporal's deprecated form of
	// IDConflictTerminateExisting).
	IDReuseTerminateIfRunning
)

// IDConflictPolicy says what Start does when the workflow ID has an open
// run, as Temporal's WorkflowIdConflictPolicy does.
type IDConflictPolicy int

const (
	// IDConflictFail returns ErrAlreadyStarted (the default).
	IDConflictFail IDConflictPolicy = iota
	// IDConflictUseExisting returns a handle on the open run instead of
	// starting one.
	IDConflictUseExisting
	// IDConflictTerminateExisting terminates the open run and starts a
	// new one.
	IDConflictTerminateExisting
)

// DSNEnv is the environment variable DSN reads.
const DSNEnv = "DURABLE_DSN"

// DSNDefault is the store DSN returns when DSNEnv is unset.
const DSNDefault = "sqlite:durable.db"

// DSN returns the store to open from configuration: $DURABLE_DSN, or
// DSNDefault ("sqlite:durable.db") when it is unset. Converted worker and
// client programs call durable.Open(ctx, durable.DSN()).
func DSN() string {
	if v := os.Getenv(DSNEnv); v != "" {
		return v
	}
	return DSNDefault
}

// applyIDPolicies applies opts' reuse and conflict policies to the newest
// run of opts.ID before a start. It returns a handle when the start must
// not happen because an open run is to be used instead, or an error when
// it must not happen at all; (nil, nil) lets the start go on.
func (e *Engine) applyIDPolicies(ctx context.Context, opts StartOptions, workflow string) (Run, error) {
	id := opts.ID
	for range 3 {
		r, err := e.store.CurrentRun(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("durable: Start %s: %w", workflow, err)
		}
		if !r.Status.Open() {
			switch opts.WorkflowIDReusePolicy {
			case IDReuseRejectDuplicate:
				return nil, alreadyStarted(id, "may not be reused (IDReuseRejectDuplicate)")
			case IDReuseAllowDuplicateFailedOnly:
				if r.Status == store.StatusCompleted || r.Status == store.StatusContinued {
					return nil, alreadyStarted(id, "completed and may be reused only after a failure (IDReuseAllowDuplicateFailedOnly)")
				}
			}
			return nil, nil
		}
		terminate := opts.WorkflowIDConflictPolicy == IDConflictTerminateExisting || opts.WorkflowIDReusePolicy == IDReuseTerminateIfRunning
		switch {
		case opts.WorkflowIDConflictPolicy == IDConflictUseExisting:
			return &runHandle{e: e, workflowID: id, runID: r.RunID}, nil
		case !terminate:
			return nil, alreadyStarted(id, "has an open run")
		}
		if err := e.terminateAndWait(ctx, r, "terminated by Start (workflow ID conflict policy)"); err != nil {
			return nil, fmt.Errorf("durable: Start %s: terminate the open run of %q: %w", workflow, id, err)
		}
	}
	return nil, fmt.Errorf("durable: Start %s: workflow ID %q keeps changing", workflow, id)
}

// terminateAndWait terminates an open run and waits until it has closed.
// A stuck run, which no worker works, is closed at once.
func (e *Engine) terminateAndWait(ctx context.Context, r *store.Run, reason string) error {
	if r.Status == store.StatusStuck {
		f := toFailure(&TerminatedError{Reason: reason})
		err := e.store.SetRunStatus(ctx, &store.SetRunStatusParams{RunID: r.RunID, Status: store.StatusTerminated, Error: journal.Encode(f)})
		if err == nil || errors.Is(err, store.ErrNotFound) {
			e.notifyChange(r.WorkflowID)
			return nil
		}
		return err
	}
	if err := e.deliver(ctx, &store.DeliverParams{RunID: r.RunID, Kind: inboxTerminate, Data: mustJSON(reason)}, "Terminate"); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	backoff := 2 * time.Millisecond
	for {
		changed := e.watch(r.WorkflowID)
		cur, err := e.store.GetRun(ctx, r.RunID)
		if err != nil {
			return err
		}
		if !cur.Status.Open() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-time.After(backoff):
			backoff = min(2*backoff, e.cfg.poll)
		}
	}
}

// existingRun returns a handle on the open run of a workflow ID, for
// IDConflictUseExisting when a start lost a race.
func (e *Engine) existingRun(ctx context.Context, id string) (Run, error) {
	r, err := e.store.CurrentRun(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("durable: Start: workflow ID %q: %w", id, err)
	}
	return &runHandle{e: e, workflowID: id, runID: r.RunID}, nil
}

// unservedAfter is how long after a start watchUnserved looks whether a
// worker took the run.
const unservedAfter = 2 * time.Second

// watchUnserved checks, a while after a run was created on a queue this
// engine does not work, that some worker took it; if none did and none was
// seen working that queue before, it logs once per queue. Describe reports
// such a run as Unclaimed.
func (e *Engine) watchUnserved(runID, queue string) {
	if e.serves(queue) {
		return
	}
	e.mu.Lock()
	known := e.queueSeen[queue] || e.queueWarned[queue]
	e.mu.Unlock()
	if known {
		return
	}
	wait := max(unservedAfter, 2*e.cfg.poll)
	time.AfterFunc(wait, func() {
		if e.ctx.Err() != nil {
			return
		}
		r, err := e.store.GetRun(e.ctx, runID)
		if err != nil {
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if !unclaimed(r, e.cfg.clock.Now()) {
			if e.queueSeen == nil {
				e.queueSeen = map[string]bool{}
			}
			e.queueSeen[queue] = true
			return
		}
		if e.queueSeen[queue] || e.queueWarned[queue] {
			return
		}
		if e.queueWarned == nil {
			e.queueWarned = map[string]bool{}
		}
		e.queueWarned[queue] = true
		e.cfg.logger.Warn("durable: a run waits on a queue that no worker has taken work from: start a worker serving it (durable.WithQueues or Engine.Serve)",
			"queue", queue, "workflow", r.Workflow, "workflow_id", r.WorkflowID, "run_id", runID, "served_here", e.Queues())
	})
}

// unclaimed reports whether an open run is due but no worker has ever
// worked it.
func unclaimed(r *store.Run, now time.Time) bool {
	return r.Status == store.StatusRunning && r.Owner == "" && r.JournalLen <= 1 && !r.WakeAt.After(now)
}
