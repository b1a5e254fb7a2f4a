package replay

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/durablego/toolkit/runtime/durable"
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
	ev    durable.HistoryEvent
	src   Source
	batch int // inbound events and the commands that answer them share a batch
	types typesState
	nargs int // number of arguments; -1 when the history does not say (local activities)
}

// Events returns the journal's events, numbered from 1, in the typed form
// durable.Engine.Replay takes.
func (j *Journal) Events() []durable.HistoryEvent {
	evs := make([]durable.HistoryEvent, len(j.items))
	for i, it := range j.items {
		evs[i] = it.ev
		evs[i].Seq = int64(i + 1)
		evs[i].Summary = it.src.Desc
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
	commanded bool   // the current batch has commands
	runID     string // the run's ID, which generated child workflow IDs start with
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
	if len(t.j.items) == 0 || t.j.items[0].ev.Kind != durable.EventStarted {
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

// add appends he, made from ev, to the journal.
func (t *translator) add(ev *historypb.HistoryEvent, he durable.HistoryEvent, desc string) *item {
	he.At = ev.GetEventTime().AsTime()
	if durable.InboundEvent(he.Kind) {
		if t.commanded {
			t.batch++
			t.commanded = false
		}
	} else {
		t.commanded = true
	}
	t.j.items = append(t.j.items, item{
		ev: he, batch: t.batch,
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
		t.runID = a.GetOriginalExecutionRunId()
		t.add(ev, durable.HistoryEvent{
			Kind: durable.EventStarted, Workflow: t.j.Workflow, Args: args, Attempt: int(a.GetAttempt()),
			ParentWorkflowID: a.GetParentWorkflowExecution().GetWorkflowId(), ParentRunID: a.GetParentWorkflowExecution().GetRunId(),
			ContinuedRunID: a.GetContinuedExecutionRunId(), Queue: a.GetTaskQueue().GetName(), WorkflowID: a.GetWorkflowId(),
		}, fmt.Sprintf("start %s%s", t.j.Workflow, compact(args, true)))

	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		a := ev.GetActivityTaskScheduledEventAttributes()
		args, err := payloadsArray(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		name := a.GetActivityType().GetName()
		t.names[ev.GetEventId()] = name
		it := t.add(ev, durable.HistoryEvent{
			Kind: durable.EventActivityScheduled, ID: t.newID(ev), Activity: name, Args: args, Queue: a.GetTaskQueue().GetName(),
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
		t.add(ev, durable.HistoryEvent{Kind: durable.EventActivityCompleted, ID: id, Result: res},
			fmt.Sprintf("activity %s returned %s", t.names[a.GetScheduledEventId()], compact(res, false)))
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		a := ev.GetActivityTaskFailedEventAttributes()
		return t.activityFailed(ev, a.GetScheduledEventId(), toFailure(a.GetFailure()))
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		a := ev.GetActivityTaskTimedOutEventAttributes()
		f := toFailure(a.GetFailure())
		if f == nil {
			f = &durable.Failure{Kind: "timeout", Message: "activity timed out"}
		}
		return t.activityFailed(ev, a.GetScheduledEventId(), f)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
		a := ev.GetActivityTaskCancelRequestedEventAttributes()
		id, err := t.command(ev, a.GetScheduledEventId())
		if err != nil {
			return err
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventActivityCancelRequested, ID: id},
			"cancel activity "+t.names[a.GetScheduledEventId()])

	case enumspb.EVENT_TYPE_TIMER_STARTED:
		a := ev.GetTimerStartedEventAttributes()
		d := a.GetStartToFireTimeout().AsDuration()
		t.add(ev, durable.HistoryEvent{Kind: durable.EventTimerStarted, ID: t.newID(ev), Duration: d, FireAt: ev.GetEventTime().AsTime().Add(d)},
			"timer "+d.String())
	case enumspb.EVENT_TYPE_TIMER_FIRED:
		a := ev.GetTimerFiredEventAttributes()
		id, err := t.command(ev, a.GetStartedEventId())
		if err != nil {
			return err
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventTimerFired, ID: id}, fmt.Sprintf("timer of event %d fired", a.GetStartedEventId()))
	case enumspb.EVENT_TYPE_TIMER_CANCELED:
		a := ev.GetTimerCanceledEventAttributes()
		id, err := t.command(ev, a.GetStartedEventId())
		if err != nil {
			return err
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventTimerCanceled, ID: id}, fmt.Sprintf("cancel timer of event %d", a.GetStartedEventId()))

	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		a := ev.GetWorkflowExecutionSignaledEventAttributes()
		arg, err := payloadsFirst(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventSignalReceived, Name: a.GetSignalName(), Args: arg},
			fmt.Sprintf("signal %q %s", a.GetSignalName(), compact(arg, false)))
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
		a := ev.GetWorkflowExecutionCancelRequestedEventAttributes()
		t.add(ev, durable.HistoryEvent{Kind: durable.EventCancelRequested, Reason: a.GetCause()}, "cancellation requested")
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		a := ev.GetWorkflowExecutionTerminatedEventAttributes()
		t.add(ev, durable.HistoryEvent{Kind: durable.EventTerminated, Reason: a.GetReason()}, "terminated: "+a.GetReason())
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		t.add(ev, durable.HistoryEvent{Kind: durable.EventTerminated, Reason: "workflow execution timed out"}, "timed out")

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
		t.add(ev, durable.HistoryEvent{Kind: durable.EventChildStarted, ID: t.newID(ev), Workflow: name, WorkflowID: t.childID(a.GetWorkflowId()), Args: args},
			fmt.Sprintf("child %s%s as %s", name, compact(args, true), a.GetWorkflowId()))
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
		a := ev.GetChildWorkflowExecutionStartedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].ev.RunID = a.GetWorkflowExecution().GetRunId()
		}
	case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetStartChildWorkflowExecutionFailedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].ev.Failure = &durable.Failure{
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
		return t.childResult(ev, a.GetInitiatedEventId(), durable.HistoryEvent{Kind: durable.EventChildCompleted, Result: res}, "returned "+compact(res, false))
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetChildWorkflowExecutionFailedEventAttributes()
		f := toFailure(a.GetFailure())
		return t.childResult(ev, a.GetInitiatedEventId(), durable.HistoryEvent{Kind: durable.EventChildFailed, Failure: f}, "failed: "+f.Message)
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
		a := ev.GetChildWorkflowExecutionCanceledEventAttributes()
		return t.childResult(ev, a.GetInitiatedEventId(), durable.HistoryEvent{Kind: durable.EventChildFailed, Failure: &durable.Failure{Kind: "canceled", Message: "canceled"}}, "canceled")
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
		a := ev.GetChildWorkflowExecutionTimedOutEventAttributes()
		return t.childResult(ev, a.GetInitiatedEventId(), durable.HistoryEvent{Kind: durable.EventChildFailed, Failure: &durable.Failure{Kind: "timeout", Timeout: "Execution", Message: "child workflow timed out"}}, "timed out")
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
		a := ev.GetChildWorkflowExecutionTerminatedEventAttributes()
		return t.childResult(ev, a.GetInitiatedEventId(), durable.HistoryEvent{Kind: durable.EventChildFailed, Failure: &durable.Failure{Kind: "terminated", Message: "child workflow terminated"}}, "terminated")

	case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
		a := ev.GetSignalExternalWorkflowExecutionInitiatedEventAttributes()
		arg, err := payloadsFirst(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		target := a.GetWorkflowExecution().GetWorkflowId()
		t.add(ev, durable.HistoryEvent{Kind: durable.EventExternalSignaled, ID: t.newID(ev), Name: a.GetSignalName(), Args: arg, WorkflowID: target},
			fmt.Sprintf("signal %q %s to %s", a.GetSignalName(), compact(arg, false), target))
	case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetSignalExternalWorkflowExecutionFailedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].ev.Failure = &durable.Failure{Kind: "application", Type: "ExternalWorkflowNotFound", NonRetryable: true,
				Message: fmt.Sprintf("signal to workflow %s: %s", a.GetWorkflowExecution().GetWorkflowId(), a.GetCause())}
		}
	case enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
		a := ev.GetRequestCancelExternalWorkflowExecutionInitiatedEventAttributes()
		target := a.GetWorkflowExecution().GetWorkflowId()
		t.add(ev, durable.HistoryEvent{Kind: durable.EventExternalCancelRequested, ID: t.newID(ev), WorkflowID: target}, "cancel workflow "+target)
	case enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetRequestCancelExternalWorkflowExecutionFailedEventAttributes()
		if i, ok := t.index[a.GetInitiatedEventId()]; ok {
			t.j.items[i].ev.Failure = &durable.Failure{Kind: "application", Type: "ExternalWorkflowNotFound", NonRetryable: true,
				Message: fmt.Sprintf("cancel workflow %s: %s", a.GetWorkflowExecution().GetWorkflowId(), a.GetCause())}
		}

	case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		// workflow.UpsertSearchAttributes: durable.UpsertSearchAttributes
		// journals it too. Temporal's GetVersion upserts
		// TemporalChangeVersion on its own, which durable.Version does
		// not: that key is left out, and an upsert of it alone skipped.
		fields, err := payloadsFields(ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields(), changeVersionAttribute)
		if err != nil {
			return t.bad(ev, err)
		}
		if len(fields) > 0 {
			t.add(ev, durable.HistoryEvent{Kind: durable.EventAttributesUpserted, SearchAttributes: fields}, "upsert search attributes "+compactFields(fields))
		}
	case enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
		// workflow.UpsertMemo: durable.UpsertMemo journals it too.
		fields, err := payloadsFields(ev.GetWorkflowPropertiesModifiedEventAttributes().GetUpsertedMemo().GetFields(), "")
		if err != nil {
			return t.bad(ev, err)
		}
		if len(fields) > 0 {
			t.add(ev, durable.HistoryEvent{Kind: durable.EventAttributesUpserted, Memo: fields}, "upsert memo "+compactFields(fields))
		}

	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes()
		req := a.GetAcceptedRequest()
		args, err := payloadsArray(req.GetInput().GetArgs())
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventUpdateAccepted, UpdateID: req.GetMeta().GetUpdateId(), Name: req.GetInput().GetName(), Args: args},
			fmt.Sprintf("update %q%s", req.GetInput().GetName(), compact(args, true)))
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
		a := ev.GetWorkflowExecutionUpdateCompletedEventAttributes()
		he := durable.HistoryEvent{Kind: durable.EventUpdateCompleted, UpdateID: a.GetMeta().GetUpdateId()}
		desc := "update " + he.UpdateID + " completed"
		if f := a.GetOutcome().GetFailure(); f != nil {
			he.Failure = toFailure(f)
			desc = "update " + he.UpdateID + " failed: " + he.Failure.Message
		} else {
			res, err := payloadsFirst(a.GetOutcome().GetSuccess())
			if err != nil {
				return t.bad(ev, err)
			}
			he.Result = res
			desc += " with " + compact(res, false)
		}
		t.add(ev, he, desc)

	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		a := ev.GetWorkflowExecutionCompletedEventAttributes()
		res, err := payloadsFirst(a.GetResult())
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventCompleted, Result: res}, "completed with "+compact(res, false))
		t.j.Closed = true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		a := ev.GetWorkflowExecutionFailedEventAttributes()
		f := toFailure(a.GetFailure())
		if f == nil {
			f = &durable.Failure{Kind: "application", Message: "failed"}
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventFailed, Failure: f}, "failed: "+f.Message)
		t.j.Closed = true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		t.add(ev, durable.HistoryEvent{Kind: durable.EventCanceled, Failure: &durable.Failure{Kind: "canceled", Message: "canceled"}}, "canceled")
		t.j.Closed = true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes()
		args, err := payloadsArray(a.GetInput())
		if err != nil {
			return t.bad(ev, err)
		}
		name := a.GetWorkflowType().GetName()
		t.add(ev, durable.HistoryEvent{Kind: durable.EventContinuedAsNew, Workflow: name, Args: args, RunID: a.GetNewExecutionRunId()},
			fmt.Sprintf("continue as new %s%s", name, compact(args, true)))
		t.j.Closed = true

	case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED, enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
		enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
		// Nothing the converted code observes.
	default:
		return &UnsupportedEventError{EventID: ev.GetEventId(), EventType: EventTypeName(ev.GetEventType()),
			Reason: "the durable runtime has no equivalent; see docs/unsupported.md"}
	}
	return nil
}

