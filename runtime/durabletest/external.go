package durabletest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
)

// NamespaceDefault is the namespace OnSignalExternalWorkflow's mocks see,
// Temporal's test environment's (the runtime has no namespaces).
const NamespaceDefault = "default-test-namespace"

// signalExternalMock is the mock name of external signals.
const signalExternalMock = "SignalExternalWorkflow"

// unseenRunID stands for the run ID among an external signal's mock
// arguments: the runtime signals a workflow ID's open run, so the run ID
// the workflow passed is not seen, and it matches any expected run ID.
type unseenRunID struct{}

func (unseenRunID) String() string   { return "(any run ID)" }
func (unseenRunID) GoString() string { return "(any run ID)" }

// OnSignalExternalWorkflow sets up a mock for the signals the workflow
// sends to other workflows (durable.SignalExternal, Temporal's
// workflow.SignalExternalWorkflow), as Temporal's does: args are matched
// against the namespace (NamespaceDefault), the target's workflow ID and
// run ID, the signal's name and its argument, and Return gives the
// signal's error (nil: delivered), or a function
// func(namespace, workflowID, runID, signalName string, arg any) error.
// Only signals to workflow IDs without an open run reach the mocks, as in
// Temporal, where signals to the test's own child workflows are delivered;
// without a mock, such a signal fails the test and the signal. The run ID
// is not seen (the runtime signals the workflow ID's open run), so any
// expected run ID matches.
func (e *Env) OnSignalExternalWorkflow(namespace, workflowID, runID, signalName, arg any) *MockCall {
	e.tb.Helper()
	at := "?"
	if _, file, line, ok := runtime.Caller(1); ok {
		at = fmt.Sprintf("%s:%d", file[strings.LastIndexByte(file, '/')+1:], line)
	}
	x := &expectation{e: e, kind: "external signal", name: signalExternalMock,
		args: []any{namespace, workflowID, runID, signalName, arg}, at: at}
	e.mu.Lock()
	e.signalMocked = true
	e.mu.Unlock()
	e.mock.add(x)
	return &MockCall{e: e, x: x}
}

// signalUnknown answers a signal the workflow sends to a workflow ID
// without an open run: from the mocks when there are any, else the
// engine's "no open run" error.
func (e *Env) signalUnknown(ctx context.Context, workflowID, signal string, arg any) (bool, error) {
	e.mu.Lock()
	mocked := e.signalMocked
	e.mu.Unlock()
	if !mocked {
		return false, nil
	}
	args := []any{NamespaceDefault, workflowID, unseenRunID{}, signal, arg}
	ret, err := e.mock.called("external signal", signalExternalMock, args, nil)
	if err != nil {
		e.tb.Errorf("durabletest: %v", err)
		return true, err
	}
	if len(ret) == 1 {
		switch r := ret[0].(type) {
		case nil:
			return true, nil
		case error:
			return true, r
		case func(namespace, workflowID, runID, signalName string, arg any) error:
			return true, r(NamespaceDefault, workflowID, "", signal, arg)
		}
	}
	err = fmt.Errorf("the mock of the external signal %q to %s returns %s, want an error (or nil) or a func(namespace, workflowID, runID, signalName string, arg any) error",
		signal, workflowID, formatArgs(ret))
	e.tb.Errorf("durabletest: %v", err)
	return true, err
}
