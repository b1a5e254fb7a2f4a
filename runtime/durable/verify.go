package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Verify replays a run's journal from scratch with the registered code, in
// a throwaway instance that never writes, and checks that the code makes
// the same calls in the same order and, for a closed run, ends the same
// way. It is how a deploy is checked against runs the old code made.
func (e *Engine) Verify(ctx context.Context, runID string) error {
	run, err := e.store.GetRun(ctx, runID)
	if err != nil {
		return fmt.Errorf("durable: Verify %s: %w", runID, err)
	}
	events, err := e.store.LoadJournal(ctx, runID, 0)
	if err != nil {
		return fmt.Errorf("durable: Verify %s: %w", runID, err)
	}
	return e.replay(ctx, run, events, false)
}

// Replay re-executes the registered workflow against a journal that did not
// come from this store: compat/replay builds one from a Temporal history.
// It returns a *NonDeterminismError at the first event where the code
// diverges, or an error naming the difference when the code ends otherwise
// than the journal's last event says. Unlike Verify, it also compares the
// values of activity arguments: a history records what was really sent.
// Nothing is written.
func (e *Engine) Replay(ctx context.Context, workflowID, workflow string, events []store.Event) error {
	run := &store.Run{RunID: "replay", WorkflowID: workflowID, Workflow: workflow, Queue: QueueDefault, Status: store.StatusRunning}
	for i := range events {
		events[i].Seq = int64(i + 1)
	}
	if n := len(events); n > 0 {
		switch last := events[n-1]; last.Kind {
		case journal.Completed:
			run.Status = store.StatusCompleted
			if d, err := journal.Decode(last.Kind, last.Data); err == nil {
				run.Result = d.(*journal.CompletedData).Result
			}
		case journal.Failed:
			run.Status = store.StatusFailed
		case journal.Canceled:
			run.Status = store.StatusCanceled
		case journal.ContinuedAsNew:
			run.Status = store.StatusContinued
		}
	}
	return e.replay(ctx, run, events, true)
}

func (e *Engine) replay(ctx context.Context, run *store.Run, events []store.Event, compareArgs bool) error {
	def := e.reg.workflow(run.Workflow)
	if def == nil {
		return fmt.Errorf("durable: replay %s: workflow %q is not registered", run.RunID, run.Workflow)
	}
	in := newInstance(e, run, def)
	in.readonly = true
	in.created = true
	in.draining = true
	in.compareArgs = compareArgs
	in.journal = events
	in.journalLen = int64(len(events))
	defer in.teardown()
	in.begin()
	if in.halt != nil {
		return in.halt
	}
	if in.replaying() {
		return &NonDeterminismError{RunID: run.RunID, Seq: in.journal[in.pos].Seq, Journal: describe(in.journal[in.pos]), Code: "nothing (every coroutine is waiting)"}
	}
	if !run.Status.Open() && run.Status != store.StatusTerminated {
		if in.closing == nil {
			return fmt.Errorf("durable: replay %s: the journal says %s, but the code has not returned", run.RunID, run.Status)
		}
		if in.closing.Status != run.Status {
			return fmt.Errorf("durable: replay %s: the journal says %s, the code ends %s", run.RunID, run.Status, in.closing.Status)
		}
		if run.Status == store.StatusCompleted && !jsonEqual(in.closing.Result, run.Result) {
			return fmt.Errorf("durable: replay %s: result differs: journal %s, code %s", run.RunID, run.Result, in.closing.Result)
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
