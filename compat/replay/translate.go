package replay

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Journal is a Temporal history translated into a durable journal.
type Journal struct {
	WorkflowID string // from the WorkflowExecutionStarted event ("" in old histories)
	Workflow   string // the workflow type
	// Closed is true when the history ends with the run's close, so that
	// the code's ending is compared too.
	Closed bool
	items  []item
}

// Source names the Temporal event a journal event was made from.
type Source struct {
	EventID   int64
	EventType string // as in the Temporal UI: "ActivityTaskScheduled"
	Desc      string // what the history says, e.g. `activity Charge("o-1", 42)`
}

// typesState says where an activity's argument types come from: a Temporal
// history does not record Go types.
type typesState int

const (
	typesKnown     typesState = iota // no arguments, or not an activity
	typesUnknown                     // not seen from the code yet
	typesGuessed                     // copied from an earlier call of the same activity
	typesConfirmed                   // taken from the code's call at this very event
)

type item struct {
	kind  journal.Kind
	data  any
	at    time.Time
	src   Source
	batch int // inbound events and the commands that answer them share a batch
	types typesState
	nargs int // number of arguments; -1 when the history does not say (local activities)
}

// Events returns the journal's events, numbered from 1.
func (j *Journal) Events() []store.Event {
	evs := make([]store.Event, len(j.items))
	for i, it := range j.items {
		evs[i] = store.Event{Seq: int64(i + 1), Kind: it.kind, Data: journal.Encode(it.data), At: it.at}
	}
	return evs
}

// Sources returns, for each journal event, the Temporal event it was made
// from, in the same order as Events.
func (j *Journal) Sources() []Source {
	srcs := make([]Source, len(j.items))
	for i, it := range j.items {
		srcs[i] = it.src
	}
	return srcs
}

// UnsupportedEventError reports a history event the durable runtime has no
// equivalent for (Nexus operations, mutable side effects, ...).
type UnsupportedEventError struct {
	EventID   int64
	EventType string
	Reason    string
}

func (e *UnsupportedEventError) Error() string {
	return fmt.Sprintf("replay: event %d (%s): %s", e.EventID, e.EventType, e.Reason)
}

type translator struct {
	j         *Journal
	nextID    int64
	ids       map[int64]int64 // Temporal scheduled/started/initiated event ID -> command ID
	index     map[int64]int   // Temporal event ID -> item index, for events patched later
	names     map[int64]string
	batch     int
	commanded bool // the current batch has commands
}

// Translate turns a Temporal history into a durable journal. Events that
// carry nothing the converted code observes (workflow tasks, activity
// starts, search attribute upserts, ...) are skipped.
func Translate(h *historypb.History) (*Journal, error) {
	t := &translator{j: &Journal{}, ids: map[int64]int64{}, index: map[int64]int{}, names: map[int64]string{}}
	for _, ev := range h.GetEvents() {
		if err := t.event(ev); err != nil {
			return nil, err
		}
	}
	if len(t.j.items) == 0 || t.j.items[0].kind != journal.Started {
		return nil, fmt.Errorf("replay: history does not start with WorkflowExecutionStarted")
	}
	t.j.arrange()
	return t.j, nil
}

