package durabletest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Clock is a durable.Clock whose time moves only when told to. An Env
// drives it, jumping to the next due timer whenever the engine is idle;
// on its own it suits tests that open an engine themselves and call
// Advance.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers map[uint64]*clockTimer
	// poll is the duration that marks the engine's poll timers, which an
	// Env fires only to look for work, never to move time.
	poll time.Duration
	// lease is the duration of the engine's lease renewal timers, which an
	// Env never fires: leases outlast any test.
	lease time.Duration

	inflight atomic.Int64 // callbacks started and not yet returned
}

type clockTimer struct {
	seq  uint64
	due  time.Time
	f    func()
	poll bool
	idle bool // a lease timer: never fired by time skipping
}

var _ durable.Clock = (*Clock)(nil)

// NewClock returns a Clock reading start, to the microsecond: the
// runtime journals times in microseconds, so a start with finer digits
// would make durations measured in the workflow and on the clock differ.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start.Truncate(time.Microsecond), timers: map[uint64]*clockTimer{}}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc calls f in its own goroutine once the clock has moved d past
// now (at once for d <= 0), and returns a function that cancels the call
// if it has not started.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	if d <= 0 {
		c.fire(f)
		return func() bool { return false }
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	id := c.seq
	c.timers[id] = &clockTimer{seq: id, due: c.now.Add(d), f: f, poll: c.poll > 0 && d == c.poll, idle: c.lease > 0 && d == c.lease}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[id]
		delete(c.timers, id)
		return ok
	}
}

// Advance moves the clock d forward, firing the timers that fall due on the
// way in order, and returns the number of timers fired. Each fires in its own
// goroutine, as durable.Clock requires; Advance does not wait for them.
func (c *Clock) Advance(d time.Duration) int {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	n := 0
	for {
		c.mu.Lock()
		t := c.next(end, true)
		if t == nil {
			c.now = end
			c.mu.Unlock()
			return n
		}
		delete(c.timers, t.seq)
		if t.due.After(c.now) {
			c.now = t.due
		}
		c.mu.Unlock()
		c.fire(t.f)
		n++
	}
}

// set moves the clock to t without firing anything (SetStartTime).
func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.Truncate(time.Microsecond)
}

// newSeq returns the next sequence number, shared with timers so that
// delayed callbacks and timers due at the same time keep creation order.
func (c *Clock) newSeq() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return c.seq
}

// next returns the earliest timer due at or before limit (any time when
// limit is zero), skipping poll timers unless withPolls. c.mu is held.
func (c *Clock) next(limit time.Time, withPolls bool) *clockTimer {
	var best *clockTimer
	for _, t := range c.timers {
		if t.idle || t.poll && !withPolls {
			continue
		}
		if !limit.IsZero() && t.due.After(limit) {
			continue
		}
		if best == nil || t.due.Before(best.due) || t.due.Equal(best.due) && t.seq < best.seq {
			best = t
		}
	}
	return best
}

// peek returns the due time and sequence of the earliest timer that is not
// a poll timer.
func (c *Clock) peek() (due time.Time, seq uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next(time.Time{}, false)
	if t == nil {
		return time.Time{}, 0, false
	}
	return t.due, t.seq, true
}

// fireNext moves the clock to the earliest timer that is not a poll timer
// and fires it. It reports false when there is none.
func (c *Clock) fireNext() bool {
	c.mu.Lock()
	t := c.next(time.Time{}, false)
	if t == nil {
		c.mu.Unlock()
		return false
	}
	delete(c.timers, t.seq)
	if t.due.After(c.now) {
		c.now = t.due
	}
	c.mu.Unlock()
	c.fire(t.f)
	return true
}

// advanceTo moves the clock to t (never back) without firing anything.
func (c *Clock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// firePolls fires the engine's pending poll timers without moving time, so
// that work only a poll would find is found before time moves. It reports
// how many it fired.
func (c *Clock) firePolls() int {
	c.mu.Lock()
	var fs []func()
	for id, t := range c.timers {
		if t.poll {
			fs = append(fs, t.f)
			delete(c.timers, id)
		}
	}
	c.mu.Unlock()
	for _, f := range fs {
		c.fire(f)
	}
	return len(fs)
}

// fire runs f in its own goroutine, counted until it returns.
func (c *Clock) fire(f func()) {
	c.inflight.Add(1)
	go func() {
		defer c.inflight.Add(-1)
		f()
	}()
}
