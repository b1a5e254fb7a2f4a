package durable_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// FailsUntil fails its first attempts, with a permanent error when asked.
func FailsUntil(ctx context.Context, okAt int, permanent bool) (string, error) {
	a := durable.GetInfo(ctx).Attempt
	if _, err := durable.Call[string](ctx, Echo, fmt.Sprint(a)); err != nil {
		return "", err
	}
	if permanent {
		return "", durable.NewApplicationError("no", "Permanent", nil)
	}
	if okAt == 0 || a < okAt {
		return "", fmt.Errorf("attempt %d fails", a)
	}
	return fmt.Sprintf("attempt %d ok", a), nil
}

// TestWorkflowRetryPolicy covers StartOptions.RetryPolicy: each attempt is
// a run of the workflow ID, the failed ones stay failed and name the next,
// and Get follows them to the last.
func TestWorkflowRetryPolicy(t *testing.T) {
	t.Parallel()
	policy := &durable.RetryPolicy{InitialInterval: 30 * time.Millisecond, MaximumAttempts: 4,
		NonRetryableErrorTypes: []string{"Permanent"}}
	cases := []struct {
		name      string
		okAt      int
		permanent bool
		want      string // "" expects an error
		err       string
		runs      int
	}{
		{name: "SucceedsOnTheThirdAttempt", okAt: 3, want: "attempt 3 ok", runs: 3},
		{name: "GivesUpAfterMaximumAttempts", okAt: 0, err: "attempt 4 fails", runs: 4},
		{name: "NonRetryableFailsAtOnce", permanent: true, err: "no", runs: 1},
	}
	for _, mode := range []struct {
		name string
		opts []durable.Option
	}{
		{"Parked", []durable.Option{durable.WithPollInterval(20 * time.Millisecond)}},
		{"EvictedAtEveryWait", []durable.Option{durable.WithPollInterval(20 * time.Millisecond),
			durable.WithMaxCachedRuns(1), durable.WithEvictAfter(time.Nanosecond)}},
	} {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := waitCtx(t)
				e := openEngine(t, "memory:", mode.opts...)
				e.RegisterActivity(Echo)
				e.RegisterWorkflow(FailsUntil)
				run, err := e.Start(ctx, durable.StartOptions{ID: tc.name, RetryPolicy: policy}, FailsUntil, tc.okAt, tc.permanent)
				require.NoError(t, err)
				var got string
				err = run.Get(ctx, &got)
				if tc.want != "" {
					require.NoError(t, err)
					require.Equal(t, tc.want, got)
				} else {
					require.ErrorContains(t, err, tc.err)
				}
				// Get by workflow ID ends at the same place.
				err2 := e.Run(tc.name).Get(ctx, &got)
				require.Equal(t, err == nil, err2 == nil, "%v vs %v", err, err2)

				runs, err := e.Store().ListRuns(ctx, &store.ListRunsParams{WorkflowID: tc.name})
				require.NoError(t, err)
				require.Len(t, runs, tc.runs)
				for i, r := range runs[:len(runs)-1] {
					require.Equal(t, store.StatusFailed, r.Status, "attempt %d", i+1)
					require.Equal(t, runs[i+1].RunID, r.NextRunID, "attempt %d names the next", i+1)
					require.Equal(t, r.RunID, runs[i+1].PrevRunID)
					// The next attempt starts after the policy's backoff,
					// counted from the run's time when it failed (the
					// event it was reacting to).
					failed, err := e.Store().LoadJournal(ctx, r.RunID, 0)
					require.NoError(t, err)
					next, err := e.Store().LoadJournal(ctx, runs[i+1].RunID, 0)
					require.NoError(t, err)
					require.GreaterOrEqual(t, next[0].At.Sub(failed[len(failed)-2].At), policy.InitialInterval)
				}
				last := runs[len(runs)-1]
				require.Empty(t, last.NextRunID)
				verifyAll(t, e)
			})
		}
	}
}

func TestWorkflowRetryPolicyBadInput(t *testing.T) {
	t.Parallel()
	e := openEngine(t, "memory:")
	e.RegisterActivity(Echo)
	e.RegisterWorkflow(FailsUntil)
	_, err := e.Start(context.Background(), durable.StartOptions{RetryPolicy: &durable.RetryPolicy{BackoffCoefficient: nan()}}, FailsUntil, 1, false)
	require.ErrorContains(t, err, "RetryPolicy")
	require.False(t, errors.Is(err, durable.ErrAlreadyStarted))
}

func nan() float64 { return math.NaN() }
