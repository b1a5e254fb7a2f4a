package compat_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/durablego/toolkit/runtime/durable"
)

func execution(id string) *workflowpb.WorkflowExecutionInfo {
	return &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id}}
}

// During a cut-over the list has both sides: Temporal's pages, then the
// durable runs that match the same query, with one page token across both.
func TestClientListWorkflowIncludesDurableRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Greet", 0))
	for _, id := range []string{"d-1", "d-2"} {
		_, err := b.engine.Start(ctx, durable.StartOptions{ID: id}, Greet, id)
		require.NoError(t, err)
	}
	_, err := b.engine.Start(ctx, durable.StartOptions{ID: "other"}, Waiter, 1)
	require.NoError(t, err)

	const q = "WorkflowType = 'Greet' ORDER BY WorkflowId"
	first := mock.MatchedBy(func(r *workflowservice.ListWorkflowExecutionsRequest) bool {
		return r.Query == q && len(r.NextPageToken) == 0
	})
	second := mock.MatchedBy(func(r *workflowservice.ListWorkflowExecutionsRequest) bool {
		return r.Query == q && string(r.NextPageToken) == "t2"
	})
	b.temporal.On("ListWorkflow", mock.Anything, first).Return(&workflowservice.ListWorkflowExecutionsResponse{
		Executions: []*workflowpb.WorkflowExecutionInfo{execution("t-1"), execution("t-2")}, NextPageToken: []byte("t2"),
	}, nil).Once()
	b.temporal.On("ListWorkflow", mock.Anything, second).Return(&workflowservice.ListWorkflowExecutionsResponse{
		Executions: []*workflowpb.WorkflowExecutionInfo{execution("t-3")},
	}, nil).Once()

	var ids []string
	var tok []byte
	pages := 0
	for {
		resp, err := b.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 2, NextPageToken: tok})
		require.NoError(t, err)
		pages++
		require.LessOrEqual(t, len(resp.Executions), 2, "a page is no longer than PageSize")
		for _, x := range resp.Executions {
			ids = append(ids, x.GetExecution().GetWorkflowId())
		}
		if tok = resp.NextPageToken; len(tok) == 0 {
			break
		}
		require.Less(t, pages, 10)
	}
	require.Equal(t, []string{"t-1", "t-2", "t-3", "d-1", "d-2"}, ids)

	b.temporal.On("CountWorkflow", mock.Anything, mock.Anything).Return(&workflowservice.CountWorkflowExecutionsResponse{Count: 3}, nil).Once()
	count, err := b.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "WorkflowType = 'Greet'"})
	require.NoError(t, err)
	require.EqualValues(t, 5, count.Count)
}
