package machine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ev makes a journal event at position seq, at time t0 + seq seconds.
func ev(seq int64, kind journal.Kind, data any) store.Event {
	return store.Event{Seq: seq, Kind: kind, Data: journal.Encode(data), At: t0.Add(time.Duration(seq) * time.Second)}
}

func started() store.Event {
	return ev(1, journal.Started, &journal.StartedData{Workflow: "W", Args: json.RawMessage(`[]`)})
}

// cmd is a command the code issues: a kind and its payload.
type cmd struct {
	kind journal.Kind
	data any
}

func TestCursorMatchesEveryPrimitive(t *testing.T) {
	t.Parallel()
	activity := &journal.ActivityScheduledData{ID: 1, Activity: "A", ArgTypes: []string{"string", "int"}, Args: json.RawMessage(`["x",1]`)}
	for _, tc := range []struct {
		name     string
		journal  any // payload journaled at position 2
		code     cmd
		args     bool // Options.CompareArgs
		wantData bool // Match returns the journaled payload (which the code reads back)
	}{
		{"Activity", activity, cmd{journal.ActivityScheduled, activity}, false, false},
		{"ActivityOtherArgValuesWithoutCompareArgs", activity, cmd{journal.ActivityScheduled, &journal.ActivityScheduledData{ID: 1, Activity: "A", ArgTypes: []string{"string", "int"}, Args: json.RawMessage(`["y",2]`)}}, false, false},
		{"ActivityFromHistoryWithoutTypes", &journal.ActivityScheduledData{ID: 1, Activity: "A", Args: json.RawMessage(`["x",1]`)}, cmd{journal.ActivityScheduled, activity}, true, false},
		{"LocalActivityMarkerWithoutArgs", &journal.ActivityScheduledData{ID: 1, Activity: "A", Local: true}, cmd{journal.ActivityScheduled, &journal.ActivityScheduledData{ID: 1, Activity: "A", ArgTypes: []string{"string"}, Args: json.RawMessage(`["x"]`), Local: true}}, true, false},
		{"ActivityCancel", &journal.IDData{ID: 1, Wait: true}, cmd{journal.ActivityCancelRequested, &journal.IDData{ID: 1}}, false, true},
		{"Timer", &journal.TimerData{ID: 1, FireAt: t0.Add(time.Hour)}, cmd{journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(time.Hour)}}, false, true},
		{"TimerCancel", &journal.TimerData{ID: 1}, cmd{journal.TimerCanceled, &journal.TimerData{ID: 1}}, false, false},
		{"SideEffect", &journal.SideEffectData{ID: 1, Value: json.RawMessage(`42`)}, cmd{journal.SideEffectRecorded, &journal.SideEffectData{ID: 1}}, false, true},
		{"Version", &journal.VersionData{ChangeID: "c", Version: 2}, cmd{journal.VersionMarker, &journal.VersionData{ChangeID: "c", Version: 2}}, false, true},
		{"Attributes", &journal.AttributesData{Memo: map[string]json.RawMessage{"k": json.RawMessage(`1`)}}, cmd{journal.AttributesUpserted, &journal.AttributesData{}}, false, false},
		{"Child", &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c-1", RunID: "r"}, cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C"}}, false, true},
		{"ChildCancel", &journal.IDData{ID: 1}, cmd{journal.ChildCancelRequested, &journal.IDData{ID: 1}}, false, false},
		{"ExternalSignal", &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o"}, cmd{journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o"}}, false, true},
		{"ExternalCancel", &journal.CancelData{ID: 1, WorkflowID: "o"}, cmd{journal.ExternalCancelRequested, &journal.CancelData{ID: 1, WorkflowID: "o"}}, false, true},
		{"UpdateCompleted", &journal.ResultData{Update: "u1", Result: json.RawMessage(`1`)}, cmd{journal.UpdateCompleted, &journal.ResultData{Update: "u1", Result: json.RawMessage(`1`)}}, false, false},
		{"ContinueAsNew", &journal.ContinuedData{Workflow: "W", NextRunID: "next"}, cmd{journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W"}}, false, true},
		{"Complete", &journal.CompletedData{Result: json.RawMessage(`"ok"`)}, cmd{journal.Completed, &journal.CompletedData{Result: json.RawMessage(`"ok"`)}}, false, false},
		{"Fail", &journal.FailedData{Error: &journal.Failure{Message: "boom"}, NextRunID: "r2"}, cmd{journal.Failed, &journal.FailedData{Error: &journal.Failure{Message: "boom"}}}, false, true},
		{"Cancel", &journal.FailedData{Error: &journal.Failure{Kind: "canceled"}}, cmd{journal.Canceled, &journal.FailedData{}}, false, false},
		// With CompareArgs (a Temporal history) values are compared where
		// the journal records them. The journal's event is at t0+2s and
		// the code reacts to Started at t0+1s.
		{"TimerSameDurationFromHistory", &journal.TimerData{ID: 1, FireAt: t0.Add(2*time.Second + time.Hour)}, cmd{journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(time.Second + time.Hour)}}, true, true},
		{"TimerOtherDurationInOwnJournal", &journal.TimerData{ID: 1, FireAt: t0.Add(time.Hour)}, cmd{journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(2 * time.Hour)}}, false, true},
		{"TimerCancelFromHistory", &journal.TimerData{ID: 1}, cmd{journal.TimerCanceled, &journal.TimerData{ID: 1}}, true, false},
		{"SideEffectFromHistory", &journal.SideEffectData{ID: 1, Value: json.RawMessage(`"r"`)}, cmd{journal.SideEffectRecorded, &journal.SideEffectData{ID: 1}}, true, true},
		{"VersionFromHistory", &journal.VersionData{ChangeID: "c", Version: 1}, cmd{journal.VersionMarker, &journal.VersionData{ChangeID: "c", Version: 1}}, true, true},
		{"ChildSameArgsAndID", &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c-1", Args: json.RawMessage(`[21]`)}, cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c-1", Args: json.RawMessage(`[21]`)}}, true, true},
		{"ChildIDNotRecorded", &journal.ChildStartedData{ID: 1, Workflow: "C", Args: json.RawMessage(`[21]`)}, cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "W/child-1", Args: json.RawMessage(`[21]`)}}, true, true},
		{"ChildOtherArgsInOwnJournal", &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c-1", Args: json.RawMessage(`[1]`)}, cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c-2", Args: json.RawMessage(`[2]`)}}, false, true},
		{"ChildNoArgs", &journal.ChildStartedData{ID: 1, Workflow: "C", Args: json.RawMessage(`[]`)}, cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C"}}, true, true},
		{"ExternalSignalSameArg", &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o", Arg: json.RawMessage(`{"a":1,"b":2}`)}, cmd{journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o", Arg: json.RawMessage(`{"b":2,"a":1}`)}}, true, true},
		{"ExternalSignalArgNotRecorded", &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o"}, cmd{journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "o", Arg: json.RawMessage(`42`)}}, true, true},
		{"ContinueAsNewSameArgs", &journal.ContinuedData{Workflow: "W", Args: json.RawMessage(`[1]`), NextRunID: "next"}, cmd{journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W", Args: json.RawMessage(`[1]`)}}, true, true},
		{"ContinueAsNewOtherArgsInOwnJournal", &journal.ContinuedData{Workflow: "W", Args: json.RawMessage(`[1]`)}, cmd{journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W", Args: json.RawMessage(`[2]`)}}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			journaled := ev(2, tc.code.kind, tc.journal)
			c := NewCursor([]store.Event{started(), journaled}, Options{CompareArgs: tc.args})
			first, div := c.NextInbound()
			require.Nil(t, div)
			require.Equal(t, journal.Started, first.Kind)
			require.True(t, c.Replaying())

			got, div := c.Match(tc.code.kind, tc.code.data)
			require.Nil(t, div)
			require.Equal(t, journaled.Data, got)
			if tc.wantData {
				require.JSONEq(t, string(journal.Encode(tc.journal)), string(got), "the code continues with the journaled payload")
			}
			require.False(t, c.Replaying())
			require.Equal(t, int64(2), c.LastSeq())
		})
	}
}

func TestCursorDivergences(t *testing.T) {
	t.Parallel()
	call := func(name string, types []string, args string, local bool) *journal.ActivityScheduledData {
		return &journal.ActivityScheduledData{ID: 1, Activity: name, ArgTypes: types, Args: json.RawMessage(args), Local: local}
	}
	for _, tc := range []struct {
		name     string
		journal  []store.Event // after Started
		code     *cmd          // nil: the code waits
		args     bool
		kind     Kind
		expected Command
		found    *Command
		codeText string
	}{
		{
			name:     "OtherActivity",
			journal:  []store.Event{ev(2, journal.ActivityScheduled, call("A", []string{"int"}, `[1]`, false))},
			code:     &cmd{journal.ActivityScheduled, call("B", []string{"string"}, `["x"]`, false)},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ActivityScheduled, Name: "A", ArgTypes: []string{"int"}, Args: json.RawMessage(`[1]`)},
			found:    &Command{Kind: journal.ActivityScheduled, Name: "B", ArgTypes: []string{"string"}, Args: json.RawMessage(`["x"]`)},
			codeText: "Call B(string)",
		},
		{
			name:     "OtherArgumentTypes",
			journal:  []store.Event{ev(2, journal.ActivityScheduled, call("A", []string{"int"}, `[1]`, false))},
			code:     &cmd{journal.ActivityScheduled, call("A", []string{"string"}, `["1"]`, false)},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ActivityScheduled, Name: "A", ArgTypes: []string{"int"}, Args: json.RawMessage(`[1]`)},
			found:    &Command{Kind: journal.ActivityScheduled, Name: "A", ArgTypes: []string{"string"}, Args: json.RawMessage(`["1"]`)},
			codeText: `Call A(string) with ("1")`,
		},
		{
			name:     "OtherArgumentValues",
			journal:  []store.Event{ev(2, journal.ActivityScheduled, call("A", nil, `[1]`, false))},
			code:     &cmd{journal.ActivityScheduled, call("A", []string{"int"}, `[2]`, false)},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.ActivityScheduled, Name: "A", Args: json.RawMessage(`[1]`)},
			found:    &Command{Kind: journal.ActivityScheduled, Name: "A", ArgTypes: []string{"int"}, Args: json.RawMessage(`[2]`)},
			codeText: "Call A(int) with (2)",
		},
		{
			name:     "RegularCallForLocal",
			journal:  []store.Event{ev(2, journal.ActivityScheduled, &journal.ActivityScheduledData{ID: 1, Activity: "A", Local: true})},
			code:     &cmd{journal.ActivityScheduled, call("A", []string{"int"}, `[1]`, false)},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.ActivityScheduled, Name: "A", Local: true},
			found:    &Command{Kind: journal.ActivityScheduled, Name: "A", ArgTypes: []string{"int"}, Args: json.RawMessage(`[1]`)},
			codeText: "Call A(int)",
		},
		{
			name:     "TimerForActivity",
			journal:  []store.Event{ev(2, journal.ActivityScheduled, call("A", []string{"int"}, `[1]`, false))},
			code:     &cmd{journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(time.Second + time.Minute)}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ActivityScheduled, Name: "A", ArgTypes: []string{"int"}, Args: json.RawMessage(`[1]`)},
			found:    &Command{Kind: journal.TimerStarted, Duration: time.Minute},
			codeText: "Timer 1m0s",
		},
		{
			name:     "OtherChild",
			journal:  []store.Event{ev(2, journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "c"})},
			code:     &cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "D", WorkflowID: "c"}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "c"},
			found:    &Command{Kind: journal.ChildStarted, Name: "D", WorkflowID: "c"},
			codeText: "Child D",
		},
		{
			name:     "SignalToOtherWorkflow",
			journal:  []store.Event{ev(2, journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "a"})},
			code:     &cmd{journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "b"}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "a"},
			found:    &Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "b"},
			codeText: `SignalExternal b "s"`,
		},
		{
			name:     "CancelOtherWorkflow",
			journal:  []store.Event{ev(2, journal.ExternalCancelRequested, &journal.CancelData{ID: 1, WorkflowID: "a"})},
			code:     &cmd{journal.ExternalCancelRequested, &journal.CancelData{ID: 1, WorkflowID: "b"}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ExternalCancelRequested, WorkflowID: "a"},
			found:    &Command{Kind: journal.ExternalCancelRequested, WorkflowID: "b"},
			codeText: "CancelExternal b",
		},
		{
			name:     "ContinueAsOtherWorkflow",
			journal:  []store.Event{ev(2, journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W"})},
			code:     &cmd{journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "V"}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ContinuedAsNew, Name: "W", Status: "continued"},
			found:    &Command{Kind: journal.ContinuedAsNew, Name: "V", Status: "continued"},
			codeText: "ContinueAsNew V",
		},
		{
			name:     "TimerOfAnotherDuration",
			journal:  []store.Event{ev(2, journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(2*time.Second + time.Hour)})},
			code:     &cmd{journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(time.Second + time.Minute)}},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.TimerStarted, Duration: time.Hour},
			found:    &Command{Kind: journal.TimerStarted, Duration: time.Minute},
			codeText: "Timer 1m0s",
		},
		{
			name:     "SideEffectForTimer",
			journal:  []store.Event{ev(2, journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(2*time.Second + time.Hour)})},
			code:     &cmd{journal.SideEffectRecorded, &journal.SideEffectData{ID: 1, Value: json.RawMessage(`1`)}},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.TimerStarted, Duration: time.Hour},
			found:    &Command{Kind: journal.SideEffectRecorded},
			codeText: "SideEffect",
		},
		{
			name:     "OtherVersionChange",
			journal:  []store.Event{ev(2, journal.VersionMarker, &journal.VersionData{ChangeID: "a", Version: 1})},
			code:     &cmd{journal.VersionMarker, &journal.VersionData{ChangeID: "b", Version: 1}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.VersionMarker, Name: "a", Version: 1},
			found:    &Command{Kind: journal.VersionMarker, Name: "b", Version: 1},
			codeText: `Version("b") = 1`,
		},
		{
			name:     "ChildWithOtherArgs",
			journal:  []store.Event{ev(2, journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", Args: json.RawMessage(`[21]`)})},
			code:     &cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "W/child-1", Args: json.RawMessage(`[22]`)}},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.ChildStarted, Name: "C", Args: json.RawMessage(`[21]`)},
			found:    &Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "W/child-1", Args: json.RawMessage(`[22]`)},
			codeText: "Child C with (22)",
		},
		{
			name:     "ChildWithOtherWorkflowID",
			journal:  []store.Event{ev(2, journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "kid-1", Args: json.RawMessage(`[21]`)})},
			code:     &cmd{journal.ChildStarted, &journal.ChildStartedData{ID: 1, Workflow: "C", WorkflowID: "W/child-1", Args: json.RawMessage(`[21]`)}},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "kid-1", Args: json.RawMessage(`[21]`)},
			found:    &Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "W/child-1", Args: json.RawMessage(`[21]`)},
			codeText: `Child C (workflow ID "W/child-1")`,
		},
		{
			name:     "SignalWithOtherName",
			journal:  []store.Event{ev(2, journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "a"})},
			code:     &cmd{journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "t", WorkflowID: "a"}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "a"},
			found:    &Command{Kind: journal.ExternalSignaled, Name: "t", WorkflowID: "a"},
			codeText: `SignalExternal a "t"`,
		},
		{
			name:     "SignalWithOtherArg",
			journal:  []store.Event{ev(2, journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "a", Arg: json.RawMessage(`42`)})},
			code:     &cmd{journal.ExternalSignaled, &journal.SignalData{ID: 1, Name: "s", WorkflowID: "a", Arg: json.RawMessage(`43`)}},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "a", Args: json.RawMessage(`42`)},
			found:    &Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "a", Args: json.RawMessage(`43`)},
			codeText: `SignalExternal a "s" with 43`,
		},
		{
			name:     "ContinueWithOtherArgs",
			journal:  []store.Event{ev(2, journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W", Args: json.RawMessage(`[1]`)})},
			code:     &cmd{journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W", Args: json.RawMessage(`[0]`)}},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.ContinuedAsNew, Name: "W", Args: json.RawMessage(`[1]`), Status: "continued"},
			found:    &Command{Kind: journal.ContinuedAsNew, Name: "W", Args: json.RawMessage(`[0]`), Status: "continued"},
			codeText: "ContinueAsNew W with (0)",
		},
		{
			name:     "ContinueInsteadOfTimer",
			journal:  []store.Event{ev(2, journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(2*time.Second + time.Minute)})},
			code:     &cmd{journal.ContinuedAsNew, &journal.ContinuedData{Workflow: "W", Args: json.RawMessage(`[0]`)}},
			args:     true,
			kind:     KindMismatch,
			expected: Command{Kind: journal.TimerStarted, Duration: time.Minute},
			found:    &Command{Kind: journal.ContinuedAsNew, Name: "W", Args: json.RawMessage(`[0]`), Status: "continued"},
			codeText: "ContinueAsNew W",
		},
		{
			name:     "FailsInsteadOfCompleting",
			journal:  []store.Event{ev(2, journal.Completed, &journal.CompletedData{Result: json.RawMessage(`1`)})},
			code:     &cmd{journal.Failed, &journal.FailedData{Error: &journal.Failure{Message: "x"}}},
			kind:     KindMismatch,
			expected: Command{Kind: journal.Completed, Result: json.RawMessage(`1`), Status: "completed"},
			found:    &Command{Kind: journal.Failed, Status: "failed"},
			codeText: "Fail",
		},
		{
			name:     "ExtraCommandBeforeInboundEvent",
			journal:  []store.Event{ev(2, journal.SignalReceived, &journal.SignalData{Name: "go"})},
			code:     &cmd{journal.SideEffectRecorded, &journal.SideEffectData{ID: 1, Value: json.RawMessage(`1`)}},
			kind:     KindExtraCommand,
			expected: Command{Kind: journal.SignalReceived, Name: "go"},
			found:    &Command{Kind: journal.SideEffectRecorded},
			codeText: "SideEffect",
		},
		{
			name:     "MissingCommand",
			journal:  []store.Event{ev(2, journal.TimerStarted, &journal.TimerData{ID: 1, FireAt: t0.Add(2*time.Second + time.Hour)})},
			kind:     KindMissingCommand,
			expected: Command{Kind: journal.TimerStarted, Duration: time.Hour},
			codeText: "nothing (every coroutine is waiting)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewCursor(append([]store.Event{started()}, tc.journal...), Options{CompareArgs: tc.args})
			_, div := c.NextInbound()
			require.Nil(t, div)
			if tc.code != nil {
				_, div = c.Match(tc.code.kind, tc.code.data)
			} else {
				_, div = c.NextInbound()
			}
			require.NotNil(t, div)
			require.Equal(t, tc.kind, div.Kind)
			require.Equal(t, int64(2), div.Seq)
			require.Equal(t, tc.expected, *div.Expected)
			require.Equal(t, tc.found, div.Found)
			require.Equal(t, tc.codeText, div.CodeText())
			require.Equal(t, 1, c.Pos(), "a divergence consumes nothing")
		})
	}
}

