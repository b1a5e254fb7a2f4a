package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/durablego/toolkit/runtime/durable"
)

// A durable run's journal read as a Temporal history. This is the reverse
// of compat/replay's translation: code written against Temporal that reads
// history events (to restart runs with their input and signals, to audit,
// to feed Temporal's replayer) keeps working on the durable side.
//
// The journal records what the workflow code saw and did, in order: an
// inbound event (the start, an activity's outcome, a signal, a timer
// firing) followed by the commands the code issued in answer. Temporal
// wraps each such answer in a workflow task (WorkflowTaskScheduled,
// WorkflowTaskStarted, WorkflowTaskCompleted), and its command events
// point at the WorkflowTaskCompleted event that issued them. The durable
// runtime has no workflow tasks, but the translation invents them at the
// same places, so that event IDs, the links between events and the
// sequence look as Temporal's do and Temporal's own replayer can read the
// result. Server-side events (a termination, an execution timeout) get no
// workflow task, as in Temporal.

// historyReader is implemented by *durable.Engine.
type historyReader interface {
	History(ctx context.Context, id, runID string) (*durable.History, error)
}

// codecOwner is implemented by *durable.Engine: the codec its store's
// values go through.
type codecOwner interface {
	PayloadCodec() durable.PayloadCodec
}

// historyIdentity is the identity the invented workflow task events and
// activity starts carry: the durable runtime, not a Temporal worker.
const historyIdentity = "durable"

// workflowTaskTimeout is the StartToCloseTimeout invented
// WorkflowTaskScheduled events carry: Temporal's default. The durable
// runtime has no workflow task timeout.
const workflowTaskTimeout = 10 * time.Second

// WorkflowHistory returns run runID of workflow ID workflowID ("": the
// newest run) as Temporal's history: the journal's events translated into
// historypb events with Temporal's event IDs and links (see
// HistoryFromDurable). c must be a *durable.Engine (or another client
// that has its History method).
func WorkflowHistory(ctx context.Context, c durable.Client, workflowID, runID string) (*historypb.History, error) {
	r, ok := c.(historyReader)
	if !ok {
		return nil, fmt.Errorf("compat: WorkflowHistory %s: %T cannot read histories (a *durable.Engine can)", workflowID, c)
	}
	h, err := r.History(ctx, workflowID, runID)
	if err != nil {
		return nil, err
	}
	return HistoryFromDurable(h, HistoryOptions{Codec: engineCodec(c), Inbox: true})
}

// engineCodec returns the payload codec of c's engine, or nil.
func engineCodec(c any) durable.PayloadCodec {
	if o, ok := c.(codecOwner); ok {
		return o.PayloadCodec()
	}
	return nil
}

// HistoryOptions says how HistoryFromDurable writes a history.
type HistoryOptions struct {
	// Codec is the engine's payload codec (durable.WithPayloadCodec). When
	// it is one of compat's (PayloadCodec, DataConverterCodec), every
	// payload of the history is encoded by the Temporal codecs or data
	// converter it holds, as Temporal's histories hold payloads as the
	// client's codecs encoded them: code that decoded them with its codec
	// data converter keeps doing so. Nil, or another codec: payloads are
	// json/plain.
	Codec durable.PayloadCodec
	// Inbox adds what reached an open run and its code has not taken yet
	// (signals, a cancellation request) at the end, each followed by a
	// WorkflowTaskScheduled, as Temporal records a signal when it
	// arrives. Off, the history holds only the journal, which grows by
	// appending: what a long poll streams.
	Inbox bool
}

// HistoryFromDurable translates a durable run's history (Engine.History)
// into Temporal's. Each journal event becomes the Temporal event(s) that
// record the same thing:
//
//   - Started: WorkflowExecutionStarted with the workflow type, the input
//     as payloads, the run's queue as task queue, its timeouts, retry
//     policy, cron schedule, attempt, memo and search attributes, parent
//     and the run it continues.
//   - activities: ActivityTaskScheduled, then ActivityTaskStarted (with
//     the attempt) and ActivityTaskCompleted, Failed, TimedOut or Canceled
//     when the outcome came, linked by event IDs as Temporal links them;
//     a cancellation request is ActivityTaskCancelRequested.
//   - local activities, side effects and versions: MarkerRecorded
//     (LocalActivity, SideEffect, Version), with the details Temporal's SDK
//     writes.
//   - timers: TimerStarted, TimerFired, TimerCanceled; signals:
//     WorkflowExecutionSignaled; cancellation: WorkflowExecutionCancelRequested.
//   - children: StartChildWorkflowExecutionInitiated and
//     ChildWorkflowExecutionStarted (or StartChildWorkflowExecutionFailed),
//     then ChildWorkflowExecutionCompleted, Failed, Canceled, TimedOut or
//     Terminated.
//   - external signals and cancellations: their Initiated event and
//     ExternalWorkflowExecutionSignaled / CancelRequested (or Failed).
//   - updates: WorkflowExecutionUpdateAccepted and Completed (a rejected
//     update leaves no event, as in Temporal).
//   - memo and search attribute upserts: WorkflowPropertiesModified and
//     UpsertWorkflowSearchAttributes.
//   - the close: WorkflowExecutionCompleted, Failed, Canceled,
//     ContinuedAsNew, Terminated or TimedOut.
//
// Workflow task events are invented where Temporal has them (see the
// comment at the top of this file). What the journal does not record is
// absent: activity timeouts and retry policies, the workflow task
// timeout, headers of calls.
func HistoryFromDurable(h *durable.History, opts HistoryOptions) (*historypb.History, error) {
	if h == nil || h.Run == nil {
		return nil, errors.New("compat: HistoryFromDurable: no history")
	}
	b := &historyBuilder{
		run: h.Run, enc: payloadEncoder(opts.Codec), queue: queueName(h.Run.Queue),
		activities: map[int64]int64{}, activityNames: map[int64]string{}, timers: map[int64]int64{},
		children: map[int64]*childEvents{}, locals: map[int64]durable.HistoryEvent{},
		cancels: map[int64]int64{}, updates: map[string]int64{},
	}
	for i := range h.Events {
		if err := b.event(&h.Events[i]); err != nil {
			return nil, fmt.Errorf("compat: history of %s run %s: event %d (%s): %w", h.Run.WorkflowID, h.Run.RunID, h.Events[i].Seq, h.Events[i].Kind, err)
		}
	}
	b.flush()
	if b.needTask && !b.closed {
		b.workflowTask()
	}
	if opts.Inbox && !b.closed {
		if err := b.inbox(h.Inbox); err != nil {
			return nil, fmt.Errorf("compat: history of %s run %s: inbox: %w", h.Run.WorkflowID, h.Run.RunID, err)
		}
	}
	return &historypb.History{Events: b.events}, nil
}

