package durable

import (
	"context"
	"time"
)

// Await waits until cond returns true (workflow.Await). cond is evaluated
// again whenever another coroutine has run or an event arrived, so it may
// read any state the run's coroutines share. It returns an error matching
// context.Canceled when ctx is cancelled first.
func Await(ctx context.Context, cond func() bool) error {
	in := instanceOf(ctx, "Await")
	s := in.sched
	defer s.endAwait()
	for !cond() {
		if ctx.Err() != nil {
			return &CanceledError{}
		}
		s.awaitPark(ctx)
		if in.halt != nil {
			in.parkForever()
		}
	}
	return nil
}

// AwaitWithTimeout is Await bounded by a durable timer; it reports false
// when the timeout came first.
func AwaitWithTimeout(ctx context.Context, d time.Duration, cond func() bool) (bool, error) {
	in := instanceOf(ctx, "AwaitWithTimeout")
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := in.startTimer(tctx, d)
	if err := Await(ctx, func() bool { return cond() || t.isReady() }); err != nil {
		return false, err
	}
	return cond(), nil
}

// WaitGroup waits for a set of coroutines (workflow.WaitGroup).
type WaitGroup struct {
	in *instance
	n  int
	q  waitQueue
}

// NewWaitGroup returns a wait group.
func NewWaitGroup(ctx context.Context) *WaitGroup {
	return &WaitGroup{in: instanceOf(ctx, "NewWaitGroup")}
}

// Add adds delta to the counter; it panics if the counter goes negative.
func (w *WaitGroup) Add(delta int) {
	w.n += delta
	if w.n < 0 {
		panic("durable: negative WaitGroup counter")
	}
	if w.n == 0 {
		w.in.sched.notify(&w.q)
	}
}

// Done decrements the counter.
func (w *WaitGroup) Done() { w.Add(-1) }

// Wait waits until the counter is zero.
func (w *WaitGroup) Wait(ctx context.Context) error {
	return w.in.await(ctx, func() bool { return w.n == 0 }, &w.q)
}

// Mutex is a lock between a run's coroutines (workflow.Mutex).
type Mutex struct {
	in     *instance
	locked bool
	q      waitQueue
}

// NewMutex returns an unlocked mutex.
func NewMutex(ctx context.Context) *Mutex { return &Mutex{in: instanceOf(ctx, "NewMutex")} }

// Lock waits for the lock.
func (m *Mutex) Lock(ctx context.Context) error {
	if err := m.in.await(ctx, func() bool { return !m.locked }, &m.q); err != nil {
		return err
	}
	m.locked = true
	return nil
}

// TryLock takes the lock if it is free.
func (m *Mutex) TryLock() bool {
	if m.locked {
		return false
	}
	m.locked = true
	return true
}

// Unlock releases the lock; it panics if the mutex is not locked.
func (m *Mutex) Unlock() {
	if !m.locked {
		panic("durable: Unlock of unlocked Mutex")
	}
	m.locked = false
	m.in.sched.notify(&m.q)
}

// IsLocked reports whether the mutex is held.
func (m *Mutex) IsLocked() bool { return m.locked }

// Semaphore bounds concurrent use of a resource (workflow.Semaphore).
type Semaphore struct {
	in   *instance
	size int64
	cur  int64
	q    waitQueue
}

// NewSemaphore returns a semaphore of the given size.
func NewSemaphore(ctx context.Context, size int64) *Semaphore {
	return &Semaphore{in: instanceOf(ctx, "NewSemaphore"), size: size}
}

// Acquire waits until n units are free and takes them.
func (s *Semaphore) Acquire(ctx context.Context, n int64) error {
	if err := s.in.await(ctx, func() bool { return s.cur+n <= s.size }, &s.q); err != nil {
		return err
	}
	s.cur += n
	return nil
}

// TryAcquire takes n units if they are free.
func (s *Semaphore) TryAcquire(n int64) bool {
	if s.cur+n > s.size {
		return false
	}
	s.cur += n
	return true
}

// Release gives n units back; it panics when more are released than held.
func (s *Semaphore) Release(n int64) {
	if s.cur-n < 0 {
		panic("durable: Semaphore released more than held")
	}
	s.cur -= n
	s.in.sched.notify(&s.q)
}
