package replay_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"

	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durable/shaped"
)

// TestWorkflowReplayerHistoryFiles: the converted form of a Temporal replay
// test passes with code that does what the history says, and fails with a
// *replay.DivergedError naming the event where the code departs from it.
func TestWorkflowReplayerHistoryFiles(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "greet.json")
	for _, tc := range []struct {
		name     string
		workflow any
		diverges bool
	}{
		{"SameCode", Greet, false},
		{"NoSleep", GreetNoSleep, true},
		{"ExtraSleep", GreetExtraSleep, true},
		{"OtherResult", GreetOtherResult, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := replay.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(tc.workflow, durable.WithName("Greet"))
			err := r.ReplayWorkflowHistoryFromJSONFile(nil, path)
			if !tc.diverges {
				require.NoError(t, err)
				return
			}
			var de *replay.DivergedError
			require.True(t, errors.As(err, &de), "want a replay.DivergedError, got %v", err)
			require.False(t, de.Report.OK())
			require.Contains(t, err.Error(), "DIVERGED Greet")
		})
	}
}

// TestWorkflowReplayerPartialHistory: a partial replay stops at the given
// event and does not compare the run's end.
func TestWorkflowReplayerPartialHistory(t *testing.T) {
	t.Parallel()
	h, err := replay.Load(filepath.Join("testdata", "greet.json"))
	require.NoError(t, err)
	var timerStarted int64
	for _, ev := range h.GetEvents() {
		if ev.GetTimerStartedEventAttributes() != nil {
			timerStarted = ev.GetEventId()
		}
	}
	require.NotZero(t, timerStarted)
	r := replay.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(GreetOtherResult, durable.WithName("Greet"))
	require.NoError(t, r.ReplayPartialWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", "greet.json"), timerStarted),
		"the result is not reached before the timer")
	require.Error(t, r.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", "greet.json")))
}

// TestWorkflowReplayerLogsAndNeedsAWorkflow: a logger gets a line per
// replayed history; a replayer with nothing registered says so.
func TestWorkflowReplayerLogsAndNeedsAWorkflow(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := replay.NewWorkflowReplayer()
	r.RegisterWorkflow(Greet)
	require.NoError(t, r.ReplayWorkflowHistory(log.NewStructuredLogger(slog.New(slog.NewTextHandler(&buf, nil))), greetHistory(t)))
	require.Contains(t, buf.String(), "replayed workflow history")
	require.Contains(t, buf.String(), "Greet")

	err := replay.NewWorkflowReplayer().ReplayWorkflowHistory(nil, greetHistory(t))
	require.ErrorContains(t, err, "no workflow registered")
}

// TestWorkflowReplayerDurableRun: ReplayWorkflowExecution replays a run
// from a durable store through the replayer's code, as Temporal's replays
// an execution from its server.
func TestWorkflowReplayerDurableRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := durable.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "runs.db"), durable.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(Fan)
	e.RegisterActivity(Hello)
	e.RegisterActivity(Count)
	e.RegisterActivity(Charge)
	run, err := e.Start(ctx, durable.StartOptions{ID: "fan-1"}, Fan)
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	exec := shaped.WorkflowExecution{ID: "fan-1", RunID: run.RunID()}

	same := replay.NewWorkflowReplayer()
	same.RegisterWorkflow(Fan)
	require.NoError(t, same.ReplayWorkflowExecution(ctx, e, nil, "default", exec))

	other := replay.NewWorkflowReplayer()
	other.RegisterWorkflowWithOptions(Guarded, durable.WithName("Fan"))
	err = other.ReplayWorkflowExecution(ctx, e, nil, "default", exec)
	var nd *durable.NonDeterminismError
	require.True(t, errors.As(err, &nd), "want a NonDeterminismError, got %v", err)

	require.Error(t, same.ReplayWorkflowExecution(ctx, e, nil, "default", shaped.WorkflowExecution{ID: "no-such"}))
}
