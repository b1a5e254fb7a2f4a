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

func TestContinueAsNewChainVerifies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		workflow any
		file     string
		kind     durable.DivergenceKind // "": verifies
		eventID  int64
	}{
		{"FirstRun", Countdown, "countdown-2.json", "", 0},
		{"MiddleRun", Countdown, "countdown-1.json", "", 0},
		{"LastRun", Countdown, "countdown-0.json", "", 0},
		{"NoSleepBeforeContinuing", CountdownNoSleep, "countdown-1.json", durable.DivergenceMismatch, 5},
		{"CompletesInsteadOfContinuing", CountdownEndsEarly, "countdown-1.json", durable.DivergenceMismatch, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := engine(t, namedWorkflow{"Countdown", tc.workflow})
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
		})
	}
}