// childEvents are the event IDs of a child workflow's events.
type childEvents struct {
	initiated, started int64
	workflowID, runID  string
	workflow           string
}

// historyBuilder writes Temporal events for journal events, in order.
type historyBuilder struct {
	run    *durable.RunInfo
	enc    func(json.RawMessage) (*commonpb.Payload, error)
	queue  string
	events []*historypb.HistoryEvent

	// needTask is set when inbound events came since the last workflow
	// task: the next command, or the end, gets one first.
	needTask bool
	// completed is the event ID of the newest WorkflowTaskCompleted.
	completed int64
	// deferred are events Temporal records when an answer from elsewhere
	// arrives (a child started, an external signal delivered), which the
	// journal keeps inside the command; they go in before the next inbound
	// event.
	deferred []func(at time.Time)
	closed   bool

	activities    map[int64]int64  // activity ID -> ActivityTaskScheduled event ID
	activityNames map[int64]string // activity ID -> its name
	cancels       map[int64]int64  // activity ID -> ActivityTaskCancelRequested event ID
	timers        map[int64]int64  // timer ID -> TimerStarted event ID
	children      map[int64]*childEvents
	locals        map[int64]durable.HistoryEvent // local activity ID -> its scheduling
	updates       map[string]int64               // update ID -> WorkflowExecutionUpdateAccepted event ID
	// sideEffects and localActivities count the markers written so far.
	sideEffects, localActivities int
}

// add appends an event at time at and returns it.
func (b *historyBuilder) add(at time.Time, t enumspb.EventType, attrs func(*historypb.HistoryEvent)) *historypb.HistoryEvent {
	ev := &historypb.HistoryEvent{EventId: int64(len(b.events) + 1), EventTime: timestamppb.New(at), EventType: t}
	attrs(ev)
	b.events = append(b.events, ev)
	return ev
}

// lastTime is the time of the newest event, for events the journal does
// not date.
func (b *historyBuilder) lastTime() time.Time {
	if len(b.events) == 0 {
		return b.run.CreatedAt
	}
	return b.events[len(b.events)-1].GetEventTime().AsTime()
}

// workflowTask appends a workflow task that ran to completion.
func (b *historyBuilder) workflowTask() {
	at := b.lastTime()
	scheduled := b.scheduleTask(at)
	started := b.add(at, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{
			ScheduledEventId: scheduled.EventId, Identity: historyIdentity,
		}}
	}).EventId
	b.completed = b.add(at, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
			ScheduledEventId: scheduled.EventId, StartedEventId: started, Identity: historyIdentity,
		}}
	}).EventId
	b.needTask = false
}

// scheduleTask appends a WorkflowTaskScheduled.
func (b *historyBuilder) scheduleTask(at time.Time) *historypb.HistoryEvent {
	return b.add(at, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
			TaskQueue: b.taskQueue(""), StartToCloseTimeout: durationpb.New(workflowTaskTimeout), Attempt: 1,
		}}
	})
}

// command prepares for a command event: the workflow task that issues it
// comes first when inbound events are waiting for one.
func (b *historyBuilder) command() {
	if b.needTask || b.completed == 0 {
		b.workflowTask()
	}
}

// inbound prepares for an inbound event: the answers recorded inside
// earlier commands go in first, and the durable runtime hands the code one
// inbound event at a time, so one that came before and has no workflow
// task yet gets its own (the code ran on it and issued no command).
func (b *historyBuilder) inbound() {
	b.flush()
	if b.needTask {
		b.workflowTask()
	}
	b.needTask = true
}

func (b *historyBuilder) flush() {
	at := b.lastTime()
	for _, f := range b.deferred {
		f(at)
	}
	if len(b.deferred) > 0 {
		b.needTask = true
	}
	b.deferred = nil
}

func (b *historyBuilder) taskQueue(name string) *taskqueuepb.TaskQueue {
	if name == "" {
		name = b.queue
	}
	return &taskqueuepb.TaskQueue{Name: name, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}
}

// queueName is the task queue name of a durable queue.
func queueName(q string) string {
	if q == "" {
		return durable.QueueDefault
	}
	return q
}

