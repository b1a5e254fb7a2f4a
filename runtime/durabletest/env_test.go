package durabletest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

func TestEnv(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		env   *durabletest.Env
		start time.Time
	}

	setup := func(t *testing.T, opts ...durabletest.Option) *testBundle {
		t.Helper()
		env := durabletest.NewEnv(t, opts...)
		return &testBundle{env: env, start: env.Now()}
	}

	t.Run("CallAndDaySleepCompleteInSkippedTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.RegisterActivity(Greet)
		began := time.Now()

		b.env.ExecuteWorkflow(GreetLater, "Ada")

		require.True(t, b.env.IsWorkflowCompleted())
		require.NoError(t, b.env.GetWorkflowError())
		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "Hello, Ada! (a day later)", got)
		require.Equal(t, 24*time.Hour, b.env.Now().Sub(b.start))
		require.Less(t, time.Since(began), 5*time.Second, "a day of test time must not take real time")
	})

	t.Run("ExecutionTimeoutFiresInSkippedTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.SetStartWorkflowOptions(durable.StartOptions{ExecutionTimeout: 10 * time.Minute})
		b.env.ExecuteWorkflow(func(ctx context.Context) error { return durable.Sleep(ctx, time.Hour) })
		require.True(t, b.env.IsWorkflowCompleted())
		var te *durable.TimeoutError
		require.ErrorAs(t, b.env.GetWorkflowError(), &te)
		require.Equal(t, "Execution", te.Kind)
		require.Equal(t, 10*time.Minute, b.env.Now().Sub(b.start))
	})

	t.Run("WorkflowRetryBackoffPassesInSkippedTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		b.env.SetStartTime(start)
		b.env.SetStartWorkflowOptions(durable.StartOptions{RetryPolicy: &durable.RetryPolicy{InitialInterval: time.Hour}})
		b.env.ExecuteWorkflow(func(ctx context.Context) (int, error) {
			if a := durable.GetInfo(ctx).Attempt; a < 2 {
				return 0, fmt.Errorf("attempt %d fails", a)
			}
			return durable.GetInfo(ctx).Attempt, nil
		})
		require.True(t, b.env.IsWorkflowCompleted())
		require.NoError(t, b.env.GetWorkflowError())
		var attempt int
		require.NoError(t, b.env.GetWorkflowResult(&attempt))
		require.Equal(t, 2, attempt)
		require.Equal(t, start.Add(time.Hour), b.env.Now())
	})

	t.Run("SetStartTimeIsTheWorkflowsNow", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		b.env.SetStartTime(start)
		var seen time.Time
		b.env.ExecuteWorkflow(func(ctx context.Context) error {
			seen = durable.Now(ctx)
			return durable.Sleep(ctx, time.Hour)
		})
		require.NoError(t, b.env.GetWorkflowError())
		require.True(t, seen.Equal(start), "durable.Now = %s, want %s", seen, start)
		require.True(t, b.env.Now().Equal(start.Add(time.Hour)))
	})

	t.Run("QueryWithFewerArgumentsGetsZeroValues", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.ExecuteWorkflow(func(ctx context.Context) error {
			if err := durable.SetQueryHandler(ctx, "greet", func(name string, times int) (string, error) {
				return fmt.Sprintf("%s x%d", name, times), nil
			}); err != nil {
				return err
			}
			return durable.Sleep(ctx, time.Hour)
		})
		v, err := b.env.QueryWorkflow("greet", "ada")
		require.NoError(t, err)
		var s string
		require.NoError(t, v.Get(&s))
		require.Equal(t, "ada x0", s, "Temporal's test environment passes zero values for missing arguments")
	})

	t.Run("DelayedCallbacksSignalAndQuery", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var statuses []string
		query := func() {
			v, err := b.env.QueryWorkflow("status")
			require.NoError(t, err)
			var s string
			require.NoError(t, v.Get(&s))
			statuses = append(statuses, s)
		}
		b.env.RegisterDelayedCallback(query, 30*time.Minute)
		b.env.RegisterDelayedCallback(func() { b.env.SignalWorkflow("approve", "bob") }, time.Hour)
		b.env.RegisterDelayedCallback(query, 90*time.Minute)

		b.env.ExecuteWorkflow(ApprovalWorkflow)

		require.True(t, b.env.IsWorkflowCompleted())
		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "approved by bob", got)
		require.Equal(t, []string{"waiting", "approved by bob"}, statuses)
		require.Equal(t, 2*time.Hour, b.env.Now().Sub(b.start), "signal after 1h, then a 1h sleep")

		// Queries still answer once the workflow has closed.
		v, err := b.env.QueryWorkflow("status")
		require.NoError(t, err)
		var s string
		require.NoError(t, v.Get(&s))
		require.Equal(t, "done", s)
	})

	t.Run("SignalWithZeroDelayArrivesBeforeTheWorkflowWaits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.RegisterDelayedCallback(func() { b.env.SignalWorkflow("approve", "ann") }, 0)
		b.env.ExecuteWorkflow(ApprovalWorkflow)
		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "approved by ann", got)
	})

	t.Run("SelectorSignalBeatsTheTimer", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.OnActivity(SendReminder, durabletest.Anything, durabletest.Anything).Never()
		b.env.RegisterDelayedCallback(func() { b.env.SignalWorkflow("done", "ada") }, 48*time.Hour)

		b.env.ExecuteWorkflow(ReminderWorkflow, "ada")

		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "done early, by ada", got)
		require.Equal(t, 48*time.Hour, b.env.Now().Sub(b.start))
		b.env.AssertExpectations(t)
	})

	t.Run("ChildWorkflowsRunInSkippedTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.RegisterWorkflow(GreetLater)
		b.env.OnActivity(Greet, durabletest.Anything, durabletest.Anything).Return("hi", nil).Twice()

		b.env.ExecuteWorkflow(func(ctx context.Context) (string, error) {
			first, err := durable.Child[string](ctx, GreetLater, "one")
			if err != nil {
				return "", err
			}
			second, err := durable.Child[string](ctx, GreetLater, "two")
			return first + " / " + second, err
		})

		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "hi (a day later) / hi (a day later)", got)
		require.Equal(t, 48*time.Hour, b.env.Now().Sub(b.start))
		b.env.AssertExpectations(t)
	})

	t.Run("ContinueAsNewIsFollowed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.ExecuteWorkflow(CountdownWorkflow, 3)
		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "liftoff", got)
		require.Equal(t, 3*time.Hour, b.env.Now().Sub(b.start))
	})

	t.Run("CancelWorkflowCancelsTheContext", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.OnActivity(Cleanup, durabletest.Anything, "reservation").Return(nil).Once()
		b.env.RegisterDelayedCallback(b.env.CancelWorkflow, time.Hour)

		b.env.ExecuteWorkflow(CancellableWorkflow)

		require.True(t, b.env.IsWorkflowCompleted())
		err := b.env.GetWorkflowError()
		require.Error(t, err)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, time.Hour, b.env.Now().Sub(b.start), "cancelled after 1h, not after the 10-day sleep")
		b.env.AssertExpectations(t)
	})

	t.Run("RetryBackoffIsSkipped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.OnActivity(Flaky, durabletest.Anything).Return("", errors.New("unavailable")).Twice()
		b.env.OnActivity(Flaky, durabletest.Anything).Return("ok", nil).Once()
		var attempts []string
		b.env.SetOnActivityStartedListener(func(info *durable.ActivityInfo, ctx context.Context, args durabletest.Values) {
			attempts = append(attempts, info.Activity+"#"+itoa(info.Attempt)+"@"+info.StartedTime.Sub(b.start).String())
		})
		began := time.Now()

		b.env.ExecuteWorkflow(RetryWorkflow)

		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "ok", got)
		// InitialInterval 1m, coefficient 2: attempts at 0, 1m and 3m.
		require.Equal(t, []string{"Flaky#1@0s", "Flaky#2@1m0s", "Flaky#3@3m0s"}, attempts)
		require.Less(t, time.Since(began), 5*time.Second)
		b.env.AssertExpectations(t)
		b.env.AssertActivityNumberOfCalls(t, "Flaky", 3)
	})

	t.Run("RetriesStopAtMaximumAttempts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.OnActivity(Flaky, durabletest.Anything).Return("", errors.New("down"))

		b.env.ExecuteWorkflow(RetryWorkflow)

		require.True(t, b.env.IsWorkflowCompleted())
		require.ErrorContains(t, b.env.GetWorkflowError(), "down")
		b.env.AssertActivityNumberOfCalls(t, "Flaky", 5)
		// Backoffs 1m, 2m, 4m, 8m.
		require.Equal(t, 15*time.Minute, b.env.Now().Sub(b.start))
	})

	t.Run("DefaultRetryPolicyStopsAfterTenAttempts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.OnActivity(Flaky, durabletest.Anything).Return("", errors.New("down"))

		b.env.ExecuteWorkflow(func(ctx context.Context) (string, error) { return durable.Call[string](ctx, Flaky) })

		require.True(t, b.env.IsWorkflowCompleted())
		require.ErrorContains(t, b.env.GetWorkflowError(), "down")
		b.env.AssertActivityNumberOfCalls(t, "Flaky", durabletest.MaximumAttemptsDefault)
		// As in Temporal's test environment: 1s between attempts.
		require.Equal(t, 9*time.Second, b.env.Now().Sub(b.start))
	})

	t.Run("ActivityTimeoutWhileTheActivityBlocks", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A running activity holds time still; its timeout then fires after
		// as much real time, as in Temporal's test environment.
		b.env.OnActivity(Flaky, durabletest.Anything).Return(func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})
		b.env.ExecuteWorkflow(func(ctx context.Context) (string, error) {
			ctx = durable.WithCallOptions(ctx, durable.CallOptions{
				StartToCloseTimeout: 50 * time.Millisecond,
				RetryPolicy:         &durable.RetryPolicy{MaximumAttempts: 1},
			})
			return durable.Call[string](ctx, Flaky)
		})
		var te *durable.TimeoutError
		require.ErrorAs(t, b.env.GetWorkflowError(), &te)
		require.Equal(t, "StartToClose", te.Kind)
	})

	t.Run("BlockedWorkflowTimesOutAfterTheDefaultRunTimeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		began := time.Now()

		b.env.ExecuteWorkflow(WaitForeverWorkflow)

		// As in Temporal's test environment: ten years of skipped time,
		// then a timeout, wrapped as Temporal wraps a workflow's error.
		require.True(t, b.env.IsWorkflowCompleted())
		var te *durable.TimeoutError
		require.ErrorAs(t, b.env.GetWorkflowError(), &te)
		var we *durabletest.WorkflowExecutionError
		require.ErrorAs(t, b.env.GetWorkflowError(), &we)
		require.Equal(t, "WaitForeverWorkflow", we.WorkflowType)
		require.Equal(t, durabletest.WorkflowRunTimeoutDefault, b.env.Now().Sub(b.start))
		require.Less(t, time.Since(began), 5*time.Second)
	})

	t.Run("SetWorkflowRunTimeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.SetWorkflowRunTimeout(time.Hour)
		b.env.ExecuteWorkflow(WaitForeverWorkflow)
		var te *durable.TimeoutError
		require.ErrorAs(t, b.env.GetWorkflowError(), &te)
		require.Equal(t, time.Hour, b.env.Now().Sub(b.start))
	})

	t.Run("BlockedWithoutRunTimeoutFailsAtOnce", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.SetWorkflowRunTimeout(0)
		began := time.Now()

		env.ExecuteWorkflow(WaitForeverWorkflow)

		require.False(t, env.IsWorkflowCompleted())
		require.ErrorIs(t, env.GetWorkflowError(), durabletest.ErrBlocked)
		require.Contains(t, rec.failures(), "blocked: every coroutine waits and no timer is due")
		require.Less(t, time.Since(began), 5*time.Second)
		require.Error(t, env.GetWorkflowResult(nil))
	})

	t.Run("FailureUnwrapsToTheRunsError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env.RegisterDelayedCallback(b.env.CancelWorkflow, time.Minute)
		b.env.ExecuteWorkflow(func(ctx context.Context) error {
			_ = durable.Sleep(ctx, time.Hour)
			return ctx.Err()
		})
		err := b.env.GetWorkflowError()
		require.ErrorContains(t, err, "workflow execution error")
		require.EqualError(t, errors.Unwrap(err), "canceled")
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("WorkerOptionsBackgroundActivityContext", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		type key struct{}
		b.env.SetWorkerOptions(durabletest.WorkerOptions{BackgroundActivityContext: context.WithValue(context.Background(), key{}, "from the worker")})
		b.env.OnActivity(Greet, durabletest.Anything, "Ada").Return(func(ctx context.Context, name string) (string, error) {
			v, _ := ctx.Value(key{}).(string)
			return v + " for " + name + " " + durable.GetActivityInfo(ctx).Activity, nil
		})
		b.env.ExecuteWorkflow(func(ctx context.Context) (string, error) { return durable.Call[string](ctx, Greet, "Ada") })
		var got string
		require.NoError(t, b.env.GetWorkflowResult(&got))
		require.Equal(t, "from the worker for Ada Greet", got)
	})

	t.Run("TestTimeoutBoundsABusyWorkflow", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.SetTestTimeout(100 * time.Millisecond)
		release := make(chan struct{})
		defer close(release)
		env.OnActivity(Flaky, durabletest.Anything).Return(func(ctx context.Context) (string, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return "late", nil
		})

		env.ExecuteWorkflow(func(ctx context.Context) (string, error) { return durable.Call[string](ctx, Flaky) })

		require.False(t, env.IsWorkflowCompleted())
		require.ErrorIs(t, env.GetWorkflowError(), durabletest.ErrTestTimeout)
		require.Contains(t, rec.failures(), "test timeout")
	})

	t.Run("ReplayCheckCatchesNonDeterminism", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.OnActivity(Greet, durabletest.Anything, durabletest.Anything).Return("hi", nil)
		runs := 0
		env.ExecuteWorkflow(func(ctx context.Context) (string, error) {
			runs++ // differs on replay: not deterministic
			if runs == 1 {
				return durable.Call[string](ctx, Greet, "first")
			}
			return durable.Call[string](ctx, Flaky)
		})
		require.True(t, env.IsWorkflowCompleted())
		require.Contains(t, rec.failures(), "replay check")
	})
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
