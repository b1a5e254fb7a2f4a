package replay

import (
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"

	"github.com/durablego/toolkit/runtime/durable"
)

// toFailure converts a Temporal failure into the form a durable history
// holds, keeping what the converted code can observe: message, application
// error type, non-retryable flag, details, timeout kind and cause.
func toFailure(f *failurepb.Failure) *durable.Failure {
	if f == nil {
		return nil
	}
	out := &durable.Failure{Message: f.GetMessage(), Kind: "application", Stack: f.GetStackTrace()}
	switch {
	case f.GetApplicationFailureInfo() != nil:
		info := f.GetApplicationFailureInfo()
		out.Type = info.GetType()
		out.NonRetryable = info.GetNonRetryable()
		if d := info.GetDetails(); len(d.GetPayloads()) > 0 {
			if raw, err := payloadsArray(d); err == nil {
				out.Details = raw
			}
		}
	case f.GetTimeoutFailureInfo() != nil:
		out.Kind = "timeout"
		out.Timeout = timeoutKind(f.GetTimeoutFailureInfo().GetTimeoutType())
	case f.GetCanceledFailureInfo() != nil:
		out.Kind = "canceled"
	case f.GetTerminatedFailureInfo() != nil:
		out.Kind = "terminated"
	case f.GetActivityFailureInfo() != nil, f.GetChildWorkflowExecutionFailureInfo() != nil:
		// Wrappers: the durable runtime has none; what the code sees is
		// the cause.
		if f.GetCause() != nil {
			return toFailure(f.GetCause())
		}
	}
	out.Cause = toFailure(f.GetCause())
	return out
}

// timeoutKind names a Temporal timeout type as durable.TimeoutError does.
func timeoutKind(t enumspb.TimeoutType) string {
	switch t {
	case enumspb.TIMEOUT_TYPE_START_TO_CLOSE:
		return "StartToClose"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
		return "ScheduleToClose"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START:
		return "ScheduleToStart"
	case enumspb.TIMEOUT_TYPE_HEARTBEAT:
		return "Heartbeat"
	}
	return strings.TrimPrefix(t.String(), "TIMEOUT_TYPE_")
}
