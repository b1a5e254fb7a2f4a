package durable_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

func waitForGo(ctx context.Context) (string, error) { return durable.Receive[string](ctx, "go") }

func TestDescribeQueue(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "durable.db")
	e := openEngine(t, dsn, durable.WithWorkerID("w-self"), durable.WithQueues("orders", "idle"))
	e.RegisterWorkflow(waitForGo)

	// A run of a queue this engine serves: it holds it, nothing waits.
	held, err := e.Start(ctx, durable.StartOptions{ID: "held", Queue: "orders"}, waitForGo)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := e.DescribeQueue(ctx, "orders")
		require.NoError(t, err)
		return len(info.Workers) == 1 && info.Workers[0].Workflows == 1
	}, 10*time.Second, 20*time.Millisecond)
	info, err := e.DescribeQueue(ctx, "orders")
	require.NoError(t, err)
	require.Zero(t, info.Workflows.Count)
	require.Equal(t, "w-self", info.Workers[0].ID)
	require.True(t, info.Workers[0].Self)
	require.True(t, info.Workers[0].LeaseUntil.After(time.Now()))

	// Runs of a queue nobody serves wait for a worker, oldest first.
	before := time.Now()
	for _, id := range []string{"a", "b"} {
		_, err := e.Start(ctx, durable.StartOptions{ID: id, Queue: "billing"}, waitForGo)
		require.NoError(t, err)
	}
	info, err = e.DescribeQueue(ctx, "billing")
	require.NoError(t, err)
	require.Equal(t, int64(2), info.Workflows.Count)
	require.False(t, info.Workflows.Oldest.Before(before.Add(-time.Second)))
	require.Greater(t, info.Workflows.Age(time.Now().Add(time.Minute)), 59*time.Second)
	require.Empty(t, info.Workers, "nobody holds the queue's work")

	// A queue this engine serves and holds nothing of lists the engine.
	info, err = e.DescribeQueue(ctx, "idle")
	require.NoError(t, err)
	require.Equal(t, []durable.QueueWorker{{ID: "w-self", Self: true}}, info.Workers)
	require.Zero(t, info.Workflows.Age(time.Now()))

	require.NoError(t, e.Signal(ctx, held.ID(), "go", "now"))
}

// TestDescribeQueueTwoWorkers: on PostgreSQL, a worker that serves a queue
// takes the runs that waited on it, and the other worker sees it holding
// them.
func TestDescribeQueueTwoWorkers(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn, schema := pgSchema(t)
	starter := openPGEngine(t, dsn, schema, durable.WithWorkerID("w-starter"), durable.WithQueues("orders"))
	starter.RegisterWorkflow(waitForGo)
	for _, id := range []string{"a", "b"} {
		_, err := starter.Start(ctx, durable.StartOptions{ID: id, Queue: "billing"}, waitForGo)
		require.NoError(t, err)
	}
	info, err := starter.DescribeQueue(ctx, "billing")
	require.NoError(t, err)
	require.Equal(t, int64(2), info.Workflows.Count)
	require.Empty(t, info.Workers)

	billing := openPGEngine(t, dsn, schema, durable.WithWorkerID("w-billing"), durable.WithQueues("billing"))
	billing.RegisterWorkflow(waitForGo)
	require.Eventually(t, func() bool {
		info, err := starter.DescribeQueue(ctx, "billing")
		require.NoError(t, err)
		return info.Workflows.Count == 0 && len(info.Workers) == 1 &&
			info.Workers[0].ID == "w-billing" && info.Workers[0].Workflows == 2 && !info.Workers[0].Self
	}, 10*time.Second, 20*time.Millisecond)

	// A signal waits in the inbox of a run whose worker is gone: backlog
	// again once the lease ends.
	require.NoError(t, billing.Close())
	require.NoError(t, starter.Signal(ctx, "a", "go", "now"))
	require.Eventually(t, func() bool {
		info, err := starter.DescribeQueue(ctx, "billing")
		require.NoError(t, err)
		return info.Workflows.Count >= 1 && len(info.Workers) == 0
	}, 10*time.Second, 20*time.Millisecond)
}