func (b *historyBuilder) event(he *durable.HistoryEvent) error {
	at := he.At
	switch he.Kind {
	case durable.EventStarted:
		return b.started(he)
	case durable.EventFirstStep:
		return nil

	case durable.EventActivityScheduled:
		if he.Local {
			b.locals[he.ID] = *he
			return nil
		}
		input, err := b.payloadsArray(he.Args)
		if err != nil {
			return err
		}
		b.command()
		b.activityNames[he.ID] = he.Activity
		// Temporal's Go SDK names an activity (and a timer) by the ID
		// of the event that schedules it.
		b.activities[he.ID] = b.add(at, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
				ActivityId: strconv.FormatInt(ev.EventId, 10), ActivityType: &commonpb.ActivityType{Name: he.Activity},
				TaskQueue: b.taskQueue(he.Queue), Input: input, WorkflowTaskCompletedEventId: b.completed,
			}}
		}).EventId
	case durable.EventActivityCompleted, durable.EventActivityFailed:
		if l, ok := b.locals[he.ID]; ok {
			return b.localActivity(l, he)
		}
		return b.activityOutcome(he)
	case durable.EventActivityCancelRequested:
		scheduled, ok := b.activities[he.ID]
		if !ok {
			return nil // a local activity's: Temporal records none
		}
		b.command()
		b.cancels[he.ID] = b.add(at, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskCancelRequestedEventAttributes{ActivityTaskCancelRequestedEventAttributes: &historypb.ActivityTaskCancelRequestedEventAttributes{
				ScheduledEventId: scheduled, WorkflowTaskCompletedEventId: b.completed,
			}}
		}).EventId

	case durable.EventTimerStarted:
		d := he.Duration
		if d <= 0 && !he.FireAt.IsZero() {
			d = he.FireAt.Sub(at)
		}
		b.command()
		b.timers[he.ID] = b.add(at, enumspb.EVENT_TYPE_TIMER_STARTED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{
				TimerId: strconv.FormatInt(ev.EventId, 10), StartToFireTimeout: durationpb.New(max(d, 0)), WorkflowTaskCompletedEventId: b.completed,
			}}
		}).EventId
	case durable.EventTimerFired:
		b.inbound()
		b.add(at, enumspb.EVENT_TYPE_TIMER_FIRED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_TimerFiredEventAttributes{TimerFiredEventAttributes: &historypb.TimerFiredEventAttributes{
				TimerId: strconv.FormatInt(b.timers[he.ID], 10), StartedEventId: b.timers[he.ID],
			}}
		})
	case durable.EventTimerCanceled:
		b.command()
		b.add(at, enumspb.EVENT_TYPE_TIMER_CANCELED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_TimerCanceledEventAttributes{TimerCanceledEventAttributes: &historypb.TimerCanceledEventAttributes{
				TimerId: strconv.FormatInt(b.timers[he.ID], 10), StartedEventId: b.timers[he.ID], WorkflowTaskCompletedEventId: b.completed, Identity: historyIdentity,
			}}
		})

	case durable.EventSignalReceived:
		input, err := b.signalInput(he.Args)
		if err != nil {
			return err
		}
		b.inbound()
		b.signaled(at, he.Name, input)
	case durable.EventCancelRequested:
		b.inbound()
		b.cancelRequested(at, he.Reason)
	case durable.EventTerminated:
		b.flush()
		b.closed = true
		if he.Timeout {
			b.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, func(ev *historypb.HistoryEvent) {
				ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes{WorkflowExecutionTimedOutEventAttributes: &historypb.WorkflowExecutionTimedOutEventAttributes{
					RetryState: enumspb.RETRY_STATE_TIMEOUT,
				}}
			})
			return nil
		}
		b.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{
				Reason: he.Reason, Identity: historyIdentity,
			}}
		})

	case durable.EventSideEffect:
		// Temporal's SDK numbers side effects from 1, apart from other
		// commands.
		b.sideEffects++
		id, err := b.payloads(json.RawMessage(strconv.Itoa(b.sideEffects)))
		if err != nil {
			return err
		}
		data, err := b.payloads(he.Result)
		if err != nil {
			return err
		}
		b.command()
		b.marker(at, "SideEffect", map[string]*commonpb.Payloads{"side-effect-id": id, "data": data}, nil)
	case durable.EventVersion:
		change, err := b.payloads(jsonString(he.Name))
		if err != nil {
			return err
		}
		version, err := b.payloads(json.RawMessage(strconv.Itoa(he.Version)))
		if err != nil {
			return err
		}
		// Temporal's SDK also upserts the TemporalChangeVersion search
		// attribute, unless the marker says it did not; durable.Version
		// upserts nothing.
		updated, err := b.payloads(json.RawMessage("false"))
		if err != nil {
			return err
		}
		b.command()
		b.marker(at, "Version", map[string]*commonpb.Payloads{"change-id": change, "version": version, "version-search-attribute-updated": updated}, nil)
	case durable.EventAttributesUpserted:
		return b.upserted(he)

	case durable.EventChildStarted:
		return b.childStarted(he)
	case durable.EventChildCompleted, durable.EventChildFailed:
		return b.childOutcome(he)
	case durable.EventChildCancelRequested:
		c := b.children[he.ID]
		if c == nil {
			return fmt.Errorf("child %d was not started in this history", he.ID)
		}
		b.command()
		b.externalCancel(at, c.workflowID, c.runID, true, nil)
	case durable.EventExternalSignaled:
		return b.externalSignal(he)
	case durable.EventExternalCancelRequested:
		b.command()
		b.externalCancel(at, he.WorkflowID, "", false, he.Failure)

	case durable.EventUpdateAccepted:
		args, err := b.payloadsArray(he.Args)
		if err != nil {
			return err
		}
		// Temporal writes the acceptance with the workflow task that
		// ran the validator.
		b.inbound()
		b.command()
		b.updates[he.UpdateID] = b.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
				ProtocolInstanceId: he.UpdateID, AcceptedRequestMessageId: he.UpdateID + "/request",
				AcceptedRequest: &updatepb.Request{
					Meta:  &updatepb.Meta{UpdateId: he.UpdateID, Identity: historyIdentity},
					Input: &updatepb.Input{Name: he.Name, Args: args},
				},
			}}
		}).EventId
	case durable.EventUpdateRejected:
		return nil // a rejected update leaves no trace in Temporal's history
	case durable.EventUpdateCompleted:
		outcome := &updatepb.Outcome{}
		if he.Failure != nil || he.Error != "" {
			f, err := b.failure(failureOrMessage(he.Failure, he.Error))
			if err != nil {
				return err
			}
			outcome.Value = &updatepb.Outcome_Failure{Failure: f}
		} else {
			res, err := b.payloads(he.Result)
			if err != nil {
				return err
			}
			outcome.Value = &updatepb.Outcome_Success{Success: res}
		}
		b.command()
		b.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionUpdateCompletedEventAttributes{WorkflowExecutionUpdateCompletedEventAttributes: &historypb.WorkflowExecutionUpdateCompletedEventAttributes{
				Meta: &updatepb.Meta{UpdateId: he.UpdateID}, AcceptedEventId: b.updates[he.UpdateID], Outcome: outcome,
			}}
		})

	case durable.EventCompleted, durable.EventFailed, durable.EventCanceled, durable.EventContinuedAsNew:
		return b.close(he)
	default:
		return fmt.Errorf("no Temporal event for journal event kind %q", he.Kind)
	}
	return nil
}

