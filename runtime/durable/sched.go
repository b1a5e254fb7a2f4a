package durable

import (
	"context"
	"runtime"
)

// scheduler runs a run's coroutines one at a time, in a deterministic order.
//
// Every coroutine is a goroutine, but only the one holding the baton runs:
// the scheduler hands the baton to the first coroutine in its ready queue and
// waits until that coroutine blocks or returns. Blocking primitives park the
// current coroutine on wait queues of the objects it waits for; changing an
// object wakes its waiters into the ready queue, in the order they parked.
// When the ready queue is empty, coroutines parked with a context that has
// since been cancelled are woken (in creation order) so that they can return
// ctx.Err(). Since only workflow code and journaled inputs change objects,
// the order of execution is a function of the journal: replay repeats it.
type scheduler struct {
	inst *instance
	// progress counts coroutine resumes that may have changed state; an
	// Await recheck that finds its condition still false does not count.
	progress uint64
	awaiters []*coroutine
	ready    []*coroutine
	all      []*coroutine // live coroutines in creation order
	current  *coroutine
	yield    chan struct{}
	exiting  bool
	nextID   int
}

type coroutine struct {
	id     int
	name   string
	resume chan struct{}
	queued bool
	parked bool
	// awaitSeen is the progress an awaiting coroutine last checked at;
	// awaitRecheck marks a resume that only rechecks the condition.
	awaitSeen    uint64
	awaiting     bool
	awaitRecheck bool
	done         bool
	waitCtx      context.Context // context the parked coroutine honours, if any
}

// waitQueue is the set of coroutines parked on one object.
type waitQueue struct {
	waiters []*coroutine
}

func newScheduler(inst *instance) *scheduler {
	return &scheduler{inst: inst, yield: make(chan struct{})}
}

// spawn creates a coroutine running fn; it first runs when the scheduler
// reaches it in the ready queue.
func (s *scheduler) spawn(name string, fn func()) *coroutine {
	s.nextID++
	c := &coroutine{id: s.nextID, name: name, resume: make(chan struct{})}
	s.all = append(s.all, c)
	go func() {
		<-c.resume
		if s.exiting {
			c.done = true
			s.yield <- struct{}{}
			return
		}
		defer func() {
			if r := recover(); r != nil {
				s.inst.coroutinePanicked(c, r)
			}
			c.done = true
			s.yield <- struct{}{}
		}()
		fn()
	}()
	s.wake(c)
	return c
}

// wake puts c in the ready queue unless it is there already.
func (s *scheduler) wake(c *coroutine) {
	if c.queued || c.done {
		return
	}
	c.queued = true
	s.ready = append(s.ready, c)
}

// runUntilBlocked runs coroutines until none is ready, then wakes those
// whose context was cancelled and repeats, until nothing can run.
func (s *scheduler) runUntilBlocked() {
	for {
		for len(s.ready) > 0 && !s.inst.halted() {
			c := s.ready[0]
			s.ready[0] = nil
			s.ready = s.ready[1:]
			c.queued = false
			s.current = c
			s.progress++
			c.resume <- struct{}{}
			<-s.yield
			s.current = nil
		}
		if s.inst.halted() {
			return
		}
		if s.wakeAwaiters() {
			continue
		}
		if !s.inst.checkCancellations() {
			s.compact()
			return
		}
	}
}

// awaitPark parks the current coroutine until another coroutine has run.
func (s *scheduler) awaitPark(ctx context.Context) {
	c := s.current
	if c.awaitRecheck {
		s.progress-- // a futile recheck changes nothing
		c.awaitRecheck = false
	}
	c.awaitSeen = s.progress
	if !c.awaiting {
		c.awaiting = true
		s.awaiters = append(s.awaiters, c)
	}
	s.park(ctx)
	if !c.awaitRecheck { // woken by cancellation, not for a recheck
		s.removeAwaiter(c)
	}
}

// wakeAwaiters wakes, in the order they started waiting, the awaiting
// coroutines that have not seen the latest progress.
func (s *scheduler) wakeAwaiters() bool {
	woke := false
	for _, c := range s.awaiters {
		if c.parked && !c.queued && !c.done && c.awaitSeen < s.progress {
			c.awaitRecheck = true
			s.wake(c)
			woke = true
		}
	}
	return woke
}

// endAwait stops treating the current coroutine as an awaiter.
func (s *scheduler) endAwait() {
	c := s.current
	if c == nil {
		return
	}
	c.awaitRecheck = false
	if c.awaiting {
		s.removeAwaiter(c)
	}
}

func (s *scheduler) removeAwaiter(c *coroutine) {
	c.awaiting = false
	for i, a := range s.awaiters {
		if a == c {
			s.awaiters = append(s.awaiters[:i], s.awaiters[i+1:]...)
			return
		}
	}
}

// compact drops finished coroutines from the creation-order list.
func (s *scheduler) compact() {
	n := 0
	for _, c := range s.all {
		if !c.done {
			s.all[n] = c
			n++
		}
	}
	clear(s.all[n:])
	s.all = s.all[:n]
}

// wakeCancelled wakes parked coroutines whose context is done. It reports
// whether it woke any.
func (s *scheduler) wakeCancelled() bool {
	woke := false
	for _, c := range s.all {
		if c.parked && !c.queued && c.waitCtx != nil && c.waitCtx.Err() != nil {
			s.wake(c)
			woke = true
		}
	}
	return woke
}

// park blocks the current coroutine until it is woken. It must be called
// from the coroutine itself.
func (s *scheduler) park(ctx context.Context, queues ...*waitQueue) {
	if s.exiting {
		runtime.Goexit()
	}
	c := s.current
	if c == nil {
		panic("durable: a blocking call was made outside the workflow's coroutines (use durable.Go, not the go statement)")
	}
	for _, q := range queues {
		q.waiters = append(q.waiters, c)
	}
	c.parked = true
	c.waitCtx = ctx
	s.yield <- struct{}{}
	<-c.resume
	c.parked = false
	c.waitCtx = nil
	if s.exiting {
		runtime.Goexit()
	}
}

// notify wakes every coroutine parked on q.
func (s *scheduler) notify(q *waitQueue) {
	for _, c := range q.waiters {
		if c.parked {
			s.wake(c)
		}
	}
	clear(q.waiters)
	q.waiters = q.waiters[:0]
}

// shutdown unwinds every live coroutine (their deferred calls run, and any
// durable call they make exits at once) and waits until all are gone.
func (s *scheduler) shutdown() {
	s.exiting = true
	for _, c := range s.all {
		if c.done {
			continue
		}
		s.current = c
		c.resume <- struct{}{}
		<-s.yield
		s.current = nil
	}
	s.all = nil
	s.ready = nil
}
