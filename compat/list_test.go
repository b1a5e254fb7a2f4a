package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// Sized upserts a search attribute from its argument, then completes or
// waits for a signal.
func Sized(ctx context.Context, size int, wait bool) error {
	if err := durable.UpsertSearchAttributes(ctx, map[string]any{"Size": size, "Owner": "team-" + string(rune('a'+size%2))}); err != nil {
		return err
	}
	if wait {
		_, err := durable.Receive[string](ctx, "go")
		return err
	}
	return nil
}

func TestListWorkflowFiltersByVisibilityQuery(t *testing.T) {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:")
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(Sized)
	for i, id := range []string{"s1", "s2", "s3", "s4"} {
		run, err := e.Start(ctx, durable.StartOptions{ID: id}, Sized, i+1, id == "s4")
		require.NoError(t, err)
		if id != "s4" {
			require.NoError(t, run.Get(ctx, nil))
		}
	}
	require.Eventually(t, func() bool {
		a, err := e.Attributes(ctx, "s4")
		return err == nil && len(a.SearchAttributes) == 2
	}, 5*time.Second, 10*time.Millisecond)

	ids := func(q string, pageSize int32) []string {
		t.Helper()
		var out []string
		var tok []byte
		for {
			resp, err := compat.ListWorkflow(ctx, e, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: pageSize, NextPageToken: tok})
			require.NoError(t, err, q)
			for _, x := range resp.GetExecutions() {
				out = append(out, x.GetExecution().GetWorkflowId())
			}
			if tok = resp.GetNextPageToken(); len(tok) == 0 {
				return out
			}
		}
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"Size >= 2 AND Size < 4 ORDER BY Size", []string{"s2", "s3"}},
		{"Size >= 2 ORDER BY Size DESC", []string{"s4", "s3", "s2"}},
		{"ExecutionStatus = 'Running'", []string{"s4"}},
		{"ExecutionStatus != 'Running' AND Owner = 'team-b' ORDER BY WorkflowId", []string{"s1", "s3"}},
		{"WorkflowId STARTS_WITH 's' AND NOT (Size IN (1, 4)) ORDER BY WorkflowId", []string{"s2", "s3"}},
		{"CloseTime IS NULL", []string{"s4"}},
		{"Size BETWEEN 2 AND 3 ORDER BY WorkflowId ASC", []string{"s2", "s3"}},
		{"Missing = 1", nil},
		{"WorkflowType = 'Sized' ORDER BY WorkflowId", []string{"s1", "s2", "s3", "s4"}},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, ids(tc.query, 0), tc.query)
	}
	require.Equal(t, []string{"s1", "s2", "s3", "s4"}, ids("ORDER BY WorkflowId", 3), "paging keeps the order")

	count, err := compat.CountWorkflow(ctx, e, &workflowservice.CountWorkflowExecutionsRequest{Query: "ExecutionStatus = 'Completed'"})
	require.NoError(t, err)
	require.EqualValues(t, 3, count.GetCount())

	_, err = compat.ListWorkflow(ctx, e, &workflowservice.ListWorkflowExecutionsRequest{Query: "Size >"})
	require.ErrorContains(t, err, `visibility query "Size >"`)
}
