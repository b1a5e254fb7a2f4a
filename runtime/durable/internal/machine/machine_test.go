package machine

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// op is one thing fed to a machine: a command the code issues, the next
// inbound event of replay (next), an event reaching a live run (inbound),
// or the end of replay.
type op struct {
	command   *cmd
	next      bool
	inbound   *cmd
	endReplay bool
	// div is the divergence the op must return ("": none).
	div Kind
}

func issue(kind journal.Kind, data any) op       { return op{command: &cmd{kind, data}} }
func receive(kind journal.Kind, data any) op     { return op{inbound: &cmd{kind, data}} }
func replayNext() op                             { return op{next: true} }
func diverges(o op, k Kind) op                   { o.div = k; return o }
func journalOf(evs ...store.Event) []store.Event { return append([]store.Event{started()}, evs...) }

// clock is the fixed clock the machines under test stamp live events with.
func clock() time.Time { return t0.Add(time.Hour) }

// run feeds ops to m in order and checks each one's divergence.
func run(t *testing.T, m *Machine, ops []op) {
	t.Helper()
	for i, o := range ops {
		var err error
		switch {
		case o.command != nil:
			if _, div := m.Command(o.command.kind, o.command.data); div != nil {
				err = div
			}
		case o.inbound != nil:
			if _, div := m.Inbound(o.inbound.kind, o.inbound.data); div != nil {
				err = div
			}
		case o.next:
			_, _, err = m.Next()
			m.Applied()
		case o.endReplay:
			m.EndReplay()
		}
		if o.div == "" {
			require.NoError(t, err, "op %d", i)
			continue
		}
		var div *Divergence
		require.True(t, errors.As(err, &div), "op %d: want a %s divergence, got %v", i, o.div, err)
		require.Equal(t, o.div, div.Kind, "op %d: %v", i, div)
	}
}

