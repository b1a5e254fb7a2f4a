package durable

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// TestScheduleSpecNext checks the spec arithmetic against the meaning
// Temporal's ScheduleSpec documents: intervals counted from the Unix epoch
// plus their offset, calendars whose fields all match (an empty second,
// minute or hour is 0, the others every value), ranges with steps, time
// zones, skip calendars and the start/end bounds.
func TestScheduleSpecNext(t *testing.T) {
	t.Parallel()
	fri5pm := ScheduleCalendarSpec{Hour: []ScheduleRange{{Start: 17}}, DayOfWeek: []ScheduleRange{{Start: 5}}}
	tests := []struct {
		name  string
		spec  ScheduleSpec
		after string
		want  []string // the next times, in order; none: no next time
	}{
		{
			name:  "IntervalCountsFromTheEpoch",
			spec:  ScheduleSpec{Intervals: []ScheduleIntervalSpec{{Every: 5 * time.Second}}},
			after: "2026-03-04T10:00:03Z",
			want:  []string{"2026-03-04T10:00:05Z", "2026-03-04T10:00:10Z", "2026-03-04T10:00:15Z"},
		},
		{
			name:  "IntervalWithOffsetIsAQuarterPast",
			spec:  ScheduleSpec{Intervals: []ScheduleIntervalSpec{{Every: time.Hour, Offset: 15 * time.Minute}}},
			after: "2026-03-04T10:15:00Z",
			want:  []string{"2026-03-04T11:15:00Z", "2026-03-04T12:15:00Z"},
		},
		{
			name:  "DailyIntervalIsMidnightUTC",
			spec:  ScheduleSpec{Intervals: []ScheduleIntervalSpec{{Every: 24 * time.Hour}}},
			after: "2026-03-04T10:15:00Z",
			want:  []string{"2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"},
		},
		{
			name:  "CalendarFridayAtFivePM",
			spec:  ScheduleSpec{Calendars: []ScheduleCalendarSpec{fri5pm}},
			after: "2026-03-04T10:00:00Z", // a Wednesday
			want:  []string{"2026-03-06T17:00:00Z", "2026-03-13T17:00:00Z"},
		},
		{
			name: "CalendarRangeWithStep",
			spec: ScheduleSpec{Calendars: []ScheduleCalendarSpec{{
				Minute: []ScheduleRange{{Start: 0, End: 59, Step: 20}},
				Hour:   []ScheduleRange{{Start: 9, End: 10}},
			}}},
			after: "2026-03-04T09:30:00Z",
			want:  []string{"2026-03-04T09:40:00Z", "2026-03-04T10:00:00Z", "2026-03-04T10:20:00Z", "2026-03-04T10:40:00Z", "2026-03-05T09:00:00Z"},
		},
		{
			name: "CalendarDayOfMonthAndDayOfWeekMustBothMatch",
			spec: ScheduleSpec{Calendars: []ScheduleCalendarSpec{{
				DayOfMonth: []ScheduleRange{{Start: 13}},
				DayOfWeek:  []ScheduleRange{{Start: 5}},
			}}},
			after: "2026-01-01T00:00:00Z",
			want:  []string{"2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z", "2026-11-13T00:00:00Z"},
		},
		{
			name: "CalendarSkipsMonthsWithoutTheDay",
			spec: ScheduleSpec{Calendars: []ScheduleCalendarSpec{{
				DayOfMonth: []ScheduleRange{{Start: 31}},
			}}},
			after: "2026-01-31T00:00:00Z",
			want:  []string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"},
		},
		{
			name: "CalendarYearBounds",
			spec: ScheduleSpec{Calendars: []ScheduleCalendarSpec{{
				Month: []ScheduleRange{{Start: 12}}, DayOfMonth: []ScheduleRange{{Start: 25}}, Year: []ScheduleRange{{Start: 2026, End: 2027}},
			}}},
			after: "2026-01-01T00:00:00Z",
			want:  []string{"2026-12-25T00:00:00Z", "2027-12-25T00:00:00Z"},
		},
		{
			name: "CalendarInTimeZone",
			spec: ScheduleSpec{
				Calendars:    []ScheduleCalendarSpec{{Hour: []ScheduleRange{{Start: 9}}}},
				TimeZoneName: "America/New_York",
			},
			after: "2026-03-07T00:00:00Z", // daylight saving starts on March 8th
			want:  []string{"2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"},
		},
		{
			name: "CalendarSkipsAWallTimeTheZoneSkips",
			spec: ScheduleSpec{
				Calendars:    []ScheduleCalendarSpec{{Hour: []ScheduleRange{{Start: 2}}, Minute: []ScheduleRange{{Start: 30}}}},
				TimeZoneName: "America/New_York",
			},
			after: "2026-03-07T12:00:00Z",
			want:  []string{"2026-03-09T06:30:00Z"},
		},
		{
			name:  "CronExpression",
			spec:  ScheduleSpec{CronExpressions: []string{"30 9 * * MON-FRI"}},
			after: "2026-03-06T10:00:00Z", // a Friday
			want:  []string{"2026-03-09T09:30:00Z", "2026-03-10T09:30:00Z"},
		},
		{
			name:  "CronEveryIsAnIntervalFromTheEpoch",
			spec:  ScheduleSpec{CronExpressions: []string{"@every 90m"}},
			after: "2026-12-04T18:59:59Z",
			want:  []string{"2026-12-04T19:30:00Z", "2026-12-04T21:00:00Z"},
		},
		{
			name:  "CronEveryWithOffset",
			spec:  ScheduleSpec{CronExpressions: []string{"@every 1h/10m"}},
			after: "2026-12-04T19:00:00Z",
			want:  []string{"2026-12-04T19:10:00Z", "2026-12-04T20:10:00Z"},
		},
		{
			name:  "CronDayOfMonthAndDayOfWeekMustBothMatch",
			spec:  ScheduleSpec{CronExpressions: []string{"0 9 1-7 * MON"}},
			after: "2026-12-04T00:00:00Z",
			want:  []string{"2026-12-07T09:00:00Z", "2027-01-04T09:00:00Z", "2027-02-01T09:00:00Z"},
		},
		{
			name:  "CronSixFieldsEndWithTheYear",
			spec:  ScheduleSpec{CronExpressions: []string{"0 12 25 DEC * 2027-2028"}},
			after: "2026-01-01T00:00:00Z",
			want:  []string{"2027-12-25T12:00:00Z", "2028-12-25T12:00:00Z"},
		},
		{
			name:  "CronSevenFieldsStartWithTheSecond",
			spec:  ScheduleSpec{CronExpressions: []string{"*/20 0 0 1 jan ? *"}},
			after: "2026-06-01T00:00:00Z",
			want:  []string{"2027-01-01T00:00:00Z", "2027-01-01T00:00:20Z", "2027-01-01T00:00:40Z", "2028-01-01T00:00:00Z"},
		},
		{
			name:  "CronListsStepsAndSundayAsSeven",
			spec:  ScheduleSpec{CronExpressions: []string{"5,35 8-10/2 * * 7"}},
			after: "2026-03-07T00:00:00Z", // a Saturday
			want:  []string{"2026-03-08T08:05:00Z", "2026-03-08T08:35:00Z", "2026-03-08T10:05:00Z", "2026-03-08T10:35:00Z", "2026-03-15T08:05:00Z"},
		},
		{
			name:  "CronDescriptor",
			spec:  ScheduleSpec{CronExpressions: []string{"@weekly"}},
			after: "2026-03-04T00:00:00Z",
			want:  []string{"2026-03-08T00:00:00Z", "2026-03-15T00:00:00Z"},
		},
		{
			name:  "CronExpressionInTimeZoneName",
			spec:  ScheduleSpec{CronExpressions: []string{"0 9 * * *"}, TimeZoneName: "Europe/Paris"},
			after: "2026-03-06T10:00:00Z",
			want:  []string{"2026-03-07T08:00:00Z"},
		},
		{
			name:  "CronExpressionWithItsOwnZone",
			spec:  ScheduleSpec{CronExpressions: []string{"CRON_TZ=Asia/Tokyo 0 9 * * *"}, TimeZoneName: "Europe/Paris"},
			after: "2026-03-06T10:00:00Z",
			want:  []string{"2026-03-07T00:00:00Z"},
		},
		{
			name: "EarliestOfSeveralSpecs",
			spec: ScheduleSpec{
				Calendars: []ScheduleCalendarSpec{fri5pm},
				Intervals: []ScheduleIntervalSpec{{Every: 6 * time.Hour}},
			},
			after: "2026-03-06T12:00:00Z",
			want:  []string{"2026-03-06T17:00:00Z", "2026-03-06T18:00:00Z", "2026-03-07T00:00:00Z"},
		},
		{
			name: "SkipRemovesMatchingTimes",
			spec: ScheduleSpec{
				Intervals: []ScheduleIntervalSpec{{Every: 24 * time.Hour}},
				Skip:      []ScheduleCalendarSpec{{DayOfWeek: []ScheduleRange{{Start: 0}, {Start: 6}}, Comment: "weekends"}},
			},
			after: "2026-03-05T12:00:00Z", // a Thursday
			want:  []string{"2026-03-06T00:00:00Z", "2026-03-09T00:00:00Z"},
		},
		{
			name: "StartAtAndEndAtAreInclusive",
			spec: ScheduleSpec{
				Intervals: []ScheduleIntervalSpec{{Every: time.Hour}},
				StartAt:   time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC),
				EndAt:     time.Date(2026, 3, 4, 14, 0, 0, 0, time.UTC),
			},
			after: "2026-03-04T00:00:00Z",
			want:  []string{"2026-03-04T12:00:00Z", "2026-03-04T13:00:00Z", "2026-03-04T14:00:00Z"},
		},
		{
			name:  "EmptySpecHasNoTime",
			spec:  ScheduleSpec{},
			after: "2026-03-04T00:00:00Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.spec.compile()
			require.NoError(t, err)
			at := mustTime(t, tt.after)
			var got []string
			for range len(tt.want) + 1 {
				n, actual := c.next("s", at)
				if n.IsZero() {
					break
				}
				require.Equal(t, n, actual, "no jitter: the action is due at the schedule time")
				got = append(got, n.Format(time.RFC3339))
				at = n
			}
			if len(got) > len(tt.want) {
				got = got[:len(tt.want)]
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// TestScheduleSpecJitter checks that jitter is below Jitter and below the
// time to the next schedule time, and is the same for the same schedule
// and time (so replay computes the same).
func TestScheduleSpecJitter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		jitter time.Duration
		every  time.Duration
		limit  time.Duration
	}{
		{name: "BelowJitter", jitter: 10 * time.Second, every: time.Minute, limit: 10 * time.Second},
		{name: "BelowTheNextTime", jitter: time.Hour, every: time.Minute, limit: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := ScheduleSpec{Intervals: []ScheduleIntervalSpec{{Every: tt.every}}, Jitter: tt.jitter}
			c, err := spec.compile()
			require.NoError(t, err)
			at := mustTime(t, "2026-03-04T00:00:00Z")
			distinct := map[time.Duration]bool{}
			for range 50 {
				n, actual := c.next("sched-a", at)
				j := actual.Sub(n)
				require.GreaterOrEqual(t, j, time.Duration(0))
				require.Less(t, j, tt.limit)
				_, again := c.next("sched-a", at)
				require.Equal(t, actual, again)
				distinct[j] = true
				at = n
			}
			require.Greater(t, len(distinct), 10, "jitter varies from time to time")
			n, a1 := c.next("sched-a", at)
			_, a2 := c.next("sched-b", at)
			require.True(t, a1 != a2 || a1 == n, "another schedule gets other jitter")
		})
	}
}

