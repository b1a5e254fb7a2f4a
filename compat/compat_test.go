package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
)

// Converted code of the workflows under test.

func Hello(ctx context.Context, name string) (string, error) { return "Hello " + name, nil }

// Greet is the conversion of the workflow in compat/replay/testdata/greet.json.
func Greet(ctx context.Context, name string) (string, error) {
	s, err := durable.Call[string](ctx, Hello, name)
	if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	mark, err := durable.Receive[string](ctx, "approve")
	if err != nil {
		return "", err
	}
	return s + mark, nil
}

// Waiter waits for a "go" signal, answers "state" queries and "add" updates.
func Waiter(ctx context.Context, base int) (int, error) {
	total := base
	if err := durable.SetQueryHandler(ctx, "state", func() (int, error) { return total, nil }); err != nil {
		return 0, err
	}
	if err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, n int) (int, error) {
		total += n
		return total, nil
	}); err != nil {
		return 0, err
	}
	n, err := durable.Receive[int](ctx, "go")
	return total + n, err
}

type testBundle struct {
	engine   *durable.Engine
	temporal *mocks.Client
	client   *compat.Client
	logs     *bytes.Buffer
}

func setup(t *testing.T, p compat.Policy) *testBundle {
	t.Helper()
	e, err := durable.Open(context.Background(), "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	e.RegisterWorkflow(Waiter)
	e.RegisterWorkflow(Greet)
	e.RegisterActivity(Hello)
	tc := mocks.NewClient(t)
	logs := &bytes.Buffer{}
	c, err := compat.New(tc, e, p, compat.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return &testBundle{engine: e, temporal: tc, client: c, logs: logs}
}

func percent(name string, p float64) compat.Policy {
	return compat.Policy{Workflows: map[string]compat.WorkflowPolicy{name: {Percent: p}}}
}

func counter(c *compat.Client, name string) int64 {
	v := c.Vars().Get(name)
	if v == nil {
		return 0
	}
	var n int64
	fmt.Sscan(v.String(), &n)
	return n
}

func TestPolicyDecide(t *testing.T) {
	t.Parallel()
	p := compat.Policy{Workflows: map[string]compat.WorkflowPolicy{
		"W":    {Percent: 100, Deny: []string{"d", "ad"}, Allow: []string{"ad"}},
		"Half": {Percent: 50},
		"Dead": {Percent: 100, Allow: []string{"a"}, Kill: true},
		"Pick": {Allow: []string{"a"}},
	}}
	for _, tc := range []struct {
		name, workflow, id string
		want               compat.Decision
	}{
		{"UnknownTypeIsOff", "Other", "x", compat.Decision{Side: compat.Temporal, Reason: "off"}},
		{"HundredPercent", "W", "x", compat.Decision{Side: compat.Durable, Reason: "percent"}},
		{"DenyWinsOverAllow", "W", "ad", compat.Decision{Side: compat.Temporal, Reason: "deny"}},
		{"KillWinsOverAll", "Dead", "a", compat.Decision{Side: compat.Temporal, Reason: "kill"}},
		{"AllowAtZeroPercent", "Pick", "a", compat.Decision{Side: compat.Durable, Reason: "allow"}},
		{"ZeroPercentIsOff", "Pick", "b", compat.Decision{Side: compat.Temporal, Reason: "off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, p.Decide(tc.workflow, tc.id))
		})
	}

	t.Run("PercentIsStableAndMonotone", func(t *testing.T) {
		t.Parallel()
		durableAt := func(pc float64) map[string]bool {
			q := percent("Half", pc)
			m := map[string]bool{}
			for i := range 2000 {
				id := fmt.Sprintf("order-%d", i)
				if q.Decide("Half", id).Side == compat.Durable {
					m[id] = true
				}
				require.Equal(t, q.Decide("Half", id), q.Decide("Half", id))
			}
			return m
		}
		one, half := durableAt(1), durableAt(50)
		require.InDelta(t, 1000, len(half), 100)
		require.InDelta(t, 20, len(one), 15)
		for id := range one {
			require.True(t, half[id], "raising the percentage moved %s back to Temporal", id)
		}
	})

	t.Run("ValidateRejectsBadPercent", func(t *testing.T) {
		t.Parallel()
		require.Error(t, (&compat.Policy{Workflows: map[string]compat.WorkflowPolicy{"W": {Percent: 101}}}).Validate())
	})
}

func TestClientDurableSide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Waiter", 100))

	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "w-1", TaskQueue: "q"}, Waiter, 1)
	require.NoError(t, err)
	require.Equal(t, "w-1", run.GetID())
	require.NotEmpty(t, run.GetRunID())

	v, err := b.client.QueryWorkflow(ctx, "w-1", "", "state")
	require.NoError(t, err)
	var state int
	require.NoError(t, v.Get(&state))
	require.Equal(t, 1, state)

	h, err := b.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: "w-1", UpdateName: "add", Args: []any{10}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	var total int
	require.NoError(t, h.Get(ctx, &total))
	require.Equal(t, 11, total)

	desc, err := b.client.DescribeWorkflowExecution(ctx, "w-1", "")
	require.NoError(t, err)
	require.Equal(t, "Waiter", desc.GetWorkflowExecutionInfo().GetType().GetName())
	require.Nil(t, desc.GetWorkflowExecutionInfo().GetCloseTime())

	require.NoError(t, b.client.SignalWorkflow(ctx, "w-1", "", "go", 100))
	var res int
	require.NoError(t, b.client.GetWorkflow(ctx, "w-1", "").Get(ctx, &res))
	require.Equal(t, 111, res)
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, 111, res)

	require.Equal(t, int64(1), counter(b.client, "route.durable.percent"))
	require.Contains(t, b.logs.String(), "side=durable")
	// The mock fails the test on any Temporal call.
}

func TestClientDurableSideEnforcesTimeouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Waiter", 100))

	// Nobody signals "go": the execution timeout ends the run.
	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "w-exec", WorkflowExecutionTimeout: 200 * time.Millisecond}, Waiter, 1)
	require.NoError(t, err)
	var res int
	err = run.Get(ctx, &res)
	var te *durable.TimeoutError
	require.ErrorAs(t, err, &te, "Get: %v", err)

	run, err = b.client.SignalWithStartWorkflow(ctx, "w-run", "never", 0, client.StartWorkflowOptions{WorkflowRunTimeout: 200 * time.Millisecond}, Waiter, 1)
	require.NoError(t, err)
	err = run.Get(ctx, &res)
	require.ErrorAs(t, err, &te, "Get: %v", err)
}

// Flaky fails its first two attempts.
func Flaky(ctx context.Context) (int, error) {
	if a := durable.GetInfo(ctx).Attempt; a < 3 {
		return 0, fmt.Errorf("attempt %d fails", a)
	}
	return durable.GetInfo(ctx).Attempt, nil
}

func TestClientDurableSideRetriesWorkflows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Flaky", 100))
	b.engine.RegisterWorkflow(Flaky)

	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "flaky",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumAttempts: 5}}, Flaky)
	require.NoError(t, err)
	var attempt int
	require.NoError(t, run.Get(ctx, &attempt))
	require.Equal(t, 3, attempt)
}

func TestClientTemporalSide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Waiter", 0))
	trun := mocks.NewWorkflowRun(t)
	b.temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, "Waiter", 1).Return(trun, nil).Once()
	b.temporal.On("SignalWorkflow", mock.Anything, "w-2", "", "go", 5).Return(nil).Once()
	b.temporal.On("CancelWorkflow", mock.Anything, "w-2", "").Return(nil).Once()
	b.temporal.On("GetWorkflow", mock.Anything, "w-2", "r").Return(trun).Once()

	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "w-2"}, "Waiter", 1)
	require.NoError(t, err)
	require.Same(t, trun, run)
	require.NoError(t, b.client.SignalWorkflow(ctx, "w-2", "", "go", 5))
	require.NoError(t, b.client.CancelWorkflow(ctx, "w-2", ""))
	require.Same(t, trun, b.client.GetWorkflow(ctx, "w-2", "r"))
	require.Equal(t, int64(1), counter(b.client, "route.temporal.off"))
}

