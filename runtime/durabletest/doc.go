// Package durabletest runs workflow tests on the real durable engine, with
// the meaning of Temporal's testsuite, so that tests converted from
// Temporal read the same and assert the same.
//
// An [Env] is Temporal's TestWorkflowEnvironment: the same method names
// (RegisterWorkflow, RegisterActivity, OnActivity, ExecuteWorkflow,
// GetWorkflowResult, RegisterDelayedCallback, SignalWorkflow,
// QueryWorkflow, UpdateWorkflow, CancelWorkflow, AssertExpectations, ...). An
// [ActivityEnv] is Temporal's TestActivityEnvironment.
//
//	func TestGreeting(t *testing.T) {
//		env := durabletest.NewEnv(t)
//		env.OnActivity(Greet, durabletest.Anything, "Ada").Return("Hello, Ada!", nil)
//		env.ExecuteWorkflow(GreetLater, "Ada")
//		require.True(t, env.IsWorkflowCompleted())
//		var got string
//		require.NoError(t, env.GetWorkflowResult(&got))
//		env.AssertExpectations(t)
//	}
//
// # The real engine
//
// Workflows run on durable.New over an in-memory SQLite store: every yield
// point is journaled and committed as in production. Once a workflow has
// closed, ExecuteWorkflow replays each of its runs from the journal
// (durable.Engine.Verify) and fails the test if the code does not make the
// same calls again, which catches non-deterministic workflow code;
// [WithReplayCheck](false) turns that off. Runs stay parked in memory (no
// eviction).
//
// # Skipped time
//
// The engine's clock is a [Clock] that moves only when the Env moves it.
// Whenever the engine is idle (durable.Engine.Busy is 0, no mocked
// activity is executing and no callback is under way, checked across a few
// yields), the Env lets the engine poll once, then jumps to the next due
// timer or delayed callback and fires it, one at a time: workflow timers,
// activity retry backoffs, mock After durations and delayed callbacks all
// fire in skipped time, so a workflow that sleeps a day finishes in
// milliseconds. While activity code runs, time stands still; if only
// activities run, the next timer (an activity timeout, say) fires after as
// much real time has passed, as in Temporal's test environment. When the
// workflow waits with nothing due, ExecuteWorkflow fails the test at once
// ([ErrBlocked]); every wait is bounded by the test timeout
// ([TestTimeoutDefault], SetTestTimeout).
//
// # Mocks
//
// Every activity registered through the Env is registered with the engine
// as a stand-in of the same parameters. It calls the activity, or, once
// OnActivity has set expectations for it, the matching expectation: its
// Return values, or its Return function of the activity's signature. The
// arguments matched include the activity's context when it takes one, as
// in Temporal (use [Anything]). A call no expectation matches fails the
// test with the activity's name and arguments and fails the activity
// without retries.
//
// # Temporal's test defaults
//
// As in Temporal's test environment, activities whose retry policy has no
// attempt limit stop after [MaximumAttemptsDefault] attempts, and a
// policy's MaximumInterval defaults to its InitialInterval.
package durabletest
