package durabletest

import (
	"errors"
	"reflect"

	"github.com/durablego/toolkit/runtime/durable"
)

// CompleteActivity reports the outcome of an activity that returned
// durable.ErrResultPending, named by its durable.ActivityInfo.TaskToken:
// result when err is nil, else err. It is usually called from a delayed
// callback (RegisterDelayedCallback) or from code the activity handed its
// token to. As in Temporal's test environment, a pending activity waits
// for it whatever its timeouts. The error is durable.Engine.CompleteActivity's.
func (e *Env) CompleteActivity(taskToken []byte, result any, err error) error {
	return e.eng.CompleteActivity(e.ctx, taskToken, result, err)
}

// CompleteActivityByID is CompleteActivity for an activity named by its
// workflow, run ("": the newest) and activity IDs.
func (e *Env) CompleteActivityByID(namespace, workflowID, runID, activityID string, result any, err error) error {
	return e.eng.CompleteActivityByID(e.ctx, namespace, workflowID, runID, activityID, result, err)
}

// RegisterDynamicWorkflow registers the workflow that runs names nothing
// else registered (durable.Engine.RegisterDynamicWorkflow).
func (e *Env) RegisterDynamicWorkflow(fn any) {
	e.tb.Helper()
	if err := catch(func() { e.eng.RegisterDynamicWorkflow(fn) }); err != nil {
		e.tb.Fatalf("durabletest: %v", err)
	}
}

// RegisterDynamicActivity registers the activity that runs names nothing
// else registered (durable.Engine.RegisterDynamicActivity). Calls that it
// runs are not matched against OnActivity mocks.
func (e *Env) RegisterDynamicActivity(fn any) {
	e.tb.Helper()
	if err := catch(func() { e.eng.RegisterDynamicActivity(fn) }); err != nil {
		e.tb.Fatalf("durabletest: %v", err)
	}
}

// pendingOutcome passes an invocation's results on, except in an
// ActivityEnv when the activity returned durable.ErrResultPending: then
// the env is told, so that ExecuteActivity returns ErrResultPending as
// Temporal's TestActivityEnvironment does, and the attempt fails for good
// instead of waiting for a CompleteActivity that no test will call.
func (e *Env) pendingOutcome(outs []reflect.Value) []reflect.Value {
	e.mu.Lock()
	seen := e.pendingSeen
	e.mu.Unlock()
	if seen == nil || len(outs) == 0 {
		return outs
	}
	err, _ := outs[len(outs)-1].Interface().(error)
	if !errors.Is(err, durable.ErrResultPending) {
		return outs
	}
	seen()
	outs[len(outs)-1] = reflect.ValueOf(durable.NewNonRetryableApplicationError("activity result pending", "ResultPending", nil))
	return outs
}