// kinds lists the kinds of events.
func kinds(evs []store.Event) []journal.Kind {
	out := []journal.Kind{}
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// TestMachineLiveSteps: a live run's commands and inbound events become
// the step's events, stamped with the caller's clock, and its timers the
// step's alarms; an outcome closes the command it answers, and one that
// answers nothing is a divergence.
func TestMachineLiveSteps(t *testing.T) {
	t.Parallel()
	activity := &journal.ActivityScheduledData{ID: 1, Activity: "A", ArgTypes: []string{"string"}, Args: json.RawMessage(`["x"]`)}
	local := &journal.ActivityScheduledData{ID: 1, Activity: "L", Local: true}
	timer := &journal.TimerData{ID: 1, FireAt: t0.Add(time.Minute)}
	child := &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c", RunID: "r"}
	for _, tc := range []struct {
		name   string
		ops    []op
		events []journal.Kind
		timers []TimerArm
	}{
		{"ActivityCompletes", []op{issue(journal.ActivityScheduled, activity), receive(journal.ActivityCompleted, &journal.ResultData{ID: 1})},
			[]journal.Kind{journal.ActivityScheduled, journal.ActivityCompleted}, nil},
		{"ActivityFails", []op{issue(journal.ActivityScheduled, activity), receive(journal.ActivityFailed, &journal.ResultData{ID: 1, Error: &journal.Failure{Message: "x"}})},
			[]journal.Kind{journal.ActivityScheduled, journal.ActivityFailed}, nil},
		{"LocalActivity", []op{issue(journal.ActivityScheduled, local), receive(journal.ActivityCompleted, &journal.ResultData{ID: 1})},
			[]journal.Kind{journal.ActivityScheduled, journal.ActivityCompleted}, nil},
		{"ActivityTwoOutcomes", []op{issue(journal.ActivityScheduled, activity), receive(journal.ActivityCompleted, &journal.ResultData{ID: 1}),
			diverges(receive(journal.ActivityCompleted, &journal.ResultData{ID: 1}), KindUnexpectedEvent)},
			[]journal.Kind{journal.ActivityScheduled, journal.ActivityCompleted, journal.ActivityCompleted}, nil},
		{"ActivityCancelWaitsForTheAttempt", []op{issue(journal.ActivityScheduled, activity), issue(journal.ActivityCancelRequested, &journal.IDData{ID: 1, Wait: true}),
			receive(journal.ActivityFailed, &journal.ResultData{ID: 1})},
			[]journal.Kind{journal.ActivityScheduled, journal.ActivityCancelRequested, journal.ActivityFailed}, nil},
		{"ActivityCancelEndsTheCall", []op{issue(journal.ActivityScheduled, activity), issue(journal.ActivityCancelRequested, &journal.IDData{ID: 1}),
			diverges(receive(journal.ActivityFailed, &journal.ResultData{ID: 1}), KindUnexpectedEvent)},
			[]journal.Kind{journal.ActivityScheduled, journal.ActivityCancelRequested, journal.ActivityFailed}, nil},
		{"TimerArmsAndFires", []op{issue(journal.TimerStarted, timer), receive(journal.TimerFired, &journal.TimerData{ID: 1})},
			[]journal.Kind{journal.TimerStarted, journal.TimerFired}, []TimerArm{{ID: 1, At: timer.FireAt}}},
		{"TimerCanceledDoesNotFire", []op{issue(journal.TimerStarted, timer), issue(journal.TimerCanceled, &journal.TimerData{ID: 1}),
			diverges(receive(journal.TimerFired, &journal.TimerData{ID: 1}), KindUnexpectedEvent)},
			[]journal.Kind{journal.TimerStarted, journal.TimerCanceled, journal.TimerFired}, []TimerArm{{ID: 1, At: timer.FireAt}}},
		{"SideEffectAndVersion", []op{issue(journal.SideEffectRecorded, &journal.SideEffectData{ID: 1, Value: json.RawMessage(`1`)}),
			issue(journal.VersionMarker, &journal.VersionData{ChangeID: "c", Version: 1})},
			[]journal.Kind{journal.SideEffectRecorded, journal.VersionMarker}, nil},
		{"ChildCompletes", []op{issue(journal.ChildStarted, child), receive(journal.ChildCompleted, &journal.ResultData{ID: 1})},
			[]journal.Kind{journal.ChildStarted, journal.ChildCompleted}, nil},
		{"ChildCancelledThenItsResult", []op{issue(journal.ChildStarted, child), issue(journal.ChildCancelRequested, &journal.IDData{ID: 1}),
			receive(journal.ChildFailed, &journal.ResultData{ID: 1})},
			[]journal.Kind{journal.ChildStarted, journal.ChildCancelRequested, journal.ChildFailed}, nil},
		{"ChildThatFailedToStartWaitsForNothing", []op{issue(journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", Error: &journal.Failure{Message: "running"}}),
			diverges(receive(journal.ChildCompleted, &journal.ResultData{ID: 1}), KindUnexpectedEvent)},
			[]journal.Kind{journal.ChildStarted, journal.ChildCompleted}, nil},
		{"UnknownChild", []op{diverges(receive(journal.ChildCompleted, &journal.ResultData{ID: 7}), KindUnexpectedEvent)},
			[]journal.Kind{journal.ChildCompleted}, nil},
		{"MessagesAndClose", []op{receive(journal.SignalReceived, &journal.SignalData{Name: "s"}), receive(journal.CancelRequested, &journal.CancelData{}),
			receive(journal.UpdateAccepted, &journal.UpdateData{Update: "u", Name: "n"}), issue(journal.UpdateCompleted, &journal.ResultData{Update: "u"}),
			issue(journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o"}), issue(journal.ExternalCancelRequested, &journal.CancelData{ID: 2, WorkflowID: "o"}),
			issue(journal.AttributesUpserted, &journal.AttributesData{}), issue(journal.Completed, &journal.CompletedData{Result: json.RawMessage(`1`)})},
			[]journal.Kind{journal.SignalReceived, journal.CancelRequested, journal.UpdateAccepted, journal.UpdateCompleted,
				journal.ExternalSignaled, journal.ExternalCancelRequested, journal.AttributesUpserted, journal.Completed}, nil},
		{"ContinueAsNew", []op{issue(journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W", NextRunID: "n"})},
			[]journal.Kind{journal.ContinuedAsNew}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := Start(started(), Config{Clock: clock})
			run(t, m, tc.ops)
			st := m.Step()
			require.Equal(t, append([]journal.Kind{journal.Started}, tc.events...), kinds(st.Events))
			for _, e := range st.Events[1:] {
				require.Equal(t, clock(), e.At, "live events carry the caller's clock")
			}
			require.Equal(t, tc.timers, st.Timers)
			s := m.Committed()
			require.Len(t, s.Events, len(tc.events)+1)
			require.EqualValues(t, len(tc.events)+1, m.CommittedLen())
			require.False(t, m.Step().Dirty(), "a committed step starts a new one")
		})
	}
}

// TestMachineReplay: fed a journal, the machine matches the code's
// commands, hands out the inbound events in order, finds each kind of
// divergence, and appends nothing while it replays.
func TestMachineReplay(t *testing.T) {
	t.Parallel()
	activity := &journal.ActivityScheduledData{ID: 1, Activity: "A", ArgTypes: []string{"string"}, Args: json.RawMessage(`["x"]`)}
	timer := &journal.TimerData{ID: 1, FireAt: t0.Add(time.Minute)}
	child := &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c", RunID: "r"}
	for _, tc := range []struct {
		name    string
		journal []store.Event
		ops     []op
	}{
		{"Activity", journalOf(ev(2, journal.ActivityScheduled, activity), ev(3, journal.ActivityCompleted, &journal.ResultData{ID: 1})),
			[]op{replayNext(), issue(journal.ActivityScheduled, activity), replayNext()}},
		{"ActivityOtherName", journalOf(ev(2, journal.ActivityScheduled, activity)),
			[]op{replayNext(), diverges(issue(journal.ActivityScheduled, &journal.ActivityScheduledData{ID: 1, Activity: "B"}), KindMismatch)}},
		{"CommandWhereTheJournalWaits", journalOf(ev(2, journal.SignalReceived, &journal.SignalData{Name: "s"})),
			[]op{replayNext(), diverges(issue(journal.TimerStarted, timer), KindExtraCommand)}},
		{"WaitingWhereTheJournalHasACommand", journalOf(ev(2, journal.TimerStarted, timer)),
			[]op{replayNext(), diverges(replayNext(), KindMissingCommand)}},
		{"OutcomeOfNothing", journalOf(ev(2, journal.ActivityCompleted, &journal.ResultData{ID: 1})),
			[]op{replayNext(), diverges(replayNext(), KindUnexpectedEvent)}},
		{"TimerFiredForAnotherTimer", journalOf(ev(2, journal.TimerStarted, timer), ev(3, journal.TimerFired, &journal.TimerData{ID: 2})),
			[]op{replayNext(), issue(journal.TimerStarted, timer), diverges(replayNext(), KindUnexpectedEvent)}},
		{"ChildResultAfterCancel", journalOf(ev(2, journal.ChildStarted, child), ev(3, journal.ChildCancelRequested, &journal.IDData{ID: 1}),
			ev(4, journal.ChildFailed, &journal.ResultData{ID: 1})),
			[]op{replayNext(), issue(journal.ChildStarted, child), issue(journal.ChildCancelRequested, &journal.IDData{ID: 1}), replayNext()}},
		{"ActivityResultForATimer", journalOf(ev(2, journal.TimerStarted, timer), ev(3, journal.ActivityCompleted, &journal.ResultData{ID: 1})),
			[]op{replayNext(), issue(journal.TimerStarted, timer), diverges(replayNext(), KindUnexpectedEvent)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := Load(tc.journal, Config{Clock: clock})
			run(t, m, tc.ops)
			require.Empty(t, m.Step().Events, "replay appends nothing")
		})
	}
}

// TestMachineReplayReturnsJournaledValues: the code continues with what
// the journal recorded (a side effect's value, a child's run ID, a timer's
// fire time), and the run's time is the time of the event it reacts to.
func TestMachineReplayReturnsJournaledValues(t *testing.T) {
	t.Parallel()
	m := Load(journalOf(
		ev(2, journal.SideEffectRecorded, &journal.SideEffectData{ID: 1, Value: json.RawMessage(`42`)}),
		ev(3, journal.ChildStarted, &journal.ChildStartedData{ID: 2, Workflow: "C", RunID: "run-from-journal"}),
	), Config{Clock: clock})
	_, _, err := m.Next()
	require.NoError(t, err)
	require.Equal(t, started().At, m.Now())
	require.True(t, m.Reexecuting(), "a loaded journal's events were reacted to before")
	got, div := m.Command(journal.SideEffectRecorded, &journal.SideEffectData{ID: m.NewID(), Value: json.RawMessage(`7`)})
	require.Nil(t, div)
	require.JSONEq(t, `{"id":1,"value":42}`, string(got))
	got, div = m.Command(journal.ChildStarted, &journal.ChildStartedData{ID: m.NewID(), Workflow: "C", RunID: "fresh"})
	require.Nil(t, div)
	d, err := journal.Decode(journal.ChildStarted, got)
	require.NoError(t, err)
	require.Equal(t, "run-from-journal", d.(*journal.ChildStartedData).RunID)
	require.False(t, m.Replaying())
	require.EqualValues(t, 3, m.Len())
}

// TestMachineEndReplayArmsPendingTimers: timers the journal left pending
// are armed after the first commit of a loaded run; fired and cancelled
// ones are not.
func TestMachineEndReplayArmsPendingTimers(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	m := Load(journalOf(
		ev(2, journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: at(1)}),
		ev(3, journal.TimerStarted, &journal.TimerData{ID: 2, FireAt: at(2)}),
		ev(4, journal.TimerStarted, &journal.TimerData{ID: 3, FireAt: at(3)}),
		ev(5, journal.TimerCanceled, &journal.TimerData{ID: 2}),
		ev(6, journal.TimerFired, &journal.TimerData{ID: 1}),
	), Config{Clock: clock})
	run(t, m, []op{replayNext(),
		issue(journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: at(1)}),
		issue(journal.TimerStarted, &journal.TimerData{ID: 2, FireAt: at(2)}),
		issue(journal.TimerStarted, &journal.TimerData{ID: 3, FireAt: at(3)}),
		issue(journal.TimerCanceled, &journal.TimerData{ID: 2}),
		replayNext(),
		{endReplay: true}})
	require.Equal(t, []TimerArm{{ID: 3, At: at(3)}}, m.Step().Timers)
	require.False(t, m.Step().Dirty(), "alarms are not store changes")
}

// TestMachineVersion: a replayed Version call takes the journal's marker,
// or the default when the run passed there before the call existed, and a
// version outside the supported range is a KindVersion divergence.
func TestMachineVersion(t *testing.T) {
	t.Parallel()
	m := Load(journalOf(
		ev(2, journal.VersionMarker, &journal.VersionData{ChangeID: "c", Version: 2}),
		ev(3, journal.SignalReceived, &journal.SignalData{Name: "s"}),
	), Config{Clock: clock})
	_, _, err := m.Next()
	require.NoError(t, err)
	require.Equal(t, -1, m.Version("other", -1), "no marker for another change")
	require.Equal(t, 2, m.Version("c", -1))
	require.Nil(t, m.CheckVersion("c", 2, 1, 3))
	div := m.CheckVersion("c", 2, 3, 4)
	require.NotNil(t, div)
	require.Equal(t, KindVersion, div.Kind)
	require.EqualValues(t, 2, div.Seq, "the marker the run took")
	require.Equal(t, "supports [3, 4]", div.Reason)
}

// TestMachineUndecodableEvent: an event replay cannot read stops the run
// with an error that is no divergence.
func TestMachineUndecodableEvent(t *testing.T) {
	t.Parallel()
	bad := store.Event{Seq: 2, Kind: journal.SignalReceived, Data: []byte(`{`), At: t0}
	m := Load(journalOf(bad), Config{Clock: clock})
	_, _, err := m.Next()
	require.NoError(t, err)
	_, _, err = m.Next()
	require.Error(t, err)
	var div *Divergence
	require.False(t, errors.As(err, &div))
	require.Contains(t, err.Error(), "journal event 2")
}

// TestMachineReplica: a read-only machine goes no further than its
// journal and arms nothing.
func TestMachineReplica(t *testing.T) {
	t.Parallel()
	m := Load(journalOf(ev(2, journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(time.Minute)})), Config{Clock: clock, ReadOnly: true})
	require.True(t, m.ReadOnly())
	_, _, err := m.Next()
	require.NoError(t, err)
	require.False(t, m.PastEnd())
	_, div := m.Command(journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(time.Minute)})
	require.Nil(t, div)
	require.True(t, m.PastEnd(), "the code is past the journal")
	m.EndReplay()
	require.Empty(t, m.Step().Timers)
}

