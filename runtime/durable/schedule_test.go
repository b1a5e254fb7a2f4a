package durable_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// ScheduledReport is the workflow the schedule tests start.
func ScheduledReport(ctx context.Context, name string) (string, error) {
	return "report " + name, nil
}

// ScheduledWait waits for a signal, so that the schedule's overlap policy
// has a running workflow to deal with.
func ScheduledWait(ctx context.Context) (string, error) {
	return durable.Receive[string](ctx, "go")
}

var scheduledID = regexp.MustCompile(`^job-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// scheduledRuns lists the runs a schedule started (their workflow IDs
// start with "job-").
func scheduledRuns(t *testing.T, e *durable.Engine) []*store.Run {
	t.Helper()
	runs, err := e.Store().ListRuns(context.Background(), &store.ListRunsParams{WorkflowIDPrefix: "job-"})
	require.NoError(t, err)
	return runs
}

func describe(t *testing.T, h *durable.ScheduleHandle) *durable.ScheduleDescription {
	t.Helper()
	d, err := h.Describe(context.Background())
	require.NoError(t, err)
	return d
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	type testBundle struct {
		e  *durable.Engine
		sc *durable.ScheduleClient
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		e := openEngine(t, "memory:")
		e.RegisterWorkflow(ScheduledReport)
		e.RegisterWorkflow(ScheduledWait)
		return &testBundle{e: e, sc: e.ScheduleClient()}
	}
	// onStores runs a test on each store: the worker engine runs the
	// schedules, and a client-only engine on the same store (a starter
	// process) manages them where the store allows a second process.
	onStores := func(t *testing.T, test func(t *testing.T, b *testBundle)) {
		t.Helper()
		for _, backend := range []string{"memory", "sqlite", "postgres"} {
			t.Run(backend, func(t *testing.T) {
				t.Parallel()
				var worker, client *durable.Engine
				switch backend {
				case "memory":
					worker = openEngine(t, "memory:")
					client = worker
				case "sqlite":
					path := filepath.Join(t.TempDir(), "schedules.db")
					worker = openEngine(t, "sqlite:"+path)
					client = openEngine(t, "sqlite:"+path, durable.WithClientOnly())
				case "postgres":
					dsn, schema := pgSchema(t)
					worker = openPGEngine(t, dsn, schema)
					client = openPGEngine(t, dsn, schema, durable.WithClientOnly())
				}
				for _, e := range []*durable.Engine{worker, client} {
					e.RegisterWorkflow(ScheduledReport)
					e.RegisterWorkflow(ScheduledWait)
				}
				test(t, &testBundle{e: client, sc: client.ScheduleClient()})
			})
		}
	}

	t.Run("IntervalRunsItsRemainingActions", func(t *testing.T) {
		t.Parallel()
		onStores(t, func(t *testing.T, b *testBundle) {
			ctx := waitCtx(t)
			h, err := b.sc.Create(ctx, durable.ScheduleOptions{
				ID:               "every-second",
				Spec:             durable.ScheduleSpec{Intervals: []durable.ScheduleIntervalSpec{{Every: time.Second}}},
				Action:           durable.ScheduleWorkflowAction{ID: "job", Workflow: ScheduledReport, Args: []any{"daily"}},
				RemainingActions: 2,
			})
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				d := describe(t, h)
				return d.Info.NumActions == 2 && len(d.Info.RunningWorkflows) == 0
			}, 15*time.Second, 20*time.Millisecond)
			d := describe(t, h)
			require.Equal(t, 0, d.Schedule.State.RemainingActions)
			require.True(t, d.Schedule.State.LimitedActions)
			require.Empty(t, d.Info.NextActionTimes, "no action left")
			require.Equal(t, "ScheduledReport", d.Schedule.Action.Workflow)
			require.Len(t, d.Info.RecentActions, 2)
			runs := scheduledRuns(t, b.e)
			require.Len(t, runs, 2)
			for _, a := range d.Info.RecentActions {
				require.Regexp(t, scheduledID, a.StartWorkflowResult.WorkflowID)
				require.Equal(t, "job-"+a.ScheduleTime.UTC().Format(time.RFC3339), a.StartWorkflowResult.WorkflowID)
				require.Zero(t, a.ScheduleTime.Nanosecond(), "interval times are whole seconds")
				var out string
				require.NoError(t, b.e.Run(a.StartWorkflowResult.WorkflowID).Get(ctx, &out))
				require.Equal(t, "report daily", out)
			}
			require.Equal(t, time.Second, d.Info.RecentActions[1].ScheduleTime.Sub(d.Info.RecentActions[0].ScheduleTime))

			// A trigger takes the action although none remains.
			require.NoError(t, h.Trigger(ctx, durable.ScheduleTriggerOptions{}))
			require.Eventually(t, func() bool { return describe(t, h).Info.NumActions == 3 }, 10*time.Second, 20*time.Millisecond)
		})
	})

	t.Run("PauseUpdateListDelete", func(t *testing.T) {
		t.Parallel()
		onStores(t, func(t *testing.T, b *testBundle) {
			ctx := waitCtx(t)
			h, err := b.sc.Create(ctx, durable.ScheduleOptions{
				ID:     "weekly",
				Spec:   durable.ScheduleSpec{Calendars: []durable.ScheduleCalendarSpec{{Hour: []durable.ScheduleRange{{Start: 17}}, DayOfWeek: []durable.ScheduleRange{{Start: 5}}}}},
				Action: durable.ScheduleWorkflowAction{ID: "job", Workflow: "ScheduledReport", Args: []any{"weekly"}, Queue: durable.QueueDefault},
				Memo:   map[string]any{"owner": "ops"},
			})
			require.NoError(t, err)
			_, err = b.sc.Create(ctx, durable.ScheduleOptions{ID: "weekly", Action: durable.ScheduleWorkflowAction{ID: "x", Workflow: ScheduledReport, Args: []any{"x"}}})
			require.ErrorIs(t, err, durable.ErrScheduleAlreadyRunning)

			d := describe(t, h)
			require.Len(t, d.Info.NextActionTimes, durable.ScheduleNextActionTimesMax)
			for _, at := range d.Info.NextActionTimes {
				require.Equal(t, time.Friday, at.Weekday())
				require.Equal(t, 17, at.Hour())
			}
			require.JSONEq(t, `"ops"`, string(d.Memo["owner"]))

			require.NoError(t, h.Pause(ctx, durable.SchedulePauseOptions{Note: "maintenance"}))
			d = describe(t, h)
			require.True(t, d.Schedule.State.Paused)
			require.Equal(t, "maintenance", d.Schedule.State.Note)
			require.Empty(t, d.Info.NextActionTimes)
			require.NoError(t, h.Unpause(ctx, durable.ScheduleUnpauseOptions{}))
			require.Equal(t, "Unpaused via durable", describe(t, h).Schedule.State.Note)

			require.NoError(t, h.Update(ctx, durable.ScheduleUpdateOptions{DoUpdate: func(in durable.ScheduleUpdateInput) (*durable.ScheduleUpdate, error) {
				s := in.Description.Schedule
				s.Spec = durable.ScheduleSpec{Intervals: []durable.ScheduleIntervalSpec{{Every: time.Hour, Offset: 30 * time.Minute}}}
				s.State.LimitedActions, s.State.RemainingActions = true, 3
				return &durable.ScheduleUpdate{Schedule: &s}, nil
			}}))
			d = describe(t, h)
			require.Len(t, d.Info.NextActionTimes, 3)
			require.Equal(t, 30, d.Info.NextActionTimes[0].Minute())
			require.False(t, d.Info.LastUpdateAt.IsZero())
			require.Equal(t, []any{[]byte(`"weekly"`)}, rawArgs(d.Schedule.Action.Args), "arguments kept through Update")

			err = h.Update(ctx, durable.ScheduleUpdateOptions{DoUpdate: func(in durable.ScheduleUpdateInput) (*durable.ScheduleUpdate, error) {
				s := in.Description.Schedule
				s.Spec.Intervals[0].Offset = 2 * time.Hour
				return &durable.ScheduleUpdate{Schedule: &s}, nil
			}})
			require.ErrorContains(t, err, "Spec.Intervals[0].Offset")

			page, err := b.sc.List(ctx, durable.ScheduleListOptions{})
			require.NoError(t, err)
			require.Len(t, page.Schedules, 1)
			require.Equal(t, "weekly", page.Schedules[0].ID)
			require.Equal(t, "ScheduledReport", page.Schedules[0].WorkflowType)

			require.NoError(t, h.Delete(ctx))
			_, err = h.Describe(ctx)
			require.ErrorIs(t, err, durable.ErrNotFound)
			require.ErrorIs(t, h.Trigger(ctx, durable.ScheduleTriggerOptions{}), durable.ErrNotFound)
			page, err = b.sc.List(ctx, durable.ScheduleListOptions{})
			require.NoError(t, err)
			require.Empty(t, page.Schedules)
			_, err = b.sc.Create(ctx, durable.ScheduleOptions{ID: "weekly", Action: durable.ScheduleWorkflowAction{ID: "job", Workflow: ScheduledReport, Args: []any{"again"}}})
			require.NoError(t, err, "a deleted schedule's ID is free")
			require.Empty(t, scheduledRuns(t, b.e), "the spec never came due")
		})
	})

	t.Run("OverlapPolicies", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name    string
			policy  durable.ScheduleOverlapPolicy
			started int64
			skipped int64
			// status of the first workflow once the others started
			first string
		}{
			{name: "Skip", policy: durable.ScheduleOverlapSkip, started: 1, skipped: 2, first: "running"},
			{name: "BufferOne", policy: durable.ScheduleOverlapBufferOne, started: 1, skipped: 1, first: "running"},
			{name: "AllowAll", policy: durable.ScheduleOverlapAllowAll, started: 3, first: "running"},
			{name: "TerminateOther", policy: durable.ScheduleOverlapTerminateOther, started: 3, first: "terminated"},
			{name: "CancelOther", policy: durable.ScheduleOverlapCancelOther, started: 3, first: "canceled"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				ctx := waitCtx(t)
				h, err := b.sc.Create(ctx, durable.ScheduleOptions{
					ID: "overlap", Action: durable.ScheduleWorkflowAction{ID: "job", Workflow: ScheduledWait},
					Overlap: tt.policy, TriggerImmediately: true,
				})
				require.NoError(t, err)
				require.Eventually(t, func() bool { return len(describe(t, h).Info.RunningWorkflows) == 1 }, 10*time.Second, 10*time.Millisecond)
				first := describe(t, h).Info.RunningWorkflows[0].WorkflowID
				// Two more triggers while the first waits; at least a
				// second apart, as workflow IDs are per second.
				for range 2 {
					before := describe(t, h).Info.NumActions + describe(t, h).Info.NumActionsSkippedOverlap + int64(describe(t, h).Info.BufferedActions)
					time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
					require.NoError(t, h.Trigger(ctx, durable.ScheduleTriggerOptions{}))
					require.Eventually(t, func() bool {
						d := describe(t, h)
						return d.Info.NumActions+d.Info.NumActionsSkippedOverlap+int64(d.Info.BufferedActions) > before
					}, 10*time.Second, 10*time.Millisecond)
				}
				require.Eventually(t, func() bool {
					d := describe(t, h)
					return d.Info.NumActions == tt.started && d.Info.NumActionsSkippedOverlap == tt.skipped
				}, 10*time.Second, 10*time.Millisecond)
				info, err := b.e.Describe(ctx, first)
				require.NoError(t, err)
				require.Equal(t, tt.first, info.Status)
				if tt.policy == durable.ScheduleOverlapBufferOne {
					require.Equal(t, 1, describe(t, h).Info.BufferedActions)
					require.NoError(t, b.e.Signal(ctx, first, "go", "done"))
					require.Eventually(t, func() bool { return describe(t, h).Info.NumActions == 2 }, 10*time.Second, 10*time.Millisecond)
				}
			})
		}
	})

	t.Run("CreateNamesTheBadField", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := waitCtx(t)
		tests := []struct {
			name string
			opts durable.ScheduleOptions
			want string
		}{
			{name: "NoID", opts: durable.ScheduleOptions{}, want: "ID is required"},
			{name: "NoActionID", opts: durable.ScheduleOptions{ID: "s", Action: durable.ScheduleWorkflowAction{Workflow: ScheduledReport}}, want: "Action.ID is required"},
			{name: "NoWorkflow", opts: durable.ScheduleOptions{ID: "s", Action: durable.ScheduleWorkflowAction{ID: "j"}}, want: "Action.Workflow is required"},
			{name: "WrongArgs", opts: durable.ScheduleOptions{ID: "s", Action: durable.ScheduleWorkflowAction{ID: "j", Workflow: ScheduledReport, Args: []any{1}}}, want: "argument 1"},
			{name: "BadSpec", opts: durable.ScheduleOptions{ID: "s", Action: durable.ScheduleWorkflowAction{ID: "j", Workflow: ScheduledWait}, Spec: durable.ScheduleSpec{TimeZoneName: "Nowhere/City"}}, want: "Spec.TimeZoneName"},
			{name: "BadOverlap", opts: durable.ScheduleOptions{ID: "s", Action: durable.ScheduleWorkflowAction{ID: "j", Workflow: ScheduledWait}, Overlap: 9}, want: "Overlap 9"},
		}
		for _, tt := range tests {
			_, err := b.sc.Create(ctx, tt.opts)
			require.ErrorContains(t, err, tt.want, tt.name)
		}
		_, err := b.sc.GetHandle(ctx, "missing").Describe(ctx)
		require.True(t, errors.Is(err, durable.ErrNotFound), "%v", err)
	})
}

// rawArgs turns Describe's json.RawMessage arguments into byte slices.
func rawArgs(args []any) []any {
	var out []any
	for _, a := range args {
		if r, ok := a.([]byte); ok {
			out = append(out, r)
			continue
		}
		if r, ok := a.(interface{ MarshalJSON() ([]byte, error) }); ok {
			b, _ := r.MarshalJSON()
			out = append(out, b)
			continue
		}
		out = append(out, a)
	}
	return out
}
