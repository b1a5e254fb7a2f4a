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

func ChildGreeting(ctx context.Context, name string) (string, error) {
	return "Hello " + name + "!", nil
}

func ParentWorkflow(ctx context.Context) (string, error) {
	ctx = durable.WithChildOptions(ctx, durable.ChildOptions{ID: "child-1"})
	return durable.Child[string](ctx, ChildGreeting, "World")
}

func TestOnWorkflow(t *testing.T) {
	t.Parallel()

	t.Run("ChildRunsForRealWithoutMock", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.RegisterWorkflow(ChildGreeting)
		env.ExecuteWorkflow(ParentWorkflow)
		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "Hello World!", got)
	})

	t.Run("MockByNameReturnsAFunction", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.RegisterWorkflow(ChildGreeting)
		env.OnWorkflow("ChildGreeting", mock.Anything, mock.Anything).Return(
			func(ctx context.Context, name string) (string, error) { return "Hi " + name + "!", nil })
		env.ExecuteWorkflow(ParentWorkflow)
		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "Hi World!", got)
		env.AssertExpectations(t)
	})

	t.Run("MockByFunctionReturnsValuesAfterADelay", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		start := env.Now()
		env.OnWorkflow(ChildGreeting, mock.Anything, "World").After(time.Hour).Return("mocked", nil).Once()
		env.ExecuteWorkflow(ParentWorkflow)
		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "mocked", got)
		require.Equal(t, time.Hour, env.Now().Sub(start))
		env.AssertExpectations(t)
		env.AssertCalled(t, "ChildGreeting", mock.Anything, "World")
	})

	t.Run("TestifyMatchersAndWorkflowCallCounts", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.OnWorkflow(ChildGreeting, mock.Anything, mock.MatchedBy(func(name string) bool { return name == "World" })).
			Return("matched", nil).Once()
		env.ExecuteWorkflow(ParentWorkflow)
		var got string
		require.NoError(t, env.GetWorkflowResult(&got))
		require.Equal(t, "matched", got)
		require.True(t, env.AssertWorkflowNumberOfCalls(t, "ChildGreeting", 1))
		require.True(t, env.AssertWorkflowCalled(t, "ChildGreeting", mock.Anything, mock.MatchedBy(func(name string) bool { return len(name) == 5 })))
		require.True(t, env.AssertWorkflowCalled(t, "ChildGreeting", mock.Anything, mock.AnythingOfType("string")))
		require.False(t, env.AssertWorkflowCalled(newRecorder(t), "ChildGreeting", mock.Anything, mock.AnythingOfType("int")))
		rec := newRecorder(t)
		require.False(t, env.AssertWorkflowNumberOfCalls(rec, "ChildGreeting", 2))
		require.False(t, env.AssertWorkflowCalled(rec, "ChildGreeting", mock.Anything, mock.MatchedBy(func(name string) bool { return name == "Mars" })))
	})

	t.Run("UnmatchedCallFailsTheChild", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.OnWorkflow(ChildGreeting, mock.Anything, "Mars").Return("no", nil)
		env.ExecuteWorkflow(ParentWorkflow)
		require.Error(t, env.GetWorkflowError())
		require.Contains(t, rec.failures(), "unexpected call of workflow ChildGreeting")
	})
}
