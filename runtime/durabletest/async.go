package durabletest

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
