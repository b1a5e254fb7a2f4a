package durabletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// UpdateCallbacks receive an update's outcome, as Temporal's do: Reject
// when the validator refuses it, else Accept and then Complete with the
// handler's result or error. The method set is Temporal's, so a test's own
// callbacks type compiles unchanged; success is a durable.Value holding
// the result as the journal does (JSON), where Temporal passes the value
// itself: As and AsOK read it as a value of the handler's type.
type UpdateCallbacks interface {
	Accept()
	Reject(err error)
	Complete(success any, err error)
}

// TestUpdateCallback is an UpdateCallbacks of optional functions
// (Temporal's TestUpdateCallback). OnComplete's first argument is a
// durable.Value (nil when the handler failed): read it with As or AsOK.
type TestUpdateCallback struct {
	OnAccept   func()
	OnReject   func(error)
	OnComplete func(success any, err error)
}

// Accept calls OnAccept if set.
func (c *TestUpdateCallback) Accept() {
	if c.OnAccept != nil {
		c.OnAccept()
	}
}

// Reject calls OnReject if set.
func (c *TestUpdateCallback) Reject(err error) {
	if c.OnReject != nil {
		c.OnReject(err)
	}
}

// Complete calls OnComplete if set.
func (c *TestUpdateCallback) Complete(success any, err error) {
	if c.OnComplete != nil {
		c.OnComplete(success, err)
	}
}

// UpdateWorkflow sends an update to the workflow under test, as
// Temporal's test environment does: it returns at once, and uc hears the
// outcome (Reject, or Accept and later Complete) while the Env drives the
// workflow, before time moves past the moment it happened. Updates sent by
// delayed callbacks due at the same instant are all taken by the workflow
// before any activity their handlers call starts, so a validator sees the
// state the earlier updates' handlers left as they began: with Temporal
// too, a burst of updates is validated while the first ones are still
// running. An update ID used before gets the first update's outcome once
// it completes, and the update is not sent again; "" is a fresh ID. The
// test fails if the update cannot be sent.
func (e *Env) UpdateWorkflow(name, updateID string, uc UpdateCallbacks, args ...any) {
	e.tb.Helper()
	if err := e.UpdateWorkflowByID(e.currentID(), name, updateID, uc, args...); err != nil {
		e.tb.Errorf("durabletest: UpdateWorkflow %q: %v", name, err)
	}
}

// UpdateWorkflowNoRejection sends an update and fails t if it is rejected.
func (e *Env) UpdateWorkflowNoRejection(name, updateID string, t TestingT, args ...any) {
	e.tb.Helper()
	e.UpdateWorkflow(name, updateID, &TestUpdateCallback{
		OnReject: func(err error) { t.Errorf("durabletest: update %q was rejected: %v", name, err) },
	}, args...)
}

// UpdateWorkflowByID sends an update to the open run of a workflow ID (a
// child's, for instance) as UpdateWorkflow does. It returns an error when
// the update cannot be sent (no open run).
func (e *Env) UpdateWorkflowByID(workflowID, name, updateID string, uc UpdateCallbacks, args ...any) error {
	e.updMu.Lock()
	if updateID == "" {
		e.updSeq++
		updateID = fmt.Sprintf("durabletest-update-%d", e.updSeq)
	}
	if u := e.updByID[updateID]; u != nil {
		// A duplicate: Temporal sends nothing and hands it the first
		// update's outcome once that completes (Accept, then Complete);
		// a duplicate of a rejected update hears nothing.
		if u.completed {
			e.updFlight = append(e.updFlight, &sentUpdate{id: updateID, runID: u.runID, uc: uc, dupOf: u})
		} else {
			u.dups = append(u.dups, uc)
		}
		e.updMu.Unlock()
		return nil
	}
	e.updMu.Unlock()
	// Sent here, not in a goroutine: the run takes updates (and signals)
	// in the order the test sends them.
	h, err := e.eng.UpdateWorkflow(e.ctx, durable.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateID:     updateID,
		UpdateName:   name,
		Args:         args,
		WaitForStage: durable.UpdateStageAccepted,
	})
	if err != nil {
		return err
	}
	u := &sentUpdate{id: updateID, runID: h.RunID(), uc: uc, done: make(chan struct{})}
	e.updMu.Lock()
	e.updSent++
	u.seq = e.updSent
	e.updMu.Unlock()
	go func() {
		defer close(u.done)
		if vh, ok := h.(interface {
			Value(context.Context) (durable.Value, error)
		}); ok {
			u.value, u.err = vh.Value(e.updCtx)
			return
		}
		var raw json.RawMessage
		if u.err = h.Get(e.updCtx, &raw); u.err == nil {
			u.value = value{raw: raw}
		}
	}()
	e.updMu.Lock()
	e.updByID[updateID] = u
	e.updFlight = append(e.updFlight, u)
	e.updMu.Unlock()
	return nil
}

