package durable

import (
	"context"
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// SignalExternal sends a signal to the open run of another workflow ID
// (workflow.SignalExternalWorkflow). The signal is delivered with the
// commit of the current step. It returns an error when no run of that ID
// is open.
func SignalExternal(ctx context.Context, workflowID, signal string, arg any) error {
	if in := instanceOf(ctx, "SignalExternal"); in.icptOut != nil {
		return in.icptOut.SignalExternalWorkflow(ctx, workflowID, "", signal, arg).Get(ctx, nil)
	}
	return signalExternal(ctx, workflowID, signal, arg)
}

// signalExternal is SignalExternal without interceptors.
func signalExternal(ctx context.Context, workflowID, signal string, arg any) error {
	in := instanceOf(ctx, "SignalExternal")
	raw, err := encodeValue(arg)
	if err != nil {
		return fmt.Errorf("durable.SignalExternal %s %q: %w", workflowID, signal, err)
	}
	data := &journal.SignalData{ID: in.m.NewID(), Name: signal, Arg: raw, WorkflowID: workflowID}
	if in.replaying() {
		if d, err := journal.Decode(journal.ExternalSignaled, in.command(journal.ExternalSignaled, data)); err == nil {
			return fromFailure(d.(*journal.SignalData).Error)
		}
		return nil
	}
	handled := false
	if !in.e.openRun(workflowID) {
		var err error
		if h := in.e.cfg.unknownSignal; h != nil {
			handled, err = h(ctx, workflowID, signal, arg)
		}
		switch {
		case !handled:
			data.Error = toFailure(NewNonRetryableApplicationError(fmt.Sprintf("signal %q to workflow %s: no open run", signal, workflowID), "ExternalWorkflowNotFound", nil))
		case err != nil:
			data.Error = toFailure(err)
		}
	}
	in.command(journal.ExternalSignaled, data)
	if data.Error != nil {
		return fromFailure(data.Error)
	}
	if handled {
		return nil
	}
	in.m.Step().Deliveries = append(in.m.Step().Deliveries, &store.DeliverParams{WorkflowID: workflowID, Kind: inboxSignal, Name: signal, Data: raw})
	return nil
}

// UnknownSignalTarget answers a SignalExternal to a workflow ID with no
// open run: handled reports whether it took the signal, and err is then
// the signal's outcome, journaled as the engine's own answer would be (a
// replay does not call it again). Unhandled, the signal fails with the
// engine's "no open run" error.
type UnknownSignalTarget func(ctx context.Context, workflowID, signal string, arg any) (handled bool, err error)

// WithUnknownSignalTarget sets the function that answers signals to
// workflow IDs with no open run, for test environments that mock the
// workflows a run signals (durabletest's OnSignalExternalWorkflow).
func WithUnknownSignalTarget(f UnknownSignalTarget) Option {
	return optionFunc(func(c *config) { c.unknownSignal = f })
}

// CancelExternal asks the open run of another workflow ID to cancel
// (workflow.RequestCancelExternalWorkflow).
func CancelExternal(ctx context.Context, workflowID string) error {
	if in := instanceOf(ctx, "CancelExternal"); in.icptOut != nil {
		return in.icptOut.RequestCancelExternalWorkflow(ctx, workflowID, "").Get(ctx, nil)
	}
	return cancelExternal(ctx, workflowID)
}

// cancelExternal is CancelExternal without interceptors.
func cancelExternal(ctx context.Context, workflowID string) error {
	in := instanceOf(ctx, "CancelExternal")
	data := &journal.CancelData{ID: in.m.NewID(), WorkflowID: workflowID}
	if in.replaying() {
		if d, err := journal.Decode(journal.ExternalCancelRequested, in.command(journal.ExternalCancelRequested, data)); err == nil {
			return fromFailure(d.(*journal.CancelData).Error)
		}
		return nil
	}
	if !in.e.openRun(workflowID) {
		data.Error = toFailure(NewNonRetryableApplicationError(fmt.Sprintf("cancel workflow %s: no open run", workflowID), "ExternalWorkflowNotFound", nil))
	}
	in.command(journal.ExternalCancelRequested, data)
	if data.Error != nil {
		return fromFailure(data.Error)
	}
	in.m.Step().Deliveries = append(in.m.Step().Deliveries, &store.DeliverParams{WorkflowID: workflowID, Kind: inboxCancel})
	return nil
}

// openRun reports whether a workflow ID has an open run.
func (e *Engine) openRun(workflowID string) bool {
	r, err := e.store.CurrentRun(e.ctx, workflowID)
	return err == nil && r.Status.Open()
}
