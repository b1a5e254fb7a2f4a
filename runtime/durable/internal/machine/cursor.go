package machine

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Options configure a Cursor.
type Options struct {
	// CompareArgs compares the values of activity arguments too, where the
	// journal records them: a Temporal history records what was really
	// sent, while a run's own journal is checked on names and types so
	// that code may change how it computes an argument.
	CompareArgs bool
}

// Cursor walks a loaded journal during replay: it hands out inbound events
// in order and matches the code's commands against the events between them.
// A Cursor at the journal's end no longer replays; the code's commands are
// then new and recorded by the caller.
type Cursor struct {
	events []store.Event
	pos    int
	opts   Options
	now    time.Time // time of the last inbound event handed out
}

// NewCursor returns a cursor at the start of events.
func NewCursor(events []store.Event, o Options) *Cursor {
	return &Cursor{events: events, opts: o}
}

// Replaying reports whether events remain to be matched.
func (c *Cursor) Replaying() bool { return c != nil && c.pos < len(c.events) }

// Pos is the number of events consumed so far.
func (c *Cursor) Pos() int { return c.pos }

// Len is the number of events in the journal.
func (c *Cursor) Len() int { return len(c.events) }

// Peek returns the next event without consuming it.
func (c *Cursor) Peek() (store.Event, bool) {
	if !c.Replaying() {
		return store.Event{}, false
	}
	return c.events[c.pos], true
}

// Skip consumes the next event without matching it (a FirstStep marker,
// a Version marker the code took).
func (c *Cursor) Skip() { c.pos++ }

// LastSeq is the position of the last consumed event, 0 before the first.
func (c *Cursor) LastSeq() int64 {
	if c.pos == 0 {
		return 0
	}
	return seqAt(c.events, c.pos-1)
}

func seqAt(evs []store.Event, i int) int64 {
	if s := evs[i].Seq; s > 0 {
		return s
	}
	return int64(i + 1)
}

// NextInbound consumes and returns the next event when it is inbound.
// When the next event is a command, the code should have issued it before
// waiting: the divergence is KindMissingCommand.
func (c *Cursor) NextInbound() (store.Event, *Divergence) {
	ev := c.events[c.pos]
	if !journal.Inbound(ev.Kind) {
		return ev, &Divergence{Kind: KindMissingCommand, Seq: seqAt(c.events, c.pos), Expected: c.describe(ev)}
	}
	c.pos++
	c.now = ev.At
	return ev, nil
}

// Match matches a command the code issued (kind and payload, as it would
// be journaled) against the next event, consumes that event and returns its
// journaled payload; the code continues with the journaled data (a side
// effect's value, a version, a child's run ID). On a difference it consumes
// nothing and returns the divergence.
func (c *Cursor) Match(kind journal.Kind, data any) ([]byte, *Divergence) {
	ev := c.events[c.pos]
	got, err := journal.Decode(ev.Kind, ev.Data)
	if ev.Kind != kind || err != nil || !c.same(got, data) {
		d := &Divergence{Kind: KindMismatch, Seq: seqAt(c.events, c.pos), Expected: c.describe(ev)}
		if journal.Inbound(ev.Kind) {
			d.Kind = KindExtraCommand
		}
		found := CommandOf(kind, data, c.now)
		d.Found = &found
		return nil, d
	}
	c.pos++
	return ev.Data, nil
}

// Unexpected reports an inbound event the code has nothing waiting for.
func (c *Cursor) Unexpected(ev store.Event, reason string) *Divergence {
	return &Divergence{Kind: KindUnexpectedEvent, Seq: ev.Seq, Expected: c.describe(ev), Reason: reason}
}

// describe is the journal's side of a divergence at ev. A timer's duration
// is measured from the time the event was journaled.
func (c *Cursor) describe(ev store.Event) *Command {
	cmd := EventCommand(ev.Kind, ev.Data, ev.At)
	return &cmd
}

