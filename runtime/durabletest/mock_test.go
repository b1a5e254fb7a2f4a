package durabletest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

func TestOnActivity(t *testing.T) {
	t.Parallel()

	var o *Orders

	tests := []struct {
		name    string
		mock    func(env *durabletest.Env)
		want    string
		wantErr string
	}{
		{
			name: "ReturnsValues",
			mock: func(env *durabletest.Env) {
				env.OnActivity(o.Reserve, durabletest.Anything, "order-1").Return("res-1", nil).Once()
				env.OnActivity(o.Charge, durabletest.Anything, "order-1", 4200).Return(nil).Once()
			},
			want: "res-1/charged",
		},
		{
			name: "ReturnsAFunctionOfTheActivitysSignature",
			mock: func(env *durabletest.Env) {
				env.OnActivity(o.Reserve, durabletest.Anything, durabletest.Anything).Return(
					func(ctx context.Context, orderID string) (string, error) {
						require.Equal(t, "Reserve", durable.GetActivityInfo(ctx).Activity)
						return "fn-" + orderID, nil
					})
				env.OnActivity(o.Charge, durabletest.Anything, durabletest.Anything, durabletest.Anything).Return(nil)
			},
			want: "fn-order-1/charged",
		},
		{
			name: "ReturnsAnError",
			mock: func(env *durabletest.Env) {
				env.OnActivity(o.Reserve, durabletest.Anything, "order-1").
					Return("", durable.NewNonRetryableApplicationError("out of stock", "OutOfStock", nil))
				env.OnActivity(o.Charge, durabletest.Anything, durabletest.Anything, durabletest.Anything).Never()
			},
			wantErr: "out of stock",
		},
		{
			name: "MatchesByTypeAndPredicate",
			mock: func(env *durabletest.Env) {
				env.OnActivity(o.Reserve, durabletest.Anything, durabletest.AnythingOfType("string")).Return("typed", nil)
				env.OnActivity(o.Charge, durabletest.Anything, "order-1",
					durabletest.MatchedBy(func(cents int) bool { return cents > 0 })).Return(nil)
			},
			want: "typed/charged",
		},
		{
			name: "ByRegisteredName",
			mock: func(env *durabletest.Env) {
				env.OnActivity("Reserve", durabletest.Anything, "order-1").Return("named", nil)
				env.OnActivity("Charge", durabletest.Anything, "order-1", 4200).Return(nil)
			},
			want: "named/charged",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := durabletest.NewEnv(t)
			env.RegisterActivity(&Orders{})
			tt.mock(env)

			env.ExecuteWorkflow(OrderWorkflow, "order-1")

			require.True(t, env.IsWorkflowCompleted())
			var got string
			err := env.GetWorkflowResult(&got)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				var appErr *durable.ApplicationError
				require.ErrorAs(t, err, &appErr)
			} else {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			}
			env.AssertExpectations(t)
		})
	}

	t.Run("RegisteredUnderAnotherName", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.RegisterActivity(Greet, durable.WithName("greet-v2"))
		env.OnActivity(Greet, durabletest.Anything, "Ada").Return("mocked", nil)

		env.ExecuteWorkflow(func(ctx context.Context) (string, error) {
			byFunc, err := durable.Call[string](ctx, Greet, "Ada")
			if err != nil {
				return "", err
			}
			byName, err := durable.Call[string](ctx, "greet-v2", "Ada")
			return byFunc + "+" + byName, err
		})

		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "mocked+mocked", got)
		env.AssertActivityNumberOfCalls(t, "greet-v2", 2)
	})

	t.Run("UnmockedActivitiesRunForReal", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.RegisterActivity(Greet)
		env.ExecuteWorkflow(GreetLater, "Bo")
		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "Hello, Bo! (a day later)", got)
	})

	t.Run("UnexpectedCallFailsTheTestNamingTheActivity", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.OnActivity(Greet, durabletest.Anything, "Ada").Return("hi Ada", nil)

		env.ExecuteWorkflow(GreetLater, "Bob")

		require.True(t, env.IsWorkflowCompleted())
		require.Error(t, env.GetWorkflowError())
		require.Contains(t, rec.failures(), `unexpected call of activity Greet(context.Context, "Bob")`)
		require.Contains(t, rec.failures(), `closest is Greet(durabletest.Anything, "Ada")`)
	})

	t.Run("CallsBeyondTimesFailTheTest", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.OnActivity(Greet, durabletest.Anything, durabletest.Anything).Return("hi", nil).Once()

		env.ExecuteWorkflow(func(ctx context.Context) (string, error) {
			if _, err := durable.Call[string](ctx, Greet, "one"); err != nil {
				return "", err
			}
			return durable.Call[string](ctx, Greet, "two")
		})

		require.Error(t, env.GetWorkflowError())
		require.Contains(t, rec.failures(), "expects 1 call(s), this is call 2")
	})

	t.Run("NeverFailsTheTestWhenCalled", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.OnActivity(Greet, durabletest.Anything, durabletest.Anything).Never()

		env.ExecuteWorkflow(GreetLater, "Ann")

		require.Error(t, env.GetWorkflowError())
		require.Contains(t, rec.failures(), "says Never")
	})

	t.Run("AssertExpectationsReportsMissingCalls", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.RegisterActivity(&Orders{})
		env.OnActivity(o.Reserve, durabletest.Anything, "order-1").Return("res", nil).Twice()
		env.OnActivity(o.Charge, durabletest.Anything, "order-1", 4200).Return(durable.NewNonRetryableApplicationError("card declined", "CardDeclined", nil)).Once()
		env.OnActivity(Greet, durabletest.Anything, durabletest.Anything).Return("unused", nil)
		env.OnActivity(Cleanup, durabletest.Anything, durabletest.Anything).Return(nil).Maybe()

		env.ExecuteWorkflow(OrderWorkflow, "order-1")

		require.ErrorContains(t, env.GetWorkflowError(), "card declined")
		rec := newRecorder(t)
		require.False(t, env.AssertExpectations(rec))
		failures := rec.failures()
		require.Contains(t, failures, `expected Reserve(durabletest.Anything, "order-1") 2 time(s), got 1`)
		require.Contains(t, failures, `expected Greet(durabletest.Anything, durabletest.Anything) to be called, it was not`)
		require.NotContains(t, failures, "Charge")
		require.NotContains(t, failures, "Cleanup")

		require.True(t, env.AssertActivityCalled(t, "Reserve", durabletest.Anything, "order-1"))
		require.True(t, env.AssertActivityNotCalled(t, "Reserve", durabletest.Anything, "order-2"))
		require.False(t, env.AssertActivityNumberOfCalls(newRecorder(t), "Charge", 2))
		require.True(t, env.AssertActivityNumberOfCalls(t, "Charge", 1))
	})

	t.Run("AfterWaitsOnTheTestClock", func(t *testing.T) {
		t.Parallel()
		// The replay check would run the workflow function once more.
		env := durabletest.NewEnv(t, durabletest.WithReplayCheck(false))
		start := env.Now()
		env.OnActivity(Greet, durabletest.Anything, "Ada").After(3*time.Hour).Return("late hello", nil)
		var seen []string
		env.RegisterDelayedCallback(func() { seen = append(seen, "callback at 1h while the mock waits") }, time.Hour)

		env.ExecuteWorkflow(func(ctx context.Context) (string, error) {
			s, err := durable.Call[string](ctx, Greet, "Ada")
			seen = append(seen, "workflow resumed at "+durable.Now(ctx).Sub(start).String())
			return s, err
		})

		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "late hello", got)
		require.Equal(t, []string{"callback at 1h while the mock waits", "workflow resumed at 3h0m0s"}, seen)
	})

	t.Run("RunSeesTheArguments", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		var name string
		env.OnActivity(Greet, durabletest.Anything, durabletest.Anything).
			Run(func(args durabletest.Arguments) { name = args.String(1) }).
			Return("hi", nil)
		env.ExecuteWorkflow(GreetLater, "Cy")
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, "Cy", name)
	})

	t.Run("RunTakesTestifyArguments", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		var name string
		env.OnActivity(Greet, mock.Anything, mock.Anything).
			Run(func(args mock.Arguments) { name = args.String(1) }).
			Return("hi", nil)
		env.ExecuteWorkflow(GreetLater, "Di")
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, "Di", name)
	})

	t.Run("TrailingAnythingMatchesAMissingArgument", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		// Temporal's mocks (testify) match OnActivity(a, mock.Anything) for
		// an activity without parameters.
		env.OnActivity(NoContext, mock.Anything).Return("mocked", nil).Once()
		env.ExecuteWorkflow(func(ctx context.Context) (string, error) { return durable.Call[string](ctx, NoContext) })
		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "mocked", got)
		env.AssertExpectations(t)
	})

	t.Run("StartedListenerDecodesArguments", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.RegisterActivity(Greet)
		var got []string
		env.SetOnActivityStartedListener(func(info *durable.ActivityInfo, ctx context.Context, args durabletest.Values) {
			var name string
			require.NoError(t, args.Get(&name))
			var anyName any
			require.NoError(t, args.Get(&anyName))
			got = append(got, info.Activity+"("+name+")", anyName.(string))
		})
		env.ExecuteWorkflow(GreetLater, "Ed")
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, []string{"Greet(Ed)", "Ed"}, got)
	})

	t.Run("RegisterAfterOnActivityAndNilStructPointer", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.OnActivity(Greet, mock.Anything, "Gus").Return("mocked", nil)
		env.RegisterActivity(Greet) // as Temporal allows
		var o *Orders
		env.RegisterActivity(o) // methods of a nil pointer, as Temporal allows
		env.ExecuteWorkflow(GreetLater, "Gus")
		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "mocked (a day later)", got)
	})
}

func NoContext() (string, error) { return "real", nil }
