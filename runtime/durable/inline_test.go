package durable_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// An engine runs the attempts of its own runs without a task row. These
// tests check what stands in for the row: the run's lease while the
// attempt runs, and a new dispatch by the worker that takes the run over.

const inlineStep = "InlineStep"

func InlineWorkflow(ctx context.Context, policy *durable.RetryPolicy) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{RetryPolicy: policy})
	return durable.Call[string](ctx, inlineStep)
}

// inlineStepOf is the activity as worker name runs it: it reports each
// attempt on attempts and, when block is not nil, waits for it first.
func inlineStepOf(name string, attempts chan<- string, block <-chan struct{}) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		a := fmt.Sprintf("%s#%d", name, durable.GetActivityInfo(ctx).Attempt)
		attempts <- a
		if block != nil {
			select {
			case <-block:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return a, nil
	}
}

func TestInlineAttempts(t *testing.T) {
	t.Parallel()
	dsn, schema := pgSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := pgConn(t, dsn, schema)
	countTasks := func() int {
		t.Helper()
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM tasks`).Scan(&n))
		return n
	}

	// doomedWorker opens a worker engine on a store of its own whose attempts
	// report on attempts and block until the test ends (after recording
	// details as heartbeat details, unless nil); closing the store cuts the
	// worker off, as a partition or a kill does.
	doomedWorker := func(t *testing.T, id string, attempts chan<- string, details any) (*durable.Engine, *postgres.Store) {
		t.Helper()
		st, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMaxConns(4))
		require.NoError(t, err)
		e, err := durable.New(ctx, st, durable.WithLeaseTimeout(pgLease), durable.WithPollInterval(50*time.Millisecond),
			durable.WithWorkerID(id), durable.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		block := make(chan struct{})
		t.Cleanup(func() {
			close(block)
			e.Close()
		})
		e.RegisterWorkflow(InlineWorkflow)
		step := inlineStepOf("a", attempts, block)
		e.RegisterActivity(func(ctx context.Context) (string, error) {
			if details != nil {
				durable.RecordHeartbeat(ctx, details)
			}
			return step(ctx)
		}, durable.WithName(inlineStep))
		return e, st
	}

	t.Run("TakenOverAndCountedAsTimedOut", func(t *testing.T) {
		// Worker a works the run and loses its store in the middle of the
		// attempt.
		attempts := make(chan string, 4)
		a, stA := doomedWorker(t, "a", attempts, nil)
		run, err := a.Start(ctx, durable.StartOptions{ID: "inline-takeover"}, InlineWorkflow,
			&durable.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumAttempts: 3})
		require.NoError(t, err)
		require.Equal(t, "a#1", <-attempts)
		require.Zero(t, countTasks(), "an attempt of the worker's own run has no task row")
		var due bool
		require.NoError(t, conn.QueryRow(ctx, `SELECT wake_at <= lease_until FROM runs WHERE run_id = $1`, run.RunID()).Scan(&due))
		require.True(t, due, "while the attempt runs, the run is due by the time its lease expires")
		stA.Close()

		// Worker b takes the run over once a's lease expired: the attempt
		// died with a (a StartToClose timeout), so b runs attempt 2.
		b := openPGEngine(t, dsn, schema, durable.WithWorkerID("b"))
		b.RegisterWorkflow(InlineWorkflow)
		b.RegisterActivity(inlineStepOf("b", attempts, nil), durable.WithName(inlineStep))
		var got string
		require.NoError(t, b.Run("inline-takeover").Get(ctx, &got))
		require.Equal(t, "b#2", got)
		require.Equal(t, "b#2", <-attempts)
		require.NoError(t, b.Verify(ctx, run.RunID()))
		require.Zero(t, countTasks(), "the retry's task is gone with the run's end")
	})

	t.Run("NotRetriedBeyondMaximumAttempts", func(t *testing.T) {
		// As with a task row: one attempt allowed, and it died with its
		// worker, so the call fails with a timeout instead of running twice.
		attempts := make(chan string, 4)
		a, stA := doomedWorker(t, "a1", attempts, nil)
		_, err := a.Start(ctx, durable.StartOptions{ID: "inline-once"}, InlineWorkflow, &durable.RetryPolicy{MaximumAttempts: 1})
		require.NoError(t, err)
		require.Equal(t, "a#1", <-attempts)
		stA.Close()

		b := openPGEngine(t, dsn, schema, durable.WithWorkerID("b1"))
		b.RegisterWorkflow(InlineWorkflow)
		b.RegisterActivity(inlineStepOf("b", attempts, nil), durable.WithName(inlineStep))
		err = b.Run("inline-once").Get(ctx, nil)
		var te *durable.TimeoutError
		require.ErrorAs(t, err, &te)
		require.Equal(t, "StartToClose", te.Kind)
		require.Empty(t, attempts, "no attempt ran on b")
	})

	t.Run("HeartbeatDetailsGetATaskRowAndOutliveTheWorker", func(t *testing.T) {
		// An inline attempt that records heartbeat details gets a row for
		// them, so the next attempt starts from them after its worker died.
		attempts := make(chan string, 4)
		a, stA := doomedWorker(t, "a2", attempts, 41)
		_, err := a.Start(ctx, durable.StartOptions{ID: "inline-heartbeat"}, InlineWorkflow,
			&durable.RetryPolicy{InitialInterval: 10 * time.Millisecond})
		require.NoError(t, err)
		require.Equal(t, "a#1", <-attempts, "the attempt heartbeated before reporting")
		require.Equal(t, 1, countTasks(), "the heartbeat's commit wrote the attempt's row")
		stA.Close()

		b := openPGEngine(t, dsn, schema, durable.WithWorkerID("b2"))
		b.RegisterWorkflow(InlineWorkflow)
		b.RegisterActivity(func(ctx context.Context) (string, error) {
			var progress int
			if err := durable.HeartbeatDetails(ctx, &progress); err != nil {
				return "", err
			}
			return fmt.Sprintf("b#%d from %d", durable.GetActivityInfo(ctx).Attempt, progress), nil
		}, durable.WithName(inlineStep))
		var got string
		require.NoError(t, b.Run("inline-heartbeat").Get(ctx, &got))
		require.Equal(t, "b#2 from 41", got)
		require.Zero(t, countTasks())
	})

	t.Run("RetryGetsATaskRow", func(t *testing.T) {
		w := openPGEngine(t, dsn, schema, durable.WithWorkerID("w"))
		w.RegisterWorkflow(InlineWorkflow)
		attempts := make(chan string, 4)
		failed := false
		w.RegisterActivity(func(ctx context.Context) (string, error) {
			a := fmt.Sprintf("w#%d", durable.GetActivityInfo(ctx).Attempt)
			attempts <- a
			if !failed {
				failed = true
				return "", durable.NewApplicationError("try again", "Flaky")
			}
			return a, nil
		}, durable.WithName(inlineStep))
		run, err := w.Start(ctx, durable.StartOptions{ID: "inline-retry"}, InlineWorkflow,
			&durable.RetryPolicy{InitialInterval: 300 * time.Millisecond})
		require.NoError(t, err)
		require.Equal(t, "w#1", <-attempts)
		require.Eventually(t, func() bool { return countTasks() == 1 }, 5*time.Second, 10*time.Millisecond,
			"the retry waits for its backoff in a task row")
		var got string
		require.NoError(t, run.Get(ctx, &got))
		require.Equal(t, "w#2", got)
		require.Zero(t, countTasks())
	})
}
