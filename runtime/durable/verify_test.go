package durable_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// journalOf runs Steps3 and returns its history.
func journalOf(t *testing.T, e *durable.Engine, id string) []durable.HistoryEvent {
	t.Helper()
	ctx := waitCtx(t)
	run, err := e.Start(ctx, durable.StartOptions{ID: id}, Steps3, "x")
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))
	h, err := e.History(ctx, id, "")
	require.NoError(t, err)
	return h.Events
}

func TestReplay(t *testing.T) {
	t.Parallel()
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Steps3)
	e.RegisterActivity(Dot)
	ctx := context.Background()

	t.Run("SameJournalReplays", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, e.Replay(ctx, "r1", "Steps3", journalOf(t, e, "r1")))
	})

	t.Run("ChangedArgumentValueIsADivergence", func(t *testing.T) {
		t.Parallel()
		events := journalOf(t, e, "r2")
		for i, ev := range events {
			if ev.Kind == durable.EventActivityScheduled && string(ev.Args) == `["x."]` {
				events[i].Args = json.RawMessage(`["y."]`)
				break
			}
		}
		err := e.Replay(ctx, "r2", "Steps3", events)
		var nd *durable.NonDeterminismError
		require.ErrorAs(t, err, &nd)
		require.Equal(t, durable.DivergenceMismatch, nd.Kind)
		require.JSONEq(t, `["y."]`, string(nd.Expected.Args))
		require.JSONEq(t, `["x."]`, string(nd.Found.Args))
	})

	t.Run("DifferentEndingIsAnErrorNotAPanic", func(t *testing.T) {
		t.Parallel()
		events := journalOf(t, e, "r3")
		last := &events[len(events)-1]
		require.Equal(t, durable.EventCompleted, last.Kind)
		last.Kind, last.Result, last.Failure = durable.EventFailed, nil, &durable.Failure{Message: "boom"}
		err := e.Replay(ctx, "r3", "Steps3", events)
		var nd *durable.NonDeterminismError
		require.ErrorAs(t, err, &nd)
		require.Equal(t, durable.DivergenceMismatch, nd.Kind)
		require.Equal(t, durable.EventFailed, nd.Expected.Kind)
		require.Equal(t, durable.EventCompleted, nd.Found.Kind)
	})
}

// Nap calls Dot, sleeps an hour and returns the type of the error Dot
// failed with, if it did.
func Nap(ctx context.Context, s string) (string, error) {
	s, err := durable.Call[string](ctx, Dot, s)
	var app *durable.ApplicationError
	if errors.As(err, &app) {
		s = app.Type()
	} else if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, time.Hour); err != nil {
		return "", err
	}
	return s, nil
}

// TestReplayHistoryBuiltFromData replays histories written as data, as a
// caller outside this module (compat/replay) builds them.
func TestReplayHistoryBuiltFromData(t *testing.T) {
	t.Parallel()
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Nap)
	e.RegisterActivity(Dot)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	history := func(outcome durable.HistoryEvent, timer time.Duration, result string) []durable.HistoryEvent {
		outcome.ID, outcome.At = 1, at(2*time.Second)
		return []durable.HistoryEvent{
			{Kind: durable.EventStarted, At: t0, Workflow: "Nap", Args: json.RawMessage(`["x"]`), WorkflowID: "nap-1"},
			{Kind: durable.EventActivityScheduled, At: at(time.Second), ID: 1, Activity: "Dot", Args: json.RawMessage(`["x"]`)},
			outcome,
			// A Temporal timer is recorded a little after the event it
			// answers; its duration is FireAt less At.
			{Kind: durable.EventTimerStarted, At: at(3 * time.Second), ID: 2, FireAt: at(3*time.Second + timer)},
			{Kind: durable.EventTimerFired, At: at(3*time.Second + timer), ID: 2},
			{Kind: durable.EventCompleted, At: at(4*time.Second + timer), Result: json.RawMessage(result)},
		}
	}
	completed := durable.HistoryEvent{Kind: durable.EventActivityCompleted, Result: json.RawMessage(`"x."`)}
	failed := durable.HistoryEvent{Kind: durable.EventActivityFailed, Failure: &durable.Failure{Message: "busy", Type: "Busy", NonRetryable: true}}

	t.Run("Verifies", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, e.Replay(ctx, "nap-1", "Nap", history(completed, time.Hour, `"x."`)))
	})
	t.Run("FailureReachesTheCodeAsData", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, e.Replay(ctx, "nap-1", "Nap", history(failed, time.Hour, `"Busy"`)))
	})
	t.Run("TimerOfAnotherDurationDiverges", func(t *testing.T) {
		t.Parallel()
		err := e.Replay(ctx, "nap-1", "Nap", history(completed, 2*time.Hour, `"x."`))
		var nd *durable.NonDeterminismError
		require.ErrorAs(t, err, &nd)
		require.Equal(t, durable.DivergenceMismatch, nd.Kind)
		require.Equal(t, int64(4), nd.Seq)
		require.Equal(t, durable.EventTimerStarted, nd.Expected.Kind)
		require.Equal(t, 2*time.Hour, nd.Expected.Duration)
		require.Equal(t, time.Hour, nd.Found.Duration)
	})
	t.Run("DurationWithoutFireAt", func(t *testing.T) {
		t.Parallel()
		h := history(completed, time.Hour, `"x."`)
		h[3].FireAt, h[3].Duration = time.Time{}, time.Hour
		require.NoError(t, e.Replay(ctx, "nap-1", "Nap", h))
		h[3].Duration = time.Minute
		var nd *durable.NonDeterminismError
		require.ErrorAs(t, e.Replay(ctx, "nap-1", "Nap", h), &nd)
		require.Equal(t, time.Minute, nd.Expected.Duration)
	})
	t.Run("UnknownKindIsAnError", func(t *testing.T) {
		t.Parallel()
		h := history(completed, time.Hour, `"x."`)
		h[2].Kind = "Nope"
		err := e.Replay(ctx, "nap-1", "Nap", h)
		require.ErrorContains(t, err, `event 3: unknown event kind "Nope"`)
		var nd *durable.NonDeterminismError
		require.False(t, errors.As(err, &nd))
	})
}

