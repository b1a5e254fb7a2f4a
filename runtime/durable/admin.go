package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// RunInfo describes the newest run of a workflow ID.
type RunInfo struct {
	WorkflowID string
	RunID      string
	Workflow   string
	Queue      string
	Status     string // running, stuck, completed, failed, canceled, terminated, continued
	// Error is the run's error when it failed, was cancelled or is stuck.
	Error                             error
	JournalLen                        int64
	CreatedAt                         time.Time
	UpdatedAt                         time.Time
	ParentRunID, PrevRunID, NextRunID string
	// Unclaimed is set while the run is due but no worker has ever taken
	// it, for longer than a poll interval: no running engine serves its
	// Queue (see WithQueues and Engine.Serve), or none has the workflow
	// registered.
	Unclaimed bool
	// Input is the run's arguments (a JSON array, one element per
	// argument), Result its result once completed (JSON).
	Input, Result json.RawMessage
	// Memo and SearchAttributes are the run's current values, JSON-encoded
	// (DescribeRun fills them; Describe and List leave them nil).
	Memo, SearchAttributes map[string]json.RawMessage
	// ResetFrom and ResetEvent name the run and journal event that Reset
	// started this run from; "" and 0 for a run not made by Reset.
	ResetFrom  string
	ResetEvent int64
}

// Describe returns what the store knows of the newest run of a workflow ID.
func (e *Engine) Describe(ctx context.Context, id string) (*RunInfo, error) {
	r, err := e.store.CurrentRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("durable: Describe %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("durable: Describe %s: %w", id, err)
	}
	return e.runInfo(r), nil
}

// Resume makes the stuck run of a workflow ID run again: it is replayed
// from its journal with the code registered now. Use it after deploying a
// fix for the NonDeterminismError or PanicError that stopped it.
func (e *Engine) Resume(ctx context.Context, id string) error {
	r, err := e.store.CurrentRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("durable: Resume %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("durable: Resume %s: %w", id, err)
	}
	if r.Status != store.StatusStuck {
		return fmt.Errorf("durable: Resume %s: run %s is %s, not stuck", id, r.RunID, r.Status)
	}
	if err := e.store.SetRunStatus(ctx, &store.SetRunStatusParams{RunID: r.RunID, Status: store.StatusRunning, WakeAt: e.cfg.clock.Now()}); err != nil {
		return fmt.Errorf("durable: Resume %s: %w", id, err)
	}
	e.notifyChange(id)
	e.pokePoller()
	return nil
}