// sentUpdate is an update UpdateWorkflow sent, from its sending until its
// outcome has been handed to its callbacks.
type sentUpdate struct {
	id, runID string
	seq       int // sending order
	uc        UpdateCallbacks
	dups      []UpdateCallbacks // later UpdateWorkflow calls with the same ID, while it runs
	dupOf     *sentUpdate       // set for a duplicate of an update that completed

	done  chan struct{} // closed once value and err are set
	value durable.Value
	err   error

	// What the Env has seen of it: the journal events (sequence numbers in
	// its run's journal) of its acceptance and outcome, and for a
	// rejection, which leaves no event, the last event journaled when it
	// was seen.
	acceptedAt, completedAt, rejectedAt int64
	arrived                             bool // done was closed when the journal was read

	accepted  bool // Accept was called
	completed bool // Complete was called, with success and err
	success   any
}

// journalView is what the Env has read of a run's journal about updates.
type journalView struct {
	order     int              // runs in the order the Env first sent them updates
	after     int64            // the last event read
	accepted  map[string]int64 // update ID -> its UpdateAccepted event
	completed map[string]int64 // update ID -> its UpdateCompleted (or UpdateRejected) event
	closed    bool             // the run had closed when last read
}

// observeUpdates reads what has become of the sent updates, and reports
// whether each has its verdict (accepted or rejected) and, where its
// outcome is journaled, that outcome too: otherwise it is on its way.
func (e *Env) observeUpdates(flight []*sentUpdate) (views map[string]*journalView, settled bool) {
	// What has arrived is noted before the journals are read: an outcome
	// is sent only once it is committed, so the journal then shows it.
	arrived := make([]bool, len(flight))
	for i, u := range flight {
		if u.dupOf != nil {
			continue
		}
		select {
		case <-u.done:
			arrived[i] = true
		default:
		}
	}
	views = map[string]*journalView{}
	for _, u := range flight {
		if views[u.runID] != nil {
			continue
		}
		v, err := e.readJournal(u.runID)
		if err != nil {
			e.tb.Errorf("durabletest: read the journal of run %s for its updates: %v", u.runID, err)
			return nil, false
		}
		views[u.runID] = v
	}
	settled = true
	for i, u := range flight {
		if u.dupOf != nil {
			continue
		}
		v := views[u.runID]
		u.acceptedAt, u.completedAt = v.accepted[u.id], v.completed[u.id]
		u.arrived = arrived[i]
		switch {
		case u.arrived:
			if u.err != nil && u.acceptedAt == 0 && u.rejectedAt == 0 {
				u.rejectedAt = v.after
			}
		case u.completedAt != 0 || u.acceptedAt == 0:
			// The outcome, or the verdict, is on its way.
			settled = false
		}
	}
	return views, settled
}

// settleUpdates hands what has become of the sent updates to their
// callbacks, on the goroutine driving the test clock, in the order it
// happened in. It reports whether time may move: not while an update has
// reached its run without a verdict yet, or its outcome is journaled but
// not yet here, so that callbacks hear of it at the test time it happened.
func (e *Env) settleUpdates() bool {
	e.updMu.Lock()
	flight := append([]*sentUpdate(nil), e.updFlight...)
	e.updMu.Unlock()
	if len(flight) == 0 {
		return true
	}
	views, settled := e.observeUpdates(flight)
	if !settled {
		return false
	}
	type note struct {
		u     *sentUpdate
		order int   // the run's
		at    int64 // journal position
		later bool  // happened after the event at "at" (a rejection)
		what  int   // 0 Accept, 1 Reject, 2 Complete
	}
	var notes []note
	var dups []*sentUpdate
	for _, u := range flight {
		if u.dupOf != nil {
			dups = append(dups, u)
			continue
		}
		v := views[u.runID]
		switch {
		case u.rejectedAt != 0:
			notes = append(notes, note{u: u, order: v.order, at: u.rejectedAt, later: true, what: 1})
			continue
		case u.acceptedAt != 0 && !u.accepted:
			notes = append(notes, note{u: u, order: v.order, at: u.acceptedAt})
		}
		switch {
		case u.arrived && u.completedAt != 0:
			notes = append(notes, note{u: u, order: v.order, at: u.completedAt, what: 2})
		case u.arrived:
			// An error with no outcome journaled (the run closed): it
			// happened after what was read.
			notes = append(notes, note{u: u, order: v.order, at: v.after, later: true, what: 2})
		case v.closed:
			// The run closed while the handler ran; Temporal's callbacks
			// then hear nothing more either.
			e.dropUpdate(u)
		}
	}
	sort.SliceStable(notes, func(i, j int) bool {
		a, b := notes[i], notes[j]
		switch {
		case a.order != b.order:
			return a.order < b.order
		case a.at != b.at:
			return a.at < b.at
		case a.later != b.later:
			return b.later
		}
		return a.u.seq < b.u.seq
	})
	for _, n := range notes {
		switch n.what {
		case 0:
			n.u.accepted = true
			n.u.uc.Accept()
		case 1:
			e.dropUpdate(n.u)
			err := n.u.err
			if errors.Is(err, durable.ErrUpdateRejected) && errors.Unwrap(err) != nil {
				// The validator's error itself, as Temporal passes it.
				err = errors.Unwrap(err)
			}
			n.u.uc.Reject(err)
		case 2:
			e.completeUpdate(n.u)
		}
	}
	for _, u := range dups {
		e.dropUpdate(u)
		u.uc.Accept()
		u.uc.Complete(u.dupOf.success, u.dupOf.err)
	}
	return true
}

