package replay_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// historyBuilder writes Temporal histories the way a server records them:
// workflow task events around each batch of commands, json/plain payloads.
type historyBuilder struct {
	t      testing.TB
	events []*historypb.HistoryEvent
	now    time.Time
}

func newHistory(t testing.TB) *historyBuilder {
	return &historyBuilder{t: t, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (b *historyBuilder) payloads(vs ...any) *commonpb.Payloads {
	if len(vs) == 0 {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(vs...)
	require.NoError(b.t, err)
	return p
}

func (b *historyBuilder) add(typ enumspb.EventType, set func(*historypb.HistoryEvent)) int64 {
	b.now = b.now.Add(10 * time.Millisecond)
	ev := &historypb.HistoryEvent{EventId: int64(len(b.events) + 1), EventTime: timestamppb.New(b.now), EventType: typ}
	if set != nil {
		set(ev)
	}
	b.events = append(b.events, ev)
	return ev.EventId
}

func (b *historyBuilder) history() *historypb.History { return &historypb.History{Events: b.events} }

func (b *historyBuilder) start(workflowID, workflow string, args ...any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			WorkflowType: &commonpb.WorkflowType{Name: workflow}, Input: b.payloads(args...), WorkflowId: workflowID, Attempt: 1,
		}}
	})
	return b
}

// task records a workflow task: scheduled, started, completed.
func (b *historyBuilder) task() *historyBuilder {
	scheduled := b.add(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
			StartToCloseTimeout: durationpb.New(10 * time.Second), Attempt: 1,
		}}
	})
	started := b.add(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{
			ScheduledEventId: scheduled,
		}}
	})
	b.add(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
			ScheduledEventId: scheduled, StartedEventId: started,
		}}
	})
	return b
}

func (b *historyBuilder) activity(name string, args ...any) int64 {
	return b.add(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
			ActivityId: "x", ActivityType: &commonpb.ActivityType{Name: name}, Input: b.payloads(args...),
		}}
	})
}

func (b *historyBuilder) completed(scheduled int64, result any) *historyBuilder {
	started := b.add(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, nil)
	b.add(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
			ScheduledEventId: scheduled, StartedEventId: started, Result: b.payloads(result),
		}}
	})
	return b
}

func (b *historyBuilder) failed(scheduled int64, msg, typ string) *historyBuilder {
	started := b.add(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, nil)
	b.add(enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
			ScheduledEventId: scheduled, StartedEventId: started,
			Failure: &failurepb.Failure{Message: msg, FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: typ, NonRetryable: true}}},
		}}
	})
	return b
}

func (b *historyBuilder) timer(d time.Duration) int64 {
	return b.add(enumspb.EVENT_TYPE_TIMER_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{
			TimerId: "1", StartToFireTimeout: durationpb.New(d),
		}}
	})
}

func (b *historyBuilder) fired(started int64) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_TIMER_FIRED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_TimerFiredEventAttributes{TimerFiredEventAttributes: &historypb.TimerFiredEventAttributes{TimerId: "1", StartedEventId: started}}
	})
	return b
}

func (b *historyBuilder) signal(name string, arg any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
			SignalName: name, Input: b.payloads(arg),
		}}
	})
	return b
}

func (b *historyBuilder) marker(name string, details map[string]*commonpb.Payloads) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_MARKER_RECORDED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: name, Details: details}}
	})
	return b
}

func (b *historyBuilder) sideEffect(v any) *historyBuilder {
	return b.marker("SideEffect", map[string]*commonpb.Payloads{"side-effect-id": b.payloads(1), "data": b.payloads(v)})
}

func (b *historyBuilder) version(change string, v int) *historyBuilder {
	return b.marker("Version", map[string]*commonpb.Payloads{"change-id": b.payloads(change), "version": b.payloads(v)})
}

func (b *historyBuilder) child(workflowID, workflow string, args ...any) int64 {
	return b.add(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes{StartChildWorkflowExecutionInitiatedEventAttributes: &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{
			WorkflowId: workflowID, WorkflowType: &commonpb.WorkflowType{Name: workflow}, Input: b.payloads(args...),
		}}
	})
}

func (b *historyBuilder) childCompleted(initiated int64, result any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes{ChildWorkflowExecutionStartedEventAttributes: &historypb.ChildWorkflowExecutionStartedEventAttributes{
			InitiatedEventId: initiated, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: "child", RunId: "child-run"},
		}}
	})
	b.add(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCompletedEventAttributes{ChildWorkflowExecutionCompletedEventAttributes: &historypb.ChildWorkflowExecutionCompletedEventAttributes{
			InitiatedEventId: initiated, Result: b.payloads(result),
		}}
	})
	return b
}

func (b *historyBuilder) signalExternal(workflowID, name string, arg any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionInitiatedEventAttributes{SignalExternalWorkflowExecutionInitiatedEventAttributes: &historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes{
			WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: workflowID}, SignalName: name, Input: b.payloads(arg),
		}}
	})
	return b
}

func (b *historyBuilder) updateAccepted(id, name string, args ...any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
			ProtocolInstanceId: id,
			AcceptedRequest:    &updatepb.Request{Meta: &updatepb.Meta{UpdateId: id}, Input: &updatepb.Input{Name: name, Args: b.payloads(args...)}},
		}}
	})
	return b
}

func (b *historyBuilder) updateCompleted(id string, result any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionUpdateCompletedEventAttributes{WorkflowExecutionUpdateCompletedEventAttributes: &historypb.WorkflowExecutionUpdateCompletedEventAttributes{
			Meta: &updatepb.Meta{UpdateId: id}, Outcome: &updatepb.Outcome{Value: &updatepb.Outcome_Success{Success: b.payloads(result)}},
		}}
	})
	return b
}

func (b *historyBuilder) complete(result any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{Result: b.payloads(result)}}
	})
	return b
}

func (b *historyBuilder) fail(msg string) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{
			Failure: &failurepb.Failure{Message: msg, FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{}}},
		}}
	})
	return b
}
