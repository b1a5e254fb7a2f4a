package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/durablego/toolkit/compat"
	original "github.com/durablego/toolkit/compat/e2e/original"
)

// TestScheduleSpecsMatchTemporal creates the same schedule on Temporal's
// server and on durable (through compat.ScheduleClient) for each spec, and
// compares the next action times the two describe: the server's spec
// arithmetic is the reference for calendars, ranges with steps, time
// zones, intervals with offsets, skip calendars, bounds and cron
// expressions.
func TestScheduleSpecsMatchTemporal(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	e := openEngine(t, "memory:")
	registerConverted(e)
	e.Serve(taskQueue)
	dc := compat.ScheduleClient(e)
	// Start a day ahead, on a whole hour, so that nothing fires during the
	// test and both sides count from the same instant.
	start := time.Now().UTC().Truncate(time.Hour).Add(24 * time.Hour)
	tests := []struct {
		name string
		spec client.ScheduleSpec
	}{
		{name: "IntervalWithOffset", spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 90 * time.Minute, Offset: 7 * time.Minute}}}},
		{name: "CalendarFridayAt5pm", spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Hour: []client.ScheduleRange{{Start: 17}}, DayOfWeek: []client.ScheduleRange{{Start: 5}},
		}}}},
		{name: "CalendarRangesWithSteps", spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Minute: []client.ScheduleRange{{Start: 5, End: 50, Step: 15}}, Hour: []client.ScheduleRange{{Start: 8, End: 18, Step: 5}},
			Comment: "a few times a day",
		}}}},
		{name: "CalendarDayOfMonthAndWeek", spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			DayOfMonth: []client.ScheduleRange{{Start: 1, End: 7}}, DayOfWeek: []client.ScheduleRange{{Start: 1}}, Hour: []client.ScheduleRange{{Start: 9}},
		}}}},
		{name: "CalendarInTimeZone", spec: client.ScheduleSpec{
			Calendars:    []client.ScheduleCalendarSpec{{Hour: []client.ScheduleRange{{Start: 9}}, Minute: []client.ScheduleRange{{Start: 30}}}},
			TimeZoneName: "America/New_York",
		}},
		{name: "SkipWeekends", spec: client.ScheduleSpec{
			Intervals: []client.ScheduleIntervalSpec{{Every: 12 * time.Hour}},
			Skip:      []client.ScheduleCalendarSpec{{DayOfWeek: []client.ScheduleRange{{Start: 0}, {Start: 6}}, Hour: []client.ScheduleRange{{Start: 0, End: 23}}}},
		}},
		{name: "EndAt", spec: client.ScheduleSpec{
			Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}},
			EndAt:     start.Add(4 * time.Hour),
		}},
		{name: "Cron", spec: client.ScheduleSpec{CronExpressions: []string{"15 10 * * MON-FRI"}}},
		{name: "CronEvery", spec: client.ScheduleSpec{CronExpressions: []string{"@every 90m"}}},
		{name: "CronEveryWithOffset", spec: client.ScheduleSpec{CronExpressions: []string{"@every 2h/25m"}}},
		{name: "CronDayOfMonthAndWeek", spec: client.ScheduleSpec{CronExpressions: []string{"0 9 1-7 * MON"}}},
		{name: "CronSevenFields", spec: client.ScheduleSpec{CronExpressions: []string{"*/20 30 9 * * * *"}}},
		{name: "CronSixFieldsWithYear", spec: client.ScheduleSpec{CronExpressions: []string{"0 12 25 DEC * 2027-2040/3"}}},
		{name: "CronNamesListsSteps", spec: client.ScheduleSpec{CronExpressions: []string{"5,35 8-18/4 * JAN-MAR,OCT MON-FRI"}}},
		{name: "CronWithItsOwnZone", spec: client.ScheduleSpec{CronExpressions: []string{"CRON_TZ=Australia/Sydney 0 7 * * *"}}},
		{name: "CronDescriptor", spec: client.ScheduleSpec{CronExpressions: []string{"@daily"}}},
		{name: "CronInTimeZoneName", spec: client.ScheduleSpec{CronExpressions: []string{"30 8 * * *"}, TimeZoneName: "Asia/Tokyo"}},
		{name: "CronAndCalendar", spec: client.ScheduleSpec{
			CronExpressions: []string{"0 */6 * * *"},
			Calendars:       []client.ScheduleCalendarSpec{{Hour: []client.ScheduleRange{{Start: 13}}, Minute: []client.ScheduleRange{{Start: 45}}}},
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.StartAt = start
			id := fmt.Sprintf("spec-%d-%d", time.Now().UnixNano(), i)
			times := map[string][]time.Time{}
			for side, sc := range map[string]client.ScheduleClient{"temporal": tc.ScheduleClient(), "durable": dc} {
				h, err := sc.Create(ctx, client.ScheduleOptions{
					ID: id, Spec: spec,
					Action: &client.ScheduleWorkflowAction{ID: id, Workflow: original.Square, Args: []any{3}, TaskQueue: taskQueue},
				})
				require.NoError(t, err, side)
				d, err := h.Describe(ctx)
				require.NoError(t, err, side)
				for _, at := range d.Info.NextActionTimes {
					times[side] = append(times[side], at.UTC())
				}
				require.NoError(t, h.Delete(ctx), side)
			}
			require.NotEmpty(t, times["temporal"])
			require.Equal(t, times["temporal"], times["durable"])
		})
	}
}

