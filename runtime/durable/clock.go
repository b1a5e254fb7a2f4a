package durable

import "time"

// Clock is the engine's source of time. The real clock is the default;
// runtime/durabletest supplies one that skips ahead when every coroutine of
// the run under test is waiting.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d and returns a function
	// that stops the call if it has not started (reporting whether it did).
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