// TestScheduleSpecErrors checks that a bad spec's error names the field.
func TestScheduleSpecErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec ScheduleSpec
		want string
	}{
		{name: "UnknownZone", spec: ScheduleSpec{TimeZoneName: "Mars/Olympus"}, want: `Spec.TimeZoneName "Mars/Olympus"`},
		{name: "HourOutOfRange", spec: ScheduleSpec{Calendars: []ScheduleCalendarSpec{{Hour: []ScheduleRange{{Start: 24}}}}}, want: "Spec.Calendars[0]: Hour[0] 24-24 is outside 0-23"},
		{name: "SkipMonthOutOfRange", spec: ScheduleSpec{Skip: []ScheduleCalendarSpec{{Month: []ScheduleRange{{Start: 0}}}}}, want: "Spec.Skip[0]: Month[0] 0-0 is outside 1-12"},
		{name: "NegativeStep", spec: ScheduleSpec{Calendars: []ScheduleCalendarSpec{{Minute: []ScheduleRange{{Start: 1, End: 5, Step: -1}}}}}, want: "Spec.Calendars[0]: Minute[0].Step -1 is negative"},
		{name: "ZeroInterval", spec: ScheduleSpec{Intervals: []ScheduleIntervalSpec{{}}}, want: "Spec.Intervals[0].Every 0s must be positive"},
		{name: "OffsetNotBelowEvery", spec: ScheduleSpec{Intervals: []ScheduleIntervalSpec{{Every: time.Hour, Offset: time.Hour}}}, want: "Spec.Intervals[0].Offset 1h0m0s must be at least 0 and less than Every 1h0m0s"},
		{name: "CronFieldCount", spec: ScheduleSpec{CronExpressions: []string{"* *"}}, want: `Spec.CronExpressions[0] "* *": want 5, 6 or 7 fields, got 2`},
		{name: "CronHourOutOfRange", spec: ScheduleSpec{CronExpressions: []string{"0 25 * * *"}}, want: `hour field "25": 25 is outside 0-23`},
		{name: "CronBadName", spec: ScheduleSpec{CronExpressions: []string{"0 9 * * FUNDAY"}}, want: `day-of-week field "FUNDAY": "FUNDAY" is not a number`},
		{name: "CronBadStep", spec: ScheduleSpec{CronExpressions: []string{"*/0 * * * *"}}, want: `minute field "*/0": step "0" is not a positive number`},
		{name: "CronBadZone", spec: ScheduleSpec{CronExpressions: []string{"CRON_TZ=Nowhere/City 0 9 * * *"}}, want: `time zone "Nowhere/City"`},
		{name: "BadEvery", spec: ScheduleSpec{CronExpressions: []string{"@every 1h/2h"}}, want: `Spec.CronExpressions[0] "@every 1h/2h"`},
		{name: "EndBeforeStart", spec: ScheduleSpec{StartAt: time.Unix(100, 0), EndAt: time.Unix(50, 0)}, want: "Spec.EndAt"},
		{name: "NegativeJitter", spec: ScheduleSpec{Jitter: -time.Second}, want: "Spec.Jitter -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.spec.compile()
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestScheduleOverlap checks what each overlap policy makes of the starts
// buffered while a workflow the schedule started runs, and when none runs.
func TestScheduleOverlap(t *testing.T) {
	t.Parallel()
	at := func(sec int64) bufferedStart { return bufferedStart{Nominal: time.Unix(sec, 0)} }
	three := []bufferedStart{at(1), at(2), at(3)}
	tests := []struct {
		name      string
		policy    ScheduleOverlapPolicy
		running   bool
		start     []int64
		keep      []int64
		skipped   int64
		cancel    bool
		terminate bool
	}{
		{name: "NothingRunningStartsTheFirst", policy: ScheduleOverlapSkip, start: []int64{1}, skipped: 2},
		{name: "SkipDropsAll", policy: ScheduleOverlapSkip, running: true, skipped: 3},
		{name: "DefaultIsSkip", policy: ScheduleOverlapUnspecified, running: true, skipped: 3},
		{name: "BufferOneKeepsTheFirst", policy: ScheduleOverlapBufferOne, running: true, keep: []int64{1}, skipped: 2},
		{name: "BufferOneNothingRunning", policy: ScheduleOverlapBufferOne, start: []int64{1}, keep: []int64{2}, skipped: 1},
		{name: "BufferAllKeepsAll", policy: ScheduleOverlapBufferAll, running: true, keep: []int64{1, 2, 3}},
		{name: "BufferAllNothingRunning", policy: ScheduleOverlapBufferAll, start: []int64{1}, keep: []int64{2, 3}},
		{name: "CancelOtherKeepsTheLast", policy: ScheduleOverlapCancelOther, running: true, keep: []int64{3}, skipped: 2, cancel: true},
		{name: "TerminateOtherKeepsTheLast", policy: ScheduleOverlapTerminateOther, running: true, keep: []int64{3}, skipped: 2, terminate: true},
		{name: "AllowAllStartsAll", policy: ScheduleOverlapAllowAll, running: true, start: []int64{1, 2, 3}},
	}
	secs := func(bs []bufferedStart) []int64 {
		var out []int64
		for _, b := range bs {
			out = append(out, b.Nominal.Unix())
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &scheduleRun{st: &schedulerState{Schedule: Schedule{Policy: SchedulePolicies{Overlap: tt.policy}}}}
			d := decideBuffer(three, tt.running, s.resolve)
			require.Equal(t, tt.start, secs(d.start))
			require.Equal(t, tt.keep, secs(d.keep))
			require.Equal(t, tt.skipped, d.skipped)
			require.Equal(t, tt.cancel, d.cancel)
			require.Equal(t, tt.terminate, d.terminate)
		})
	}
}

func TestScheduledWorkflowID(t *testing.T) {
	t.Parallel()
	got := scheduledWorkflowID("report", time.Date(2026, 3, 4, 17, 0, 0, 500, time.FixedZone("X", 3600)))
	require.Equal(t, "report-2026-03-04T16:00:00Z", got)
}
