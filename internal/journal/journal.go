// Package journal defines the events of a run's journal and their encoding.
//
// A journal is the ordered record of everything a run's code observed and
// decided. Events come in two roles:
//
//   - Inbound events carry something from outside into the run: its start
//     and arguments, an activity's result, a timer firing, a signal, a
//     cancellation request, a child's result, an update request. Each is
//     committed before the workflow code sees it, and it sets the run's
//     deterministic clock (Now) to its At time.
//   - Commands record what the code did: scheduled an activity, started a
//     timer, took a side effect, chose a version, completed. On replay the
//     code's commands are matched one by one against the journal; the first
//     mismatch is a non-determinism error.
//
// Replay delivers inbound events one at a time, in journal order, and runs
// the workflow's coroutines until all of them block before delivering the
// next. Live execution does exactly the same, which is why the journal
// needs no step markers: the order of events is the whole schedule.
package journal

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kind names an event type. The names are stored; never rename one.
type Kind = string

// Inbound events.
const (
	Started           Kind = "Started"
	ActivityCompleted Kind = "ActivityCompleted"
	ActivityFailed    Kind = "ActivityFailed"
	TimerFired        Kind = "TimerFired"
	SignalReceived    Kind = "SignalReceived"
	CancelRequested   Kind = "CancelRequested"
	ChildCompleted    Kind = "ChildCompleted"
	ChildFailed       Kind = "ChildFailed"
	UpdateAccepted    Kind = "UpdateAccepted"
	Terminated        Kind = "Terminated"
)

// Commands.
const (
	ActivityScheduled       Kind = "ActivityScheduled"
	ActivityCancelRequested Kind = "ActivityCancelRequested"
	TimerStarted            Kind = "TimerStarted"
	TimerCanceled           Kind = "TimerCanceled"
	SideEffectRecorded      Kind = "SideEffect"
	VersionMarker           Kind = "Version"
	// AttributesUpserted records an upsert of the run's memo or search
	// attributes (Temporal's UpsertMemo, UpsertSearchAttributes).
	AttributesUpserted      Kind = "AttributesUpserted"
	ChildStarted            Kind = "ChildStarted"
	ChildCancelRequested    Kind = "ChildCancelRequested"
	ExternalSignaled        Kind = "ExternalSignaled"
	ExternalCancelRequested Kind = "ExternalCancelRequested"
	UpdateCompleted         Kind = "UpdateCompleted"
	// UpdateRejected records an update the run's validator rejected when
	// it arrived through the inbox, so that its sender (in another
	// process) learns of it. A replay reads it and does nothing: the
	// rejected update never ran.
	UpdateRejected Kind = "UpdateRejected"
	Completed      Kind = "Completed"
	Failed         Kind = "Failed"
	Canceled       Kind = "Canceled"
	ContinuedAsNew Kind = "ContinuedAsNew"
	// FirstStep marks that a run's first step ran and issued no command, so
	// that a journal of one Started event always means "not yet run".
	FirstStep Kind = "FirstStep"
)

// Inbound reports whether events of kind k come from outside the run.
func Inbound(k Kind) bool {
	switch k {
	case Started, ActivityCompleted, ActivityFailed, TimerFired, SignalReceived,
		CancelRequested, ChildCompleted, ChildFailed, UpdateAccepted, UpdateRejected, Terminated:
		return true
	}
	return false
}

// Failure is an error as it crosses the journal: data, not a Go value.
type Failure struct {
	Message      string          `json:"message"`
	Type         string          `json:"type,omitempty"` // bare Go type name or application error type
	Kind         string          `json:"kind,omitempty"` // application, canceled, timeout, panic, nondeterminism, terminated
	NonRetryable bool            `json:"nonRetryable,omitempty"`
	Details      json.RawMessage `json:"details,omitempty"`
	Timeout      string          `json:"timeout,omitempty"` // StartToClose, ScheduleToClose, Heartbeat, ...
	Stack        string          `json:"stack,omitempty"`
	Cause        *Failure        `json:"cause,omitempty"`
}

// StartedData is the payload of Started.
type StartedData struct {
	Workflow   string          `json:"workflow"`
	Args       json.RawMessage `json:"args"` // JSON array, one element per argument
	Attempt    int             `json:"attempt,omitempty"`
	ParentID   string          `json:"parentId,omitempty"`
	ParentRun  string          `json:"parentRun,omitempty"`
	Continued  string          `json:"continued,omitempty"` // run ID this run continues
	Chain      int             `json:"chain,omitempty"`     // position in a continue-as-new chain
	Queue      string          `json:"queue,omitempty"`
	WorkflowID string          `json:"workflowId,omitempty"`
	ParentSeq  int64           `json:"parentSeq,omitempty"` // the parent's command ID for this child
	Options    json.RawMessage `json:"options,omitempty"`   // engine-defined start options
	// Deadline ends the whole continue-as-new chain (ExecutionTimeout);
	// RunTimeout ends each run of it. Zero: none.
	Deadline   time.Time     `json:"deadline,omitzero"`
	RunTimeout time.Duration `json:"runTimeout,omitempty"`
	// Header carries context values into the run (durable.Header).
	Header map[string][]byte `json:"header,omitempty"`
}

// ActivityScheduledData is the payload of ActivityScheduled.
type ActivityScheduledData struct {
	ID       int64           `json:"id"`
	Activity string          `json:"activity"`
	ArgTypes []string        `json:"argTypes,omitempty"`
	Args     json.RawMessage `json:"args"`
	Local    bool            `json:"local,omitempty"`
	Queue    string          `json:"queue,omitempty"`
}

