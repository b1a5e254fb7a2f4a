package durable

import "context"

// Client is the part of an Engine that code outside workflows uses to start
// runs and talk to them: starters, HTTP handlers, activities that signal
// other workflows. *Engine implements it.
//
// Code that holds a Client rather than an *Engine can be tested with a
// fake: durabletest.MockClient records the calls as Temporal's
// mocks.Client does, which is why code converted from Temporal holds a
// Client wherever its tests pass such a mock. Both shapes of each call are
// here: the short native one (Start, Signal, ...) and Temporal's, which
// takes a run ID (ExecuteWorkflow, SignalWorkflow, ...).
type Client interface {
	Start(ctx context.Context, opts StartOptions, workflow any, args ...any) (Run, error)
	Run(id string) Run
	Signal(ctx context.Context, id, name string, arg any) error
	SignalWithStart(ctx context.Context, opts StartOptions, workflow any, signal string, arg any, args ...any) (Run, error)
	Query(ctx context.Context, id, name string, args ...any) (Value, error)
	Update(ctx context.Context, id, name string, args ...any) (Value, error)
	Cancel(ctx context.Context, id string) error
	Terminate(ctx context.Context, id, reason string) error
	Describe(ctx context.Context, id string) (*RunInfo, error)

	ExecuteWorkflow(ctx context.Context, opts StartOptions, workflow any, args ...any) (Run, error)
	GetWorkflow(ctx context.Context, id, runID string) Run
	SignalWorkflow(ctx context.Context, id, runID, name string, arg any) error
	SignalWithStartWorkflow(ctx context.Context, id, signal string, arg any, opts StartOptions, workflow any, args ...any) (Run, error)
	QueryWorkflow(ctx context.Context, id, runID, name string, args ...any) (Value, error)
	CancelWorkflow(ctx context.Context, id, runID string) error
	TerminateWorkflow(ctx context.Context, id, runID, reason string, details ...any) error
	UpdateWorkflow(ctx context.Context, opts UpdateWorkflowOptions) (UpdateHandle, error)
	NewWithStartWorkflowOperation(opts StartOptions, workflow any, args ...any) WithStartWorkflowOperation
	UpdateWithStartWorkflow(ctx context.Context, opts UpdateWithStartWorkflowOptions) (UpdateHandle, error)
	CompleteActivity(ctx context.Context, taskToken []byte, result any, err error) error
	CompleteActivityByID(ctx context.Context, namespace, workflowID, runID, activityID string, result any, err error) error
	RecordActivityHeartbeat(ctx context.Context, taskToken []byte, details ...any) error
	RecordActivityHeartbeatByID(ctx context.Context, namespace, workflowID, runID, activityID string, details ...any) error

	// Close releases what the client holds; on an Engine it stops the
	// engine.
	Close() error
}

var _ Client = (*Engine)(nil)
