package durable_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// Counter adds the "add" updates it gets (rejecting negative ones), answers
// "total" queries and ends with its total on a "done" signal.
func Counter(ctx context.Context, base int) (int, error) {
	total := base
	if err := durable.SetQueryHandler(ctx, "total", func() (int, error) { return total, nil }); err != nil {
		return 0, err
	}
	err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, n int) (int, error) {
		total += n
		return total, nil
	}, durable.UpdateOptions{Validator: func(ctx context.Context, n int) error {
		if n < 0 {
			return errors.New("negative")
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	if _, err := durable.Receive[string](ctx, "done"); err != nil {
		return 0, err
	}
	return total, nil
}

func TestClientShapedCalls(t *testing.T) {
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Counter)

	run, err := e.ExecuteWorkflow(ctx, durable.StartOptions{ID: "counter"}, Counter, 1)
	require.NoError(t, err)

	h, err := e.UpdateWorkflow(ctx, durable.UpdateWorkflowOptions{WorkflowID: "counter", RunID: run.RunID(), UpdateName: "add", Args: []any{2}, WaitForStage: durable.UpdateStageAccepted})
	require.NoError(t, err)
	var got int
	require.NoError(t, h.Get(ctx, &got))
	require.Equal(t, 3, got)
	require.Equal(t, "counter", h.WorkflowID())

	h, err = e.UpdateWorkflow(ctx, durable.UpdateWorkflowOptions{WorkflowID: "counter", UpdateName: "add", Args: []any{-1}, WaitForStage: durable.UpdateStageCompleted})
	require.NoError(t, err)
	require.ErrorIs(t, h.Get(ctx, &got), durable.ErrUpdateRejected)

	v, err := e.QueryWorkflow(ctx, "counter", run.RunID(), "total")
	require.NoError(t, err)
	require.NoError(t, v.Get(&got))
	require.Equal(t, 3, got)

	require.NoError(t, e.SignalWorkflow(ctx, "counter", run.RunID(), "done", "x"))
	require.NoError(t, e.GetWorkflow(ctx, "counter", run.RunID()).Get(ctx, &got))
	require.Equal(t, 3, got)

	// The run closed: a signal, cancellation or termination addressed to
	// it is ErrNotFound, also when a new run has the same workflow ID.
	require.ErrorIs(t, e.SignalWorkflow(ctx, "counter", run.RunID(), "done", "x"), durable.ErrNotFound)
	run2, err := e.Start(ctx, durable.StartOptions{ID: "counter"}, Counter, 10)
	require.NoError(t, err)
	require.ErrorIs(t, e.CancelWorkflow(ctx, "counter", run.RunID()), durable.ErrNotFound)
	require.ErrorIs(t, e.SignalWorkflow(ctx, "other", run2.RunID(), "done", "x"), durable.ErrNotFound)
	require.NoError(t, e.TerminateWorkflow(ctx, "counter", run2.RunID(), "enough"))
	var te *durable.TerminatedError
	require.ErrorAs(t, run2.Get(ctx, &got), &te)

	// SignalWithStartWorkflow takes the workflow ID as an argument.
	run3, err := e.SignalWithStartWorkflow(ctx, "counter-3", "done", "x", durable.StartOptions{}, Counter, 5)
	require.NoError(t, err)
	require.Equal(t, "counter-3", run3.ID())
	require.NoError(t, run3.Get(ctx, &got))
	require.Equal(t, 5, got)
}

func TestUpdateWithStart(t *testing.T) {
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Counter)
	for i, want := range []int{3, 5} {
		op := e.NewWithStartWorkflowOperation(durable.StartOptions{ID: "cart", WorkflowIDConflictPolicy: durable.IDConflictUseExisting}, Counter, 1)
		h, err := e.UpdateWithStartWorkflow(ctx, durable.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: op,
			UpdateOptions:          durable.UpdateWorkflowOptions{UpdateName: "add", Args: []any{2}, WaitForStage: durable.UpdateStageCompleted},
		})
		require.NoError(t, err, "round %d", i)
		var got int
		require.NoError(t, h.Get(ctx, &got))
		require.Equal(t, want, got)
		run, err := op.Get(ctx)
		require.NoError(t, err)
		require.Equal(t, "cart", run.ID())
	}
}

