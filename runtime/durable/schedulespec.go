package durable

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ScheduleSpec says when a schedule takes its action, as Temporal's
// client.ScheduleSpec does. A time is a schedule time when it matches any
// of Calendars, Intervals or CronExpressions, matches none of Skip, and
// lies within StartAt and EndAt.
type ScheduleSpec struct {
	// Calendars match times by calendar fields, in TimeZoneName.
	Calendars []ScheduleCalendarSpec `json:"calendars,omitempty"`
	// Intervals match times at a fixed period from the Unix epoch.
	Intervals []ScheduleIntervalSpec `json:"intervals,omitempty"`
	// CronExpressions match times by standard 5-field cron specs
	// ("0 12 * * MON-FRI") or descriptors ("@hourly", "@every 90m"). A
	// spec may start with "CRON_TZ=Zone " (or "TZ=Zone ") to give its own
	// time zone; otherwise TimeZoneName applies.
	CronExpressions []string `json:"cronExpressions,omitempty"`
	// Skip removes the times any of these calendars match.
	Skip []ScheduleCalendarSpec `json:"skip,omitempty"`
	// StartAt and EndAt bound the schedule times (inclusive). Zero: none.
	StartAt time.Time `json:"startAt,omitzero"`
	EndAt   time.Time `json:"endAt,omitzero"`
	// Jitter delays each action by a random amount below Jitter, and
	// below the time to the next schedule time. The amount is derived from
	// the schedule ID and the schedule time, so it is the same on every
	// replay. Zero: none.
	Jitter time.Duration `json:"jitter,omitempty"`
	// TimeZoneName is the IANA time zone of Calendars and CronExpressions
	// ("America/New_York"). "": UTC.
	TimeZoneName string `json:"timeZoneName,omitempty"`
}

// ScheduleRange is a range of values of a calendar field: Start, Start+Step,
// ... up to End (inclusive), as Temporal's client.ScheduleRange. End below
// Start means Start alone; Step 0 means 1.
type ScheduleRange struct {
	Start int `json:"start"`
	End   int `json:"end,omitempty"`
	Step  int `json:"step,omitempty"`
}

// ScheduleCalendarSpec matches the times whose fields each match one of the
// field's ranges, as Temporal's client.ScheduleCalendarSpec: a time matches
// when its second, minute, hour, day of month, month, year and day of week
// all match (day of month and day of week must both match). An empty
// Second, Minute or Hour means 0; an empty DayOfMonth, Month, Year or
// DayOfWeek means every value.
type ScheduleCalendarSpec struct {
	Second     []ScheduleRange `json:"second,omitempty"`     // 0-59
	Minute     []ScheduleRange `json:"minute,omitempty"`     // 0-59
	Hour       []ScheduleRange `json:"hour,omitempty"`       // 0-23
	DayOfMonth []ScheduleRange `json:"dayOfMonth,omitempty"` // 1-31
	Month      []ScheduleRange `json:"month,omitempty"`      // 1-12
	Year       []ScheduleRange `json:"year,omitempty"`       // any year
	DayOfWeek  []ScheduleRange `json:"dayOfWeek,omitempty"`  // 0-6, Sunday = 0 (7 is Sunday too)
	// Comment describes the spec; it does not change what it matches.
	Comment string `json:"comment,omitempty"`
}

// ScheduleIntervalSpec matches the times epoch + Offset + n*Every, as
// Temporal's client.ScheduleIntervalSpec: Every 1h with Offset 15m matches
// every hour at a quarter past.
type ScheduleIntervalSpec struct {
	Every  time.Duration `json:"every"`
	Offset time.Duration `json:"offset,omitempty"`
}

// scheduleYearsAhead bounds how far a calendar is searched for its next
// time.
const scheduleYearsAhead = 100

// compiledSpec is a ScheduleSpec ready to compute times.
type compiledSpec struct {
	loc       *time.Location
	calendars []*calendarSet
	intervals []ScheduleIntervalSpec
	crons     []cron.Schedule
	skip      []*calendarSet
	startAt   time.Time
	endAt     time.Time
	jitter    time.Duration
}

// calendarSet is a calendar spec as sorted sets of the values it allows.
type calendarSet struct {
	second, minute, hour, dom, month, year []int // sorted; year empty: any
	dow                                    [7]bool
}

