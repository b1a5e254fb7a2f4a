package compat

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	filterpb "go.temporal.io/api/filter/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/durablego/toolkit/runtime/durable"
)

// ListOpenWorkflow lists the open durable runs (running or stuck) that
// match the request's filters, in Temporal's shape, as the Temporal
// client's ListOpenWorkflow did (the recovery sample lists the open runs
// of a workflow type with it): the start-time range and the workflow type
// or workflow ID filter become a visibility query that ListWorkflow
// answers, so runs come newest start first, MaximumPageSize to a page
// (1000 when 0), and NextPageToken continues.
func ListOpenWorkflow(ctx context.Context, c durable.Client, req *workflowservice.ListOpenWorkflowExecutionsRequest) (*workflowservice.ListOpenWorkflowExecutionsResponse, error) {
	q := filterQuery("ExecutionStatus = 'Running'", req.GetStartTimeFilter(), req.GetTypeFilter(), req.GetExecutionFilter())
	resp, err := ListWorkflow(ctx, c, &workflowservice.ListWorkflowExecutionsRequest{
		Query: q, PageSize: req.GetMaximumPageSize(), NextPageToken: req.GetNextPageToken(),
	})
	if err != nil {
		return nil, fmt.Errorf("compat: ListOpenWorkflow: %w", err)
	}
	return &workflowservice.ListOpenWorkflowExecutionsResponse{Executions: resp.Executions, NextPageToken: resp.NextPageToken}, nil
}

// ListClosedWorkflow lists the closed durable runs that match the
// request's filters, as ListOpenWorkflow does the open ones; a status
// filter keeps the runs that closed that way.
func ListClosedWorkflow(ctx context.Context, c durable.Client, req *workflowservice.ListClosedWorkflowExecutionsRequest) (*workflowservice.ListClosedWorkflowExecutionsResponse, error) {
	status := "ExecutionStatus != 'Running'"
	if sf := req.GetStatusFilter(); sf != nil {
		status = "ExecutionStatus = " + quoteQuery(statusName(sf.GetStatus()))
	}
	q := filterQuery(status, req.GetStartTimeFilter(), req.GetTypeFilter(), req.GetExecutionFilter())
	resp, err := ListWorkflow(ctx, c, &workflowservice.ListWorkflowExecutionsRequest{
		Query: q, PageSize: req.GetMaximumPageSize(), NextPageToken: req.GetNextPageToken(),
	})
	if err != nil {
		return nil, fmt.Errorf("compat: ListClosedWorkflow: %w", err)
	}
	return &workflowservice.ListClosedWorkflowExecutionsResponse{Executions: resp.Executions, NextPageToken: resp.NextPageToken}, nil
}

// filterQuery writes the visibility query of a list request's filters.
func filterQuery(status string, start *filterpb.StartTimeFilter, typ *filterpb.WorkflowTypeFilter, exec *filterpb.WorkflowExecutionFilter) string {
	terms := []string{status}
	if start != nil {
		if t := start.GetEarliestTime(); t != nil && t.AsTime().After(time.Unix(0, 0)) {
			terms = append(terms, "StartTime >= "+quoteQuery(t.AsTime().UTC().Format(time.RFC3339Nano)))
		}
		if t := start.GetLatestTime(); t != nil && t.AsTime().After(time.Unix(0, 0)) {
			terms = append(terms, "StartTime <= "+quoteQuery(t.AsTime().UTC().Format(time.RFC3339Nano)))
		}
	}
	if typ != nil && typ.GetName() != "" {
		terms = append(terms, "WorkflowType = "+quoteQuery(typ.GetName()))
	}
	if exec != nil {
		if id := exec.GetWorkflowId(); id != "" {
			terms = append(terms, "WorkflowId = "+quoteQuery(id))
		}
		if id := exec.GetRunId(); id != "" {
			terms = append(terms, "RunId = "+quoteQuery(id))
		}
	}
	return strings.Join(terms, " AND ")
}

// statusName is a workflow status as the visibility query names it
// (Temporal's short enum name: "Completed", "ContinuedAsNew").
func statusName(s enumspb.WorkflowExecutionStatus) string { return s.String() }

// quoteQuery quotes a string for the visibility query language.
func quoteQuery(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
