package durable

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/durablego/toolkit/runtime/durable/internal/machine"
)

// NonDeterminismError reports that replaying a run's journal with the
// registered code diverged: the code's next yield point is not the one the
// journal recorded, or the code ends otherwise than the journal says. The
// run is stuck, not failed; nothing is lost. Register fixed code and Resume
// it.
//
// Kind, Expected and Found say what happened as data (compat/replay and
// `migrate verify` read them); Journal and Code render both sides for
// people.
type NonDeterminismError struct {
	RunID string `json:"RunID"`
	// Seq is the journal position (1-based) of the event at fault.
	Seq int64 `json:"Seq"`
	// Journal is what the journal has, e.g. "Call A(int)".
	Journal string `json:"Journal"`
	// Code is what the code did, e.g. "Call B(string)".
	Code string `json:"Code"`
	// Kind classifies the divergence; "" in errors recorded before kinds
	// existed.
	Kind DivergenceKind `json:"Kind,omitempty"`
	// Expected is the journal's side, Found the code's (nil when the code
	// issued nothing there).
	Expected *Command `json:"Expected,omitempty"`
	Found    *Command `json:"Found,omitempty"`
	// Reason adds what Kind alone does not say, e.g. "no such timer
	// waiting" or a Version call's supported range.
	Reason string `json:"Reason,omitempty"`
}

func (e *NonDeterminismError) Error() string {
	return fmt.Sprintf("non-determinism in run %s at journal event %d: journal: %s; code: %s", e.RunID, e.Seq, e.Journal, e.Code)
}

// DivergenceKind classifies a NonDeterminismError.
type DivergenceKind string

// Divergence kinds.
const (
	// DivergenceMismatch: the journal has a command (Expected) where the
	// code issued another (Found).
	DivergenceMismatch = DivergenceKind(machine.KindMismatch)
	// DivergenceExtraCommand: the journal has an inbound event (Expected)
	// where the code issued a command (Found).
	DivergenceExtraCommand = DivergenceKind(machine.KindExtraCommand)
	// DivergenceMissingCommand: the journal has a command (Expected) the
	// code does not issue; every coroutine waits.
	DivergenceMissingCommand = DivergenceKind(machine.KindMissingCommand)
	// DivergenceUnexpectedEvent: the journal delivers an event (Expected)
	// the code does not wait for; Reason says what is missing.
	DivergenceUnexpectedEvent = DivergenceKind(machine.KindUnexpectedEvent)
	// DivergenceVersion: a Version call does not support the version the
	// journal chose (Expected.Version); Reason names the range.
	DivergenceVersion = DivergenceKind(machine.KindVersion)
	// DivergenceEnd: the run ends otherwise (Found.Status; Found nil when
	// the code has not returned) than the journal (Expected.Status).
	DivergenceEnd = DivergenceKind(machine.KindEnd)
	// DivergenceResult: the run completed with another result
	// (Found.Result) than the journal's (Expected.Result).
	DivergenceResult = DivergenceKind(machine.KindResult)
)

// Command is a yield point (or a journaled event) as data: one side of a
// NonDeterminismError. Only the fields that apply to Kind are set.
type Command struct {
	// Kind is the event kind, one of the Event constants:
	// EventActivityScheduled, EventTimerStarted, EventSideEffect,
	// EventVersion, EventChildStarted, EventExternalSignaled,
	// EventCompleted, EventSignalReceived, ...
	Kind string `json:"kind"`
	// Name is the activity, child or continued workflow, signal, update or
	// version change ID.
	Name string `json:"name,omitempty"`
	// ArgTypes are an activity's argument types (nil: not recorded, as in
	// a Temporal history).
	ArgTypes []string `json:"argTypes,omitempty"`
	// Args are the arguments as a JSON array (a signal's argument as
	// itself); nil when not recorded (a Temporal local-activity marker).
	Args json.RawMessage `json:"args,omitempty"`
	// Local is true for a local activity.
	Local bool `json:"local,omitempty"`
	// WorkflowID is the target of an external signal or cancellation, or
	// a child's workflow ID.
	WorkflowID string `json:"workflowId,omitempty"`
	// Duration is a timer's duration.
	Duration time.Duration `json:"duration,omitempty"`
	// Version is the version a Version marker chose.
	Version int `json:"version,omitempty"`
	// Result is a completed run's result.
	Result json.RawMessage `json:"result,omitempty"`
	// Status is how a run ends: completed, failed, canceled, continued.
	Status string `json:"status,omitempty"`
}

// String renders the command as workflow code reads, e.g.
// "Call Charge(string, int)".
func (c *Command) String() string { return (*machine.Command)(c).String() }

// newNonDeterminismError is the error of a divergence the machine found.
func newNonDeterminismError(runID string, d *machine.Divergence) *NonDeterminismError {
	return &NonDeterminismError{
		RunID: runID, Seq: d.Seq, Journal: d.JournalText(), Code: d.CodeText(),
		Kind: DivergenceKind(d.Kind), Expected: (*Command)(d.Expected), Found: (*Command)(d.Found), Reason: d.Reason,
	}
}