// compile checks the spec and prepares it. Errors name the field.
func (s *ScheduleSpec) compile() (*compiledSpec, error) {
	c := &compiledSpec{loc: time.UTC, startAt: s.StartAt, endAt: s.EndAt, jitter: s.Jitter, intervals: s.Intervals}
	if s.TimeZoneName != "" {
		loc, err := time.LoadLocation(s.TimeZoneName)
		if err != nil {
			return nil, fmt.Errorf("Spec.TimeZoneName %q: %w", s.TimeZoneName, err)
		}
		c.loc = loc
	}
	if s.Jitter < 0 {
		return nil, fmt.Errorf("Spec.Jitter %v is negative", s.Jitter)
	}
	if !s.StartAt.IsZero() && !s.EndAt.IsZero() && s.EndAt.Before(s.StartAt) {
		return nil, fmt.Errorf("Spec.EndAt %v is before Spec.StartAt %v", s.EndAt, s.StartAt)
	}
	for i, cal := range s.Calendars {
		set, err := cal.compile()
		if err != nil {
			return nil, fmt.Errorf("Spec.Calendars[%d]: %w", i, err)
		}
		c.calendars = append(c.calendars, set)
	}
	for i, cal := range s.Skip {
		set, err := cal.compile()
		if err != nil {
			return nil, fmt.Errorf("Spec.Skip[%d]: %w", i, err)
		}
		c.skip = append(c.skip, set)
	}
	for i, iv := range s.Intervals {
		if iv.Every <= 0 {
			return nil, fmt.Errorf("Spec.Intervals[%d].Every %v must be positive", i, iv.Every)
		}
		if iv.Offset < 0 || iv.Offset >= iv.Every {
			return nil, fmt.Errorf("Spec.Intervals[%d].Offset %v must be at least 0 and less than Every %v", i, iv.Offset, iv.Every)
		}
	}
	for i, expr := range s.CronExpressions {
		spec := strings.TrimSpace(expr)
		if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
			spec = "CRON_TZ=" + c.loc.String() + " " + spec
		}
		sched, err := parseCron(spec)
		if err != nil {
			return nil, fmt.Errorf("Spec.CronExpressions[%d]: %w", i, err)
		}
		c.crons = append(c.crons, sched)
	}
	return c, nil
}

// compile turns the calendar's ranges into value sets.
func (cal *ScheduleCalendarSpec) compile() (*calendarSet, error) {
	set := &calendarSet{}
	var err error
	field := func(name string, rs []ScheduleRange, lo, hi int, def []ScheduleRange) []int {
		if err != nil {
			return nil
		}
		if len(rs) == 0 {
			rs = def
		}
		var vals []int
		vals, err = expandRanges(name, rs, lo, hi)
		return vals
	}
	all := func(lo, hi int) []ScheduleRange { return []ScheduleRange{{Start: lo, End: hi}} }
	zero := []ScheduleRange{{Start: 0}}
	set.second = field("Second", cal.Second, 0, 59, zero)
	set.minute = field("Minute", cal.Minute, 0, 59, zero)
	set.hour = field("Hour", cal.Hour, 0, 23, zero)
	set.dom = field("DayOfMonth", cal.DayOfMonth, 1, 31, all(1, 31))
	set.month = field("Month", cal.Month, 1, 12, all(1, 12))
	if len(cal.Year) > 0 {
		set.year = field("Year", cal.Year, 1, 9999, nil)
	}
	for _, d := range field("DayOfWeek", cal.DayOfWeek, 0, 7, all(0, 6)) {
		set.dow[d%7] = true
	}
	if err != nil {
		return nil, err
	}
	return set, nil
}