// childID is the child workflow ID a StartChildWorkflowExecutionInitiated
// event records, or "" when Temporal generated it (the parent's run ID, an
// underscore and a sequence number): converted code that names no child ID
// gets one the durable runtime generates, so a generated ID is not
// compared.
func (t *translator) childID(id string) string {
	prefix, seq, ok := strings.Cut(id, "_")
	if !ok || seq == "" || strings.Trim(seq, "0123456789") != "" {
		return id
	}
	if prefix == t.runID || t.runID == "" && isUUID(prefix) {
		return ""
	}
	return id
}

// isUUID reports whether s has the form of a Temporal run ID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

func (t *translator) activityFailed(ev *historypb.HistoryEvent, scheduled int64, f *durable.Failure) error {
	id, err := t.command(ev, scheduled)
	if err != nil {
		return err
	}
	t.add(ev, durable.HistoryEvent{Kind: durable.EventActivityFailed, ID: id, Failure: f},
		fmt.Sprintf("activity %s failed: %s", t.names[scheduled], f.Message))
	return nil
}

func (t *translator) childResult(ev *historypb.HistoryEvent, initiated int64, he durable.HistoryEvent, what string) error {
	id, err := t.command(ev, initiated)
	if err != nil {
		return err
	}
	he.ID = id
	t.add(ev, he, fmt.Sprintf("child %s %s", t.names[initiated], what))
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
		t.add(ev, durable.HistoryEvent{Kind: durable.EventSideEffect, ID: t.newID(ev), Result: v}, "side effect = "+compact(v, false))
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
		t.add(ev, durable.HistoryEvent{Kind: durable.EventVersion, Name: change, Version: v}, fmt.Sprintf("Version(%q) = %d", change, v))
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
		// The marker does not record the arguments: nil, which replay
		// reads as "not recorded" rather than "none".
		it := t.add(ev, durable.HistoryEvent{Kind: durable.EventActivityScheduled, ID: id, Activity: md.ActivityType, Local: true},
			"local activity "+md.ActivityType+"(…)")
		it.nargs, it.types = -1, typesUnknown
		if f := a.GetFailure(); f != nil {
			jf := toFailure(f)
			t.add(ev, durable.HistoryEvent{Kind: durable.EventActivityFailed, ID: id, Failure: jf}, "local activity "+md.ActivityType+" failed: "+jf.Message)
			return nil
		}
		res, err := payloadsFirst(details["result"])
		if err != nil {
			return t.bad(ev, err)
		}
		t.add(ev, durable.HistoryEvent{Kind: durable.EventActivityCompleted, ID: id, Result: res}, "local activity "+md.ActivityType+" returned "+compact(res, false))
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
			if durable.InboundEvent(it.ev.Kind) {
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
