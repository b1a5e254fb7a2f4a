package durabletest

import (
	"context"

	"github.com/stretchr/testify/mock"

	"github.com/durablego/toolkit/runtime/durable"
)

// MockClient is a durable.Client for tests of code that starts and talks to
// runs (HTTP handlers, requesters), built on testify's mock.Mock.
//
// It records every call under the name and with the arguments of the
// matching method of Temporal's mocks.Client, so expectations written for
// Temporal keep working after conversion: Signal(ctx, id, name, arg) is
// recorded as SignalWorkflow(ctx, id, "", name, arg), Query as
// QueryWorkflow(ctx, id, "", name, args...), Start as
// ExecuteWorkflow(ctx, opts, workflow, args...), and so on. Return values
// are given with Return as usual: a durable.Run (MockRun), a durable.Value
// (MockValue), an error.
type MockClient struct {
	mock.Mock
}

var _ durable.Client = (*MockClient)(nil)

// called records a call and returns its return values.
func (m *MockClient) called(method string, args ...any) mock.Arguments {
	return m.MethodCalled(method, args...)
}

func runOf(ret mock.Arguments) durable.Run {
	r, _ := ret.Get(0).(durable.Run)
	return r
}

func valueOf(ret mock.Arguments) durable.Value {
	v, _ := ret.Get(0).(durable.Value)
	return v
}

// errorAt returns the error return value at index i, nil when it is nil or
// missing.
func errorAt(ret mock.Arguments, i int) error {
	if len(ret) <= i {
		return nil
	}
	return ret.Error(i)
}

// ExecuteWorkflow records ExecuteWorkflow(ctx, opts, workflow, args...).
func (m *MockClient) ExecuteWorkflow(ctx context.Context, opts durable.StartOptions, workflow any, args ...any) (durable.Run, error) {
	ret := m.called("ExecuteWorkflow", append([]any{ctx, opts, workflow}, args...)...)
	return runOf(ret), errorAt(ret, 1)
}

// Start is ExecuteWorkflow.
func (m *MockClient) Start(ctx context.Context, opts durable.StartOptions, workflow any, args ...any) (durable.Run, error) {
	return m.ExecuteWorkflow(ctx, opts, workflow, args...)
}

// GetWorkflow records GetWorkflow(ctx, id, runID).
func (m *MockClient) GetWorkflow(ctx context.Context, id, runID string) durable.Run {
	return runOf(m.called("GetWorkflow", ctx, id, runID))
}

// Run records GetWorkflow(context.Background(), id, "").
func (m *MockClient) Run(id string) durable.Run {
	return m.GetWorkflow(context.Background(), id, "")
}

// SignalWorkflow records SignalWorkflow(ctx, id, runID, name, arg).
func (m *MockClient) SignalWorkflow(ctx context.Context, id, runID, name string, arg any) error {
	return errorAt(m.called("SignalWorkflow", ctx, id, runID, name, arg), 0)
}

// Signal records SignalWorkflow(ctx, id, "", name, arg).
func (m *MockClient) Signal(ctx context.Context, id, name string, arg any) error {
	return m.SignalWorkflow(ctx, id, "", name, arg)
}

// SignalWithStartWorkflow records SignalWithStartWorkflow(ctx, id, signal,
// arg, opts, workflow, args...).
func (m *MockClient) SignalWithStartWorkflow(ctx context.Context, id, signal string, arg any, opts durable.StartOptions, workflow any, args ...any) (durable.Run, error) {
	ret := m.called("SignalWithStartWorkflow", append([]any{ctx, id, signal, arg, opts, workflow}, args...)...)
	return runOf(ret), errorAt(ret, 1)
}

// SignalWithStart records SignalWithStartWorkflow(ctx, opts.ID, signal,
// arg, opts, workflow, args...).
func (m *MockClient) SignalWithStart(ctx context.Context, opts durable.StartOptions, workflow any, signal string, arg any, args ...any) (durable.Run, error) {
	return m.SignalWithStartWorkflow(ctx, opts.ID, signal, arg, opts, workflow, args...)
}

// QueryWorkflow records QueryWorkflow(ctx, id, runID, name, args...).
func (m *MockClient) QueryWorkflow(ctx context.Context, id, runID, name string, args ...any) (durable.Value, error) {
	ret := m.called("QueryWorkflow", append([]any{ctx, id, runID, name}, args...)...)
	return valueOf(ret), errorAt(ret, 1)
}

// Query records QueryWorkflow(ctx, id, "", name, args...).
func (m *MockClient) Query(ctx context.Context, id, name string, args ...any) (durable.Value, error) {
	return m.QueryWorkflow(ctx, id, "", name, args...)
}

// UpdateWorkflow records UpdateWorkflow(ctx, opts).
func (m *MockClient) UpdateWorkflow(ctx context.Context, opts durable.UpdateWorkflowOptions) (durable.UpdateHandle, error) {
	ret := m.called("UpdateWorkflow", ctx, opts)
	h, _ := ret.Get(0).(durable.UpdateHandle)
	return h, errorAt(ret, 1)
}

// Update records UpdateWorkflow(ctx, opts) with the options Temporal's
// client would get for the same update, waiting for its completion, and
// reads the result from the returned handle.
func (m *MockClient) Update(ctx context.Context, id, name string, args ...any) (durable.Value, error) {
	h, err := m.UpdateWorkflow(ctx, durable.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: args, WaitForStage: durable.UpdateStageCompleted,
	})
	if err != nil || h == nil {
		return nil, err
	}
	return handleValue{ctx: ctx, h: h}, nil
}

