package compat_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// Tagged upserts its memo and a search attribute, then waits for a signal.
func Tagged(ctx context.Context) (string, error) {
	if err := durable.UpsertMemo(ctx, map[string]any{"stage": "packed"}); err != nil {
		return "", err
	}
	if err := durable.UpsertSearchAttributes(ctx, map[string]any{"Priority": 2}); err != nil {
		return "", err
	}
	return durable.Receive[string](ctx, "go")
}

// DescribeWorkflowExecution answers in Temporal's types what the durable
// store holds: status, type, and the memo and search attributes as they
// stand after the run's upserts, readable with Temporal's data converter.
func TestDescribeWorkflowExecutionCarriesMemoAndSearchAttributes(t *testing.T) {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:")
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(Tagged)
	_, err = e.Start(ctx, durable.StartOptions{ID: "t1", Memo: map[string]any{"owner": "ada", "stage": "new"}}, Tagged)
	require.NoError(t, err)

	dc := converter.GetDefaultDataConverter()
	require.Eventually(t, func() bool {
		resp, err := compat.DescribeWorkflowExecution(ctx, e, "t1", "")
		if err != nil || resp.GetWorkflowExecutionInfo().GetSearchAttributes() == nil {
			return false
		}
		wi := resp.GetWorkflowExecutionInfo()
		var stage, owner string
		var prio int
		require.NoError(t, dc.FromPayload(wi.GetMemo().GetFields()["stage"], &stage))
		require.NoError(t, dc.FromPayload(wi.GetMemo().GetFields()["owner"], &owner))
		require.NoError(t, dc.FromPayload(wi.GetSearchAttributes().GetIndexedFields()["Priority"], &prio))
		require.Equal(t, "packed", stage)
		require.Equal(t, "ada", owner)
		require.Equal(t, 2, prio)
		require.Equal(t, "Tagged", wi.GetType().GetName())
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, wi.GetStatus())
		return true
	}, 5e9, 1e7)

	require.NoError(t, e.Signal(ctx, "t1", "go", "done"))
	var out string
	require.NoError(t, e.Run("t1").Get(ctx, &out))
	resp, err := compat.DescribeWorkflowExecution(ctx, e, "t1", "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, resp.GetWorkflowExecutionInfo().GetStatus())
	require.NotNil(t, resp.GetWorkflowExecutionInfo().GetCloseTime())

	_, err = compat.DescribeWorkflowExecution(ctx, e, "nope", "")
	require.ErrorIs(t, err, durable.ErrNotFound)
}