// TestHistoryRoundTrip replays what History returns for runs that use
// every kind of command the typed history has fields for.
func TestHistoryRoundTrip(t *testing.T) {
	t.Parallel()
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Nap)
	e.RegisterWorkflow(Versioned)
	e.RegisterActivity(Dot)
	ctx := waitCtx(t)
	for _, tc := range []struct {
		workflow string
		args     []any
	}{
		{"Nap", []any{"x"}},
		{"Versioned", nil},
	} {
		id := "round-" + tc.workflow
		run, err := e.Start(ctx, durable.StartOptions{ID: id}, tc.workflow, tc.args...)
		require.NoError(t, err)
		if tc.workflow == "Nap" {
			continue // sleeps an hour: replay it open
		}
		require.NoError(t, run.Get(ctx, nil))
	}
	var h *durable.History
	require.Eventually(t, func() bool {
		var err error
		h, err = e.History(ctx, "round-Nap", "")
		return err == nil && len(h.PendingTimers) == 1
	}, 10*time.Second, time.Millisecond, "Nap sleeps")
	require.Equal(t, time.Hour, h.PendingTimers[0].Duration)
	require.NoError(t, e.Replay(ctx, "round-Nap", "Nap", h.Events), "a timer's duration is measured from the deterministic clock")
	h, err := e.History(ctx, "round-Versioned", "")
	require.NoError(t, err)
	require.NoError(t, e.Replay(ctx, "round-Versioned", "Versioned", h.Events))
}

// StartInfo returns what the run knows of its start: its memo's owner and
// its execution timeout, as GetInfo reports them.
func StartInfo(ctx context.Context) (string, error) {
	info := durable.GetInfo(ctx)
	var owner string
	if raw, ok := info.Memo["owner"]; ok {
		if err := json.Unmarshal(raw, &owner); err != nil {
			return "", err
		}
	}
	return owner, nil
}

// A history carries the Started event's start options (memo, timeouts,
// retry policy, cron schedule, chain position), so that Replay starts the
// run as it started: the code reads the start-time memo again.
func TestReplayKeepsStartOptions(t *testing.T) {
	t.Parallel()
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(StartInfo)
	ctx := waitCtx(t)
	retry := &durable.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 3}
	run, err := e.Start(ctx, durable.StartOptions{
		ID: "start-info", Memo: map[string]any{"owner": "ada"}, RunTimeout: time.Hour,
		ExecutionTimeout: 2 * time.Hour, RetryPolicy: retry,
	}, StartInfo)
	require.NoError(t, err)
	var owner string
	require.NoError(t, run.Get(ctx, &owner))
	require.Equal(t, "ada", owner)

	h, err := e.History(ctx, "start-info", "")
	require.NoError(t, err)
	started := h.Events[0]
	require.Equal(t, durable.EventStarted, started.Kind)
	require.Equal(t, time.Hour, started.RunTimeout)
	require.Equal(t, 2*time.Hour, started.ExecutionTimeout)
	require.False(t, started.Deadline.IsZero())
	require.Equal(t, retry, started.RetryPolicy)
	require.JSONEq(t, `"ada"`, string(started.Memo["owner"]))

	require.NoError(t, e.Replay(ctx, "start-info", "StartInfo", h.Events))

	// A run replayed long after it ran is not timed out by the replay.
	old := append([]durable.HistoryEvent(nil), h.Events...)
	for i := range old {
		old[i].At = old[i].At.Add(-72 * time.Hour)
	}
	old[0].Deadline = old[0].Deadline.Add(-72 * time.Hour)
	require.NoError(t, e.Replay(ctx, "start-info", "StartInfo", old))

	// Without the memo the code returns another result: Replay reports it.
	bare := append([]durable.HistoryEvent(nil), h.Events...)
	bare[0].Memo = nil
	err = e.Replay(ctx, "start-info", "StartInfo", bare)
	var nd *durable.NonDeterminismError
	require.ErrorAs(t, err, &nd)
	require.Equal(t, durable.DivergenceResult, nd.Kind)
}
