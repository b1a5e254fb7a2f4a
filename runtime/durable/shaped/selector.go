package shaped

import (
	"context"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Selector waits on several futures and channels at once and runs the
// callback of the first that is ready (workflow.Selector). When several
// are ready, the one added first wins, which replay repeats.
type Selector interface {
	AddReceive(c ReceiveChannel, f func(c ReceiveChannel, more bool)) Selector
	AddSend(c SendChannel, v any, f func()) Selector
	AddFuture(future Future, f func(f Future)) Selector
	AddDefault(f func())
	Select(ctx context.Context)
	HasPending() bool
}

// NewSelector returns an empty selector (workflow.NewSelector).
func NewSelector(ctx context.Context) Selector {
	return &selector{s: durable.NewSelector(ctx), ctx: ctx}
}

// NewNamedSelector is NewSelector; the name is not used.
func NewNamedSelector(ctx context.Context, name string) Selector { return NewSelector(ctx) }

type selector struct {
	s   *durable.Selector
	ctx context.Context
}

func (s *selector) AddReceive(c ReceiveChannel, f func(c ReceiveChannel, more bool)) Selector {
	if d, ok := c.(*doneChannel); ok {
		s.s.AddDone(d.ctx, func() {
			if f != nil {
				f(c, false)
			}
		})
		return s
	}
	s.s.AddReceive(c.receiver(), func(_ durable.Receiver, more bool) {
		if f != nil {
			f(c, more)
		}
	})
	return s
}

func (s *selector) AddSend(c SendChannel, v any, f func()) Selector {
	s.s.AddSend(c.sender(), v, f)
	return s
}

func (s *selector) AddFuture(future Future, f func(f Future)) Selector {
	s.s.AddFuture(waiterOf(s.ctx, future), func(durable.Waiter) {
		if f != nil {
			f(future)
		}
	})
	return s
}

func (s *selector) AddDefault(f func())        { s.s.AddDefault(f) }
func (s *selector) Select(ctx context.Context) { s.s.Select(ctx) }
func (s *selector) HasPending() bool           { return s.s.HasPending() }

// Done returns a channel that is closed when ctx is cancelled: what
// workflow.Context's Done returned, for selectors and receives.
func Done(ctx context.Context) ReceiveChannel { return &doneChannel{ctx: ctx} }

type doneChannel struct{ ctx context.Context }

func (d *doneChannel) receiver() durable.Receiver { return nil }
func (d *doneChannel) Name() string               { return "done" }
func (d *doneChannel) Len() int                   { return 0 }

func (d *doneChannel) Receive(ctx context.Context, valuePtr any) bool {
	_ = durable.Await(context.WithoutCancel(ctx), func() bool { return d.ctx.Err() != nil })
	return false
}

func (d *doneChannel) ReceiveWithTimeout(ctx context.Context, timeout time.Duration, valuePtr any) (bool, bool) {
	done, _ := durable.AwaitWithTimeout(context.WithoutCancel(ctx), timeout, func() bool { return d.ctx.Err() != nil })
	return false, !done
}

func (d *doneChannel) ReceiveAsync(valuePtr any) bool { return false }

func (d *doneChannel) ReceiveAsyncWithMoreFlag(valuePtr any) (bool, bool) {
	return false, d.ctx.Err() == nil
}
