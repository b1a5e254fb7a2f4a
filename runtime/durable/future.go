package durable

import (
	"context"
	"encoding/json"
)

// promise is the state behind every future: set once, by the journal.
type promise struct {
	in    *instance
	ready bool
	raw   json.RawMessage // the result as JSON, for results that crossed the journal
	value any             // the result as a Go value, for in-workflow futures
	err   error
	q     waitQueue
	// child is the child run a ChildAsync future waits for (the current
	// attempt's, under a retry policy).
	child *childCall
}

func newPromise(in *instance) *promise { return &promise{in: in} }

// resolve completes p and wakes its waiters.
func (in *instance) resolve(p *promise, raw json.RawMessage, err error) {
	if p.ready {
		return
	}
	p.ready = true
	p.raw = raw
	p.err = err
	in.sched.notify(&p.q)
}

// Waiter is anything a Selector can wait on: futures, channels and timers.
type Waiter interface {
	waitQueue() *waitQueue
	isReady() bool
}

// Future is the result of an asynchronous call (Async, ChildAsync,
// NewTimer): Get waits for it durably.
type Future[R any] interface {
	Waiter
	// Get waits until the result is ready (or ctx is cancelled) and returns it.
	Get(ctx context.Context) (R, error)
	// Ready reports whether Get would return without waiting.
	Ready() bool
}

type future[R any] struct {
	p    *promise
	what string
	// holdOnCancel: Get waits for the result even when ctx is cancelled
	// (an activity call with CallOptions.WaitForCancellation).
	holdOnCancel bool
}

func (f *future[R]) waitQueue() *waitQueue { return &f.p.q }
func (f *future[R]) isReady() bool         { return f.p.ready }
func (f *future[R]) promise() *promise     { return f.p }
func (f *future[R]) Ready() bool           { return f.p.ready }

func (f *future[R]) Get(ctx context.Context) (R, error) {
	var zero R
	in := instanceOf(ctx, "Future.Get")
	waitCtx := ctx
	if f.holdOnCancel {
		waitCtx = context.WithoutCancel(ctx)
	}
	if err := in.await(waitCtx, f.isReady, &f.p.q); err != nil {
		return zero, err
	}
	if f.p.err != nil {
		if v, ok := f.p.value.(R); ok {
			return v, f.p.err
		}
		return zero, f.p.err
	}
	if v, ok := f.p.value.(R); ok {
		return v, nil
	}
	return decodeTyped[R](f.what, f.p.raw)
}

// Settable completes a future made with NewFuture.
type Settable[R any] interface {
	Set(value R, err error)
	SetValue(value R)
	SetError(err error)
	// Chain completes the future with another future's result, when ready.
	Chain(other Future[R])
}

// NewFuture returns a future and the Settable that completes it, for
// workflow code that hands results between coroutines (workflow.NewFuture).
func NewFuture[R any](ctx context.Context) (Future[R], Settable[R]) {
	in := instanceOf(ctx, "NewFuture")
	f := &future[R]{p: newPromise(in), what: "future"}
	return f, &settable[R]{f: f, in: in}
}

type settable[R any] struct {
	f  *future[R]
	in *instance
}

func (s *settable[R]) Set(value R, err error) {
	if s.f.p.ready {
		panic("durable: Settable.Set: future is already set")
	}
	s.f.p.value = value
	s.in.resolve(s.f.p, nil, err)
}

func (s *settable[R]) SetValue(value R) { s.Set(value, nil) }
func (s *settable[R]) SetError(err error) {
	var zero R
	s.Set(zero, err)
}

func (s *settable[R]) Chain(other Future[R]) {
	in := s.in
	in.sched.spawn("chain", func() {
		v, err := other.Get(context.WithoutCancel(in.rootCtx))
		s.Set(v, err)
	})
}
