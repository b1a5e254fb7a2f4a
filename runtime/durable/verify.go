package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// Verify replays a closed run's journal from scratch with the registered
// code, in a throwaway instance that never writes, and checks that the
// code makes the same calls in the same order and ends with the same
// result. It is how a deploy is checked against runs the old code made.
func (e *Engine) Verify(ctx context.Context, runID string) error {
	run, err := e.store.GetRun(ctx, runID)
	if err != nil {
		return fmt.Errorf("durable: Verify %s: %w", runID, err)
	}
	def := e.reg.workflow(run.Workflow)
	if def == nil {
		return fmt.Errorf("durable: Verify %s: workflow %q is not registered", runID, run.Workflow)
	}
	events, err := e.store.LoadJournal(ctx, runID, 0)
	if err != nil {
		return fmt.Errorf("durable: Verify %s: %w", runID, err)
	}
	in := newInstance(e, run, def)
	in.readonly = true
	in.created = true
	in.draining = true
	in.journal = events
	in.journalLen = int64(len(events))
	defer in.teardown()
	in.begin()
	if in.halt != nil {
		return in.halt
	}
	if in.replaying() {
		return &NonDeterminismError{RunID: runID, Seq: in.journal[in.pos].Seq, Journal: describe(in.journal[in.pos]), Code: "nothing (every coroutine is waiting)"}
	}
	if !run.Status.Open() && run.Status != store.StatusTerminated {
		if in.closing == nil {
			return fmt.Errorf("durable: Verify %s: the journal says %s, but the code has not returned", runID, run.Status)
		}
		if in.closing.Status != run.Status {
			return fmt.Errorf("durable: Verify %s: the journal says %s, the code ends %s", runID, run.Status, in.closing.Status)
		}
		if run.Status == store.StatusCompleted && !jsonEqual(in.closing.Result, run.Result) {
			return fmt.Errorf("durable: Verify %s: result differs: journal %s, code %s", runID, run.Result, in.closing.Result)
		}
	}
	return nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(ax, by)
}

var _ = errors.New
