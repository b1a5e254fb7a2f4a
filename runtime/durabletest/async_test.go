package durabletest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// pendingDecision hands its task token to the test's callback and
// completes asynchronously, as the expense sample's activity does.
type pendingDecision struct{ register func(token []byte) }

func (p *pendingDecision) WaitForDecision(ctx context.Context, id string) (string, error) {
	p.register(durable.GetActivityInfo(ctx).TaskToken)
	return "", durable.ErrResultPending
}

func DecisionWorkflow(ctx context.Context, id string) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{StartToCloseTimeout: 10 * time.Minute})
	return durable.Call[string](ctx, "WaitForDecision", id)
}

func TestEnvCompleteActivity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		result  any
		err     error
		want    string
		wantErr string
	}{
		{"ApprovedAnHourLater", "APPROVED", nil, "APPROVED", ""},
		{"RejectedWithAnError", nil, durable.NewApplicationError("no budget", "Rejected"), "", "no budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := durabletest.NewEnv(t)
			acts := &pendingDecision{}
			acts.register = func(token []byte) {
				// An hour of test time: past the StartToClose timeout,
				// which Temporal's test environment does not apply to a
				// pending activity either.
				env.RegisterDelayedCallback(func() {
					require.NoError(t, env.CompleteActivity(token, tc.result, tc.err))
				}, time.Hour)
			}
			env.RegisterActivity(acts)
			env.ExecuteWorkflow(DecisionWorkflow, "e-1")
			require.True(t, env.IsWorkflowCompleted())
			if tc.wantErr != "" {
				require.ErrorContains(t, env.GetWorkflowError(), tc.wantErr)
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var got string
			require.NoError(t, env.GetWorkflowResult(&got))
			require.Equal(t, tc.want, got)
		})
	}
}

func DynamicGreeting(ctx context.Context, args durable.EncodedValues) (string, error) {
	var a string
	if err := args.Get(&a); err != nil {
		return "", err
	}
	return durable.Call[string](ctx, "shout", durable.GetInfo(ctx).Workflow, a)
}

func DynamicShout(ctx context.Context, args durable.EncodedValues) (string, error) {
	var w, a string
	if err := args.Get(&w, &a); err != nil {
		return "", err
	}
	return w + ": " + a + "!", nil
}

func TestEnvDynamic(t *testing.T) {
	t.Parallel()
	env := durabletest.NewEnv(t)
	env.RegisterDynamicWorkflow(DynamicGreeting)
	env.RegisterDynamicActivity(DynamicShout)
	env.ExecuteWorkflow("greet", "hi")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got string
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, "greet: hi!", got)
}

func TestActivityEnvResultPending(t *testing.T) {
	t.Parallel()
	env := durabletest.NewActivityEnv(t)
	var token []byte
	env.RegisterActivity(&pendingDecision{register: func(tk []byte) { token = tk }})
	v, err := env.ExecuteActivity("WaitForDecision", "e-1")
	require.ErrorIs(t, err, durable.ErrResultPending)
	require.Nil(t, v)
	require.NotEmpty(t, token)
}
