package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	original "github.com/durablego/toolkit/compat/e2e/original"
)

// A scenario is one execution of a workflow of original/ with input k,
// driven through a client.Client: compat's, or Temporal's own.
type scenario struct {
	workflow string // workflow type
	fn       any    // the original workflow function
	args     func(k int) []any
	want     func(k int) any // the result, as the original code computes it
	// drive sends the execution's follow-ups (queries, updates,
	// signals) before its result is awaited; nil for none.
	drive func(ctx context.Context, t *testing.T, c client.Client, id string, k int)
}

var scenarios = []scenario{
	{
		workflow: "Fulfil",
		fn:       original.Fulfil,
		args: func(k int) []any {
			return []any{original.Order{ID: fmt.Sprintf("order-%d", k), Item: "widget", Qty: k, Price: 250}}
		},
		want: func(k int) any {
			return original.Receipt{OrderID: fmt.Sprintf("order-%d", k), Reservation: fmt.Sprintf("R-widget-%d", k), Charged: 250 * k, Shipped: true}
		},
	},
	{
		workflow: "SumOfSquares",
		fn:       original.SumOfSquares,
		args:     func(k int) []any { return []any{[]int{1, 2, k}} },
		want:     func(k int) any { return 1 + 4 + k*k },
	},
	{
		workflow: "Approval",
		fn:       original.Approval,
		args:     func(k int) []any { return []any{fmt.Sprintf("launch-%d", k)} },
		want:     func(k int) any { return fmt.Sprintf("LAUNCH-%d! by approver-%d at level 5", k, k) },
		drive:    driveApproval,
	},
}

// driveApproval queries an Approval execution until it answers, sends it
// a rejected update and two accepted ones, queries it again and approves
// it by a signal.
func driveApproval(ctx context.Context, t *testing.T, c client.Client, id string, k int) {
	t.Helper()
	// The first query waits for the execution to have registered its
	// handlers: it is retried until it answers (bounded by ctx).
	require.NoError(t, eventually(ctx, func() error {
		status, err := query(ctx, c, id)
		if err == nil && status != "waiting level=0" {
			t.Errorf("status %q, want %q", status, "waiting level=0")
		}
		return err
	}))
	_, err := bump(ctx, c, id, 0)
	require.Error(t, err, "the validator rejects a bump by 0")
	require.Contains(t, err.Error(), "must be at least 1")
	n, err := bump(ctx, c, id, 2)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = bump(ctx, c, id, 3)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	status, err := query(ctx, c, id)
	require.NoError(t, err)
	require.Equal(t, "waiting level=5", status)
	require.NoError(t, c.SignalWorkflow(ctx, id, "", "approve", fmt.Sprintf("approver-%d", k)))
}

func query(ctx context.Context, c client.Client, id string) (string, error) {
	v, err := c.QueryWorkflow(ctx, id, "", "status")
	if err != nil {
		return "", err
	}
	var s string
	err = v.Get(&s)
	return s, err
}

func bump(ctx context.Context, c client.Client, id string, n int) (int, error) {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: "bump", Args: []any{n}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return 0, err
	}
	var out int
	err = h.Get(ctx, &out)
	return out, err
}

// run starts the scenario's execution id with input k through c, drives
// it and returns its result decoded as JSON (the form both sides share).
func (s scenario) run(ctx context.Context, t *testing.T, c client.Client, id string, k int) any {
	t.Helper()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, s.fn, s.args(k)...)
	require.NoError(t, err)
	require.Equal(t, id, run.GetID())
	if s.drive != nil {
		s.drive(ctx, t, c, id, k)
	}
	var got any
	require.NoError(t, run.Get(ctx, &got), "%s %s", s.workflow, id)
	// A handle from GetWorkflow reads the same result.
	var again any
	require.NoError(t, c.GetWorkflow(ctx, id, "").Get(ctx, &again))
	require.Equal(t, got, again)
	return got
}

// asJSON renders v as the JSON value both sides decode results into.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// safeID turns a subtest-ish name into a workflow ID part.
func safeID(s string) string { return strings.NewReplacer("/", "-", " ", "-", "=", "").Replace(s) }

func clientOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}
}