// EventTypeName renders an event type as Temporal's UI does:
// EVENT_TYPE_ACTIVITY_TASK_SCHEDULED becomes ActivityTaskScheduled.
func EventTypeName(t enumspb.EventType) string {
	s := t.String()
	if !strings.HasPrefix(s, "EVENT_TYPE_") {
		return s // the API's enums already print this way
	}
	parts := strings.Split(strings.TrimPrefix(s, "EVENT_TYPE_"), "_")
	var b strings.Builder
	for _, p := range parts {
		for i, r := range strings.ToLower(p) {
			if i == 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (t *translator) add(ev *historypb.HistoryEvent, kind journal.Kind, data any, desc string) *item {
	if journal.Inbound(kind) {
		if t.commanded {
			t.batch++
			t.commanded = false
		}
	} else {
		t.commanded = true
	}
	t.j.items = append(t.j.items, item{
		kind: kind, data: data, at: ev.GetEventTime().AsTime(), batch: t.batch,
		src: Source{EventID: ev.GetEventId(), EventType: EventTypeName(ev.GetEventType()), Desc: desc},
	})
	t.index[ev.GetEventId()] = len(t.j.items) - 1
	return &t.j.items[len(t.j.items)-1]
}

func (t *translator) newID(ev *historypb.HistoryEvent) int64 {
	t.nextID++
	t.ids[ev.GetEventId()] = t.nextID
	return t.nextID
}

// command finds the command ID of the event that scheduled, started or
// initiated what ev completes.
func (t *translator) command(ev *historypb.HistoryEvent, ref int64) (int64, error) {
	id, ok := t.ids[ref]
	if !ok {
		return 0, &UnsupportedEventError{EventID: ev.GetEventId(), EventType: EventTypeName(ev.GetEventType()),
			Reason: fmt.Sprintf("refers to event %d, which the history does not have (a partial history?)", ref)}
	}
	return id, nil
}

func (t *translator) bad(ev *historypb.HistoryEvent, err error) error {
	return fmt.Errorf("replay: event %d (%s): %w", ev.GetEventId(), EventTypeName(ev.GetEventType()), err)
}

func (t *translator) event(ev *historypb.HistoryEvent) error {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
		a := ev.GetWorkflowExecutionStartedEventAttributes()
		args, err := payloadsArray(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		t.j.WorkflowID = a.GetWorkflowId()
		t.j.Workflow = a.GetWorkflowType().GetName()
		t.add(ev, journal.Started, &journal.StartedData{
			Workflow: t.j.Workflow, Args: args, Attempt: int(a.GetAttempt()),
			ParentID: a.GetParentWorkflowExecution().GetWorkflowId(), ParentRun: a.GetParentWorkflowExecution().GetRunId(),
			Continued: a.GetContinuedExecutionRunId(), Queue: a.GetTaskQueue().GetName(), WorkflowID: a.GetWorkflowId(),
		}, fmt.Sprintf("start %s%s", t.j.Workflow, compact(args, true)))

	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		a := ev.GetActivityTaskScheduledEventAttributes()
		args, err := payloadsArray(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		name := a.GetActivityType().GetName()
		t.names[ev.GetEventId()] = name
		it := t.add(ev, journal.ActivityScheduled, &journal.ActivityScheduledData{
			ID: t.newID(ev), Activity: name, Args: args, Queue: a.GetTaskQueue().GetName(),
		}, fmt.Sprintf("activity %s%s", name, compact(args, true)))
		it.nargs = len(a.GetInput().GetPayloads())
		if it.nargs > 0 {
			it.types = typesUnknown
		}
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		a := ev.GetActivityTaskCompletedEventAttributes()
		id, err := t.command(ev, a.GetScheduledEventId())
		if err != nil {
			return err
		}
		res, err := payloadsFirst(a.GetResult())
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, journal.ActivityCompleted, &journal.ResultData{ID: id, Result: res},
			fmt.Sprintf("activity %s returned %s", t.names[a.GetScheduledEventId()], compact(res, false)))
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		a := ev.GetActivityTaskFailedEventAttributes()
		return t.activityFailed(ev, a.GetScheduledEventId(), toFailure(a.GetFailure()))
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		a := ev.GetActivityTaskTimedOutEventAttributes()
		f := toFailure(a.GetFailure())
		if f == nil {
			f = &journal.Failure{Kind: "timeout", Message: "activity timed out"}
		}
		return t.activityFailed(ev, a.GetScheduledEventId(), f)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
		a := ev.GetActivityTaskCancelRequestedEventAttributes()
		id, err := t.command(ev, a.GetScheduledEventId())
		if err != nil {
			return err
		}
		t.add(ev, journal.ActivityCancelRequested, &journal.IDData{ID: id},
			"cancel activity "+t.names[a.GetScheduledEventId()])

	case enumspb.EVENT_TYPE_TIMER_STARTED:
		a := ev.GetTimerStartedEventAttributes()
		d := a.GetStartToFireTimeout().AsDuration()
		t.add(ev, journal.TimerStarted, &journal.TimerData{ID: t.newID(ev), FireAt: ev.GetEventTime().AsTime().Add(d)},
			"timer "+d.String())
	case enumspb.EVENT_TYPE_TIMER_FIRED:
		a := ev.GetTimerFiredEventAttributes()
		id, err := t.command(ev, a.GetStartedEventId())
		if err != nil {
			return err
		}
		t.add(ev, journal.TimerFired, &journal.TimerData{ID: id}, fmt.Sprintf("timer of event %d fired", a.GetStartedEventId()))
	case enumspb.EVENT_TYPE_TIMER_CANCELED:
		a := ev.GetTimerCanceledEventAttributes()
		id, err := t.command(ev, a.GetStartedEventId())
		if err != nil {
			return err
		}
		t.add(ev, journal.TimerCanceled, &journal.TimerData{ID: id}, fmt.Sprintf("cancel timer of event %d", a.GetStartedEventId()))

	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		a := ev.GetWorkflowExecutionSignaledEventAttributes()
		arg, err := payloadsFirst(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, journal.SignalReceived, &journal.SignalData{Name: a.GetSignalName(), Arg: arg},
			fmt.Sprintf("signal %q %s", a.GetSignalName(), compact(arg, false)))
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
		a := ev.GetWorkflowExecutionCancelRequestedEventAttributes()
		t.add(ev, journal.CancelRequested, &journal.CancelData{Reason: a.GetCause()}, "cancellation requested")
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		a := ev.GetWorkflowExecutionTerminatedEventAttributes()
		t.add(ev, journal.Terminated, &journal.CancelData{Reason: a.GetReason()}, "terminated: "+a.GetReason())
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		t.add(ev, journal.Terminated, &journal.CancelData{Reason: "workflow execution timed out"}, "timed out")

	case enumspb.EVENT_TYPE_MARKER_RECORDED:
		return t.marker(ev)

	case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
		a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes()
		args, err := payloadsArray(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		name := a.GetWorkflowType().GetName()
		t.names[ev.GetEventId()] = name
		t.add(ev, journal.ChildStarted, &journal.ChildStartedData{ID: t.newID(ev), Workflow: name, WorkflowID: a.GetWorkflowId(), Args: args},
			fmt.Sprintf("child %s%s", name, compact(args, true)))
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
		a := ev.GetChildWorkflowExecutionStartedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].data.(*journal.ChildStartedData).RunID = a.GetWorkflowExecution().GetRunId()
		}
	case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetStartChildWorkflowExecutionFailedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].data.(*journal.ChildStartedData).Error = &journal.Failure{
				Kind: "application", Type: "ChildWorkflowExecutionAlreadyStarted", NonRetryable: true,
				Message: fmt.Sprintf("child workflow %s: %s", a.GetWorkflowId(), a.GetCause()),
			}
		}
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
		a := ev.GetChildWorkflowExecutionCompletedEventAttributes()
		res, err := payloadsFirst(a.GetResult())
		if err != nil {
			return t.bad(ev, err)
		}
		return t.childResult(ev, a.GetInitiatedEventId(), journal.ChildCompleted, &journal.ResultData{Result: res}, "returned "+compact(res, false))
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetChildWorkflowExecutionFailedEventAttributes()
		f := toFailure(a.GetFailure())
		return t.childResult(ev, a.GetInitiatedEventId(), journal.ChildFailed, &journal.ResultData{Error: f}, "failed: "+f.Message)
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
		a := ev.GetChildWorkflowExecutionCanceledEventAttributes()
		return t.childResult(ev, a.GetInitiatedEventId(), journal.ChildFailed, &journal.ResultData{Error: &journal.Failure{Kind: "canceled", Message: "canceled"}}, "canceled")
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
		a := ev.GetChildWorkflowExecutionTimedOutEventAttributes()
		return t.childResult(ev, a.GetInitiatedEventId(), journal.ChildFailed, &journal.ResultData{Error: &journal.Failure{Kind: "timeout", Timeout: "Execution", Message: "child workflow timed out"}}, "timed out")
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
		a := ev.GetChildWorkflowExecutionTerminatedEventAttributes()
		return t.childResult(ev, a.GetInitiatedEventId(), journal.ChildFailed, &journal.ResultData{Error: &journal.Failure{Kind: "terminated", Message: "child workflow terminated"}}, "terminated")

	case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
		a := ev.GetSignalExternalWorkflowExecutionInitiatedEventAttributes()
		arg, err := payloadsFirst(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		target := a.GetWorkflowExecution().GetWorkflowId()
		t.add(ev, journal.ExternalSignaled, &journal.SignalData{ID: t.newID(ev), Name: a.GetSignalName(), Arg: arg, WorkflowID: target},
			fmt.Sprintf("signal %q %s to %s", a.GetSignalName(), compact(arg, false), target))
	case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetSignalExternalWorkflowExecutionFailedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].data.(*journal.SignalData).Error = &journal.Failure{Kind: "application", Type: "ExternalWorkflowNotFound", NonRetryable: true,
				Message: fmt.Sprintf("signal to workflow %s: %s", a.GetWorkflowExecution().GetWorkflowId(), a.GetCause())}
		}
	case enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
		a := ev.GetRequestCancelExternalWorkflowExecutionInitiatedEventAttributes()
		target := a.GetWorkflowExecution().GetWorkflowId()
		t.add(ev, journal.ExternalCancelRequested, &journal.CancelData{ID: t.newID(ev), WorkflowID: target}, "cancel workflow "+target)
	case enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetRequestCancelExternalWorkflowExecutionFailedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].data.(*journal.CancelData).Error = &journal.Failure{Kind: "application", Type: "ExternalWorkflowNotFound", NonRetryable: true,
				Message: fmt.Sprintf("cancel workflow %s: %s", a.GetWorkflowExecution().GetWorkflowId(), a.GetCause())}
		}

	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes()
		req := a.GetAcceptedRequest()
		args, err := payloadsArray(req.GetInput().GetArgs())
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, journal.UpdateAccepted, &journal.UpdateData{Update: req.GetMeta().GetUpdateId(), Name: req.GetInput().GetName(), Args: args},
			fmt.Sprintf("update %q%s", req.GetInput().GetName(), compact(args, true)))
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
		a := ev.GetWorkflowExecutionUpdateCompletedEventAttributes()
		d := &journal.ResultData{Update: a.GetMeta().GetUpdateId()}
		desc := "update " + d.Update + " completed"
		if f := a.GetOutcome().GetFailure(); f != nil {
			d.Error = toFailure(f)
			desc = "update " + d.Update + " failed: " + d.Error.Message
		} else {
			res, err := payloadsFirst(a.GetOutcome().GetSuccess())
			if err != nil {
				return t.bad(ev, err)
			}
			d.Result = res
			desc += " with " + compact(res, false)
		}
		t.add(ev, journal.UpdateCompleted, d, desc)

	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		a := ev.GetWorkflowExecutionCompletedEventAttributes()
		res, err := payloadsFirst(a.GetResult())
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, journal.Completed, &journal.CompletedData{Result: res}, "completed with "+compact(res, false))
		t.j.Closed = true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetWorkflowExecutionFailedEventAttributes()
		f := toFailure(a.GetFailure())
		if f == nil {
			f = &journal.Failure{Kind: "application", Message: "failed"}
		}
		t.add(ev, journal.Failed, &journal.FailedData{Error: f}, "failed: "+f.Message)
		t.j.Closed = true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		t.add(ev, journal.Canceled, &journal.FailedData{Error: &journal.Failure{Kind: "canceled", Message: "canceled"}}, "canceled")
		t.j.Closed = true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes()
		args, err := payloadsArray(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		name := a.GetWorkflowType().GetName()
		t.add(ev, journal.ContinuedAsNew, &journal.ContinuedData{Workflow: name, Args: args, NextRunID: a.GetNewExecutionRunId()},
			fmt.Sprintf("continue as new %s%s", name, compact(args, true)))
		t.j.Closed = true

	case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED, enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
		enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
		enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
		// Nothing the converted code observes.
	default:
		return &UnsupportedEventError{EventID: ev.GetEventId(), EventType: EventTypeName(ev.GetEventType()),
			Reason: "the durable runtime has no equivalent; see docs/unsupported.md"}
	}
	return nil
}