func TestClientFollowUpsGoWhereTheIDStarted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Waiter", 100))
	_, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "on-durable"}, Waiter, 1)
	require.NoError(t, err)

	// Kill switch mid-run: new executions go to Temporal, the running one
	// stays on the durable engine.
	require.NoError(t, b.client.SetPolicy(compat.Policy{Workflows: map[string]compat.WorkflowPolicy{"Waiter": {Percent: 100, Kill: true}}}))
	trun := mocks.NewWorkflowRun(t)
	b.temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, "Waiter", 2).Return(trun, nil).Once()
	_, err = b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "on-temporal"}, "Waiter", 2)
	require.NoError(t, err)
	require.Equal(t, int64(1), counter(b.client, "route.temporal.kill"))

	// A second client on the same store (another process) knows both.
	c2, err := compat.New(b.temporal, b.engine, compat.Policy{}, compat.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(c2.Close)
	b.temporal.On("SignalWorkflow", mock.Anything, "on-temporal", "", "go", 1).Return(nil).Once()
	require.NoError(t, c2.SignalWorkflow(ctx, "on-temporal", "", "go", 1))
	require.NoError(t, c2.SignalWorkflow(ctx, "on-durable", "", "go", 1))
	var res int
	require.NoError(t, c2.GetWorkflow(ctx, "on-durable", "").Get(ctx, &res))
	require.Equal(t, 2, res)
}

func TestClientSignalWithStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Waiter", 100))
	run, err := b.client.SignalWithStartWorkflow(ctx, "sws", "go", 7, client.StartWorkflowOptions{}, Waiter, 3)
	require.NoError(t, err)
	var res int
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, 10, res)
}

func TestClientWatchesPolicyFile(t *testing.T) {
	t.Parallel()
	b := setup(t, compat.Policy{})
	path := filepath.Join(t.TempDir(), "policy.json")
	write := func(p compat.Policy) {
		data, err := json.Marshal(p)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	write(percent("Waiter", 5))
	require.NoError(t, b.client.WatchPolicy(context.Background(), path, 5*time.Millisecond))
	require.Equal(t, 5.0, b.client.Policy().Workflows["Waiter"].Percent)

	write(percent("Waiter", 50))
	require.Eventually(t, func() bool { return b.client.Policy().Workflows["Waiter"].Percent == 50 }, 5*time.Second, 5*time.Millisecond)

	// A broken file keeps the policy in force.
	require.NoError(t, os.WriteFile(path, []byte(`{"workflows": {"Waiter": {"percent": 500}}}`), 0o644))
	require.Eventually(t, func() bool { return counter(b.client, "policy.errors") == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, 50.0, b.client.Policy().Workflows["Waiter"].Percent)
}

// historyIterator serves a history's events as client.HistoryEventIterator.
func historyIterator(t *testing.T, h *historypb.History) *mocks.HistoryEventIterator {
	it := mocks.NewHistoryEventIterator(t)
	i := 0
	it.On("HasNext").Return(func() bool { return i < len(h.Events) })
	it.On("Next").Return(func() *historypb.HistoryEvent { i++; return h.Events[i-1] }, func() error { return nil })
	return it
}

func TestShadowVerifiesClosedTemporalExecutions(t *testing.T) {
	t.Parallel()
	h, err := replay.Load("replay/testdata/greet.json")
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		greet   any
		counter string
	}{
		{"SameCode", Greet, "shadow.verified"},
		// Replay compares activity argument values, not only their types.
		{"ChangedArgumentValue", func(ctx context.Context, name string) (string, error) { return Greet(ctx, "someone else") }, "shadow.diverged"},
		{"ChangedActivity", func(ctx context.Context, name string) (string, error) { return "", durable.Sleep(ctx, time.Hour) }, "shadow.diverged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := durable.Open(context.Background(), "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, err)
			t.Cleanup(func() { e.Close() })
			e.RegisterWorkflow(tc.greet, durable.WithName("Greet"))
			tc2 := mocks.NewClient(t)
			c, err := compat.New(tc2, e, compat.Policy{Workflows: map[string]compat.WorkflowPolicy{"Greet": {Shadow: 100}}},
				compat.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, err)

			trun := mocks.NewWorkflowRun(t)
			trun.On("GetRunID").Return("run-1")
			trun.On("Get", mock.Anything, nil).Return(nil).Once()
			tc2.On("ExecuteWorkflow", mock.Anything, mock.Anything, "Greet", "World").Return(trun, nil).Once()
			tc2.On("GetWorkflowHistory", mock.Anything, "greet-1", "run-1", false, mock.Anything).Return(historyIterator(t, h)).Once()

			run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "greet-1"}, "Greet", "World")
			require.NoError(t, err)
			require.Same(t, trun, run)
			require.Eventually(t, func() bool { return counter(c, tc.counter) == 1 }, 10*time.Second, 5*time.Millisecond)
			c.Close()
		})
	}
}
