package durable_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// CleansUp waits for its context to end, then takes a while to clean up
// and reports it.
func CleansUp(ctx context.Context) (string, error) {
	<-ctx.Done()
	time.Sleep(100 * time.Millisecond)
	return "cleaned up", nil
}

// cancelAfterStart calls CleansUp with wait, cancels the call once the
// attempt has surely started (a timer later), and reports what the call
// returned: the attempt's result only if the call waited for it.
func cancelAfterStart(wait bool) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		actx, cancel := context.WithCancel(durable.WithCallOptions(ctx, durable.CallOptions{WaitForCancellation: wait}))
		defer cancel()
		f := durable.Async[string](actx, CleansUp)
		if err := durable.Sleep(ctx, 50*time.Millisecond); err != nil {
			return "", err
		}
		cancel()
		v, err := f.Get(actx)
		var ce *durable.CanceledError
		return fmt.Sprintf("value=%q canceled=%v", v, errors.As(err, &ce)), nil
	}
}

// TestWaitForCancellation: a cancelled call with WaitForCancellation
// returns what its attempt returned once it has cleaned up; without it,
// it returns a CanceledError at once. Both modes replay (Verify).
func TestWaitForCancellation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		wait bool
		want string
	}{
		{"Waits", true, `value="cleaned up" canceled=false`},
		{"ReturnsAtOnce", false, `value="" canceled=true`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := waitCtx(t)
			e := openEngine(t, "memory:")
			e.RegisterActivity(CleansUp)
			e.RegisterWorkflow(cancelAfterStart(tc.wait), durable.WithName(tc.name))
			run, err := e.Start(ctx, durable.StartOptions{ID: tc.name}, tc.name)
			require.NoError(t, err)
			var got string
			require.NoError(t, run.Get(ctx, &got))
			require.Equal(t, tc.want, got)
			verifyAll(t, e)
		})
	}
}