func TestCursorUnexpectedEvent(t *testing.T) {
	t.Parallel()
	fired := ev(2, journal.TimerFired, &journal.TimerData{ID: 7})
	c := NewCursor([]store.Event{started(), fired}, Options{})
	_, _ = c.NextInbound()
	got, div := c.NextInbound()
	require.Nil(t, div)
	d := c.Unexpected(got, "no such timer waiting")
	require.Equal(t, KindUnexpectedEvent, d.Kind)
	require.Equal(t, int64(2), d.Seq)
	require.Equal(t, journal.TimerFired, d.Expected.Kind)
	require.Nil(t, d.Found)
	require.Equal(t, "no such timer waiting", d.CodeText())

	var live *Cursor // a live run has no cursor; its divergences still describe the event
	require.Equal(t, journal.TimerFired, live.Unexpected(fired, "no such timer waiting").Expected.Kind)
	require.False(t, live.Replaying())
}

func TestCursorSkipsAndPeeks(t *testing.T) {
	t.Parallel()
	version := ev(2, journal.VersionMarker, &journal.VersionData{ChangeID: "c", Version: 1})
	c := NewCursor([]store.Event{started(), version}, Options{})
	_, _ = c.NextInbound()
	next, ok := c.Peek()
	require.True(t, ok)
	require.Equal(t, version, next)
	c.Skip()
	_, ok = c.Peek()
	require.False(t, ok)
	require.Equal(t, int64(2), c.LastSeq())
	require.Equal(t, 2, c.Len())
}