// same compares the identity of the code's command (want) with the
// journaled one (got) of the same kind, which is the event at c.pos.
//
// Every journal is compared on what the code cannot change without
// changing what the run did: names, targets, argument types. With
// Options.CompareArgs (a history recorded by another system, such as
// Temporal) the values are compared too wherever the journal records
// them: activity, child and continue-as-new arguments, an external
// signal's argument, a child's workflow ID and a timer's duration. A run's
// own journal is not compared on values, so that a deploy may change how
// the code computes an argument or a sleep without making its open runs
// stuck.
func (c *Cursor) same(got, want any) bool {
	switch w := want.(type) {
	case *journal.ActivityScheduledData:
		g := got.(*journal.ActivityScheduledData)
		if g.Activity != w.Activity || g.Local != w.Local {
			return false
		}
		// A journal built from a Temporal history has no argument types,
		// and a local activity's marker no arguments either.
		if g.ArgTypes != nil && !slices.Equal(g.ArgTypes, w.ArgTypes) {
			return false
		}
		return !c.opts.CompareArgs || sameArgs(g.Args, w.Args)
	case *journal.TimerData:
		// TimerStarted (TimerCanceled carries no FireAt). The journal's
		// duration is its FireAt less the time it was journaled (for a
		// Temporal history, the timer's StartToFireTimeout); the code's is
		// its FireAt less the time of the inbound event it reacts to.
		g := got.(*journal.TimerData)
		at := c.events[c.pos].At
		if !c.opts.CompareArgs || g.FireAt.IsZero() || w.FireAt.IsZero() || at.IsZero() || c.now.IsZero() {
			return true
		}
		return g.FireAt.Sub(at) == w.FireAt.Sub(c.now)
	case *journal.VersionData:
		return got.(*journal.VersionData).ChangeID == w.ChangeID
	case *journal.ChildStartedData:
		g := got.(*journal.ChildStartedData)
		if g.Workflow != w.Workflow {
			return false
		}
		// A journal without a child workflow ID does not record it (a
		// Temporal history whose child ID Temporal generated).
		return !c.opts.CompareArgs || sameArgs(g.Args, w.Args) && (g.WorkflowID == "" || g.WorkflowID == w.WorkflowID)
	case *journal.SignalData:
		g := got.(*journal.SignalData)
		if g.Name != w.Name || g.WorkflowID != w.WorkflowID {
			return false
		}
		return !c.opts.CompareArgs || isNull(g.Arg) || JSONEqual(g.Arg, w.Arg)
	case *journal.CancelData:
		return got.(*journal.CancelData).WorkflowID == w.WorkflowID
	case *journal.ContinuedData:
		g := got.(*journal.ContinuedData)
		return g.Workflow == w.Workflow && (!c.opts.CompareArgs || sameArgs(g.Args, w.Args))
	}
	return true
}

// sameArgs compares a journaled argument list with the code's: one the
// journal does not record (null) matches any, and the code's null is an
// empty list (a call without arguments).
func sameArgs(journaled, code json.RawMessage) bool {
	if isNull(journaled) {
		return true
	}
	if isNull(code) {
		code = json.RawMessage(`[]`)
	}
	return JSONEqual(journaled, code)
}

// CompareEnd compares how the code ends (found; nil when it has not
// returned) with how the journal says the run ended (want, with Status and,
// for a completed run, Result). seq is the journal's last position.
func CompareEnd(seq int64, want Command, found *Command) *Divergence {
	if found == nil || found.Status != want.Status {
		return &Divergence{Kind: KindEnd, Seq: seq, Expected: &want, Found: found}
	}
	if want.Status == "completed" && !JSONEqual(want.Result, found.Result) {
		return &Divergence{Kind: KindResult, Seq: seq, Expected: &want, Found: found}
	}
	return nil
}

// JSONEqual reports whether two JSON texts encode the same value; absent
// and null are the same.
func JSONEqual(a, b json.RawMessage) bool {
	if isNull(a) || isNull(b) {
		return isNull(a) == isNull(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(ax, by)
}
