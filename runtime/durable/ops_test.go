package durable_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// opsBundle is an engine with a Pipeline workflow whose Charge activity
// fails its first attempt, and counters of the activities' calls.
type opsBundle struct {
	ctx           context.Context
	e             *durable.Engine
	charges, ship atomic.Int32
}

func newOpsBundle(t *testing.T) *opsBundle {
	t.Helper()
	b := &opsBundle{ctx: waitCtx(t), e: openEngine(t, "memory:")}
	b.e.RegisterActivity(func(ctx context.Context, n int) (int, error) {
		if b.charges.Add(1) == 1 {
			return 0, errors.New("card declined")
		}
		return n * 10, nil
	}, durable.WithName("Charge"))
	b.e.RegisterActivity(func(ctx context.Context, what string) (string, error) {
		b.ship.Add(1)
		return "shipped " + what, nil
	}, durable.WithName("Ship"))
	b.e.RegisterWorkflow(func(ctx context.Context, n int) (string, error) {
		ctx = durable.WithCallOptions(ctx, durable.CallOptions{RetryPolicy: &durable.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 3}})
		a, err := durable.Call[int](ctx, "Charge", n)
		if err != nil {
			return "", err
		}
		what, err := durable.Receive[string](ctx, "ship")
		if err != nil {
			return "", err
		}
		s, err := durable.Call[string](ctx, "Ship", what)
		return fmt.Sprintf("%d %s", a, s), err
	}, durable.WithName("Pipeline"))
	return b
}

func TestHistoryShowsAttemptsSignalsAndPendingWork(t *testing.T) {
	t.Parallel()
	b := newOpsBundle(t)
	run, err := b.e.Start(b.ctx, durable.StartOptions{ID: "order-1"}, "Pipeline", 4)
	require.NoError(t, err)

	// Wait for the run to wait on its signal: Charge completed.
	require.Eventually(t, func() bool {
		h, err := b.e.History(b.ctx, "order-1", "")
		require.NoError(t, err)
		for _, ev := range h.Events {
			if ev.Kind == "ActivityCompleted" {
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond)

	require.NoError(t, b.e.Signal(b.ctx, "order-1", "ship", "box"))
	var got string
	require.NoError(t, run.Get(b.ctx, &got))
	require.Equal(t, "40 shipped box", got)

	h, err := b.e.History(b.ctx, "order-1", "")
	require.NoError(t, err)
	require.Equal(t, "completed", h.Run.Status)
	require.JSONEq(t, `[4]`, string(h.Run.Input))
	require.JSONEq(t, `"40 shipped box"`, string(h.Run.Result))
	var kinds []string
	for _, ev := range h.Events {
		kinds = append(kinds, ev.Kind)
		require.NotEmpty(t, ev.Summary)
	}
	require.Equal(t, []string{"Started", "ActivityScheduled", "ActivityCompleted", "SignalReceived", "ActivityScheduled", "ActivityCompleted", "Completed"}, kinds)
	require.Equal(t, "Charge", h.Events[2].Activity)
	require.Equal(t, 2, h.Events[2].Attempt, "the first attempt failed")
	require.Contains(t, h.Events[2].Summary, "(attempt 2)")
	require.Equal(t, "ship", h.Events[3].Name)
	require.Empty(t, h.PendingActivities)
}

func TestResetReplaysUpToTheEventAndReappliesSignals(t *testing.T) {
	t.Parallel()
	b := newOpsBundle(t)
	run, err := b.e.Start(b.ctx, durable.StartOptions{ID: "order-2"}, "Pipeline", 5)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := b.e.Describe(b.ctx, "order-2")
		require.NoError(t, err)
		return info.JournalLen >= 3
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, b.e.Signal(b.ctx, "order-2", "ship", "crate"))
	require.NoError(t, run.Get(b.ctx, nil))
	require.EqualValues(t, 2, b.charges.Load())
	require.EqualValues(t, 1, b.ship.Load())

	_, err = b.e.Reset(b.ctx, durable.ResetOptions{WorkflowID: "order-2", Event: 7})
	require.ErrorContains(t, err, "closes the run")
	_, err = b.e.Reset(b.ctx, durable.ResetOptions{WorkflowID: "order-2", Event: 99})
	require.ErrorContains(t, err, "not in run")

	// Keep Started, ActivityScheduled and ActivityCompleted of Charge.
	newRun, err := b.e.Reset(b.ctx, durable.ResetOptions{WorkflowID: "order-2", Event: 3})
	require.NoError(t, err)
	require.NotEqual(t, run.(interface{ RunID() string }).RunID(), newRun)
	var got string
	require.NoError(t, b.e.GetWorkflow(b.ctx, "order-2", newRun).Get(b.ctx, &got))
	require.Equal(t, "50 shipped crate", got, "the signal after the reset point reached the new run again")
	require.EqualValues(t, 2, b.charges.Load(), "Charge replayed from the journal, not called")
	require.EqualValues(t, 2, b.ship.Load(), "Ship ran again after the reset point")

	info, err := b.e.Describe(b.ctx, "order-2")
	require.NoError(t, err)
	require.Equal(t, newRun, info.RunID)
	require.Equal(t, run.(interface{ RunID() string }).RunID(), info.ResetFrom)
	require.EqualValues(t, 3, info.ResetEvent)
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	b := newOpsBundle(t)
	for i := range 5 {
		_, err := b.e.Start(b.ctx, durable.StartOptions{ID: fmt.Sprintf("list-%d", i), SearchAttributes: map[string]any{"Customer": fmt.Sprintf("c%d", i%2)}}, "Pipeline", i)
		require.NoError(t, err)
	}
	require.NoError(t, b.e.Terminate(b.ctx, "list-0", "test"))

	page, err := b.e.List(b.ctx, durable.ListOptions{IDPrefix: "list-", PageSize: 2})
	require.NoError(t, err)
	require.Len(t, page.Runs, 2)
	require.Equal(t, "list-4", page.Runs[0].WorkflowID, "newest first")
	require.NotEmpty(t, page.NextPageToken)
	var all []string
	for o := (durable.ListOptions{IDPrefix: "list-", PageSize: 2}); ; {
		page, err := b.e.List(b.ctx, o)
		require.NoError(t, err)
		for _, r := range page.Runs {
			all = append(all, r.WorkflowID)
		}
		if page.NextPageToken == "" {
			break
		}
		o.PageToken = page.NextPageToken
	}
	require.Equal(t, []string{"list-4", "list-3", "list-2", "list-1", "list-0"}, all)

	page, err = b.e.List(b.ctx, durable.ListOptions{SearchAttributes: map[string]any{"Customer": "c1"}, Oldest: true})
	require.NoError(t, err)
	require.Len(t, page.Runs, 2)
	require.Equal(t, "list-1", page.Runs[0].WorkflowID)
	require.Equal(t, "list-3", page.Runs[1].WorkflowID)

	require.Eventually(t, func() bool {
		counts, err := b.e.Count(b.ctx, durable.ListOptions{IDPrefix: "list-"})
		require.NoError(t, err)
		return counts["terminated"] == 1 && counts["running"] == 4
	}, 10*time.Second, 5*time.Millisecond)
	counts, err := b.e.Count(b.ctx, durable.ListOptions{SearchAttributes: map[string]any{"Customer": "c0"}})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"terminated": 1, "running": 2}, counts)

	_, err = b.e.List(b.ctx, durable.ListOptions{Statuses: []string{"sleeping"}})
	require.ErrorContains(t, err, `unknown status "sleeping"`)
}

