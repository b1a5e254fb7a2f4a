package machine

import (
	"fmt"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Config configures a Machine.
type Config struct {
	// Clock stamps the events a live step appends. The machine has no
	// clock of its own: the engine passes its clock, a test a fixed one.
	// Nil stamps the zero time.
	Clock func() time.Time
	// CompareArgs compares the values of activity arguments too; see
	// Options.
	CompareArgs bool
	// ReadOnly marks a replica: a machine rebuilt from a journal to be
	// looked at (a query, an update's validation, Verify, Replay). It
	// never goes past the journal: see Machine.PastEnd.
	ReadOnly bool
}

// Machine is the deterministic state of one run: where replay stands in
// the journal, the run's time and command IDs, the commands that wait for
// an outcome, and the step the code produced since the last commit.
//
// The engine feeds it what the run's code does (Command) and what reaches
// the run (Inbound live, Next in replay), and takes the Step to commit.
// The same journal and the same calls give the same step, which is what
// lets a run be replayed anywhere: the machine reads no store and no clock
// but the one it is given.
type Machine struct {
	cfg       Config
	cur       *Cursor // nil: live
	processed int     // loaded events whose reaction is journaled too
	committed int64   // journal length in the store
	now       time.Time
	nextID    int64
	reacted   bool // the inbound event being applied was reacted to before
	open      map[int64]*openCommand
	closing   *store.RunUpdate // how the run ends, once decided
	closed    bool             // the close is committed
	step      Step
}

// openCommand is a command that waits for its outcome.
type openCommand struct {
	kind   journal.Kind // the command's kind (ActivityScheduled, TimerStarted, ChildStarted)
	fireAt time.Time    // a timer's
	done   bool         // the code gave up on it (a cancelled child)
}

// Load returns a machine that replays a run's journal (store events in
// order, starting with Started). Every inbound event of a journal longer
// than its Started event was reacted to before: the reaction is committed
// with the event.
func Load(events []store.Event, cfg Config) *Machine {
	m := newMachine(cfg)
	m.cur = NewCursor(events, Options{CompareArgs: cfg.CompareArgs})
	m.committed = int64(len(events))
	if len(events) > 1 {
		m.processed = len(events)
	}
	return m
}

// Start returns the machine of a run being created: its Started event is
// the first event of the first step, not yet committed.
func Start(started store.Event, cfg Config) *Machine {
	m := newMachine(cfg)
	m.step.Events = []store.Event{started}
	m.now = started.At.UTC()
	return m
}

func newMachine(cfg Config) *Machine {
	return &Machine{cfg: cfg, open: map[int64]*openCommand{}}
}

// ReadOnly reports whether the machine is a replica (Config.ReadOnly).
func (m *Machine) ReadOnly() bool { return m.cfg.ReadOnly }

// Replaying reports whether the code's next command is matched against
// the journal rather than recorded.
func (m *Machine) Replaying() bool { return m.cur.Replaying() }

// Reexecuting reports whether the code re-executes history: it matches
// the journal, or reacts to an event it reacted to before.
func (m *Machine) Reexecuting() bool { return m.Replaying() || m.reacted }

// PastEnd reports whether a replica's code has gone past its journal: it
// issues a command the journal does not have, which a replica must not
// record. The code is parked there.
func (m *Machine) PastEnd() bool { return m.cfg.ReadOnly && !m.Replaying() }

// Now is the run's deterministic time: when the event the code reacts to
// was journaled.
func (m *Machine) Now() time.Time { return m.now }

// NewID returns the ID of the code's next command (activities, timers,
// children, side effects). IDs follow the order of the code's calls, so a
// replay gives each command the ID its journal has.
func (m *Machine) NewID() int64 {
	m.nextID++
	return m.nextID
}

// Len is the length of the journal as the code sees it: the events
// replayed so far, or the committed journal and the step's events.
func (m *Machine) Len() int64 {
	if ev, ok := m.cur.Peek(); ok {
		if ev.Seq > 0 {
			return ev.Seq - 1
		}
		return int64(m.cur.Pos())
	}
	return m.committed + int64(len(m.step.Events))
}

// Seq is the journal position of the last event the code saw, for a
// divergence found outside a match (a Version outside its range).
func (m *Machine) Seq() int64 {
	if m.cur != nil && m.cur.Pos() > 0 {
		return m.cur.LastSeq()
	}
	return m.committed + int64(len(m.step.Events))
}

// stamp is the time a live event is journaled at: the caller's clock to
// the microsecond, which every store keeps.
func (m *Machine) stamp() time.Time {
	if m.cfg.Clock == nil {
		return time.Time{}
	}
	return m.cfg.Clock().Truncate(time.Microsecond)
}

// Command records a command the code issued: kind and data as it is
// journaled. Replaying, it matches the journal's next event and returns
// that event's payload, which the code continues with (a side effect's
// value, a child's run ID); live, it appends the event to the step and
// returns nil. A command that departs from the journal returns the
// divergence and changes nothing.
func (m *Machine) Command(kind journal.Kind, data any) ([]byte, *Divergence) {
	var payload []byte
	if m.Replaying() {
		got, div := m.cur.Match(kind, data)
		if div != nil {
			return nil, div
		}
		payload = got
		if d, err := journal.Decode(kind, got); err == nil {
			data = d
		}
	} else {
		m.step.Events = append(m.step.Events, store.Event{Kind: kind, Data: journal.Encode(data), At: m.stamp()})
	}
	m.track(kind, data)
	return payload, nil
}

// track keeps the table of commands that wait for an outcome.
func (m *Machine) track(kind journal.Kind, data any) {
	switch d := data.(type) {
	case *journal.ActivityScheduledData:
		m.open[d.ID] = &openCommand{kind: kind}
	case *journal.TimerData:
		switch kind {
		case journal.TimerStarted:
			m.open[d.ID] = &openCommand{kind: kind, fireAt: d.FireAt}
			if !m.Replaying() {
				m.Arm(d.ID, d.FireAt)
			}
		case journal.TimerCanceled:
			delete(m.open, d.ID)
		}
	case *journal.ChildStartedData:
		if d.Error == nil {
			m.open[d.ID] = &openCommand{kind: kind}
		}
	case *journal.IDData:
		switch kind {
		case journal.ActivityCancelRequested:
			if !d.Wait { // the call ends now; its attempt's result is dropped
				delete(m.open, d.ID)
			}
		case journal.ChildCancelRequested:
			if c := m.open[d.ID]; c != nil {
				c.done = true
			}
		}
	}
}

// Waiting reports whether the command with this ID waits for an outcome
// of the given kind (an activity's, a timer's, a child's): what reaches
// the run for a command that no longer waits is not journaled.
func (m *Machine) Waiting(outcome journal.Kind, id int64) bool {
	c := m.open[id]
	return c != nil && !c.done && c.kind == commandOf(outcome)
}

// commandOf is the command whose outcome an inbound event is.
func commandOf(outcome journal.Kind) journal.Kind {
	switch outcome {
	case journal.ActivityCompleted, journal.ActivityFailed:
		return journal.ActivityScheduled
	case journal.TimerFired:
		return journal.TimerStarted
	case journal.ChildCompleted, journal.ChildFailed:
		return journal.ChildStarted
	}
	return ""
}

// Inbound journals an event that reached a live run (a signal, an
// activity's or child's outcome, a timer's firing) in the step, and
// returns it; the run's time moves to it. The caller lets the code react,
// and the reaction is committed with the event.
func (m *Machine) Inbound(kind journal.Kind, data any) (store.Event, *Divergence) {
	ev := store.Event{Kind: kind, Data: journal.Encode(data), At: m.stamp()}
	m.step.Events = append(m.step.Events, ev)
	return ev, m.take(ev, data)
}

// Next hands out the journal's next inbound event during replay, decoded,
// and moves the run's time to it. The error is a *Divergence when the
// journal has a command there (the code should have issued it before
// waiting) or the event is the outcome of a command the code does not wait
// for, and a decoding error when the event cannot be read.
func (m *Machine) Next() (store.Event, any, error) {
	ev, div := m.cur.NextInbound()
	if div != nil {
		return ev, nil, div
	}
	m.reacted = m.cur.Pos() <= m.processed
	if next, ok := m.cur.Peek(); ok && ev.Kind == journal.Started && next.Kind == journal.FirstStep {
		m.cur.Skip()
	}
	data, err := journal.Decode(ev.Kind, ev.Data)
	if err != nil {
		return ev, nil, fmt.Errorf("journal event %d: %w", ev.Seq, err)
	}
	if div := m.take(ev, data); div != nil {
		return ev, data, div
	}
	return ev, data, nil
}

// Applied ends the reaction to the event Next handed out.
func (m *Machine) Applied() { m.reacted = false }

// take moves the run's time to an inbound event and closes the command
// it is the outcome of. A child's outcome after the code gave up on the
// child is taken without effect.
func (m *Machine) take(ev store.Event, data any) *Divergence {
	m.now = ev.At.UTC()
	want := commandOf(ev.Kind)
	if want == "" {
		return nil
	}
	var id int64
	switch d := data.(type) {
	case *journal.ResultData:
		id = d.ID
	case *journal.TimerData:
		id = d.ID
	}
	c := m.open[id]
	if c == nil || c.kind != want || c.done && want != journal.ChildStarted {
		return m.cur.Unexpected(ev, "no such "+waiterName(want)+" waiting")
	}
	if want == journal.ChildStarted {
		c.done = true // kept: a late outcome of a cancelled child is no divergence
		return nil
	}
	delete(m.open, id)
	return nil
}

func waiterName(kind journal.Kind) string {
	switch kind {
	case journal.ActivityScheduled:
		return "activity"
	case journal.TimerStarted:
		return "timer"
	}
	return "child"
}

// Unexpected is the divergence of an inbound event the code cannot take
// (reason says why).
func (m *Machine) Unexpected(ev store.Event, reason string) *Divergence {
	return m.cur.Unexpected(ev, reason)
}

// Version returns the version the journal chose for changeID at this
// point of replay, consuming its marker; DefaultVersion's caller passes
// def, returned when the journal has no marker there (the run passed this
// point before the code had a Version call).
func (m *Machine) Version(changeID string, def int) int {
	ev, ok := m.cur.Peek()
	if !ok || ev.Kind != journal.VersionMarker {
		return def
	}
	d, err := journal.Decode(ev.Kind, ev.Data)
	if err != nil || d.(*journal.VersionData).ChangeID != changeID {
		return def
	}
	m.cur.Skip()
	return d.(*journal.VersionData).Version
}

// CheckVersion returns a KindVersion divergence when v, the version the run
// took at changeID, is outside [lo, hi], the range the code supports: the
// code no longer has the path that run took.
func (m *Machine) CheckVersion(changeID string, v, lo, hi int) *Divergence {
	if v >= lo && v <= hi {
		return nil
	}
	return &Divergence{
		Kind:     KindVersion,
		Seq:      m.Seq(),
		Expected: &Command{Kind: journal.VersionMarker, Name: changeID, Version: v},
		Found:    &Command{Kind: journal.VersionMarker, Name: changeID},
		Reason:   fmt.Sprintf("supports [%d, %d]", lo, hi),
	}
}

// EndReplay ends replay: the code's commands are new from here. The
// timers the journal left pending are to be armed after the next commit.
func (m *Machine) EndReplay() {
	if m.cur == nil {
		return
	}
	m.cur = nil
	m.reacted = false
	for id, c := range m.open {
		if c.kind == journal.TimerStarted {
			m.Arm(id, c.fireAt)
		}
	}
}

// Arm asks for an alarm at when for timer id once the step is committed
// (a run's execution deadline, which is not journaled, uses it too).
func (m *Machine) Arm(id int64, when time.Time) {
	if m.cfg.ReadOnly {
		return
	}
	m.step.Timers = append(m.step.Timers, TimerArm{ID: id, At: when})
}

// Close decides how the run ends: u is its final state, committed with
// the step (Step.Close). A run closes once; later calls are ignored.
func (m *Machine) Close(u *store.RunUpdate) {
	if m.closing != nil {
		return
	}
	m.closing = u
	m.step.Close = u
}

// Closing is how the run ends, nil while it runs.
func (m *Machine) Closing() *store.RunUpdate { return m.closing }

// Closed reports whether the run's close is committed.
func (m *Machine) Closed() bool { return m.closed }

// Step is the step the code produced since the last commit, for the
// caller to add to (store changes that go with the events) and commit.
func (m *Machine) Step() *Step { return &m.step }

// Committed records that the step was committed and starts a new one. It
// returns the committed step, whose commands the caller now carries out.
func (m *Machine) Committed() Step {
	s := m.step
	m.committed += int64(len(s.Events))
	if s.Close != nil {
		m.closed = true
	}
	m.step = Step{}
	return s
}

// Drop forgets the step: it is not committed (a replica's, a diverging
// one's).
func (m *Machine) Drop() { m.step = Step{} }

// CommittedLen is the length of the journal in the store.
func (m *Machine) CommittedLen() int64 { return m.committed }

// SplitFirst takes the Started event out of a new run's first step, for a
// store that creates the run with it alone; the rest of the step is then
// committed on top of it.
func (m *Machine) SplitFirst() store.Event {
	ev := m.step.Events[0]
	m.step.Events = m.step.Events[1:]
	m.committed = 1
	return ev
}
