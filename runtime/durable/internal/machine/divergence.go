package machine

import (
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
)

// Kind classifies a divergence between the code and the journal.
type Kind string

// Divergence kinds. The names are stored with stuck runs; never rename one.
const (
	// KindMismatch: the journal has a command at Seq (Expected) and the
	// code issued another one (Found).
	KindMismatch Kind = "mismatch"
	// KindExtraCommand: the journal has an inbound event at Seq (Expected)
	// where the code issued a command (Found): the code does more before
	// waiting than it did when the journal was written.
	KindExtraCommand Kind = "extra-command"
	// KindMissingCommand: the journal has a command at Seq (Expected) and
	// the code issued nothing: every coroutine waits.
	KindMissingCommand Kind = "missing-command"
	// KindUnexpectedEvent: the journal delivers an inbound event at Seq
	// (Expected) that the code does not wait for (no such timer, activity
	// or child); Reason says which.
	KindUnexpectedEvent Kind = "unexpected-event"
	// KindVersion: the code's Version call does not support the version
	// the journal chose (Expected); Found names the supported range.
	KindVersion Kind = "version"
	// KindEnd: the run ends otherwise than the journal says: Expected has
	// the journal's status, Found the code's (nil: the code has not
	// returned).
	KindEnd Kind = "end"
	// KindResult: the run completed with another result than the
	// journal's (Expected.Result, Found.Result).
	KindResult Kind = "result"
)

// Divergence is the first point where the code departs from the journal.
type Divergence struct {
	Kind Kind
	// Seq is the journal position (1-based) of the event at fault; for
	// KindEnd and KindResult, the journal's last event.
	Seq int64
	// Expected is the journal's side, Found the code's; Found is nil when
	// the code issued nothing there.
	Expected *Command
	Found    *Command
	// Reason adds what the kind alone does not say (e.g. "no such timer
	// waiting", "supports [1, 2]").
	Reason string
}

// JournalText renders the journal's side for a message.
func (d *Divergence) JournalText() string {
	switch d.Kind {
	case KindEnd:
		return "ends " + d.Expected.Status
	case KindResult:
		return "result " + string(d.Expected.Result)
	}
	return d.Expected.String() + d.detail(d.Expected)
}

// CodeText renders the code's side for a message.
func (d *Divergence) CodeText() string {
	switch d.Kind {
	case KindMissingCommand:
		return "nothing (every coroutine is waiting)"
	case KindUnexpectedEvent:
		return d.Reason
	case KindVersion:
		return fmt.Sprintf("Version(%q) %s", d.Found.Name, d.Reason)
	case KindEnd:
		if d.Found == nil {
			return "has not returned"
		}
		return "ends " + d.Found.Status
	case KindResult:
		return "result " + string(d.Found.Result)
	}
	s := d.Found.String()
	if d.valuesDiffer() {
		s += " with " + argList(d.Found.Args) // show what the journal's rendering compares with
	}
	return s + d.detail(d.Found)
}

// detail is what tells the two sides apart when they render alike: a
// child's, signal's or continued run's arguments, or the workflow ID it
// targets.
func (d *Divergence) detail(c *Command) string {
	e, f := d.Expected, d.Found
	if e == nil || f == nil || e.String() != f.String() || d.valuesDiffer() {
		return ""
	}
	var s string
	if e.WorkflowID != f.WorkflowID && e.WorkflowID != "" && f.WorkflowID != "" {
		s += fmt.Sprintf(" (workflow ID %q)", c.WorkflowID)
	}
	if e.Args != nil && f.Args != nil && !JSONEqual(e.Args, f.Args) {
		if c.Kind == journal.ExternalSignaled {
			s += " with " + string(c.Args)
		} else {
			s += " with " + argList(c.Args)
		}
	}
	return s
}

// valuesDiffer reports whether an activity call differs from the journal's
// in its argument values (which the journal has) rather than its name.
func (d *Divergence) valuesDiffer() bool {
	e, f := d.Expected, d.Found
	return e != nil && f != nil && e.Kind == journal.ActivityScheduled && f.Kind == journal.ActivityScheduled &&
		e.Name == f.Name && e.Args != nil && f.Args != nil && !JSONEqual(e.Args, f.Args)
}

// Error renders the divergence; the engine wraps it in a
// NonDeterminismError that names the run.
func (d *Divergence) Error() string {
	return fmt.Sprintf("nondeterminism at journal event %d: the journal says %s; the code did %s", d.Seq, d.JournalText(), d.CodeText())
}
