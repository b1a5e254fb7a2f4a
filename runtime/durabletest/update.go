package durabletest

import (
	"errors"
	"fmt"

	"github.com/durablego/toolkit/runtime/durable"
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

// UpdateWorkflow sends an update to the workflow under test and calls uc
// with its outcome; the test fails if it cannot be sent. Called from a
// delayed callback (the usual place), it returns once the update's handler
// has finished, skipping time while the handler waits. updateID is
// accepted for Temporal compatibility; the engine names updates itself.
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

// UpdateWorkflowByID sends an update to the open run of a workflow ID and
// calls uc with its outcome.
func (e *Env) UpdateWorkflowByID(workflowID, name, updateID string, uc UpdateCallbacks, args ...any) error {
	e.tb.Helper()
	before, err := e.acceptedUpdates(workflowID, name)
	if err != nil {
		return err
	}
	var (
		v      durable.Value
		updErr error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		v, updErr = e.eng.Update(e.ctx, workflowID, name, args...)
	}()
	// Time may move only once the update has arrived: it returned
	// (rejected, say) or its acceptance is journaled.
	acceptCalled := false
	accepted := func() bool {
		if acceptCalled {
			return true
		}
		n, err := e.acceptedUpdates(workflowID, name)
		if err == nil && n > before {
			// Accept is called as soon as the acceptance is journaled,
			// before the handler has finished, as in Temporal.
			acceptCalled = true
			uc.Accept()
		}
		return acceptCalled
	}
	ready := func() bool {
		select {
		case <-done:
			return true
		default:
			return accepted()
		}
	}
	if err := e.drive(fmt.Sprintf("update %q of workflow %s", name, workflowID), workflowID, done, ready, e.pending.Load()); err != nil {
		return err
	}
	if !accepted() {
		if errors.Is(updErr, durable.ErrUpdateRejected) && errors.Unwrap(updErr) != nil {
			// The validator's error itself, as Temporal passes it.
			updErr = errors.Unwrap(updErr)
		}
		uc.Reject(updErr)
		return nil
	}
	if updErr != nil {
		// Temporal passes no value with the handler's error.
		uc.Complete(nil, updErr)
		return nil
	}
	// Temporal passes the handler's value itself; so does this when the
	// handler ran here (always, in the test environment's own engine).
	if d, ok := durable.Decoded(v); ok {
		uc.Complete(d, nil)
		return nil
	}
	uc.Complete(v, nil)
	return nil
}

// acceptedUpdates counts the updates named name the newest run of a
// workflow ID has journaled as accepted.
func (e *Env) acceptedUpdates(workflowID, name string) (int, error) {
	h, err := e.eng.History(e.ctx, workflowID, "")
	if err != nil {
		return 0, fmt.Errorf("history of workflow %s: %w", workflowID, err)
	}
	n := 0
	for _, ev := range h.Events {
		if ev.Kind == durable.EventUpdateAccepted && ev.Name == name {
			n++
		}
	}
	return n, nil
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
