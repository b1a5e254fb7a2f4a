package machine

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/durablego/toolkit/internal/journal"
)

// Command is one side of a comparison between the journal and the code: a
// command (or, for the journal's side, any event) described as data. Only
// the fields that apply to Kind are set.
type Command struct {
	// Kind is the journal event kind, e.g. journal.ActivityScheduled.
	Kind journal.Kind `json:"kind"`
	// Name is what the command names: the activity, the child or continued
	// workflow, the signal, the version's change ID, the update.
	Name string `json:"name,omitempty"`
	// ArgTypes are the Go types of an activity's arguments; nil when the
	// journal does not record them (a Temporal history).
	ArgTypes []string `json:"argTypes,omitempty"`
	// Args are an activity's, child's or continued run's arguments (a JSON
	// array), or a signal's argument; nil when the journal does not record
	// them (a Temporal local-activity marker).
	Args json.RawMessage `json:"args,omitempty"`
	// Local is true for a local activity.
	Local bool `json:"local,omitempty"`
	// WorkflowID is the target of an external signal or cancellation.
	WorkflowID string `json:"workflowId,omitempty"`
	// Duration is a timer's duration: for the code's side exact, for the
	// journal's side its FireAt less the time the event was journaled.
	Duration time.Duration `json:"duration,omitempty"`
	// Version is the version a Version marker chose.
	Version int `json:"version,omitempty"`
	// Result is a completed run's result.
	Result json.RawMessage `json:"result,omitempty"`
	// Status is how a run ends (completed, failed, canceled, continued)
	// for the close commands and the journal's end.
	Status string `json:"status,omitempty"`
}

// CommandOf describes an event payload (decoded, as journal.Decode returns
// it) of the given kind; at is when it was issued, for timer durations.
func CommandOf(kind journal.Kind, data any, at time.Time) Command {
	c := Command{Kind: kind}
	switch d := data.(type) {
	case *journal.ActivityScheduledData:
		c.Name, c.ArgTypes, c.Args, c.Local = d.Activity, d.ArgTypes, recorded(d.Args), d.Local
	case *journal.TimerData:
		if !d.FireAt.IsZero() && !at.IsZero() {
			c.Duration = d.FireAt.Sub(at)
		}
	case *journal.ChildStartedData:
		c.Name, c.Args, c.WorkflowID = d.Workflow, recorded(d.Args), d.WorkflowID
	case *journal.SignalData:
		c.Name, c.Args, c.WorkflowID = d.Name, recorded(d.Arg), d.WorkflowID
	case *journal.CancelData:
		c.WorkflowID = d.WorkflowID
	case *journal.VersionData:
		c.Name, c.Version = d.ChangeID, d.Version
	case *journal.ContinuedData:
		c.Name, c.Args, c.Status = d.Workflow, recorded(d.Args), "continued"
	case *journal.UpdateData:
		c.Name, c.Args = d.Name, recorded(d.Args)
	case *journal.ResultData:
		c.Name = d.Update
	case *journal.CompletedData:
		c.Result, c.Status = recorded(d.Result), "completed"
	case *journal.FailedData:
		c.Status = "failed"
		if kind == journal.Canceled {
			c.Status = "canceled"
		}
	}
	return c
}

// EventCommand describes a journaled event; an undecodable one is
// described by its kind alone.
func EventCommand(kind journal.Kind, raw []byte, at time.Time) Command {
	d, err := journal.Decode(kind, raw)
	if err != nil {
		return Command{Kind: kind}
	}
	return CommandOf(kind, d, at)
}

// String renders the command the way workflow code reads, e.g.
// `Call Charge(string, int)` or `Timer 1m0s`.
func (c *Command) String() string {
	if c == nil {
		return "nothing"
	}
	switch c.Kind {
	case journal.ActivityScheduled:
		call := "Call"
		if c.Local {
			call = "CallLocal"
		}
		switch {
		case c.ArgTypes != nil:
			return fmt.Sprintf("%s %s(%s)", call, c.Name, strings.Join(c.ArgTypes, ", "))
		case c.Args != nil:
			return fmt.Sprintf("%s %s%s", call, c.Name, argList(c.Args))
		}
		return fmt.Sprintf("%s %s(…)", call, c.Name)
	case journal.TimerStarted:
		if c.Duration > 0 {
			return "Timer " + c.Duration.String()
		}
		return "Timer"
	case journal.TimerCanceled:
		return "cancel timer"
	case journal.SideEffectRecorded:
		return "SideEffect"
	case journal.VersionMarker:
		return fmt.Sprintf("Version(%q) = %d", c.Name, c.Version)
	case journal.ChildStarted:
		return "Child " + c.Name
	case journal.ChildCancelRequested:
		return "cancel child"
	case journal.ExternalSignaled:
		return fmt.Sprintf("SignalExternal %s %q", c.WorkflowID, c.Name)
	case journal.ExternalCancelRequested:
		return "CancelExternal " + c.WorkflowID
	case journal.ActivityCancelRequested:
		return "cancel activity"
	case journal.AttributesUpserted:
		return "UpsertAttributes"
	case journal.UpdateCompleted:
		return fmt.Sprintf("complete update %s", c.Name)
	case journal.Completed:
		return "Complete"
	case journal.Failed:
		return "Fail"
	case journal.Canceled:
		return "Cancel"
	case journal.ContinuedAsNew:
		return "ContinueAsNew " + c.Name
	case journal.SignalReceived:
		return fmt.Sprintf("signal %q", c.Name)
	case journal.UpdateAccepted:
		return fmt.Sprintf("update %q", c.Name)
	}
	return c.Kind
}

// argList renders a JSON array of arguments as "(a, b)".
func argList(raw json.RawMessage) string {
	var v []json.RawMessage
	if json.Unmarshal(raw, &v) != nil {
		return "(" + string(raw) + ")"
	}
	parts := make([]string, len(v))
	for i, a := range v {
		parts[i] = string(a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// recorded is raw, or nil when it records nothing (absent or null).
func recorded(raw json.RawMessage) json.RawMessage {
	if isNull(raw) {
		return nil
	}
	return raw
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}
