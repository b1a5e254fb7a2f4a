package compat_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/durablego/toolkit/runtime/durable"
)

// Pending hands its task token to the test and completes asynchronously.
type Pending struct{ tokens chan []byte }

func (p *Pending) Decide(ctx context.Context) (string, error) {
	p.tokens <- durable.GetActivityInfo(ctx).TaskToken
	return "", durable.ErrResultPending
}

// Decision waits for Decide.
func Decision(ctx context.Context) (string, error) {
	return durable.Call[string](ctx, "Decide")
}

func TestClientCompletesActivitiesWhereTheyRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Decision", 100))
	p := &Pending{tokens: make(chan []byte, 1)}
	b.engine.RegisterWorkflow(Decision)
	b.engine.RegisterActivity(p)

	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "decide"}, Decision)
	require.NoError(t, err)
	token := <-p.tokens
	require.True(t, durable.IsTaskToken(token))
	require.NoError(t, b.client.CompleteActivity(ctx, token, "APPROVED", nil))
	var got string
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, "APPROVED", got)

	// A Temporal token, and an execution that started on Temporal, go to
	// Temporal.
	temporalToken := []byte("CiQ0YjE3")
	b.temporal.On("CompleteActivity", mock.Anything, temporalToken, "OK", nil).Return(nil).Once()
	require.NoError(t, b.client.CompleteActivity(ctx, temporalToken, "OK", nil))
	b.temporal.On("CompleteActivityByID", mock.Anything, "default", "elsewhere", "", "5", "OK", nil).Return(nil).Once()
	require.NoError(t, b.client.CompleteActivityByID(ctx, "default", "elsewhere", "", "5", "OK", nil))
}