// handleValue reads an update's result from its handle.
type handleValue struct {
	ctx context.Context
	h   durable.UpdateHandle
}

func (v handleValue) Get(valuePtr any) error { return v.h.Get(v.ctx, valuePtr) }

// UpdateWithStartWorkflow records UpdateWithStartWorkflow(ctx, opts).
func (m *MockClient) UpdateWithStartWorkflow(ctx context.Context, opts durable.UpdateWithStartWorkflowOptions) (durable.UpdateHandle, error) {
	ret := m.called("UpdateWithStartWorkflow", ctx, opts)
	h, _ := ret.Get(0).(durable.UpdateHandle)
	return h, errorAt(ret, 1)
}

// NewWithStartWorkflowOperation records NewWithStartWorkflowOperation(opts,
// workflow, args...).
func (m *MockClient) NewWithStartWorkflowOperation(opts durable.StartOptions, workflow any, args ...any) durable.WithStartWorkflowOperation {
	ret := m.called("NewWithStartWorkflowOperation", append([]any{opts, workflow}, args...)...)
	op, _ := ret.Get(0).(durable.WithStartWorkflowOperation)
	return op
}

// CancelWorkflow records CancelWorkflow(ctx, id, runID).
func (m *MockClient) CancelWorkflow(ctx context.Context, id, runID string) error {
	return errorAt(m.called("CancelWorkflow", ctx, id, runID), 0)
}

// Cancel records CancelWorkflow(ctx, id, "").
func (m *MockClient) Cancel(ctx context.Context, id string) error {
	return m.CancelWorkflow(ctx, id, "")
}

// TerminateWorkflow records TerminateWorkflow(ctx, id, runID, reason,
// details...).
func (m *MockClient) TerminateWorkflow(ctx context.Context, id, runID, reason string, details ...any) error {
	return errorAt(m.called("TerminateWorkflow", append([]any{ctx, id, runID, reason}, details...)...), 0)
}

// Terminate records TerminateWorkflow(ctx, id, "", reason).
func (m *MockClient) Terminate(ctx context.Context, id, reason string) error {
	return m.TerminateWorkflow(ctx, id, "", reason)
}

// Describe records Describe(ctx, id); it returns a *durable.RunInfo.
func (m *MockClient) Describe(ctx context.Context, id string) (*durable.RunInfo, error) {
	ret := m.called("Describe", ctx, id)
	info, _ := ret.Get(0).(*durable.RunInfo)
	return info, errorAt(ret, 1)
}

// Close records Close(), as Temporal's mocks.Client does, and returns nil.
func (m *MockClient) Close() error {
	m.called("Close")
	return nil
}

// MockValue is a durable.Value for MockClient's return values (a query's
// or an update's result), in the shape of Temporal's mocks.Value: Get
// records Get(valuePtr); fill the pointer in a Run function.
type MockValue struct {
	mock.Mock
}

// Get records Get(valuePtr) and returns the error given to Return.
func (v *MockValue) Get(valuePtr any) error {
	return errorAt(v.MethodCalled("Get", valuePtr), 0)
}

// HasValue records HasValue() and returns the bool given to Return.
func (v *MockValue) HasValue() bool {
	return v.MethodCalled("HasValue").Bool(0)
}

// MockRun is a durable.Run for MockClient's return values, in the shape of
// Temporal's mocks.WorkflowRun: ID records GetID, RunID records GetRunID,
// Get records Get(ctx, valuePtr).
type MockRun struct {
	mock.Mock
}

var _ durable.Run = (*MockRun)(nil)

// ID records GetID() and returns the string given to Return.
func (r *MockRun) ID() string { return r.MethodCalled("GetID").String(0) }

// RunID records GetRunID() and returns the string given to Return.
func (r *MockRun) RunID() string { return r.MethodCalled("GetRunID").String(0) }

// Get records Get(ctx, valuePtr) and returns the error given to Return.
func (r *MockRun) Get(ctx context.Context, valuePtr any) error {
	return errorAt(r.MethodCalled("Get", ctx, valuePtr), 0)
}

// CompleteActivity records CompleteActivity(ctx, taskToken, result, err).
func (m *MockClient) CompleteActivity(ctx context.Context, taskToken []byte, result any, err error) error {
	return errorAt(m.called("CompleteActivity", ctx, taskToken, result, err), 0)
}

// CompleteActivityByID records CompleteActivityByID(ctx, namespace,
// workflowID, runID, activityID, result, err).
func (m *MockClient) CompleteActivityByID(ctx context.Context, namespace, workflowID, runID, activityID string, result any, err error) error {
	return errorAt(m.called("CompleteActivityByID", ctx, namespace, workflowID, runID, activityID, result, err), 0)
}

// RecordActivityHeartbeat records RecordActivityHeartbeat(ctx, taskToken,
// details...).
func (m *MockClient) RecordActivityHeartbeat(ctx context.Context, taskToken []byte, details ...any) error {
	return errorAt(m.called("RecordActivityHeartbeat", append([]any{ctx, taskToken}, details...)...), 0)
}

// RecordActivityHeartbeatByID records RecordActivityHeartbeatByID(ctx,
// namespace, workflowID, runID, activityID, details...).
func (m *MockClient) RecordActivityHeartbeatByID(ctx context.Context, namespace, workflowID, runID, activityID string, details ...any) error {
	return errorAt(m.called("RecordActivityHeartbeatByID", append([]any{ctx, namespace, workflowID, runID, activityID}, details...)...), 0)
}
