package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// ScheduledGreet is the workflow the schedule tests start.
func ScheduledGreet(ctx context.Context, name string) (string, error) { return "hello " + name, nil }

// TestScheduleClient drives a durable schedule through Temporal's
// client.ScheduleClient types: create with no spec, trigger, update with a
// DoUpdate callback (spec, paused, limited actions), unpause, list,
// describe and delete, as a Temporal starter does.
func TestScheduleClient(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := durable.Open(ctx, "memory:", durable.WithPollInterval(20*time.Millisecond))
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(ScheduledGreet)
	sc := compat.ScheduleClient(e)

	h, err := sc.Create(ctx, client.ScheduleOptions{
		ID:     "greetings",
		Spec:   client.ScheduleSpec{},
		Action: &client.ScheduleWorkflowAction{ID: "greet", Workflow: ScheduledGreet, Args: []any{"world"}, TaskQueue: "default"},
		Memo:   map[string]any{"team": "growth"},
	})
	require.NoError(t, err)
	require.Equal(t, "greetings", h.GetID())
	_, err = sc.Create(ctx, client.ScheduleOptions{ID: "greetings", Action: &client.ScheduleWorkflowAction{ID: "g", Workflow: ScheduledGreet, Args: []any{"x"}}})
	require.ErrorIs(t, err, temporal.ErrScheduleAlreadyRunning)

	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}))
	require.Eventually(t, func() bool {
		d, err := h.Describe(ctx)
		require.NoError(t, err)
		return d.Info.NumActions == 1
	}, 10*time.Second, 20*time.Millisecond)
	d, err := h.Describe(ctx)
	require.NoError(t, err)
	started := d.Info.RecentActions[0].StartWorkflowResult.WorkflowID
	require.Regexp(t, `^greet-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, started)
	var out string
	require.NoError(t, e.Run(started).Get(ctx, &out))
	require.Equal(t, "hello world", out)
	action := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.Equal(t, "ScheduledGreet", action.Workflow)
	var arg string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(action.Args[0].(*commonpb.Payload), &arg))
	require.Equal(t, "world", arg)
	var team string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(d.Memo.Fields["team"], &team))
	require.Equal(t, "growth", team)

	require.NoError(t, h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		in.Description.Schedule.Spec = &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Second}}}
		in.Description.Schedule.State.Paused = true
		in.Description.Schedule.State.LimitedActions = true
		in.Description.Schedule.State.RemainingActions = 2
		return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
	}}))
	d, err = h.Describe(ctx)
	require.NoError(t, err)
	require.True(t, d.Schedule.State.Paused)
	require.Equal(t, 2, d.Schedule.State.RemainingActions)
	require.Empty(t, d.Info.NextActionTimes)

	require.NoError(t, h.Unpause(ctx, client.ScheduleUnpauseOptions{}))
	require.Eventually(t, func() bool {
		d, err := h.Describe(ctx)
		require.NoError(t, err)
		return d.Schedule.State.RemainingActions == 0 && d.Info.NumActions == 3
	}, 10*time.Second, 20*time.Millisecond)
	d, err = h.Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, "Unpaused via Go SDK", d.Schedule.State.Note)
	for _, a := range d.Info.RecentActions[1:] {
		var got string
		require.NoError(t, e.Run(a.StartWorkflowResult.WorkflowID).Get(ctx, &got))
		require.Equal(t, "hello world", got, "the arguments went through Describe and Update unchanged")
	}

	it, err := sc.List(ctx, client.ScheduleListOptions{})
	require.NoError(t, err)
	var ids []string
	for it.HasNext() {
		entry, err := it.Next()
		require.NoError(t, err)
		ids = append(ids, entry.ID)
		require.Equal(t, "ScheduledGreet", entry.WorkflowType.Name)
	}
	require.Equal(t, []string{"greetings"}, ids)

	require.NoError(t, h.Delete(ctx))
	_, err = sc.GetHandle(ctx, "greetings").Describe(ctx)
	require.ErrorIs(t, err, durable.ErrNotFound)
}

// TestClientRoutesSchedules checks that compat.Client's ScheduleClient
// creates a schedule where the rollout policy sends its action's workflow
// type, reaches it there by ID, and lists both sides.
func TestClientRoutesSchedules(t *testing.T) {
	t.Parallel()
	b := setup(t, percent("Greet", 100))
	ctx := context.Background()
	tsc := mocks.NewScheduleClient(t)
	th := mocks.NewScheduleHandle(t)
	tit := mocks.NewScheduleListIterator(t)
	b.temporal.On("ScheduleClient").Return(tsc)
	tsc.On("Create", mock.Anything, mock.MatchedBy(func(o client.ScheduleOptions) bool { return o.ID == "on-temporal" })).Return(th, nil).Once()
	tsc.On("GetHandle", mock.Anything, "on-temporal").Return(th).Once()
	tsc.On("List", mock.Anything, mock.Anything).Return(tit, nil).Once()
	tit.On("HasNext").Return(false)
	th.On("GetID").Return("on-temporal")

	sc := b.client.ScheduleClient()
	dh, err := sc.Create(ctx, client.ScheduleOptions{
		ID: "on-durable", Action: &client.ScheduleWorkflowAction{ID: "greet", Workflow: Greet, Args: []any{"you"}},
	})
	require.NoError(t, err)
	_, err = b.engine.Describe(ctx, durable.ScheduleWorkflowIDPrefix+"on-durable")
	require.NoError(t, err, "the schedule's scheduler runs on durable")
	th2, err := sc.Create(ctx, client.ScheduleOptions{
		ID: "on-temporal", Action: &client.ScheduleWorkflowAction{ID: "other", Workflow: "Other"},
	})
	require.NoError(t, err)
	require.Equal(t, "on-temporal", th2.GetID())

	d, err := sc.GetHandle(ctx, "on-durable").Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, "greet", d.Schedule.Action.(*client.ScheduleWorkflowAction).ID)
	require.Equal(t, dh.GetID(), "on-durable")
	require.Same(t, th, sc.GetHandle(ctx, "on-temporal"))

	it, err := sc.List(ctx, client.ScheduleListOptions{})
	require.NoError(t, err)
	var ids []string
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		ids = append(ids, e.ID)
	}
	require.Equal(t, []string{"on-durable"}, ids)
}