func (b *historyBuilder) started(he *durable.HistoryEvent) error {
	input, err := b.payloadsArray(he.Args)
	if err != nil {
		return err
	}
	memo, err := b.fields(he.Memo)
	if err != nil {
		return fmt.Errorf("memo: %w", err)
	}
	search, err := b.fields(he.SearchAttributes)
	if err != nil {
		return fmt.Errorf("search attributes: %w", err)
	}
	a := &historypb.WorkflowExecutionStartedEventAttributes{
		WorkflowType: &commonpb.WorkflowType{Name: he.Workflow}, TaskQueue: b.taskQueue(he.Queue), Input: input,
		Attempt: int32(max(he.Attempt, 1)), CronSchedule: he.CronSchedule, ContinuedExecutionRunId: he.ContinuedRunID,
		OriginalExecutionRunId: b.run.RunID, Identity: historyIdentity,
		WorkflowId: he.WorkflowID, RetryPolicy: retryPolicy(he.RetryPolicy),
	}
	if a.WorkflowId == "" {
		a.WorkflowId = b.run.WorkflowID
	}
	if he.ContinuedRunID == "" {
		a.FirstExecutionRunId = b.run.RunID
	}
	if len(memo) > 0 {
		a.Memo = &commonpb.Memo{Fields: memo}
	}
	if len(search) > 0 {
		a.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: search}
	}
	if he.ExecutionTimeout > 0 {
		a.WorkflowExecutionTimeout = durationpb.New(he.ExecutionTimeout)
	}
	if he.RunTimeout > 0 {
		a.WorkflowRunTimeout = durationpb.New(he.RunTimeout)
	}
	if !he.Deadline.IsZero() {
		a.WorkflowExecutionExpirationTime = timestamppb.New(he.Deadline)
	}
	if he.ParentWorkflowID != "" {
		a.ParentWorkflowNamespace = durable.Namespace
		a.ParentWorkflowExecution = &commonpb.WorkflowExecution{WorkflowId: he.ParentWorkflowID, RunId: he.ParentRunID}
	}
	if he.ContinuedRunID != "" {
		switch {
		case he.Attempt > 1:
			a.Initiator = enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY
		case he.CronSchedule != "":
			a.Initiator = enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE
		default:
			a.Initiator = enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
		}
	}
	b.add(he.At, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: a}
	})
	b.needTask = true
	return nil
}