func (t *translator) activityFailed(ev *historypb.HistoryEvent, scheduled int64, f *journal.Failure) error {
	id, err := t.command(ev, scheduled)
	if err != nil {
		return err
	}
	t.add(ev, journal.ActivityFailed, &journal.ResultData{ID: id, Error: f},
		fmt.Sprintf("activity %s failed: %s", t.names[scheduled], f.Message))
	return nil
}

func (t *translator) childResult(ev *historypb.HistoryEvent, initiated int64, kind journal.Kind, d *journal.ResultData, what string) error {
	id, err := t.command(ev, initiated)
	if err != nil {
		return err
	}
	d.ID = id
	t.add(ev, kind, d, fmt.Sprintf("child %s %s", t.names[initiated], what))
	return nil
}

func (t *translator) marker(ev *historypb.HistoryEvent) error {
	a := ev.GetMarkerRecordedEventAttributes()
	details := a.GetDetails()
	switch a.GetMarkerName() {
	case "SideEffect":
		v, err := payloadsFirst(details["data"])
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, journal.SideEffectRecorded, &journal.SideEffectData{ID: t.newID(ev), Value: v}, "side effect = "+compact(v, false))
	case "Version":
		change, err := payloadsString(details["change-id"])
		if err != nil {
			return t.bad(ev, err)
		}
		raw, err := payloadsFirst(details["version"])
		if err != nil {
			return t.bad(ev, err)
		}
		var v int
		if err := json.Unmarshal(raw, &v); err != nil {
			return t.bad(ev, fmt.Errorf("version is not a number: %s", raw))
		}
		t.add(ev, journal.VersionMarker, &journal.VersionData{ChangeID: change, Version: v}, fmt.Sprintf("Version(%q) = %d", change, v))
	case "LocalActivity":
		raw, err := payloadsFirst(details["data"])
		if err != nil {
			return t.bad(ev, err)
		}
		var md struct{ ActivityType string }
		if err := json.Unmarshal(raw, &md); err != nil || md.ActivityType == "" {
			return t.bad(ev, fmt.Errorf("local activity marker without an activity type: %s", raw))
		}
		id := t.newID(ev)
		// The marker does not record the arguments: null, which replay
		// reads as "not recorded" rather than "none".
		it := t.add(ev, journal.ActivityScheduled, &journal.ActivityScheduledData{ID: id, Activity: md.ActivityType, Args: nil, Local: true},
			"local activity "+md.ActivityType+"(…)")
		it.nargs, it.types = -1, typesUnknown
		if f := a.GetFailure(); f != nil {
			jf := toFailure(f)
			t.add(ev, journal.ActivityFailed, &journal.ResultData{ID: id, Error: jf}, "local activity "+md.ActivityType+" failed: "+jf.Message)
			return nil
		}
		res, err := payloadsFirst(details["result"])
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, journal.ActivityCompleted, &journal.ResultData{ID: id, Result: res}, "local activity "+md.ActivityType+" returned "+compact(res, false))
	default:
		return &UnsupportedEventError{EventID: ev.GetEventId(), EventType: "MarkerRecorded",
			Reason: fmt.Sprintf("marker %q has no durable equivalent (MutableSideEffect: use SideEffect)", a.GetMarkerName())}
	}
	return nil
}

// arrange puts each batch's commands right after its first inbound event.
// The durable runtime delivers inbound events one at a time, and most
// often a workflow task that received several answered the first; Verify
// moves later inbound events forward when the code waits for them first.
func (j *Journal) arrange() {
	out := make([]item, 0, len(j.items))
	for i := 0; i < len(j.items); {
		k := i
		for k < len(j.items) && j.items[k].batch == j.items[i].batch {
			k++
		}
		var in, cmd []item
		for _, it := range j.items[i:k] {
			if journal.Inbound(it.kind) {
				in = append(in, it)
			} else {
				cmd = append(cmd, it)
			}
		}
		if len(in) > 0 {
			out = append(out, in[0])
			in = in[1:]
		}
		out = append(append(out, cmd...), in...)
		i = k
	}
	j.items = out
}

// compact renders a JSON value for a message, shortened; asArgs renders a
// JSON array as a parenthesised argument list.
func compact(raw json.RawMessage, asArgs bool) string {
	s := string(raw)
	var v any
	if json.Unmarshal(raw, &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			s = string(b)
		}
	}
	if asArgs && strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = "(" + s[1:len(s)-1] + ")"
	}
	if len(s) > 200 {
		s = s[:197] + "…"
	}
	return s
}