// expandRanges lists the values of ranges, sorted, each within lo..hi.
func expandRanges(name string, rs []ScheduleRange, lo, hi int) ([]int, error) {
	var vals []int
	for i, r := range rs {
		end, step := r.End, r.Step
		if end < r.Start {
			end = r.Start
		}
		if step == 0 {
			step = 1
		}
		if step < 0 {
			return nil, fmt.Errorf("%s[%d].Step %d is negative", name, i, r.Step)
		}
		if r.Start < lo || end > hi {
			return nil, fmt.Errorf("%s[%d] %d-%d is outside %d-%d", name, i, r.Start, end, lo, hi)
		}
		for v := r.Start; v <= end; v += step {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return slices.Compact(vals), nil
}

// matches reports whether t (in the spec's zone) matches the calendar.
func (set *calendarSet) matches(t time.Time) bool {
	return slices.Contains(set.second, t.Second()) && slices.Contains(set.minute, t.Minute()) &&
		slices.Contains(set.hour, t.Hour()) && slices.Contains(set.dom, t.Day()) &&
		slices.Contains(set.month, int(t.Month())) && set.dow[t.Weekday()] &&
		(len(set.year) == 0 || slices.Contains(set.year, t.Year()))
}

// next returns the calendar's first time after t, or the zero time when
// there is none within scheduleYearsAhead years.
func (set *calendarSet) next(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	for y := t.Year(); y <= t.Year()+scheduleYearsAhead; y++ {
		if len(set.year) > 0 && !slices.Contains(set.year, y) {
			if y > set.year[len(set.year)-1] {
				return time.Time{}
			}
			continue
		}
		for _, mo := range set.month {
			if y == t.Year() && mo < int(t.Month()) {
				continue
			}
			for _, d := range set.dom {
				day := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, loc)
				if day.Month() != time.Month(mo) || !set.dow[day.Weekday()] {
					continue // no such day (February 30th), or the wrong weekday
				}
				if y == t.Year() && mo == int(t.Month()) && d < t.Day() {
					continue
				}
				if r := set.nextInDay(t, y, time.Month(mo), d, loc); !r.IsZero() {
					return r
				}
			}
		}
	}
	return time.Time{}
}

// nextInDay returns the calendar's first time on the given day after t.
func (set *calendarSet) nextInDay(t time.Time, y int, mo time.Month, d int, loc *time.Location) time.Time {
	for _, h := range set.hour {
		for _, mi := range set.minute {
			for _, s := range set.second {
				c := time.Date(y, mo, d, h, mi, s, 0, loc)
				if c.Hour() != h || c.Minute() != mi {
					continue // a wall time the zone skips (daylight saving)
				}
				if c.After(t) {
					return c
				}
			}
		}
	}
	return time.Time{}
}

// nextRaw returns the spec's first schedule time after t, ignoring
// StartAt, EndAt and Skip; zero when there is none.
func (c *compiledSpec) nextRaw(t time.Time) time.Time {
	var best time.Time
	take := func(n time.Time) {
		if !n.IsZero() && (best.IsZero() || n.Before(best)) {
			best = n
		}
	}
	for _, cal := range c.calendars {
		take(cal.next(t, c.loc))
	}
	for _, iv := range c.intervals {
		take(nextInterval(iv, t))
	}
	for _, s := range c.crons {
		take(s.Next(t))
	}
	return best
}

// nextInterval returns the interval's first time after t.
func nextInterval(iv ScheduleIntervalSpec, t time.Time) time.Time {
	since := t.Sub(time.Unix(0, 0).Add(iv.Offset))
	n := since / iv.Every
	if since < 0 && since%iv.Every != 0 {
		n-- // floor for times before the epoch
	}
	return time.Unix(0, 0).Add(iv.Offset + (n+1)*iv.Every).UTC()
}

// next returns the first schedule time after t and the time its action is
// due (the schedule time plus its jitter); zero times when there is none.
// id seeds the jitter.
func (c *compiledSpec) next(id string, t time.Time) (nominal, actual time.Time) {
	if !c.startAt.IsZero() && t.Before(c.startAt) {
		t = c.startAt.Add(-time.Nanosecond)
	}
	for range 10_000 {
		n := c.nextRaw(t)
		if n.IsZero() || !c.endAt.IsZero() && n.After(c.endAt) {
			return time.Time{}, time.Time{}
		}
		if c.skipped(n) {
			t = n
			continue
		}
		return n.UTC(), n.Add(c.jitterFor(id, n)).UTC()
	}
	return time.Time{}, time.Time{}
}

// skipped reports whether a Skip calendar matches t.
func (c *compiledSpec) skipped(t time.Time) bool {
	for _, s := range c.skip {
		if s.matches(t.In(c.loc)) {
			return true
		}
	}
	return false
}

// jitterFor is the jitter of schedule time n: a hash of the schedule ID and
// n, below Jitter and below the time to the next schedule time.
func (c *compiledSpec) jitterFor(id string, n time.Time) time.Duration {
	if c.jitter <= 0 {
		return 0
	}
	limit := c.jitter
	if following := c.nextRaw(n); !following.IsZero() && following.Sub(n) < limit {
		limit = following.Sub(n)
	}
	if limit <= 0 {
		return 0
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d", id, n.UnixNano())
	return time.Duration(h.Sum64() % uint64(limit))
}

// empty reports whether the spec matches no time at all.
func (s *ScheduleSpec) empty() bool {
	return len(s.Calendars) == 0 && len(s.Intervals) == 0 && len(s.CronExpressions) == 0
}