// TestScheduleActionsMatchTemporal runs a one-second schedule with two
// remaining actions on both sides and compares what they started: the
// workflow IDs (the action's ID and the schedule time), whole-second
// schedule times one second apart, the results, and the description once
// the actions are spent.
func TestScheduleActionsMatchTemporal(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	e := openEngine(t, "memory:")
	registerConverted(e)
	e.Serve(taskQueue)
	clients := map[string]client.ScheduleClient{"temporal": tc.ScheduleClient(), "durable": compat.ScheduleClient(e)}
	for side, sc := range clients {
		t.Run(side, func(t *testing.T) {
			id := fmt.Sprintf("every-second-%s-%d", side, time.Now().UnixNano())
			h, err := sc.Create(ctx, client.ScheduleOptions{
				ID:               id,
				Spec:             client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Second}}},
				Action:           &client.ScheduleWorkflowAction{ID: "sq-" + id, Workflow: original.Square, Args: []any{7}, TaskQueue: taskQueue},
				RemainingActions: 2,
				Overlap:          enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
			})
			require.NoError(t, err)
			defer func() { _ = h.Delete(ctx) }()
			var d *client.ScheduleDescription
			require.NoError(t, eventually(ctx, func() error {
				d, err = h.Describe(ctx)
				if err != nil {
					return err
				}
				if d.Info.NumActions < 2 {
					return fmt.Errorf("%d actions", d.Info.NumActions)
				}
				return nil
			}))
			require.Equal(t, 2, d.Info.NumActions)
			require.Equal(t, 0, d.Schedule.State.RemainingActions)
			require.True(t, d.Schedule.State.LimitedActions)
			require.Empty(t, d.Info.NextActionTimes)
			require.Len(t, d.Info.RecentActions, 2)
			pattern := regexp.MustCompile("^sq-" + regexp.QuoteMeta(id) + `-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
			for _, a := range d.Info.RecentActions {
				wid := a.StartWorkflowResult.WorkflowID
				require.Regexp(t, pattern, wid)
				require.Equal(t, a.ScheduleTime.UTC().Format(time.RFC3339), strings.TrimPrefix(wid, "sq-"+id+"-"))
				require.Zero(t, a.ScheduleTime.Nanosecond())
				var out int
				if side == "temporal" {
					require.NoError(t, tc.GetWorkflow(ctx, wid, "").Get(ctx, &out))
				} else {
					require.NoError(t, e.Run(wid).Get(ctx, &out))
				}
				require.Equal(t, 49, out)
			}
			require.Equal(t, time.Second, d.Info.RecentActions[1].ScheduleTime.Sub(d.Info.RecentActions[0].ScheduleTime))
		})
	}
}
