package compat

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// runLister is implemented by *durable.Engine: its store and each run's
// memo and search attributes.
type runLister interface {
	Store() store.Store
	RunAttributes(ctx context.Context, runID string) (*durable.RunAttributes, error)
}

// pageSizeDefault is the page size of a list request that sets none.
const pageSizeDefault = 1000

// ListWorkflow lists the durable runs that match the request's visibility
// query (see the query language above parseQuery), in Temporal's shape:
// each run is a WorkflowExecutionInfo with its memo and search attributes.
// Runs are ordered by the query's ORDER BY, else newest start first; pages
// are PageSize long (1000 when 0) and NextPageToken continues. Converted
// code calls it where it called the Temporal client's ListWorkflow.
//
// Every run's journal is read to know its attributes, so a list costs a
// read per run in the store: fine for operations and tests, not for a hot
// path over millions of runs.
func ListWorkflow(ctx context.Context, c durable.Client, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	infos, err := listRuns(ctx, c, req.GetQuery())
	if err != nil {
		return nil, err
	}
	start := 0
	if tok := req.GetNextPageToken(); len(tok) > 0 {
		if start, err = strconv.Atoi(string(tok)); err != nil || start < 0 {
			return nil, fmt.Errorf("compat: ListWorkflow: bad NextPageToken %q", tok)
		}
	}
	size := int(req.GetPageSize())
	if size <= 0 {
		size = pageSizeDefault
	}
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	if start < len(infos) {
		end := min(start+size, len(infos))
		resp.Executions = infos[start:end]
		if end < len(infos) {
			resp.NextPageToken = []byte(strconv.Itoa(end))
		}
	}
	return resp, nil
}

// CountWorkflow counts the durable runs that match the request's
// visibility query.
func CountWorkflow(ctx context.Context, c durable.Client, req *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	infos, err := listRuns(ctx, c, req.GetQuery())
	if err != nil {
		return nil, err
	}
	return &workflowservice.CountWorkflowExecutionsResponse{Count: int64(len(infos))}, nil
}

// listRuns returns every run matching the query, in its order.
func listRuns(ctx context.Context, c durable.Client, q string) ([]*workflowpb.WorkflowExecutionInfo, error) {
	l, ok := c.(runLister)
	if !ok {
		return nil, fmt.Errorf("compat: list runs: %T does not list runs (want a *durable.Engine)", c)
	}
	parsed, err := parseQuery(q)
	if err != nil {
		return nil, fmt.Errorf("compat: %w", err)
	}
	runs, err := l.Store().ListRuns(ctx, &store.ListRunsParams{})
	if err != nil {
		return nil, fmt.Errorf("compat: list runs: %w", err)
	}
	type row struct {
		info   *workflowpb.WorkflowExecutionInfo
		fields fields
	}
	var rows []row
	for _, r := range runs {
		attrs, err := l.RunAttributes(ctx, r.RunID)
		if err != nil {
			return nil, fmt.Errorf("compat: list runs: %w", err)
		}
		info := ExecutionInfo(&durable.RunInfo{
			WorkflowID: r.WorkflowID, RunID: r.RunID, Workflow: r.Workflow, Queue: r.Queue, Status: string(r.Status),
			JournalLen: r.JournalLen, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		})
		info.Memo = Memo(attrs.Memo)
		info.SearchAttributes = SearchAttributes(attrs.SearchAttributes)
		f := runFields(r, attrs)
		if parsed.where == nil || parsed.where.eval(f) {
			rows = append(rows, row{info, f})
		}
	}
	order := parsed.order
	if len(order) == 0 {
		order = []orderTerm{{field: "StartTime", desc: true}}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		for _, o := range order {
			c := compareForOrder(a.fields(o.field), b.fields(o.field))
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.info.GetExecution().GetRunId(), b.info.GetExecution().GetRunId())
	})
	out := make([]*workflowpb.WorkflowExecutionInfo, len(rows))
	for i, r := range rows {
		out[i] = r.info
	}
	return out, nil
}

// compareForOrder orders two values of one field; a missing value sorts
// first.
func compareForOrder(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	at, aTime := a.(time.Time)
	bt, bTime := b.(time.Time)
	if aTime && bTime {
		return at.Compare(bt)
	}
	if c := compare(a, b); c != -2 {
		return c
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// runFields returns a run's values by visibility field name: Temporal's
// system fields and the run's search attributes (decoded from JSON).
func runFields(r *store.Run, attrs *durable.RunAttributes) fields {
	return func(name string) any {
		switch name {
		case "WorkflowId":
			return r.WorkflowID
		case "RunId":
			return r.RunID
		case "WorkflowType":
			return r.Workflow
		case "TaskQueue":
			return r.Queue
		case "ExecutionStatus":
			return ExecutionStatus(string(r.Status)).String()
		case "StartTime", "ExecutionTime":
			return r.CreatedAt
		case "CloseTime":
			if r.Status.Open() {
				return nil
			}
			return r.UpdatedAt
		case "HistoryLength":
			return float64(r.JournalLen)
		}
		raw, ok := attrs.SearchAttributes[name]
		if !ok {
			return nil
		}
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return nil
		}
		return v
	}
}
