package replay_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
)

// CountdownTemporal is the original Temporal workflow: it sleeps a
// minute, then continues as new with n-1 until n is 0.
func CountdownTemporal(ctx workflow.Context, n int) (string, error) {
	if n == 0 {
		return "liftoff", nil
	}
	if err := workflow.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	return "", workflow.NewContinueAsNewError(ctx, "Countdown", n-1)
}

// Countdown is CountdownTemporal as `migrate convert` writes it.
func Countdown(ctx context.Context, n int) (string, error) {
	if n == 0 {
		return "liftoff", nil
	}
	if err := durable.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	return "", durable.ContinueAsNew(ctx, "Countdown", n-1)
}

// CountdownNoSleep forgets the sleep before continuing.
func CountdownNoSleep(ctx context.Context, n int) (string, error) {
	if n == 0 {
		return "liftoff", nil
	}
	return "", durable.ContinueAsNew(ctx, "Countdown", n-1)
}

// CountdownEndsEarly completes where the original continued.
func CountdownEndsEarly(ctx context.Context, n int) (string, error) {
	if err := durable.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	return "liftoff", nil
}

// CountdownSkips continues with n-2.
func CountdownSkips(ctx context.Context, n int) (string, error) {
	if n <= 0 {
		return "liftoff", nil
	}
	if err := durable.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	return "", durable.ContinueAsNew(ctx, "Countdown", n-2)
}

// CountdownAsOther continues as another workflow.
func CountdownAsOther(ctx context.Context, n int) (string, error) {
	if n == 0 {
		return "liftoff", nil
	}
	if err := durable.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	return "", durable.ContinueAsNew(ctx, "Liftoff", n-1)
}

// continued records the run's end by continue-as-new.
func (b *historyBuilder) continued(workflow string, args ...any) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			NewExecutionRunId: fmt.Sprintf("run-%d", len(b.events)), WorkflowType: &commonpb.WorkflowType{Name: workflow},
			TaskQueue: &taskqueuepb.TaskQueue{Name: "countdown"}, Input: b.payloads(args...),
		}}
	})
	return b
}

// countdownHistory is the history of the chain's run that starts with n.
func countdownHistory(t testing.TB, n int, continued string) *historypb.History {
	b := newHistory(t).start("countdown-1", "Countdown", n).task()
	if n == 0 {
		b.complete("liftoff")
	} else {
		b.fired(b.timer(time.Minute)).task().continued("Countdown", n-1)
	}
	h := b.history()
	a := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
	a.TaskQueue = &taskqueuepb.TaskQueue{Name: "countdown"}
	a.ContinuedExecutionRunId = continued
	for _, ev := range h.Events {
		if a := ev.GetTimerStartedEventAttributes(); a != nil {
			a.TimerId = strconv.FormatInt(ev.GetEventId(), 10)
		}
		if a := ev.GetTimerFiredEventAttributes(); a != nil {
			a.TimerId = strconv.FormatInt(a.GetStartedEventId(), 10)
		}
	}
	return h
}

func countdown2History(t testing.TB) *historypb.History { return countdownHistory(t, 2, "") }
func countdown1History(t testing.TB) *historypb.History { return countdownHistory(t, 1, "run-a") }
func countdown0History(t testing.TB) *historypb.History { return countdownHistory(t, 0, "run-b") }

var countdownChain = []string{"countdown-2.json", "countdown-1.json", "countdown-0.json"}

// TestContinueAsNewChainIsTemporals checks each run's history of the chain
// with Temporal's own replayer and the original workflow.
func TestContinueAsNewChainIsTemporals(t *testing.T) {
	t.Parallel()
	for _, file := range countdownChain {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			h, err := replay.Load(filepath.Join("testdata", file))
			require.NoError(t, err)
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(CountdownTemporal, workflow.RegisterOptions{Name: "Countdown"})
			require.NoError(t, r.ReplayWorkflowHistory(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), h))
		})
	}
}