// activityOutcome appends ActivityTaskStarted and the outcome of an
// activity: Temporal records the start of the attempt that ended it when
// it ends.
func (b *historyBuilder) activityOutcome(he *durable.HistoryEvent) error {
	scheduled, ok := b.activities[he.ID]
	if !ok {
		return fmt.Errorf("activity %d was not scheduled in this history", he.ID)
	}
	var (
		res *commonpb.Payloads
		f   *failurepb.Failure
		err error
	)
	if he.Kind == durable.EventActivityCompleted {
		res, err = b.payloads(he.Result)
	} else {
		f, err = b.failure(failureOrMessage(he.Failure, he.Error))
	}
	if err != nil {
		return err
	}
	b.inbound()
	started := b.add(he.At, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
			ScheduledEventId: scheduled, Identity: historyIdentity, Attempt: int32(max(he.Attempt, 1)),
		}}
	}).EventId
	switch {
	case he.Kind == durable.EventActivityCompleted:
		b.add(he.At, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
				Result: res, ScheduledEventId: scheduled, StartedEventId: started, Identity: historyIdentity,
			}}
		})
	case f.GetTimeoutFailureInfo() != nil:
		b.add(he.At, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes{ActivityTaskTimedOutEventAttributes: &historypb.ActivityTaskTimedOutEventAttributes{
				Failure: f, ScheduledEventId: scheduled, StartedEventId: started, RetryState: enumspb.RETRY_STATE_TIMEOUT,
			}}
		})
	case f.GetCanceledFailureInfo() != nil:
		b.add(he.At, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskCanceledEventAttributes{ActivityTaskCanceledEventAttributes: &historypb.ActivityTaskCanceledEventAttributes{
				Details: f.GetCanceledFailureInfo().GetDetails(), LatestCancelRequestedEventId: b.cancels[he.ID],
				ScheduledEventId: scheduled, StartedEventId: started, Identity: historyIdentity,
			}}
		})
	default:
		b.add(he.At, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
				Failure: f, ScheduledEventId: scheduled, StartedEventId: started, Identity: historyIdentity, RetryState: retryState(f),
			}}
		})
	}
	return nil
}

// localActivityMarker is the data Temporal's SDK records in a
// LocalActivity marker's "data" detail.
type localActivityMarker struct {
	ActivityID   string    `json:"ActivityID"`
	ActivityType string    `json:"ActivityType"`
	ReplayTime   time.Time `json:"ReplayTime"`
	Attempt      int32     `json:"Attempt"`
}

// localActivity appends the LocalActivity marker of a local activity's
// outcome: Temporal records local activities as markers of the workflow
// task that ran them.
func (b *historyBuilder) localActivity(l durable.HistoryEvent, he *durable.HistoryEvent) error {
	// Temporal's SDK numbers local activities from 1, apart from other
	// commands.
	b.localActivities++
	raw, err := json.Marshal(localActivityMarker{ActivityID: strconv.Itoa(b.localActivities), ActivityType: l.Activity, ReplayTime: l.At.UTC(), Attempt: int32(max(he.Attempt, 1))})
	if err != nil {
		return err
	}
	data, err := b.payloads(raw)
	if err != nil {
		return err
	}
	details := map[string]*commonpb.Payloads{"data": data}
	var f *failurepb.Failure
	if he.Kind == durable.EventActivityCompleted {
		if details["result"], err = b.payloads(he.Result); err != nil {
			return err
		}
	} else if f, err = b.failure(failureOrMessage(he.Failure, he.Error)); err != nil {
		return err
	}
	b.command()
	b.marker(he.At, "LocalActivity", details, f)
	return nil
}

func (b *historyBuilder) marker(at time.Time, name string, details map[string]*commonpb.Payloads, f *failurepb.Failure) {
	b.add(at, enumspb.EVENT_TYPE_MARKER_RECORDED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
			MarkerName: name, Details: details, WorkflowTaskCompletedEventId: b.completed, Failure: f,
		}}
	})
}

func (b *historyBuilder) signaled(at time.Time, name string, input *commonpb.Payloads) {
	b.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
			SignalName: name, Input: input, Identity: historyIdentity,
		}}
	})
}

func (b *historyBuilder) cancelRequested(at time.Time, reason string) {
	b.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCancelRequestedEventAttributes{WorkflowExecutionCancelRequestedEventAttributes: &historypb.WorkflowExecutionCancelRequestedEventAttributes{
			Cause: reason, Identity: historyIdentity,
		}}
	})
}

func (b *historyBuilder) upserted(he *durable.HistoryEvent) error {
	memo, err := b.fields(he.Memo)
	if err != nil {
		return fmt.Errorf("memo: %w", err)
	}
	search, err := b.fields(he.SearchAttributes)
	if err != nil {
		return fmt.Errorf("search attributes: %w", err)
	}
	b.command()
	if len(search) > 0 {
		b.add(he.At, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
				SearchAttributes: &commonpb.SearchAttributes{IndexedFields: search}, WorkflowTaskCompletedEventId: b.completed,
			}}
		})
	}
	if len(memo) > 0 {
		b.add(he.At, enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowPropertiesModifiedEventAttributes{WorkflowPropertiesModifiedEventAttributes: &historypb.WorkflowPropertiesModifiedEventAttributes{
				UpsertedMemo: &commonpb.Memo{Fields: memo}, WorkflowTaskCompletedEventId: b.completed,
			}}
		})
	}
	return nil
}