// completeUpdate hands an update's outcome to its callbacks (and to those
// of its duplicates) and forgets it.
func (e *Env) completeUpdate(u *sentUpdate) {
	var success any
	if u.err == nil {
		// Temporal passes the handler's value itself; so does this when
		// the handler ran here (always, in the Env's own engine). With
		// the handler's error it passes no value.
		success = u.value
		if d, ok := durable.Decoded(u.value); ok {
			success = d
		}
	}
	e.updMu.Lock()
	u.completed, u.success = true, success
	dups := u.dups
	u.dups = nil
	e.updMu.Unlock()
	e.dropUpdate(u)
	if !u.accepted {
		u.accepted = true
		u.uc.Accept()
	}
	u.uc.Complete(success, u.err)
	for _, uc := range dups {
		uc.Accept()
		uc.Complete(success, u.err)
	}
}

// dropUpdate takes an update off the list of those whose outcome is due.
func (e *Env) dropUpdate(u *sentUpdate) {
	e.updMu.Lock()
	defer e.updMu.Unlock()
	for i, f := range e.updFlight {
		if f == u {
			e.updFlight = append(e.updFlight[:i], e.updFlight[i+1:]...)
			break
		}
	}
}

// readJournal brings the Env's view of a run's updates up to date from
// the run's history (Engine.History), taking the events added since the
// last call.
func (e *Env) readJournal(runID string) (*journalView, error) {
	e.updMu.Lock()
	v := e.updViews[runID]
	if v == nil {
		v = &journalView{order: len(e.updViews), accepted: map[string]int64{}, completed: map[string]int64{}}
		e.updViews[runID] = v
	}
	e.updMu.Unlock()
	// History reads the run's status before its journal: events journaled
	// before it closed are then all there.
	h, err := e.eng.History(e.ctx, "", runID)
	if err != nil {
		return nil, err
	}
	for _, ev := range h.Events {
		if ev.Seq <= v.after {
			continue
		}
		v.after = ev.Seq
		switch ev.Kind {
		case durable.EventUpdateAccepted:
			v.accepted[ev.UpdateID] = ev.Seq
		case durable.EventUpdateCompleted, durable.EventUpdateRejected:
			v.completed[ev.UpdateID] = ev.Seq
		}
	}
	v.closed = !store.RunStatus(h.Run.Status).Open()
	return v, nil
}

// As reads an update's (or a query's) result as a value of type T, for
// code written against Temporal's update callbacks, whose Complete gets
// the handler's value itself: "v.(*Cart)" becomes "durabletest.As[*Cart](v)".
// v is a durable.Value, decoded into a T, or a T itself. It panics when
// the value is neither, as the type assertion panics when the value is not
// a T.
func As[T any](v any) T {
	t, ok := AsOK[T](v)
	if !ok {
		var zero T
		panic(fmt.Sprintf("durabletest.As: the value (%T) does not decode into %T", v, zero))
	}
	return t
}

// AsOK is As for "t, ok := v.(*Cart)": ok is false when there is no value
// (the update failed) or it is neither a T nor decodes into one.
func AsOK[T any](v any) (T, bool) {
	var t T
	switch v := v.(type) {
	case T:
		return v, true
	case durable.Value:
		if v == nil || v.Get(&t) != nil {
			return t, false
		}
		return t, true
	}
	return t, false
}
