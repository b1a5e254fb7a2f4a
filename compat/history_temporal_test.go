package compat_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// Ship is a durable workflow: an activity, a local activity, a side
// effect, a version, a memo upsert, a timer, a child (with its own ID:
// Temporal's replayer compares child IDs, and a generated one differs
// between the two runtimes) and a signal.
func Ship(ctx context.Context, o Order) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{StartToCloseTimeout: time.Minute})
	n, err := durable.Call[int](ctx, Reserve, o)
	if err != nil {
		return "", err
	}
	ctx = durable.WithLocalCallOptions(ctx, durable.LocalCallOptions{StartToCloseTimeout: time.Minute})
	stamp, err := durable.CallLocal[string](ctx, Stamp, o.ID)
	if err != nil {
		return "", err
	}
	seed := durable.SideEffect(ctx, func() int { return 7 })
	seed += durable.Version(ctx, "ship-step", durable.DefaultVersion, 1)
	if err := durable.UpsertMemo(ctx, map[string]any{"stage": "shipping"}); err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, 10*time.Millisecond); err != nil {
		return "", err
	}
	packed, err := durable.Child[string](durable.WithChildOptions(ctx, durable.ChildOptions{ID: "pack-" + o.ID}), Pack, n)
	if err != nil {
		return "", err
	}
	note, err := durable.Receive[string](ctx, "note")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s %s %d %s", o.ID, note, stamp, seed, packed), nil
}

// ShipTemporal is Ship written against Temporal's SDK, as it was before
// conversion.
func ShipTemporal(ctx workflow.Context, o Order) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var n int
	if err := workflow.ExecuteActivity(ctx, Reserve, o).Get(ctx, &n); err != nil {
		return "", err
	}
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	var stamp string
	if err := workflow.ExecuteLocalActivity(ctx, Stamp, o.ID).Get(ctx, &stamp); err != nil {
		return "", err
	}
	var seed int
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return 7 }).Get(&seed); err != nil {
		return "", err
	}
	seed += int(workflow.GetVersion(ctx, "ship-step", workflow.DefaultVersion, 1))
	if err := workflow.UpsertMemo(ctx, map[string]any{"stage": "shipping"}); err != nil {
		return "", err
	}
	if err := workflow.Sleep(ctx, 10*time.Millisecond); err != nil {
		return "", err
	}
	var packed string
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: "pack-" + o.ID})
	if err := workflow.ExecuteChildWorkflow(cctx, "Pack", n).Get(ctx, &packed); err != nil {
		return "", err
	}
	var note string
	workflow.GetSignalChannel(ctx, "note").Receive(ctx, &note)
	return fmt.Sprintf("%s %s %s %d %s", o.ID, note, stamp, seed, packed), nil
}

// ShipTemporalChanged sleeps before its activity.
func ShipTemporalChanged(ctx workflow.Context, o Order) (string, error) {
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return "", err
	}
	return ShipTemporal(ctx, o)
}

// The history of a durable run replays through Temporal's own replayer
// (in process, no server) against the workflow's Temporal code: its
// workflow tasks, event links, activity and timer IDs and marker details
// are what Temporal's SDK expects, and code that does something else is
// told so.
func TestHistoryReplaysInTemporalsReplayer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := historyEngine(t)
	e.RegisterWorkflow(Ship)
	_, err := e.Start(ctx, durable.StartOptions{ID: "s-1"}, Ship, Order{ID: "s-1", Items: 2})
	require.NoError(t, err)
	require.NoError(t, e.Signal(ctx, "s-1", "note", "fragile"))
	require.NoError(t, e.Run("s-1").Get(ctx, nil))
	h, err := compat.WorkflowHistory(ctx, e, "s-1", "")
	require.NoError(t, err)

	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(ShipTemporal, workflow.RegisterOptions{Name: "Ship"})
	require.NoError(t, r.ReplayWorkflowHistory(nil, h))

	changed := worker.NewWorkflowReplayer()
	changed.RegisterWorkflowWithOptions(ShipTemporalChanged, workflow.RegisterOptions{Name: "Ship"})
	require.Error(t, changed.ReplayWorkflowHistory(nil, h), "other code does not replay the history")
}