func TestStartIDPolicies(t *testing.T) {
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Counter)
	first, err := e.Start(ctx, durable.StartOptions{ID: "p"}, Counter, 1)
	require.NoError(t, err)

	_, err = e.Start(ctx, durable.StartOptions{ID: "p"}, Counter, 2)
	require.ErrorIs(t, err, durable.ErrAlreadyStarted)
	same, err := e.Start(ctx, durable.StartOptions{ID: "p", WorkflowIDConflictPolicy: durable.IDConflictUseExisting}, Counter, 2)
	require.NoError(t, err)
	require.Equal(t, first.RunID(), same.RunID())

	second, err := e.Start(ctx, durable.StartOptions{ID: "p", WorkflowIDConflictPolicy: durable.IDConflictTerminateExisting}, Counter, 2)
	require.NoError(t, err)
	require.NotEqual(t, first.RunID(), second.RunID())
	var te *durable.TerminatedError
	require.ErrorAs(t, e.GetWorkflow(ctx, "p", first.RunID()).Get(ctx, nil), &te)

	require.NoError(t, e.Signal(ctx, "p", "done", "x"))
	require.NoError(t, second.Get(ctx, nil))
	// Completed: reuse only after a failure, or never.
	_, err = e.Start(ctx, durable.StartOptions{ID: "p", WorkflowIDReusePolicy: durable.IDReuseAllowDuplicateFailedOnly}, Counter, 3)
	require.ErrorIs(t, err, durable.ErrAlreadyStarted)
	_, err = e.Start(ctx, durable.StartOptions{ID: "p", WorkflowIDReusePolicy: durable.IDReuseRejectDuplicate}, Counter, 3)
	require.ErrorIs(t, err, durable.ErrAlreadyStarted)
	third, err := e.Start(ctx, durable.StartOptions{ID: "p"}, Counter, 3)
	require.NoError(t, err)
	require.NoError(t, e.Terminate(ctx, "p", "stop"))
	require.Error(t, third.Get(ctx, nil))
	_, err = e.Start(ctx, durable.StartOptions{ID: "p", WorkflowIDReusePolicy: durable.IDReuseAllowDuplicateFailedOnly}, Counter, 4)
	require.NoError(t, err)
}

// StartedAt returns the time its code started at.
func StartedAt(ctx context.Context) (time.Time, error) { return durable.Now(ctx), nil }

func TestStartDelay(t *testing.T) {
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(StartedAt)
	before := time.Now()
	run, err := e.Start(ctx, durable.StartOptions{StartDelay: 300 * time.Millisecond}, StartedAt)
	require.NoError(t, err)
	info, err := e.Describe(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, "running", info.Status)
	var at time.Time
	require.NoError(t, run.Get(ctx, &at))
	require.GreaterOrEqual(t, time.Since(before), 300*time.Millisecond)
	require.False(t, at.Before(before.Add(300*time.Millisecond).Truncate(time.Millisecond)), "started at %v", at)
}

func TestServeQueuesAndUnclaimed(t *testing.T) {
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Greeting)
	e.RegisterActivity(Greet)
	// A queue nobody serves: the run waits, and Describe says so.
	run, err := e.Start(ctx, durable.StartOptions{Queue: "elsewhere"}, Greeting, "x")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := e.Describe(ctx, run.ID())
		return err == nil && info.Unclaimed
	}, 5*time.Second, 20*time.Millisecond)
	// Serving the queue (a converted worker.New(c, "elsewhere", ...)) works it.
	require.Same(t, e, e.Serve("elsewhere"))
	require.Equal(t, []string{durable.QueueDefault, "elsewhere"}, e.Queues())
	var got string
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, "hello x", got)
	info, err := e.Describe(ctx, run.ID())
	require.NoError(t, err)
	require.False(t, info.Unclaimed)

	// Two converted workers register the same functions on one engine.
	e.RegisterWorkflow(Greeting)
	e.RegisterActivity(Greet)
	e.RegisterActivity(Greet)
	require.Panics(t, func() { e.RegisterWorkflow(StartedAt, durable.WithName("Greeting")) })
}

// Greeting calls Greet.
func Greeting(ctx context.Context, name string) (string, error) {
	return durable.Call[string](ctx, Greet, name)
}

func TestDSN(t *testing.T) {
	t.Setenv(durable.DSNEnv, "")
	require.Equal(t, "sqlite:durable.db", durable.DSN())
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	t.Setenv(durable.DSNEnv, dsn)
	require.Equal(t, dsn, durable.DSN())
}
