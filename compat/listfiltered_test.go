package compat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	filterpb "go.temporal.io/api/filter/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// Holder waits for a signal when wait is set; OtherDone completes at once.
func Holder(ctx context.Context, wait bool) error {
	if wait {
		_, err := durable.Receive[string](ctx, "go")
		return err
	}
	return nil
}

func OtherDone(ctx context.Context) error { return nil }

func TestListOpenAndClosedWorkflow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:")
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(Holder)
	e.RegisterWorkflow(OtherDone)
	for _, s := range []struct {
		id   string
		wf   any
		args []any
	}{{"open-1", Holder, []any{true}}, {"open-2", Holder, []any{true}}, {"done-1", Holder, []any{false}}, {"other", OtherDone, nil}} {
		run, err := e.Start(ctx, durable.StartOptions{ID: s.id}, s.wf, s.args...)
		require.NoError(t, err)
		if s.id != "open-1" && s.id != "open-2" {
			require.NoError(t, run.Get(ctx, nil))
		}
	}
	all := &filterpb.StartTimeFilter{EarliestTime: timestamppb.New(time.Time{}), LatestTime: timestamppb.New(time.Now().Add(time.Hour))}
	open := func(req *workflowservice.ListOpenWorkflowExecutionsRequest) []string {
		t.Helper()
		var ids []string
		for {
			resp, err := compat.ListOpenWorkflow(ctx, e, req)
			require.NoError(t, err)
			for _, x := range resp.GetExecutions() {
				ids = append(ids, x.GetExecution().GetWorkflowId())
			}
			if req.NextPageToken = resp.GetNextPageToken(); len(req.NextPageToken) == 0 {
				slices.Sort(ids)
				return ids
			}
		}
	}
	closed := func(req *workflowservice.ListClosedWorkflowExecutionsRequest) []string {
		t.Helper()
		resp, err := compat.ListClosedWorkflow(ctx, e, req)
		require.NoError(t, err)
		var ids []string
		for _, x := range resp.GetExecutions() {
			ids = append(ids, x.GetExecution().GetWorkflowId())
		}
		slices.Sort(ids)
		return ids
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"open runs of a type, a page at a time (the recovery sample)", open(&workflowservice.ListOpenWorkflowExecutionsRequest{
			MaximumPageSize: 1, StartTimeFilter: all,
			Filters: &workflowservice.ListOpenWorkflowExecutionsRequest_TypeFilter{TypeFilter: &filterpb.WorkflowTypeFilter{Name: "Holder"}},
		}), []string{"open-1", "open-2"}},
		{"an open run by ID", open(&workflowservice.ListOpenWorkflowExecutionsRequest{
			Filters: &workflowservice.ListOpenWorkflowExecutionsRequest_ExecutionFilter{ExecutionFilter: &filterpb.WorkflowExecutionFilter{WorkflowId: "open-2"}},
		}), []string{"open-2"}},
		{"no run started in the range", open(&workflowservice.ListOpenWorkflowExecutionsRequest{
			StartTimeFilter: &filterpb.StartTimeFilter{LatestTime: timestamppb.New(time.Now().Add(-time.Hour))},
		}), nil},
		{"closed runs", closed(&workflowservice.ListClosedWorkflowExecutionsRequest{StartTimeFilter: all}), []string{"done-1", "other"}},
		{"closed runs of a type", closed(&workflowservice.ListClosedWorkflowExecutionsRequest{
			Filters: &workflowservice.ListClosedWorkflowExecutionsRequest_TypeFilter{TypeFilter: &filterpb.WorkflowTypeFilter{Name: "OtherDone"}},
		}), []string{"other"}},
		{"closed runs by status", closed(&workflowservice.ListClosedWorkflowExecutionsRequest{
			Filters: &workflowservice.ListClosedWorkflowExecutionsRequest_StatusFilter{StatusFilter: &filterpb.StatusFilter{Status: enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}},
		}), nil},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.got, tt.name)
	}
}
