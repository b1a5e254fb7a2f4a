package durable_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// Loop sleeps for step and continues as new, n more times; then returns
// its chain position.
func Loop(ctx context.Context, step time.Duration, n int) (string, error) {
	if err := durable.Sleep(ctx, step); err != nil {
		return "", err
	}
	if n == 0 {
		return fmt.Sprintf("chain=%d", durable.GetInfo(ctx).ChainPosition), nil
	}
	return "", durable.ContinueAsNew(ctx, Loop, step, n-1)
}

// TestExecutionTimeout covers StartOptions.ExecutionTimeout (the whole
// continue-as-new chain) and RunTimeout (each run), with runs parked in
// memory and with runs evicted at every wait (the deadline then wakes the
// run from the store).
func TestExecutionTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    durable.StartOptions
		wf      any
		args    []any
		want    string // "" expects the timeout
		minLink int    // the run that timed out is at least this far down the chain
	}{
		{name: "SleepingRunTimesOut", opts: durable.StartOptions{ExecutionTimeout: 300 * time.Millisecond},
			wf: Loop, args: []any{time.Hour, 0}},
		{name: "RunWaitingForASignalTimesOut", opts: durable.StartOptions{RunTimeout: 300 * time.Millisecond},
			wf: func(ctx context.Context) (string, error) { return durable.Receive[string](ctx, "never") }},
		{name: "RunInTimeIsUnaffected", opts: durable.StartOptions{ExecutionTimeout: 20 * time.Second},
			wf: Loop, args: []any{50 * time.Millisecond, 0}, want: "chain=0"},
		{name: "ExecutionTimeoutSpansTheChain", opts: durable.StartOptions{ExecutionTimeout: time.Second},
			wf: Loop, args: []any{100 * time.Millisecond, 1000}, minLink: 2},
		{name: "RunTimeoutIsPerRun", opts: durable.StartOptions{RunTimeout: 5 * time.Second},
			wf: Loop, args: []any{100 * time.Millisecond, 3}, want: "chain=3"},
	}
	for _, mode := range []struct {
		name string
		opts []durable.Option
	}{
		{"Parked", nil},
		{"EvictedAtEveryWait", []durable.Option{durable.WithMaxCachedRuns(1), durable.WithEvictAfter(time.Nanosecond)}},
	} {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := waitCtx(t)
				e := openEngine(t, "memory:", mode.opts...)
				e.RegisterWorkflow(Loop)
				e.RegisterWorkflow(tc.wf, durable.WithName(tc.name))
				tc.opts.ID = tc.name
				run, err := e.Start(ctx, tc.opts, tc.name, tc.args...)
				require.NoError(t, err)

				var got string
				err = run.Get(ctx, &got)
				if tc.want != "" {
					require.NoError(t, err)
					require.Equal(t, tc.want, got)
					verifyAll(t, e)
					return
				}
				var te *durable.TimeoutError
				require.ErrorAs(t, err, &te, "Get: %v", err)
				require.Equal(t, "Execution", te.Kind)
				last, err := e.Store().CurrentRun(ctx, tc.name)
				require.NoError(t, err)
				require.Equal(t, store.StatusFailed, last.Status)
				if tc.minLink > 0 {
					require.NotEmpty(t, last.PrevRunID, "the timeout ended a later run of the chain")
					links := 0
					for r := last; r.PrevRunID != ""; links++ {
						r, err = e.Store().GetRun(ctx, r.PrevRunID)
						require.NoError(t, err)
						require.Equal(t, store.StatusContinued, r.Status)
					}
					require.GreaterOrEqual(t, links, tc.minLink)
				}
				verifyAll(t, e)
			})
		}
	}
}