func (b *historyBuilder) childStarted(he *durable.HistoryEvent) error {
	input, err := b.payloadsArray(he.Args)
	if err != nil {
		return err
	}
	var f *failurepb.Failure
	if he.Failure != nil || he.Error != "" {
		if f, err = b.failure(failureOrMessage(he.Failure, he.Error)); err != nil {
			return err
		}
	}
	b.command()
	c := &childEvents{workflowID: he.WorkflowID, runID: he.RunID, workflow: he.Workflow}
	b.children[he.ID] = c
	wfType := &commonpb.WorkflowType{Name: he.Workflow}
	c.initiated = b.add(he.At, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes{StartChildWorkflowExecutionInitiatedEventAttributes: &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{
			Namespace: durable.Namespace, WorkflowId: he.WorkflowID, WorkflowType: wfType, TaskQueue: b.taskQueue(""),
			Input: input, WorkflowTaskCompletedEventId: b.completed,
		}}
	}).EventId
	b.deferred = append(b.deferred, func(at time.Time) {
		if f != nil {
			b.add(at, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED, func(ev *historypb.HistoryEvent) {
				ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionFailedEventAttributes{StartChildWorkflowExecutionFailedEventAttributes: &historypb.StartChildWorkflowExecutionFailedEventAttributes{
					Namespace: durable.Namespace, WorkflowId: he.WorkflowID, WorkflowType: wfType,
					Cause: enumspb.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS, InitiatedEventId: c.initiated,
					WorkflowTaskCompletedEventId: b.completed,
				}}
			})
			return
		}
		c.started = b.add(at, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes{ChildWorkflowExecutionStartedEventAttributes: &historypb.ChildWorkflowExecutionStartedEventAttributes{
				Namespace: durable.Namespace, InitiatedEventId: c.initiated, WorkflowType: wfType,
				WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: he.WorkflowID, RunId: he.RunID},
			}}
		}).EventId
	})
	return nil
}

func (b *historyBuilder) childOutcome(he *durable.HistoryEvent) error {
	c := b.children[he.ID]
	if c == nil {
		return fmt.Errorf("child %d was not started in this history", he.ID)
	}
	var (
		res *commonpb.Payloads
		f   *failurepb.Failure
		err error
	)
	if he.Kind == durable.EventChildCompleted {
		res, err = b.payloads(he.Result)
	} else {
		f, err = b.failure(failureOrMessage(he.Failure, he.Error))
	}
	if err != nil {
		return err
	}
	b.inbound()
	exec := &commonpb.WorkflowExecution{WorkflowId: c.workflowID, RunId: c.runID}
	wfType := &commonpb.WorkflowType{Name: c.workflow}
	switch {
	case res != nil || f == nil:
		b.add(he.At, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCompletedEventAttributes{ChildWorkflowExecutionCompletedEventAttributes: &historypb.ChildWorkflowExecutionCompletedEventAttributes{
				Result: res, Namespace: durable.Namespace, WorkflowExecution: exec, WorkflowType: wfType, InitiatedEventId: c.initiated, StartedEventId: c.started,
			}}
		})
	case f.GetCanceledFailureInfo() != nil:
		b.add(he.At, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCanceledEventAttributes{ChildWorkflowExecutionCanceledEventAttributes: &historypb.ChildWorkflowExecutionCanceledEventAttributes{
				Details: f.GetCanceledFailureInfo().GetDetails(), Namespace: durable.Namespace, WorkflowExecution: exec, WorkflowType: wfType, InitiatedEventId: c.initiated, StartedEventId: c.started,
			}}
		})
	case f.GetTimeoutFailureInfo() != nil:
		b.add(he.At, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTimedOutEventAttributes{ChildWorkflowExecutionTimedOutEventAttributes: &historypb.ChildWorkflowExecutionTimedOutEventAttributes{
				Namespace: durable.Namespace, WorkflowExecution: exec, WorkflowType: wfType, InitiatedEventId: c.initiated, StartedEventId: c.started, RetryState: enumspb.RETRY_STATE_TIMEOUT,
			}}
		})
	case f.GetTerminatedFailureInfo() != nil:
		b.add(he.At, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTerminatedEventAttributes{ChildWorkflowExecutionTerminatedEventAttributes: &historypb.ChildWorkflowExecutionTerminatedEventAttributes{
				Namespace: durable.Namespace, WorkflowExecution: exec, WorkflowType: wfType, InitiatedEventId: c.initiated, StartedEventId: c.started,
			}}
		})
	default:
		b.add(he.At, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionFailedEventAttributes{ChildWorkflowExecutionFailedEventAttributes: &historypb.ChildWorkflowExecutionFailedEventAttributes{
				Failure: f, Namespace: durable.Namespace, WorkflowExecution: exec, WorkflowType: wfType, InitiatedEventId: c.initiated, StartedEventId: c.started, RetryState: retryState(f),
			}}
		})
	}
	return nil
}

func (b *historyBuilder) externalSignal(he *durable.HistoryEvent) error {
	input, err := b.signalInput(he.Args)
	if err != nil {
		return err
	}
	b.command()
	exec := &commonpb.WorkflowExecution{WorkflowId: he.WorkflowID}
	initiated := b.add(he.At, enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionInitiatedEventAttributes{SignalExternalWorkflowExecutionInitiatedEventAttributes: &historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes{
			Namespace: durable.Namespace, WorkflowExecution: exec, SignalName: he.Name, Input: input, WorkflowTaskCompletedEventId: b.completed,
		}}
	}).EventId
	failed := he.Failure != nil || he.Error != ""
	b.deferred = append(b.deferred, func(at time.Time) {
		if failed {
			b.add(at, enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED, func(ev *historypb.HistoryEvent) {
				ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionFailedEventAttributes{SignalExternalWorkflowExecutionFailedEventAttributes: &historypb.SignalExternalWorkflowExecutionFailedEventAttributes{
					Cause: enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, Namespace: durable.Namespace,
					WorkflowExecution: exec, InitiatedEventId: initiated, WorkflowTaskCompletedEventId: b.completed,
				}}
			})
			return
		}
		b.add(at, enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionSignaledEventAttributes{ExternalWorkflowExecutionSignaledEventAttributes: &historypb.ExternalWorkflowExecutionSignaledEventAttributes{
				InitiatedEventId: initiated, Namespace: durable.Namespace, WorkflowExecution: exec,
			}}
		})
	})
	return nil
}

