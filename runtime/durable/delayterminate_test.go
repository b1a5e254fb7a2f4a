package durable_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// A run terminated while its start is delayed (StartDelay, or a cron
// run waiting for its time) never runs its code, as in Temporal, where a
// terminated execution gets no workflow task.
func TestTerminateDuringStartDelayRunsNoCode(t *testing.T) {
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	var steps atomic.Int32
	e.RegisterActivity(func(ctx context.Context) error { steps.Add(1); return nil }, durable.WithName("Step"))
	e.RegisterWorkflow(func(ctx context.Context) error { return durable.Exec(ctx, "Step") }, durable.WithName("Delayed"))
	run, err := e.Start(ctx, durable.StartOptions{ID: "late", StartDelay: time.Hour}, "Delayed")
	require.NoError(t, err)
	require.NoError(t, e.Terminate(ctx, "late", "not needed"))
	var te *durable.TerminatedError
	require.ErrorAs(t, run.Get(ctx, nil), &te)
	time.Sleep(50 * time.Millisecond) // an attempt dispatched by mistake would have run by now
	require.Zero(t, steps.Load(), "the terminated run's first step ran")
	info, err := e.Describe(ctx, "late")
	require.NoError(t, err)
	require.Equal(t, "terminated", info.Status)
	require.NoError(t, e.Verify(ctx, run.RunID()), "the journal of a run terminated before its first step verifies")
}
