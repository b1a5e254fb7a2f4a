package durable_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// Versioned chooses version 1 of change "c".
func Versioned(ctx context.Context) (int, error) {
	return durable.Version(ctx, "c", durable.DefaultVersion, 1), nil
}

// VersionedLater supports only versions 2 and 3 of change "c".
func VersionedLater(ctx context.Context) (int, error) {
	return durable.Version(ctx, "c", 2, 3), nil
}

// TestReplayDivergenceKinds changes a real journal in one place per case
// and checks the typed error Engine.Replay returns: its kind, position and
// both sides as data.
func TestReplayDivergenceKinds(t *testing.T) {
	t.Parallel()
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Steps3)
	e.RegisterWorkflow(Versioned)
	e.RegisterActivity(Dot)
	later := openEngine(t, "memory:")
	later.RegisterWorkflow(VersionedLater, durable.WithName("Versioned"))
	ctx := context.Background()

	// Steps3's journal: Started, then per call ActivityScheduled and
	// ActivityCompleted, then Completed (8 events).
	at := func(events []durable.HistoryEvent, kind string, n int) int {
		for i, ev := range events {
			if ev.Kind == kind {
				if n == 0 {
					return i
				}
				n--
			}
		}
		t.Fatalf("no %s #%d", kind, n)
		return -1
	}
	for _, tc := range []struct {
		name     string
		workflow string
		engine   *durable.Engine
		change   func([]durable.HistoryEvent) []durable.HistoryEvent
		kind     durable.DivergenceKind
		seq      int64
		expected durable.Command // the fields checked
		found    *durable.Command
	}{
		{
			name: "OtherActivity", workflow: "Steps3", engine: e,
			change: func(evs []durable.HistoryEvent) []durable.HistoryEvent {
				evs[at(evs, durable.EventActivityScheduled, 0)].Activity = "Other"
				return evs
			},
			kind: durable.DivergenceMismatch, seq: 2,
			expected: durable.Command{Kind: "ActivityScheduled", Name: "Other", ArgTypes: []string{"string"}, Args: json.RawMessage(`["x"]`)},
			found:    &durable.Command{Kind: "ActivityScheduled", Name: "Dot", ArgTypes: []string{"string"}, Args: json.RawMessage(`["x"]`)},
		},
		{
			name: "CommandTheCodeNeverIssues", workflow: "Steps3", engine: e,
			change: func(evs []durable.HistoryEvent) []durable.HistoryEvent {
				i := at(evs, durable.EventActivityScheduled, 0) + 1
				return slices.Insert(evs, i, durable.HistoryEvent{Kind: durable.EventSideEffect, ID: 9, Result: json.RawMessage(`1`), At: evs[i].At})
			},
			kind: durable.DivergenceMissingCommand, seq: 3,
			expected: durable.Command{Kind: "SideEffect"},
		},
		{
			name: "CommandWhereTheJournalHasAnEvent", workflow: "Steps3", engine: e,
			change: func(evs []durable.HistoryEvent) []durable.HistoryEvent {
				return slices.Delete(evs, at(evs, durable.EventActivityScheduled, 1), at(evs, durable.EventActivityScheduled, 1)+1)
			},
			kind: durable.DivergenceExtraCommand, seq: 4,
			expected: durable.Command{Kind: "ActivityCompleted"},
			found:    &durable.Command{Kind: "ActivityScheduled", Name: "Dot", ArgTypes: []string{"string"}, Args: json.RawMessage(`["x."]`)},
		},
		{
			name: "EventNothingWaitsFor", workflow: "Steps3", engine: e,
			change: func(evs []durable.HistoryEvent) []durable.HistoryEvent {
				i := at(evs, durable.EventActivityScheduled, 0) + 1
				return slices.Insert(evs, i, durable.HistoryEvent{Kind: durable.EventTimerFired, ID: 99, At: evs[i].At})
			},
			kind: durable.DivergenceUnexpectedEvent, seq: 3,
			expected: durable.Command{Kind: "TimerFired"},
		},
		{
			name: "OtherResult", workflow: "Steps3", engine: e,
			change: func(evs []durable.HistoryEvent) []durable.HistoryEvent {
				evs[len(evs)-1].Result = json.RawMessage(`"y..."`)
				return evs
			},
			kind: durable.DivergenceResult, seq: 8,
			expected: durable.Command{Kind: "Completed", Status: "completed", Result: json.RawMessage(`"y..."`)},
			found:    &durable.Command{Kind: "Completed", Status: "completed", Result: json.RawMessage(`"x..."`)},
		},
		{
			name: "UnsupportedVersion", workflow: "Versioned", engine: later,
			kind: durable.DivergenceVersion, seq: 2,
			expected: durable.Command{Kind: "Version", Name: "c", Version: 1},
			found:    &durable.Command{Kind: "Version", Name: "c"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := "div-" + tc.name
			run, err := e.Start(ctx, durable.StartOptions{ID: id}, tc.workflow, argsOf(tc.workflow)...)
			require.NoError(t, err)
			require.NoError(t, run.Get(ctx, nil))
			h, err := e.History(ctx, id, "")
			require.NoError(t, err)
			events := h.Events
			require.NoError(t, e.Replay(ctx, id, tc.workflow, slices.Clone(events)), "the unchanged journal replays")
			if tc.change != nil {
				events = tc.change(events)
			}

			err = tc.engine.Replay(ctx, id, tc.workflow, events)
			var nd *durable.NonDeterminismError
			require.ErrorAs(t, err, &nd)
			require.Equal(t, tc.kind, nd.Kind, nd.Error())
			require.Equal(t, tc.seq, nd.Seq, nd.Error())
			require.NotNil(t, nd.Expected)
			got := durable.Command{Kind: nd.Expected.Kind, Name: nd.Expected.Name, ArgTypes: nd.Expected.ArgTypes, Args: nd.Expected.Args,
				Version: nd.Expected.Version, Result: nd.Expected.Result, Status: nd.Expected.Status}
			require.Equal(t, tc.expected, got)
			require.Equal(t, tc.found, nd.Found)
			require.NotEmpty(t, nd.Journal)
			require.NotEmpty(t, nd.Code)
		})
	}
}

func argsOf(workflow string) []any {
	if workflow == "Steps3" {
		return []any{"x"}
	}
	return nil
}