// externalCancel appends RequestCancelExternalWorkflowExecutionInitiated
// and defers its answer.
func (b *historyBuilder) externalCancel(at time.Time, workflowID, runID string, childOnly bool, failure *durable.Failure) {
	exec := &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: runID}
	initiated := b.add(at, enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{RequestCancelExternalWorkflowExecutionInitiatedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{
			Namespace: durable.Namespace, WorkflowExecution: exec, ChildWorkflowOnly: childOnly, WorkflowTaskCompletedEventId: b.completed,
		}}
	}).EventId
	b.deferred = append(b.deferred, func(at time.Time) {
		if failure != nil {
			b.add(at, enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED, func(ev *historypb.HistoryEvent) {
				ev.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionFailedEventAttributes{RequestCancelExternalWorkflowExecutionFailedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
					Cause: enumspb.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, Namespace: durable.Namespace,
					WorkflowExecution: exec, InitiatedEventId: initiated, WorkflowTaskCompletedEventId: b.completed,
				}}
			})
			return
		}
		b.add(at, enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionCancelRequestedEventAttributes{ExternalWorkflowExecutionCancelRequestedEventAttributes: &historypb.ExternalWorkflowExecutionCancelRequestedEventAttributes{
				InitiatedEventId: initiated, Namespace: durable.Namespace, WorkflowExecution: exec,
			}}
		})
	})
}

// close appends the run's close event.
func (b *historyBuilder) close(he *durable.HistoryEvent) error {
	var f *failurepb.Failure
	if he.Kind == durable.EventFailed || he.Kind == durable.EventCanceled {
		var err error
		if f, err = b.failure(failureOrMessage(he.Failure, he.Error)); err != nil {
			return err
		}
	}
	if he.Kind == durable.EventFailed && he.Failure != nil && he.Failure.Kind == "timeout" && he.Failure.Timeout == "Execution" {
		// The run timed out (its RunTimeout): the server closes it,
		// without a workflow task.
		b.flush()
		b.closed = true
		b.add(he.At, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes{WorkflowExecutionTimedOutEventAttributes: &historypb.WorkflowExecutionTimedOutEventAttributes{
				RetryState: enumspb.RETRY_STATE_TIMEOUT, NewExecutionRunId: he.RunID,
			}}
		})
		return nil
	}
	var (
		res, input *commonpb.Payloads
		err        error
	)
	switch he.Kind {
	case durable.EventCompleted:
		res, err = b.payloads(he.Result)
	case durable.EventContinuedAsNew:
		input, err = b.payloadsArray(he.Args)
	}
	if err != nil {
		return err
	}
	b.flush()
	b.command()
	b.closed = true
	switch he.Kind {
	case durable.EventCompleted:
		b.add(he.At, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
				Result: res, WorkflowTaskCompletedEventId: b.completed, NewExecutionRunId: b.run.NextRunID,
			}}
		})
	case durable.EventFailed:
		state := enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET
		if he.RunID != "" {
			state = enumspb.RETRY_STATE_IN_PROGRESS
		}
		b.add(he.At, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{
				Failure: f, RetryState: state, WorkflowTaskCompletedEventId: b.completed, NewExecutionRunId: he.RunID,
			}}
		})
	case durable.EventCanceled:
		b.add(he.At, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes{WorkflowExecutionCanceledEventAttributes: &historypb.WorkflowExecutionCanceledEventAttributes{
				Details: f.GetCanceledFailureInfo().GetDetails(), WorkflowTaskCompletedEventId: b.completed,
			}}
		})
	case durable.EventContinuedAsNew:
		b.add(he.At, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, func(ev *historypb.HistoryEvent) {
			ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
				NewExecutionRunId: he.RunID, WorkflowType: &commonpb.WorkflowType{Name: he.Workflow}, TaskQueue: b.taskQueue(""),
				Input: input, WorkflowTaskCompletedEventId: b.completed, Initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
			}}
		})
	}
	return nil
}

// inbox appends what reached an open run and its code has not taken:
// signals and a cancellation request, then the workflow task Temporal
// schedules for them.
func (b *historyBuilder) inbox(items []durable.InboxEntry) error {
	n := 0
	for _, it := range items {
		switch it.Kind {
		case "signal":
			input, err := b.signalInput(it.Data)
			if err != nil {
				return fmt.Errorf("signal %s: %w", it.Name, err)
			}
			b.signaled(it.At, it.Name, input)
		case "cancel":
			b.cancelRequested(it.At, "")
		default:
			continue
		}
		n++
	}
	if n > 0 {
		b.scheduleTask(b.lastTime())
	}
	return nil
}

// payloadEncoder returns how a JSON value becomes a payload: json/plain,
// then through the Temporal codecs or data converter codec holds (see
// HistoryOptions.Codec).
func payloadEncoder(codec durable.PayloadCodec) func(json.RawMessage) (*commonpb.Payload, error) {
	switch c := codec.(type) {
	case *payloadCodec:
		return func(raw json.RawMessage) (*commonpb.Payload, error) {
			ps := []*commonpb.Payload{jsonPayload(append([]byte(nil), raw...))}
			var err error
			for i := len(c.codecs) - 1; i >= 0; i-- {
				if ps, err = c.codecs[i].Encode(ps); err != nil {
					return nil, fmt.Errorf("payload codec %T: encode: %w", c.codecs[i], err)
				}
			}
			if len(ps) != 1 {
				return nil, fmt.Errorf("payload codecs encoded one payload into %d", len(ps))
			}
			return ps[0], nil
		}
	case *dataConverterCodec:
		return func(raw json.RawMessage) (*commonpb.Payload, error) {
			p, err := c.dc.ToPayload(raw)
			if err != nil {
				return nil, fmt.Errorf("data converter %T: encode: %w", c.dc, err)
			}
			return p, nil
		}
	}
	return func(raw json.RawMessage) (*commonpb.Payload, error) {
		return jsonPayload(append([]byte(nil), raw...)), nil
	}
}

