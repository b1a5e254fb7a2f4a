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

// StartInTime calls "Echo" on queue "acts" with a ScheduleToStartTimeout
// and reports how the call ended.
func StartInTime(ctx context.Context, s2s time.Duration) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{
		Queue: "acts", ScheduleToStartTimeout: s2s, StartToCloseTimeout: time.Minute,
		RetryPolicy: &durable.RetryPolicy{MaximumAttempts: 5},
	})
	v, err := durable.Call[string](ctx, "Echo", "hi")
	var te *durable.TimeoutError
	if errors.As(err, &te) {
		return "timeout " + te.Kind, nil
	}
	if err != nil {
		return "", err
	}
	return "ok " + v, nil
}

func registerEcho(e *durable.Engine) {
	e.RegisterActivity(func(ctx context.Context, s string) (string, error) { return s, nil }, durable.WithName("Echo"))
}

// TestScheduleToStartTimeout: an attempt on a queue no worker serves fails
// with a ScheduleToStart timeout, once, without retries; the run's worker
// expires the task row, so a worker that comes later never runs it.
func TestScheduleToStartTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := durable.Open(ctx, "memory:", durable.WithPollInterval(20*time.Millisecond))
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(StartInTime)
	run, err := e.Start(ctx, durable.StartOptions{ID: "s2s"}, StartInTime, 200*time.Millisecond)
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "timeout ScheduleToStart", out)

	h, err := e.History(ctx, "s2s", "")
	require.NoError(t, err)
	failed := 0
	for _, ev := range h.Events {
		if ev.Kind == "ActivityFailed" {
			failed++
		}
	}
	require.Equal(t, 1, failed, "one failure, not retried: %+v", h.Events)

	// The task is gone: a worker of the queue has nothing to run.
	registerEcho(e)
	e.Serve("acts")
	run, err = e.Start(ctx, durable.StartOptions{ID: "s2s-served"}, StartInTime, 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "ok hi", out, "a worker of the queue starts it in time")
}

// TestScheduleToStartTwoWorkers runs the workflow on one engine and its
// activities' queue on another, on one PostgreSQL schema: the attempt
// starts in time while the activity worker lives, and times out once it
// has stopped.
func TestScheduleToStartTwoWorkers(t *testing.T) {
	t.Parallel()
	dsn, schema := pgSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wf := openPGEngine(t, dsn, schema)
	wf.RegisterWorkflow(StartInTime)
	acts := openPGEngine(t, dsn, schema, durable.WithQueues("acts"))
	registerEcho(acts)

	var out string
	run, err := wf.Start(ctx, durable.StartOptions{ID: "served"}, StartInTime, 10*time.Second)
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "ok hi", out)

	require.NoError(t, acts.Close())
	for i := range 2 {
		run, err = wf.Start(ctx, durable.StartOptions{ID: fmt.Sprint("unserved-", i)}, StartInTime, 300*time.Millisecond)
		require.NoError(t, err)
		require.NoError(t, run.Get(ctx, &out))
		require.Equal(t, "timeout ScheduleToStart", out)
	}
	conn := pgConn(t, dsn, schema)
	var tasks int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM tasks`).Scan(&tasks))
	require.Zero(t, tasks, "expired tasks are deleted")
}
