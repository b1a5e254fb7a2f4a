package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/durable/internal/machine"
	"github.com/durablego/toolkit/runtime/store"
)

// Verify replays a run's journal from scratch with the registered code, in
// a read-only rebuild of the run that never writes, and checks that the code makes
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

// Replay re-executes the workflow registered as workflow against a
// history that did not come from this engine's store: a Temporal history
// that compat/replay translated, a history another engine's History
// returned, or events built from data (see HistoryEvent for the fields
// each kind uses). Events are numbered by their position in history, from
// 1; their Seq is ignored. Nothing is written and no activity runs.
//
// It returns a *NonDeterminismError at the first event where the code
// diverges, including a run that ends otherwise than the history's last
// event says (Kind DivergenceEnd or DivergenceResult); its Seq is that
// position. Unlike Verify, it compares values where the history records
// them, because a history records what was really done: activity, child
// and continue-as-new arguments, an external signal's argument, a child's
// workflow ID and a timer's duration (HistoryEvent.Duration, or else
// FireAt less At).
func (e *Engine) Replay(ctx context.Context, workflowID, workflow string, history []HistoryEvent) error {
	events, err := journalEvents(history)
	if err != nil {
		return fmt.Errorf("durable: Replay %s: %w", workflowID, err)
	}
	run := &store.Run{RunID: "replay", WorkflowID: workflowID, Workflow: workflow, Queue: QueueDefault, Status: store.StatusRunning}
	if n := len(events); n > 0 {
		switch last := history[n-1]; last.Kind {
		case journal.Completed:
			run.Status, run.Result = store.StatusCompleted, last.Result
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
	in, err := e.rebuild(run, events, compareArgs)
	if err != nil {
		return fmt.Errorf("durable: replay %s: %w", run.RunID, err)
	}
	defer in.teardown()
	if in.halt != nil {
		return in.halt
	}
	if !run.Status.Open() && run.Status != store.StatusTerminated {
		want := machine.Command{Kind: closeKind(run.Status), Status: string(run.Status), Result: run.Result}
		var found *machine.Command
		if in.m.Closing() != nil {
			found = &machine.Command{Kind: closeKind(in.m.Closing().Status), Status: string(in.m.Closing().Status), Result: in.m.Closing().Result}
		}
		if div := machine.CompareEnd(int64(len(events)), want, found); div != nil {
			return newNonDeterminismError(run.RunID, div)
		}
	}
	return nil
}

// rebuild builds a read-only instance of a run from its journal and
// replays it: the state queries, update validators and Verify look at.
// Nothing it does is written or dispatched. The caller tears it down.
func (e *Engine) rebuild(run *store.Run, events []store.Event, compareArgs bool) (*instance, error) {
	def := e.reg.workflow(run.Workflow)
	if def == nil {
		return nil, &NotRegisteredError{Kind: "workflow", Name: run.Workflow, why: "its state cannot be rebuilt"}
	}
	m := machine.Load(events, machine.Config{Clock: e.cfg.clock.Now, CompareArgs: compareArgs, ReadOnly: true})
	in := newInstance(e, run, def, m)
	in.holdDrain() // no drain of its own: the caller works it
	in.journal = events
	in.begin()
	return in, nil
}

// closeKind is the journal event that closes a run with status s.
func closeKind(s store.RunStatus) string {
	switch s {
	case store.StatusCompleted:
		return journal.Completed
	case store.StatusFailed:
		return journal.Failed
	case store.StatusCanceled:
		return journal.Canceled
	case store.StatusContinued:
		return journal.ContinuedAsNew
	}
	return string(s)
}

// jsonEqual reports whether two JSON texts encode the same value.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(ax, by)
}