func TestCompareEnd(t *testing.T) {
	t.Parallel()
	completed := Command{Kind: journal.Completed, Status: "completed", Result: json.RawMessage(`{"a":1,"b":2}`)}
	for _, tc := range []struct {
		name        string
		want        Command
		found       *Command
		kind        Kind // "": no divergence
		codeText    string
		journalText string
	}{
		{"SameResult", completed, &Command{Kind: journal.Completed, Status: "completed", Result: json.RawMessage(`{"b":2, "a":1}`)}, "", "", ""},
		{"OtherResult", completed, &Command{Kind: journal.Completed, Status: "completed", Result: json.RawMessage(`{"a":2}`)}, KindResult, `result {"a":2}`, `result {"a":1,"b":2}`},
		{"OtherStatus", completed, &Command{Kind: journal.Failed, Status: "failed"}, KindEnd, "ends failed", "ends completed"},
		{"NotReturned", completed, nil, KindEnd, "has not returned", "ends completed"},
		{"FailedBoth", Command{Kind: journal.Failed, Status: "failed"}, &Command{Kind: journal.Failed, Status: "failed"}, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := CompareEnd(9, tc.want, tc.found)
			if tc.kind == "" {
				require.Nil(t, d)
				return
			}
			require.NotNil(t, d)
			require.Equal(t, tc.kind, d.Kind)
			require.Equal(t, int64(9), d.Seq)
			require.Equal(t, tc.codeText, d.CodeText())
			require.Equal(t, tc.journalText, d.JournalText())
		})
	}
}

func TestCommandString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    *Command
		want string
	}{
		{nil, "nothing"},
		{&Command{Kind: journal.ActivityScheduled, Name: "A", ArgTypes: []string{"string", "int"}}, "Call A(string, int)"},
		{&Command{Kind: journal.ActivityScheduled, Name: "A", Args: json.RawMessage(`["x",1]`)}, `Call A("x", 1)`},
		{&Command{Kind: journal.ActivityScheduled, Name: "A", Local: true}, "CallLocal A(…)"},
		{&Command{Kind: journal.TimerStarted, Duration: 90 * time.Second}, "Timer 1m30s"},
		{&Command{Kind: journal.VersionMarker, Name: "c", Version: 2}, `Version("c") = 2`},
		{&Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "o"}, `SignalExternal o "s"`},
		{&Command{Kind: journal.SignalReceived, Name: "s"}, `signal "s"`},
	} {
		require.Equal(t, tc.want, tc.c.String())
	}
}
