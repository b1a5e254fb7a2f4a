package durable

import (
	"encoding/json"
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Event kinds: the values of HistoryEvent.Kind and Command.Kind. They are
// the journal's kinds, stored with every event; they never change.
//
// Inbound events bring something from outside into the run (see
// InboundEvent); the others record a command the code issued.
const (
	EventStarted                 = journal.Started
	EventActivityScheduled       = journal.ActivityScheduled
	EventActivityCompleted       = journal.ActivityCompleted
	EventActivityFailed          = journal.ActivityFailed
	EventActivityCancelRequested = journal.ActivityCancelRequested
	EventTimerStarted            = journal.TimerStarted
	EventTimerFired              = journal.TimerFired
	EventTimerCanceled           = journal.TimerCanceled
	EventSignalReceived          = journal.SignalReceived
	EventCancelRequested         = journal.CancelRequested
	EventTerminated              = journal.Terminated
	EventSideEffect              = journal.SideEffectRecorded
	EventVersion                 = journal.VersionMarker
	EventAttributesUpserted      = journal.AttributesUpserted
	EventChildStarted            = journal.ChildStarted
	EventChildCompleted          = journal.ChildCompleted
	EventChildFailed             = journal.ChildFailed
	EventChildCancelRequested    = journal.ChildCancelRequested
	EventExternalSignaled        = journal.ExternalSignaled
	EventExternalCancelRequested = journal.ExternalCancelRequested
	EventUpdateAccepted          = journal.UpdateAccepted
	EventUpdateCompleted         = journal.UpdateCompleted
	EventUpdateRejected          = journal.UpdateRejected
	EventCompleted               = journal.Completed
	EventFailed                  = journal.Failed
	EventCanceled                = journal.Canceled
	EventContinuedAsNew          = journal.ContinuedAsNew
	EventFirstStep               = journal.FirstStep
)

// InboundEvent reports whether events of kind come from outside the run
// (its start, results, timer firings, signals, cancellation, updates),
// as opposed to recording a command of the code. Replay delivers inbound
// events one at a time and matches the code's commands between them.
func InboundEvent(kind string) bool { return journal.Inbound(kind) }

// Failure is an error as a history records it: data, not a Go value. The
// workflow code sees it as the error it describes: an *ApplicationError
// of Type, a *TimeoutError, a *CanceledError, ...
type Failure struct {
	Message string `json:"message"`
	// Type is an application error's type (ApplicationError.Type), or the
	// bare Go type name of another error.
	Type string `json:"type,omitempty"`
	// Kind is "application" (also ""), "canceled", "timeout", "panic",
	// "terminated" or "nondeterminism".
	Kind         string `json:"kind,omitempty"`
	NonRetryable bool   `json:"nonRetryable,omitempty"`
	// Details are an application error's details, a JSON array.
	Details json.RawMessage `json:"details,omitempty"`
	// Timeout names a timeout's kind: "StartToClose", "ScheduleToClose",
	// "ScheduleToStart", "Heartbeat".
	Timeout string   `json:"timeout,omitempty"`
	Stack   string   `json:"stack,omitempty"`
	Cause   *Failure `json:"cause,omitempty"`
}

func failureOf(f *journal.Failure) *Failure {
	if f == nil {
		return nil
	}
	return &Failure{Message: f.Message, Type: f.Type, Kind: f.Kind, NonRetryable: f.NonRetryable,
		Details: f.Details, Timeout: f.Timeout, Stack: f.Stack, Cause: failureOf(f.Cause)}
}

func (f *Failure) journal() *journal.Failure {
	if f == nil {
		return nil
	}
	return &journal.Failure{Message: f.Message, Type: f.Type, Kind: f.Kind, NonRetryable: f.NonRetryable,
		Details: f.Details, Timeout: f.Timeout, Stack: f.Stack, Cause: f.Cause.journal()}
}

// failure is ev's error as data: Failure, or a failure of Error's message
// (or of def when ev has neither and its kind needs one).
func (ev *HistoryEvent) failure(def string) *journal.Failure {
	switch {
	case ev.Failure != nil:
		return ev.Failure.journal()
	case ev.Error != "":
		return &journal.Failure{Message: ev.Error, Kind: "application"}
	case def != "":
		return &journal.Failure{Message: def, Kind: "application"}
	}
	return nil
}

// journalEvents converts a typed history into journal events numbered
// from 1 (HistoryEvent.Seq is ignored).
func journalEvents(history []HistoryEvent) ([]store.Event, error) {
	events := make([]store.Event, len(history))
	for i := range history {
		data, err := history[i].payload()
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i+1, err)
		}
		events[i] = store.Event{Seq: int64(i + 1), Kind: history[i].Kind, Data: journal.Encode(data), At: history[i].At}
		if td, ok := data.(*journal.TimerData); ok && history[i].Kind == EventTimerStarted && history[i].Duration > 0 {
			// Replay measures a journaled timer's duration as its FireAt
			// less its event's time.
			events[i].At = td.FireAt.Add(-history[i].Duration)
		}
	}
	return events, nil
}