func TestHistoryShowsTimersChildrenAndPendingTimers(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(func(ctx context.Context, n int) (int, error) { return n * 2, nil }, durable.WithName("Double"))
	e.RegisterWorkflow(func(ctx context.Context) (int, error) {
		if err := durable.Sleep(ctx, time.Millisecond); err != nil {
			return 0, err
		}
		d, err := durable.Child[int](ctx, "Double", 21)
		if err != nil {
			return 0, err
		}
		if err := durable.Sleep(ctx, time.Hour); err != nil {
			return 0, err
		}
		return d, nil
	}, durable.WithName("Parent"))
	_, err := e.Start(ctx, durable.StartOptions{ID: "parent"}, "Parent")
	require.NoError(t, err)

	var h *durable.History
	require.Eventually(t, func() bool {
		h, err = e.History(ctx, "parent", "")
		require.NoError(t, err)
		return len(h.PendingTimers) == 1 && time.Until(h.PendingTimers[0].FireAt) > 30*time.Minute
	}, 10*time.Second, 5*time.Millisecond)
	var summaries []string
	for _, ev := range h.Events {
		summaries = append(summaries, ev.Kind+": "+ev.Summary)
	}
	joined := strings.Join(summaries, "\n")
	require.Regexp(t, `TimerStarted: timer #\d+ started, fires at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`, joined)
	require.Regexp(t, `TimerFired: timer #\d+ fired`, joined)
	require.Regexp(t, `ChildStarted: child Double #\d+ started as \S+ with \[21\]`, joined)
	require.Regexp(t, `ChildCompleted: child Double #\d+ completed: 42`, joined)
	require.WithinDuration(t, time.Now().Add(time.Hour), h.PendingTimers[0].FireAt, time.Minute)
	require.Equal(t, "running", h.Run.Status)
}
