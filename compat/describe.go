package compat

import (
	"context"
	"encoding/json"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/durablego/toolkit/runtime/durable"
)

// attributeReader is implemented by *durable.Engine: the memo and search
// attributes of a workflow ID's newest run.
type attributeReader interface {
	Attributes(ctx context.Context, id string) (*durable.RunAttributes, error)
}

// DescribeWorkflowExecution describes the newest run of a workflow ID on
// the durable side in the shape of Temporal's client.DescribeWorkflowExecution,
// for code that keeps reading Temporal's types: the execution, type,
// status, task queue, start and close times, the journal length as history
// length, and the memo and search attributes as json/plain payloads (which
// converter.GetDefaultDataConverter().FromPayload reads). Converted code
// calls it where it called the Temporal client's method. A run ID other
// than the newest run's is not addressed: durable describes workflow IDs.
func DescribeWorkflowExecution(ctx context.Context, c durable.Client, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	info, err := c.Describe(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	wi := ExecutionInfo(info)
	if r, ok := c.(attributeReader); ok {
		a, err := r.Attributes(ctx, workflowID)
		if err != nil {
			return nil, err
		}
		wi.Memo = Memo(a.Memo)
		wi.SearchAttributes = SearchAttributes(a.SearchAttributes)
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: wi}, nil
}

// ExecutionInfo returns a durable run's description as Temporal's
// WorkflowExecutionInfo (without memo and search attributes, which the
// description does not hold).
func ExecutionInfo(info *durable.RunInfo) *workflowpb.WorkflowExecutionInfo {
	wi := &workflowpb.WorkflowExecutionInfo{
		Execution:     &commonpb.WorkflowExecution{WorkflowId: info.WorkflowID, RunId: info.RunID},
		Type:          &commonpb.WorkflowType{Name: info.Workflow},
		StartTime:     timestamppb.New(info.CreatedAt),
		Status:        ExecutionStatus(info.Status),
		HistoryLength: info.JournalLen,
		TaskQueue:     info.Queue,
	}
	if info.Status != "running" && info.Status != "stuck" {
		wi.CloseTime = timestamppb.New(info.UpdatedAt)
	}
	return wi
}

// ExecutionStatus maps a durable run status to Temporal's; a stuck run is
// running (it waits for fixed code).
func ExecutionStatus(status string) enumspb.WorkflowExecutionStatus { return executionStatuses[status] }

var executionStatuses = map[string]enumspb.WorkflowExecutionStatus{
	"running":    enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
	"stuck":      enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
	"completed":  enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
	"failed":     enumspb.WORKFLOW_EXECUTION_STATUS_FAILED,
	"canceled":   enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED,
	"terminated": enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED,
	"continued":  enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
}

// Memo returns durable memo fields (JSON values, as durable.Info.Memo and
// durable.RunAttributes hold them) as Temporal's Memo of json/plain
// payloads; nil when there are none.
func Memo(fields map[string]json.RawMessage) *commonpb.Memo {
	if len(fields) == 0 {
		return nil
	}
	return &commonpb.Memo{Fields: payloads(fields)}
}

// SearchAttributes returns durable search attributes (JSON values) as
// Temporal's SearchAttributes of json/plain payloads; nil when there are
// none.
func SearchAttributes(fields map[string]json.RawMessage) *commonpb.SearchAttributes {
	if len(fields) == 0 {
		return nil
	}
	return &commonpb.SearchAttributes{IndexedFields: payloads(fields)}
}

func payloads(fields map[string]json.RawMessage) map[string]*commonpb.Payload {
	out := make(map[string]*commonpb.Payload, len(fields))
	for k, v := range fields {
		out[k] = &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: append([]byte(nil), v...)}
	}
	return out
}