// ResultData is the payload of a completion (activity, child, update).
type ResultData struct {
	ID     int64           `json:"id,omitempty"`
	Update string          `json:"update,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Failure        `json:"error,omitempty"`
	// Attempt is the activity attempt that produced the outcome (1 is the
	// first), for people reading the journal; 0 where unknown.
	Attempt int `json:"attempt,omitempty"`
}

// TimerData is the payload of TimerStarted, TimerFired and TimerCanceled.
type TimerData struct {
	ID     int64     `json:"id"`
	FireAt time.Time `json:"fireAt,omitzero"`
}

// IDData is the payload of events that only name a command.
type IDData struct {
	ID int64 `json:"id"`
	// Wait (ActivityCancelRequested): the call waits for its running
	// attempt to end (CallOptions.WaitForCancellation).
	Wait bool `json:"wait,omitempty"`
}

// SignalData is the payload of SignalReceived and ExternalSignaled.
type SignalData struct {
	ID         int64           `json:"id,omitempty"`
	Name       string          `json:"name"`
	Arg        json.RawMessage `json:"arg,omitempty"`
	WorkflowID string          `json:"workflowId,omitempty"`
	Error      *Failure        `json:"error,omitempty"` // ExternalSignaled: the target could not be signalled
}

// CancelData is the payload of CancelRequested, Terminated and
// ExternalCancelRequested.
type CancelData struct {
	ID         int64    `json:"id,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Timeout    bool     `json:"timeout,omitempty"` // Terminated: the run's execution timeout passed
	WorkflowID string   `json:"workflowId,omitempty"`
	Error      *Failure `json:"error,omitempty"` // ExternalCancelRequested: no such run
}

// SideEffectData is the payload of SideEffect.
type SideEffectData struct {
	ID    int64           `json:"id"`
	Value json.RawMessage `json:"value"`
}

// VersionData is the payload of Version.
type VersionData struct {
	ChangeID string `json:"changeId"`
	Version  int    `json:"version"`
}

// AttributesData is the payload of AttributesUpserted: the memo fields
// and search attributes set, each JSON-encoded; a null value removes one.
type AttributesData struct {
	Memo             map[string]json.RawMessage `json:"memo,omitempty"`
	SearchAttributes map[string]json.RawMessage `json:"searchAttributes,omitempty"`
}

// ChildStartedData is the payload of ChildStarted.
type ChildStartedData struct {
	ID         int64           `json:"id"`
	Workflow   string          `json:"workflow"`
	WorkflowID string          `json:"workflowId"`
	RunID      string          `json:"runId"`
	Args       json.RawMessage `json:"args"`
	Error      *Failure        `json:"error,omitempty"` // the child could not be started
}

// UpdateData is the payload of UpdateAccepted.
type UpdateData struct {
	Update string          `json:"update"` // update ID
	Name   string          `json:"name"`
	Args   json.RawMessage `json:"args"`
}

// ContinuedData is the payload of ContinuedAsNew.
type ContinuedData struct {
	Workflow  string          `json:"workflow"`
	Args      json.RawMessage `json:"args"`
	NextRunID string          `json:"nextRunId"`
}

// CompletedData is the payload of Completed.
type CompletedData struct {
	Result json.RawMessage `json:"result,omitempty"`
}

// FailedData is the payload of Failed and Canceled.
type FailedData struct {
	Error *Failure `json:"error"`
	// A failure the run's retry policy retries names the run that retries
	// it and when that run starts.
	NextRunID string    `json:"nextRunId,omitempty"`
	RetryAt   time.Time `json:"retryAt,omitzero"`
}

// Decode decodes an event's payload into its typed form. It never panics:
// unknown kinds and malformed data are errors naming the kind.
func Decode(kind Kind, data []byte) (any, error) {
	var v any
	switch kind {
	case Started:
		v = new(StartedData)
	case ActivityScheduled:
		v = new(ActivityScheduledData)
	case ActivityCompleted, ActivityFailed, ChildCompleted, ChildFailed, UpdateCompleted, UpdateRejected:
		v = new(ResultData)
	case TimerStarted, TimerFired, TimerCanceled:
		v = new(TimerData)
	case ActivityCancelRequested, ChildCancelRequested:
		v = new(IDData)
	case SignalReceived, ExternalSignaled:
		v = new(SignalData)
	case CancelRequested, Terminated, ExternalCancelRequested:
		v = new(CancelData)
	case SideEffectRecorded:
		v = new(SideEffectData)
	case VersionMarker:
		v = new(VersionData)
	case AttributesUpserted:
		v = new(AttributesData)
	case ChildStarted:
		v = new(ChildStartedData)
	case UpdateAccepted:
		v = new(UpdateData)
	case ContinuedAsNew:
		v = new(ContinuedData)
	case FirstStep:
		v = new(IDData)
	case Completed:
		v = new(CompletedData)
	case Failed, Canceled:
		v = new(FailedData)
	default:
		return nil, fmt.Errorf("journal: unknown event kind %q", kind)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("journal: decode %s event: %w", kind, err)
	}
	return v, nil
}

// Encode encodes an event payload.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Payload structs hold only JSON-safe fields and RawMessages that
		// were produced by json.Marshal; failure here is a programming error.
		panic(fmt.Sprintf("journal: encode %T: %v", v, err))
	}
	return b
}
