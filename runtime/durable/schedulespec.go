package durable

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
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
	// CronExpressions match times by cron specs, read as Temporal reads
	// them: each is a calendar (5 fields: minute hour day-of-month month
	// day-of-week; 6: and year; 7: second first, then the 6), so day of
	// month and day of week must both match, unlike classic cron. Fields
	// take *, values, ranges, steps (*/15, 1-30/2), lists, and month
	// and weekday names. Descriptors: @yearly, @annually, @monthly,
	// @weekly, @daily, @midnight, @hourly; "@every 90m" (or "@every
	// 90m/15m", with an offset) is an interval counted from the Unix
	// epoch. A spec may start with "CRON_TZ=Zone " (or "TZ=Zone ") to give
	// its own time zone; otherwise TimeZoneName applies.
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
	skip      []*calendarSet
	startAt   time.Time
	endAt     time.Time
	jitter    time.Duration
}

// calendarSet is a calendar spec as sorted sets of the values it allows.
type calendarSet struct {
	second, minute, hour, dom, month, year []int // sorted; year empty: any
	dow                                    [7]bool
	// loc is the zone of a cron expression with its own CRON_TZ; nil:
	// the spec's.
	loc *time.Location
}

// compile checks the spec and prepares it. Errors name the field.
func (s *ScheduleSpec) compile() (*compiledSpec, error) {
	c := &compiledSpec{loc: time.UTC, startAt: s.StartAt, endAt: s.EndAt, jitter: s.Jitter, intervals: slices.Clone(s.Intervals)}
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
		cal, loc, iv, err := parseScheduleCron(expr)
		if err != nil {
			return nil, fmt.Errorf("Spec.CronExpressions[%d] %q: %w", i, expr, err)
		}
		if iv != nil {
			c.intervals = append(c.intervals, *iv)
			continue
		}
		set, err := cal.compile()
		if err != nil {
			return nil, fmt.Errorf("Spec.CronExpressions[%d] %q: %w", i, expr, err)
		}
		if loc == nil {
			loc = c.loc
		}
		set.loc = loc
		c.calendars = append(c.calendars, set)
	}
	return c, nil
}

// parseEvery parses the "D[/OFFSET]" of an "@every" cron expression.
func parseEvery(s string) (ScheduleIntervalSpec, error) {
	every, offset, hasOffset := strings.Cut(strings.TrimSpace(s), "/")
	var iv ScheduleIntervalSpec
	var err error
	if iv.Every, err = time.ParseDuration(every); err != nil {
		return iv, err
	}
	if hasOffset {
		if iv.Offset, err = time.ParseDuration(offset); err != nil {
			return iv, err
		}
	}
	if iv.Every <= 0 || iv.Offset < 0 || iv.Offset >= iv.Every {
		return iv, fmt.Errorf("interval %v with offset %v: the interval must be positive and the offset below it", iv.Every, iv.Offset)
	}
	return iv, nil
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
		loc := c.loc
		if cal.loc != nil {
			loc = cal.loc
		}
		take(cal.next(t, loc))
	}
	for _, iv := range c.intervals {
		take(nextInterval(iv, t))
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

// cronDescriptors are the cron descriptors as 5-field specs.
var cronDescriptors = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var (
	cronMonths   = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	cronWeekdays = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

// parseScheduleCron reads a schedule's cron expression as Temporal does:
// a calendar (with its own zone when it starts with CRON_TZ= or TZ=), or,
// for "@every", an interval.
func parseScheduleCron(expr string) (cal ScheduleCalendarSpec, loc *time.Location, iv *ScheduleIntervalSpec, err error) {
	spec := strings.TrimSpace(expr)
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(spec, prefix); ok {
			zone, tail, _ := strings.Cut(rest, " ")
			if loc, err = time.LoadLocation(zone); err != nil {
				return cal, nil, nil, fmt.Errorf("time zone %q: %w", zone, err)
			}
			spec = strings.TrimSpace(tail)
		}
	}
	if every, ok := strings.CutPrefix(spec, "@every "); ok {
		v, err := parseEvery(every)
		return cal, loc, &v, err
	}
	if d, ok := cronDescriptors[strings.ToLower(spec)]; ok {
		spec = d
	}
	fields := strings.Fields(spec)
	var sec, min, hour, dom, month, dow, year string
	switch len(fields) {
	case 5:
		sec, min, hour, dom, month, dow = "0", fields[0], fields[1], fields[2], fields[3], fields[4]
	case 6:
		sec, min, hour, dom, month, dow, year = "0", fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]
	case 7:
		sec, min, hour, dom, month, dow, year = fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6]
	default:
		return cal, nil, nil, fmt.Errorf("want 5, 6 or 7 fields, got %d", len(fields))
	}
	parse := func(name, f string, lo, hi int, names []string, nameBase int) []ScheduleRange {
		if err != nil {
			return nil
		}
		var rs []ScheduleRange
		rs, err = parseCronField(f, lo, hi, names, nameBase)
		if err != nil {
			err = fmt.Errorf("%s field %q: %w", name, f, err)
		}
		return rs
	}
	cal.Second = parse("second", sec, 0, 59, nil, 0)
	cal.Minute = parse("minute", min, 0, 59, nil, 0)
	cal.Hour = parse("hour", hour, 0, 23, nil, 0)
	cal.DayOfMonth = parse("day-of-month", dom, 1, 31, nil, 0)
	cal.Month = parse("month", month, 1, 12, cronMonths, 1)
	cal.DayOfWeek = parse("day-of-week", dow, 0, 7, cronWeekdays, 0)
	if year != "" {
		cal.Year = parse("year", year, 1970, 9999, nil, 0)
	}
	return cal, loc, nil, err
}

// parseCronField reads one cron field as ranges; nil means every value.
func parseCronField(f string, lo, hi int, names []string, nameBase int) ([]ScheduleRange, error) {
	if f == "*" || f == "?" {
		return nil, nil
	}
	value := func(s string) (int, error) {
		for i, n := range names {
			if strings.EqualFold(s, n) {
				return i + nameBase, nil
			}
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	}
	var rs []ScheduleRange
	for _, item := range strings.Split(f, ",") {
		body, stepText, hasStep := strings.Cut(item, "/")
		r := ScheduleRange{Start: lo, End: hi}
		switch {
		case body == "*" || body == "?":
		case strings.Contains(body, "-"):
			a, b, _ := strings.Cut(body, "-")
			var err error
			if r.Start, err = value(a); err != nil {
				return nil, err
			}
			if r.End, err = value(b); err != nil {
				return nil, err
			}
		default:
			v, err := value(body)
			if err != nil {
				return nil, err
			}
			r.Start, r.End = v, v
			if hasStep {
				r.End = hi
			}
		}
		if hasStep {
			step, err := strconv.Atoi(stepText)
			if err != nil || step <= 0 {
				return nil, fmt.Errorf("step %q is not a positive number", stepText)
			}
			r.Step = step
		}
		if r.Start < lo || r.End > hi || r.End < r.Start {
			return nil, fmt.Errorf("%s is outside %d-%d", item, lo, hi)
		}
		rs = append(rs, r)
	}
	return rs, nil
}
