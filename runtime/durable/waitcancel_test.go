package durable_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// cleanups counts the CleansUp attempts that finished cleaning up.
var cleanups atomic.Int64

// CleansUp waits for its context to end, then takes a while to clean up.
func CleansUp(ctx context.Context) (string, error) {
	<-ctx.Done()
	time.Sleep(500 * time.Millisecond)
	cleanups.Add(1)
	return "cleaned up", nil
}

// cancelAfterStart calls CleansUp with wait, cancels the call once the
// attempt has surely started (a timer later), and reports what the call
// returned; *cleaned is how many cleanups had finished when it returned
// (an observation for the test, outside the journal).
func cancelAfterStart(wait bool, cleaned *atomic.Int64) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		actx, cancel := context.WithCancel(durable.WithCallOptions(ctx, durable.CallOptions{WaitForCancellation: wait}))
		defer cancel()
		f := durable.Async[string](actx, CleansUp)
		if err := durable.Sleep(ctx, 300*time.Millisecond); err != nil {
			return "", err
		}
		cancel()
		v, err := f.Get(actx)
		cleaned.Store(cleanups.Load())
		var ce *durable.CanceledError
		return fmt.Sprintf("value=%q canceled=%v", v, errors.As(err, &ce)), nil
	}
}

// TestWaitForCancellation: a cancelled call with WaitForCancellation
// returns its CanceledError once its attempt has cleaned up; without it,
// at once (Temporal's testsuite agrees: converters/temporal/testdata/
// cancel/wait_for_cancellation.txtar). The journals replay (Verify).
// Not parallel: the cleanups counter is shared.
func TestWaitForCancellation(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait bool
	}{
		{"Waits", true},
		{"ReturnsAtOnce", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := waitCtx(t)
			e := openEngine(t, "memory:")
			e.RegisterActivity(CleansUp)
			before := cleanups.Load()
			var cleaned atomic.Int64
			e.RegisterWorkflow(cancelAfterStart(tc.wait, &cleaned), durable.WithName(tc.name))
			run, err := e.Start(ctx, durable.StartOptions{ID: tc.name}, tc.name)
			require.NoError(t, err)
			var got string
			require.NoError(t, run.Get(ctx, &got))
			require.Equal(t, `value="" canceled=true`, got)
			if tc.wait {
				require.Equal(t, before+1, cleaned.Load(), "the call returned after the cleanup")
			} else {
				require.Equal(t, before, cleaned.Load(), "the call returned before the cleanup")
			}
			verifyAll(t, e)
		})
	}
}
