package durable_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// TestTerminateReturnsOnceClosed: as Temporal's TerminateWorkflow, a
// termination returns once the run is terminated, so that a start of the
// same workflow ID right after, even one that would join an open run,
// starts a new one (the recovery pattern: terminate, then start again).
func TestTerminateReturnsOnceClosed(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "durable.db")
	e := openEngine(t, dsn)
	e.RegisterWorkflow(waitForGo)

	for _, terminate := range []func(id, runID string) error{
		func(id, _ string) error { return e.Terminate(ctx, id, "again") },
		func(id, runID string) error { return e.TerminateWorkflow(ctx, id, runID, "again") },
	} {
		first, err := e.ExecuteWorkflow(ctx, durable.StartOptions{ID: "trip"}, waitForGo)
		require.NoError(t, err)
		require.NoError(t, terminate("trip", first.RunID()))

		info, err := e.DescribeRun(ctx, "trip", first.RunID())
		require.NoError(t, err)
		require.Equal(t, "terminated", info.Status)

		second, err := e.ExecuteWorkflow(ctx, durable.StartOptions{ID: "trip", WorkflowIDConflictPolicy: durable.IDConflictUseExisting}, waitForGo)
		require.NoError(t, err)
		require.NotEqual(t, first.RunID(), second.RunID(), "a new run, not the terminated one")
		require.NoError(t, e.Signal(ctx, "trip", "go", "now"))
		require.NoError(t, second.Get(ctx, nil))
		var te *durable.TerminatedError
		require.True(t, errors.As(first.Get(ctx, nil), &te))
	}
}

// TestTerminateWithNoWorkerReturns: a client that terminates a run no
// worker holds returns once the termination is recorded; the run closes
// when a worker takes it.
func TestTerminateWithNoWorkerReturns(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:", durable.WithQueues("elsewhere"))
	e.RegisterWorkflow(waitForGo)
	run, err := e.Start(ctx, durable.StartOptions{ID: "orphan", Queue: "nobody"}, waitForGo)
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, e.Terminate(ctx, "orphan", "bye"))
	require.Less(t, time.Since(start), 5*time.Second)
	info, err := e.Describe(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, "running", info.Status, "no worker of queue nobody has taken it yet")
}
