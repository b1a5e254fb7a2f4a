package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// ResetOptions are the inputs of Engine.Reset.
type ResetOptions struct {
	// WorkflowID names the workflow; RunID the run to reset ("": the
	// newest run of WorkflowID).
	WorkflowID, RunID string
	// Event is the last journal event (by its sequence number, as History
	// shows them) the new run keeps. 1 keeps only the start: the run
	// starts over with the same arguments.
	Event int64
	// Reason is recorded on the open run that the reset terminates.
	Reason string
	// NoReapplySignals drops the signals the old run received after
	// Event; by default the new run receives them again, in order, as
	// Temporal's reset does.
	NoReapplySignals bool
}

// resetMeta is what a reset run's store record (Run.Meta) says of its
// origin.
type resetMeta struct {
	ResetFrom  string `json:"resetFrom"`
	ResetEvent int64  `json:"resetEvent"`
}

// Reset starts a new run of a workflow ID whose journal is a copy of an
// earlier run's up to o.Event: a worker replays it, as after a restart,
// and the code continues live from there (Temporal's reset, DBOS's fork).
// Use it to redo work after a bug fix or to recover a run that went
// wrong. The open run of the workflow ID, if any, is terminated first. It
// returns the new run's ID.
//
// What the old run did after o.Event is not undone: activities that ran
// after it run again when the new run reaches them. Activities and timers
// pending at o.Event are dispatched again. The reset refuses a point
// where a child workflow started and had not finished, since the child
// reports to the old run.
func (e *Engine) Reset(ctx context.Context, o ResetOptions) (string, error) {
	id := o.WorkflowID
	fail := func(err error) (string, error) { return "", fmt.Errorf("durable: Reset %s: %w", id, err) }
	r, err := e.runOf(ctx, id, o.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(ErrNotFound)
	}
	if err != nil {
		return fail(err)
	}
	events, err := e.store.LoadJournal(ctx, r.RunID, 0)
	if err != nil {
		return fail(fmt.Errorf("read journal: %w", err))
	}
	if o.Event < 1 || o.Event > int64(len(events)) {
		return fail(fmt.Errorf("event %d is not in run %s's journal (1 to %d)", o.Event, r.RunID, len(events)))
	}
	keep := events[:o.Event]
	switch last := keep[len(keep)-1]; last.Kind {
	case journal.Completed, journal.Failed, journal.Canceled, journal.ContinuedAsNew, journal.Terminated:
		return fail(fmt.Errorf("event %d (%s) closes the run; reset to an earlier event", o.Event, last.Kind))
	}
	if err := checkResetPoint(keep); err != nil {
		return fail(err)
	}
	// Terminate whatever run of the workflow ID is open: only one may be.
	cur, err := e.store.CurrentRun(ctx, r.WorkflowID)
	if err != nil {
		return fail(err)
	}
	if cur.Status.Open() {
		reason := o.Reason
		if reason == "" {
			reason = fmt.Sprintf("reset to event %d", o.Event)
		}
		if err := e.terminateAndWait(ctx, cur, reason); err != nil {
			return fail(fmt.Errorf("terminate the open run %s: %w", cur.RunID, err))
		}
	}
	copied := make([]store.Event, len(keep))
	copy(copied, keep)
	meta, _ := json.Marshal(resetMeta{ResetFrom: r.RunID, ResetEvent: o.Event})
	run := &store.Run{
		RunID: newID(), WorkflowID: r.WorkflowID, Workflow: r.Workflow, Queue: r.Queue, Status: store.StatusRunning,
		Input: r.Input, Meta: meta, ParentRunID: r.ParentRunID, PrevRunID: r.PrevRunID, WakeAt: e.cfg.clock.Now(),
	}
	if err := e.store.CreateRun(ctx, &store.CreateRunParams{Run: run, Events: copied}); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return fail(fmt.Errorf("%w: a run of workflow ID %q opened meanwhile", ErrAlreadyStarted, r.WorkflowID))
		}
		return fail(err)
	}
	if !o.NoReapplySignals {
		for _, ev := range events[o.Event:] {
			if ev.Kind != journal.SignalReceived {
				continue
			}
			var d journal.SignalData
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				return fail(fmt.Errorf("reapply signal of event %d: %w", ev.Seq, err))
			}
			if _, err := e.store.Deliver(ctx, &store.DeliverParams{RunID: run.RunID, Kind: inboxSignal, Name: d.Name, Data: d.Arg}); err != nil {
				return fail(fmt.Errorf("reapply signal %q of event %d: %w", d.Name, ev.Seq, err))
			}
		}
	}
	e.notifyChange(r.WorkflowID)
	e.pokePoller()
	return run.RunID, nil
}

// checkResetPoint refuses a journal prefix in which a child workflow
// started and has not finished: the child would report to the old run.
func checkResetPoint(keep []store.Event) error {
	children := map[int64]string{}
	for _, ev := range keep {
		switch ev.Kind {
		case journal.ChildStarted:
			var d journal.ChildStartedData
			if json.Unmarshal(ev.Data, &d) == nil && d.Error == nil {
				children[d.ID] = d.WorkflowID
			}
		case journal.ChildCompleted, journal.ChildFailed:
			var d journal.ResultData
			if json.Unmarshal(ev.Data, &d) == nil {
				delete(children, d.ID)
			}
		}
	}
	for cid, wf := range children {
		return fmt.Errorf("child workflow %s (#%d) started before that event and had not finished; reset to before it started or after it finished", wf, cid)
	}
	return nil
}