// payload is the journal payload of ev: the fields that apply to its kind
// (see HistoryEvent).
func (ev *HistoryEvent) payload() (any, error) {
	switch ev.Kind {
	case EventStarted:
		options, err := ev.startOptions() // history.go
		if err != nil {
			return nil, err
		}
		return &journal.StartedData{
			Workflow: ev.Workflow, Args: runArgs(ev.Args), Attempt: ev.Attempt, WorkflowID: ev.WorkflowID, Queue: ev.Queue,
			ParentID: ev.ParentWorkflowID, ParentRun: ev.ParentRunID, Continued: ev.ContinuedRunID,
			Deadline: ev.Deadline, RunTimeout: max(ev.RunTimeout, 0), Chain: ev.Chain, Header: ev.Header, Options: options,
		}, nil
	case EventActivityScheduled:
		return &journal.ActivityScheduledData{ID: ev.ID, Activity: ev.Activity, ArgTypes: ev.ArgTypes, Args: ev.Args, Local: ev.Local, Queue: ev.Queue}, nil
	case EventActivityCompleted, EventChildCompleted:
		return &journal.ResultData{ID: ev.ID, Result: ev.Result, Attempt: ev.Attempt}, nil
	case EventActivityFailed, EventChildFailed:
		return &journal.ResultData{ID: ev.ID, Error: ev.failure("failed"), Attempt: ev.Attempt}, nil
	case EventUpdateCompleted, EventUpdateRejected:
		return &journal.ResultData{Update: ev.UpdateID, Result: ev.Result, Error: ev.failure("")}, nil
	case EventTimerStarted:
		fireAt := ev.FireAt
		if fireAt.IsZero() && ev.Duration > 0 {
			fireAt = ev.At.Add(ev.Duration)
		}
		return &journal.TimerData{ID: ev.ID, FireAt: fireAt}, nil
	case EventTimerFired, EventTimerCanceled:
		return &journal.TimerData{ID: ev.ID, FireAt: ev.FireAt}, nil
	case EventActivityCancelRequested, EventChildCancelRequested, EventFirstStep:
		return &journal.IDData{ID: ev.ID, Wait: ev.Wait}, nil
	case EventSignalReceived, EventExternalSignaled:
		return &journal.SignalData{ID: ev.ID, Name: ev.Name, Arg: ev.Args, WorkflowID: ev.WorkflowID, Error: ev.failure("")}, nil
	case EventCancelRequested, EventTerminated, EventExternalCancelRequested:
		return &journal.CancelData{ID: ev.ID, Reason: ev.Reason, Timeout: ev.Timeout, WorkflowID: ev.WorkflowID, Error: ev.failure("")}, nil
	case EventSideEffect:
		return &journal.SideEffectData{ID: ev.ID, Value: ev.Result}, nil
	case EventVersion:
		return &journal.VersionData{ChangeID: ev.Name, Version: ev.Version}, nil
	case EventAttributesUpserted:
		return &journal.AttributesData{Memo: ev.Memo, SearchAttributes: ev.SearchAttributes}, nil
	case EventChildStarted:
		return &journal.ChildStartedData{ID: ev.ID, Workflow: ev.Workflow, WorkflowID: ev.WorkflowID, RunID: ev.RunID, Args: ev.Args, Error: ev.failure("")}, nil
	case EventUpdateAccepted:
		return &journal.UpdateData{Update: ev.UpdateID, Name: ev.Name, Args: runArgs(ev.Args)}, nil
	case EventContinuedAsNew:
		return &journal.ContinuedData{Workflow: ev.Workflow, Args: runArgs(ev.Args), NextRunID: ev.RunID}, nil
	case EventCompleted:
		return &journal.CompletedData{Result: ev.Result}, nil
	case EventFailed, EventCanceled:
		def := "failed"
		if ev.Kind == EventCanceled {
			def = "canceled"
		}
		f := ev.failure(def)
		if ev.Kind == EventCanceled && f.Kind == "application" {
			f.Kind = "canceled"
		}
		return &journal.FailedData{Error: f, NextRunID: ev.RunID, RetryAt: ev.RetryAt}, nil
	}
	return nil, fmt.Errorf("unknown event kind %q", ev.Kind)
}

// runArgs is a run's or an update's argument list, [] when there is none.
func runArgs(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage(`[]`)
	}
	return raw
}