// TestContinueAsNewChainLinksRuns checks that the translated chain
// carries the workflow and arguments across runs: what a run's
// ContinuedAsNew event says (which the code's ContinueAsNew is compared
// with) is what the next run starts with.
func TestContinueAsNewChainLinksRuns(t *testing.T) {
	t.Parallel()
	var prev []durable.HistoryEvent
	for _, file := range countdownChain {
		h, err := replay.Load(filepath.Join("testdata", file))
		require.NoError(t, err)
		j, err := replay.Translate(h)
		require.NoError(t, err)
		evs := j.Events()
		if prev != nil {
			last := prev[len(prev)-1]
			require.Equal(t, durable.EventContinuedAsNew, last.Kind)
			require.Equal(t, durable.EventStarted, evs[0].Kind)
			require.Equal(t, last.Workflow, evs[0].Workflow, file)
			require.JSONEq(t, string(last.Args), string(evs[0].Args), file)
		}
		prev = evs
	}
}

func TestContinueAsNewChainVerifies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		workflow any
		file     string
		kind     durable.DivergenceKind // "": verifies
		eventID  int64
		expected *durable.Command // the journal's side (Name, Args), when checked
		found    *durable.Command
		code     string
	}{
		{name: "FirstRun", workflow: Countdown, file: "countdown-2.json"},
		{name: "MiddleRun", workflow: Countdown, file: "countdown-1.json"},
		{name: "LastRun", workflow: Countdown, file: "countdown-0.json"},
		{name: "NoSleepBeforeContinuing", workflow: CountdownNoSleep, file: "countdown-1.json", kind: durable.DivergenceMismatch, eventID: 5},
		{name: "CompletesInsteadOfContinuing", workflow: CountdownEndsEarly, file: "countdown-1.json", kind: durable.DivergenceMismatch, eventID: 10},
		{
			name: "ContinuesWithOtherArguments", workflow: CountdownSkips, file: "countdown-2.json", kind: durable.DivergenceMismatch, eventID: 10,
			expected: &durable.Command{Kind: durable.EventContinuedAsNew, Name: "Countdown", Args: []byte(`[1]`)},
			found:    &durable.Command{Kind: durable.EventContinuedAsNew, Name: "Countdown", Args: []byte(`[0]`)},
			code:     "ContinueAsNew Countdown with (0) (other arguments)",
		},
		{
			name: "ContinuesAsAnotherWorkflow", workflow: CountdownAsOther, file: "countdown-1.json", kind: durable.DivergenceMismatch, eventID: 10,
			expected: &durable.Command{Kind: durable.EventContinuedAsNew, Name: "Countdown", Args: []byte(`[0]`)},
			found:    &durable.Command{Kind: durable.EventContinuedAsNew, Name: "Liftoff", Args: []byte(`[0]`)},
			code:     "ContinueAsNew Liftoff",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := engine(t, namedWorkflow{"Countdown", tc.workflow}, namedWorkflow{"Liftoff", Countdown})
			rep, err := replay.VerifyFile(context.Background(), e, filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			require.True(t, rep.Closed)
			if tc.kind == "" {
				require.True(t, rep.OK(), rep.String())
				return
			}
			require.False(t, rep.OK(), "want a divergence")
			var nd *durable.NonDeterminismError
			require.ErrorAs(t, rep.Divergence.Err, &nd)
			require.Equal(t, tc.kind, nd.Kind, rep.String())
			require.Equal(t, tc.eventID, rep.Divergence.EventID, rep.String())
			if tc.expected == nil {
				return
			}
			require.Equal(t, tc.code, rep.Divergence.Code)
			for _, side := range []struct{ want, got *durable.Command }{{tc.expected, nd.Expected}, {tc.found, nd.Found}} {
				require.NotNil(t, side.got)
				require.Equal(t, side.want.Kind, side.got.Kind)
				require.Equal(t, side.want.Name, side.got.Name)
				require.JSONEq(t, string(side.want.Args), string(side.got.Args))
			}
		})
	}
}
