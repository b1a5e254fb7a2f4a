package durabletest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// Notifier signals workflow "other" and reports the signal's error.
func Notifier(ctx context.Context) (string, error) {
	if err := durable.SignalExternal(ctx, "other", "ping", 7); err != nil {
		return "failed: " + err.Error(), nil
	}
	return "sent", nil
}

func TestOnSignalExternalWorkflow(t *testing.T) {
	t.Parallel()

	t.Run("MockAnswers", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		var seen []any
		env.OnSignalExternalWorkflow(durabletest.NamespaceDefault, "other", "some-run", "ping", 7).
			Run(func(args mock.Arguments) { seen = append(seen, args.Get(1), args.Get(4)) }).
			Return(nil).Once()
		env.ExecuteWorkflow(Notifier)
		var out string
		require.NoError(t, env.GetWorkflowResult(&out))
		require.Equal(t, "sent", out)
		require.Equal(t, []any{"other", 7}, seen)
		env.AssertExpectations(t)
	})

	t.Run("MockError", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
			Return(errors.New("gone"))
		env.ExecuteWorkflow(Notifier)
		var out string
		require.NoError(t, env.GetWorkflowResult(&out))
		require.Equal(t, "failed: gone", out)
	})

	t.Run("NoMockNoTarget", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewEnv(t)
		env.ExecuteWorkflow(Notifier)
		var out string
		require.NoError(t, env.GetWorkflowResult(&out))
		require.Contains(t, out, "no open run")
	})

	t.Run("UnmatchedFailsTheTest", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		env := durabletest.NewEnv(rec)
		env.OnSignalExternalWorkflow(mock.Anything, "someone-else", mock.Anything, mock.Anything, mock.Anything).Return(nil)
		env.ExecuteWorkflow(Notifier)
		var out string
		require.NoError(t, env.GetWorkflowResult(&out))
		require.Contains(t, out, "failed: unexpected call of external signal")
		require.Contains(t, rec.failures(), "no mock matches")
	})
}