// TestMachineSplitFirst: a new run's first step can be committed as its
// Started event and the rest, with the journal length following.
func TestMachineSplitFirst(t *testing.T) {
	t.Parallel()
	m := Start(started(), Config{Clock: clock})
	run(t, m, []op{issue(journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o"})})
	first := m.SplitFirst()
	require.Equal(t, journal.Started, first.Kind)
	require.EqualValues(t, 1, m.CommittedLen())
	require.Equal(t, []journal.Kind{journal.ExternalSignaled}, kinds(m.Step().Events))
	p := m.Step().CommitParams("run", "me", m.CommittedLen(), &store.RunUpdate{Status: store.StatusRunning})
	require.EqualValues(t, 1, p.ExpectLen)
	m.Committed()
	require.EqualValues(t, 2, m.Len())
}

// TestMachineClose: a run closes once; the close goes with the step that
// decides it and is committed with it.
func TestMachineClose(t *testing.T) {
	t.Parallel()
	m := Start(started(), Config{Clock: clock})
	m.Committed()
	require.False(t, m.Step().Dirty())
	done := &store.RunUpdate{Status: store.StatusCompleted}
	m.Close(done)
	m.Close(&store.RunUpdate{Status: store.StatusFailed})
	require.Same(t, done, m.Closing(), "the first close stands")
	require.True(t, m.Step().Dirty(), "a close is a store change")
	require.Same(t, done, m.Step().CommitParams("r", "me", m.CommittedLen(), m.Step().Close).Update)
	require.False(t, m.Closed())
	m.Committed()
	require.True(t, m.Closed())
	require.Nil(t, m.Step().Close)
}