// payloads is one value as Payloads (a result, a marker detail).
func (b *historyBuilder) payloads(raw json.RawMessage) (*commonpb.Payloads, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	p, err := b.enc(raw)
	if err != nil {
		return nil, err
	}
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{p}}, nil
}

// signalInput is a signal's argument as Payloads: none when the signal
// carried nothing.
func (b *historyBuilder) signalInput(raw json.RawMessage) (*commonpb.Payloads, error) {
	return b.payloads(raw)
}

// payloadsArray is an argument list (a JSON array) as Payloads, one per
// argument; nil when there are none.
func (b *historyBuilder) payloadsArray(raw json.RawMessage) (*commonpb.Payloads, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var args []json.RawMessage
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, fmt.Errorf("arguments are not a JSON array: %w", err)
	}
	if len(args) == 0 {
		return nil, nil
	}
	out := &commonpb.Payloads{Payloads: make([]*commonpb.Payload, len(args))}
	for i, a := range args {
		p, err := b.enc(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		out.Payloads[i] = p
	}
	return out, nil
}

// fields is memo or search attribute values as payloads.
func (b *historyBuilder) fields(m map[string]json.RawMessage) (map[string]*commonpb.Payload, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]*commonpb.Payload, len(m))
	for k, v := range m {
		p, err := b.enc(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = p
	}
	return out, nil
}

// failureOrMessage is the failure an event records, or one made from its
// rendered error when it records only that.
func failureOrMessage(f *durable.Failure, msg string) *durable.Failure {
	if f != nil {
		return f
	}
	return &durable.Failure{Kind: "application", Message: msg}
}

// failure converts a durable failure into Temporal's, the reverse of
// compat/replay's: message, stack, application error type, non-retryable
// flag and details, timeout type, cancellation, termination and cause.
func (b *historyBuilder) failure(f *durable.Failure) (*failurepb.Failure, error) {
	if f == nil {
		return nil, nil
	}
	out := &failurepb.Failure{Message: f.Message, StackTrace: f.Stack, Source: "GoSDK"}
	var details *commonpb.Payloads
	if len(f.Details) > 0 {
		var err error
		if details, err = b.payloadsArray(f.Details); err != nil {
			return nil, fmt.Errorf("failure details: %w", err)
		}
	}
	switch f.Kind {
	case "timeout":
		out.FailureInfo = &failurepb.Failure_TimeoutFailureInfo{TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: timeoutType(f.Timeout)}}
	case "canceled":
		out.FailureInfo = &failurepb.Failure_CanceledFailureInfo{CanceledFailureInfo: &failurepb.CanceledFailureInfo{Details: details}}
	case "terminated":
		out.FailureInfo = &failurepb.Failure_TerminatedFailureInfo{TerminatedFailureInfo: &failurepb.TerminatedFailureInfo{}}
	default:
		typ := f.Type
		if typ == "" && f.Kind == "panic" {
			typ = "PanicError"
		}
		out.FailureInfo = &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{
			Type: typ, NonRetryable: f.NonRetryable, Details: details,
		}}
	}
	if f.Cause != nil {
		cause, err := b.failure(f.Cause)
		if err != nil {
			return nil, err
		}
		out.Cause = cause
	}
	return out, nil
}

// timeoutType is Temporal's timeout type of a durable.TimeoutError kind.
func timeoutType(kind string) enumspb.TimeoutType {
	switch kind {
	case "StartToClose":
		return enumspb.TIMEOUT_TYPE_START_TO_CLOSE
	case "ScheduleToClose":
		return enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
	case "ScheduleToStart":
		return enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START
	case "Heartbeat":
		return enumspb.TIMEOUT_TYPE_HEARTBEAT
	}
	return enumspb.TIMEOUT_TYPE_START_TO_CLOSE
}

// retryState says why a failure was final: a non-retryable error, or the
// retry policy's attempts ran out (the durable runtime records only the
// last attempt's failure).
func retryState(f *failurepb.Failure) enumspb.RetryState {
	if f.GetApplicationFailureInfo().GetNonRetryable() {
		return enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
	}
	return enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
}

// retryPolicy is a durable retry policy in Temporal's form.
func retryPolicy(p *durable.RetryPolicy) *commonpb.RetryPolicy {
	if p == nil {
		return nil
	}
	out := &commonpb.RetryPolicy{
		BackoffCoefficient: p.BackoffCoefficient, MaximumAttempts: int32(p.MaximumAttempts),
		NonRetryableErrorTypes: p.NonRetryableErrorTypes,
	}
	if p.InitialInterval > 0 {
		out.InitialInterval = durationpb.New(p.InitialInterval)
	}
	if p.MaximumInterval > 0 {
		out.MaximumInterval = durationpb.New(p.MaximumInterval)
	}
	return out
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

var _ client.HistoryEventIterator = (*historyIterator)(nil)
