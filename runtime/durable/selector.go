package durable

import "context"

// Selector waits on several futures, channels and contexts at once and runs
// the callback of the one that is ready (workflow.Selector). When several
// are ready, the one added first wins, which replay repeats.
//
//	sel := durable.NewSelector(ctx)
//	sel.AddFuture(f, func(durable.Waiter) { ... })
//	sel.AddReceive(ch, func(c durable.Receiver, more bool) { v, _ := ch.Receive(ctx) })
//	sel.Select(ctx)
type Selector struct {
	in        *instance
	cases     []*selectCase
	defaultFn func()
}

type selectCase struct {
	future   Waiter
	futureFn func(Waiter)
	fired    bool // a future fires once per selector, as in Temporal
	recv     Receiver
	recvFn   func(Receiver, bool)
	send     Sender
	sendV    any
	sendFn   func()
	done     context.Context
	doneFn   func()
}

// NewSelector returns an empty selector.
func NewSelector(ctx context.Context) *Selector {
	return &Selector{in: instanceOf(ctx, "NewSelector")}
}

// AddFuture adds a case that is ready when f is; fn gets f.
func (s *Selector) AddFuture(f Waiter, fn func(f Waiter)) *Selector {
	s.cases = append(s.cases, &selectCase{future: f, futureFn: fn})
	return s
}

// AddReceive adds a case that is ready when c has a value or is closed; fn
// must receive the value itself (more is false once c is closed and empty).
func (s *Selector) AddReceive(c Receiver, fn func(c Receiver, more bool)) *Selector {
	s.cases = append(s.cases, &selectCase{recv: c, recvFn: fn})
	return s
}

// AddSend adds a case that sends v on c when c can take it, then runs fn.
func (s *Selector) AddSend(c Sender, v any, fn func()) *Selector {
	s.cases = append(s.cases, &selectCase{send: c, sendV: v, sendFn: fn})
	return s
}

// AddDone adds a case that is ready once ctx is cancelled (Temporal's
// AddReceive(ctx.Done(), ...)).
func (s *Selector) AddDone(ctx context.Context, fn func()) *Selector {
	s.cases = append(s.cases, &selectCase{done: ctx, doneFn: fn})
	return s
}

// AddDefault sets a callback Select runs when no case is ready.
func (s *Selector) AddDefault(fn func()) { s.defaultFn = fn }

func (c *selectCase) ready() bool {
	switch {
	case c.future != nil:
		return !c.fired && c.future.isReady()
	case c.recv != nil:
		return c.recv.canReceive()
	case c.send != nil:
		return c.send.canSend()
	case c.done != nil:
		return !c.fired && c.done.Err() != nil
	}
	return false
}

func (c *selectCase) fire() {
	switch {
	case c.future != nil:
		c.fired = true
		if c.futureFn != nil {
			c.futureFn(c.future)
		}
	case c.recv != nil:
		more := c.recv.canReceive() && !isClosedAndEmpty(c.recv)
		if c.recvFn != nil {
			c.recvFn(c.recv, more)
		}
	case c.send != nil:
		c.send.sendValue(c.sendV)
		if c.sendFn != nil {
			c.sendFn()
		}
	case c.done != nil:
		c.fired = true
		if c.doneFn != nil {
			c.doneFn()
		}
	}
}

func isClosedAndEmpty(r Receiver) bool {
	type closer interface{ closedAndEmpty() bool }
	if c, ok := r.(closer); ok {
		return c.closedAndEmpty()
	}
	return false
}

func (c *channel[T]) closedAndEmpty() bool { return c.closed && len(c.buf) == 0 && len(c.senders) == 0 }

// HasPending reports whether a case is ready now.
func (s *Selector) HasPending() bool {
	for _, c := range s.cases {
		if c.ready() {
			return true
		}
	}
	return false
}

// Select waits until a case is ready and runs its callback, or runs the
// default callback if there is one and no case is ready. As in Temporal,
// cancelling ctx does not end the wait; add an AddDone case for that.
func (s *Selector) Select(ctx context.Context) {
	in := instanceOf(ctx, "Selector.Select")
	for {
		for _, c := range s.cases {
			if c.ready() {
				c.fire()
				return
			}
		}
		if s.defaultFn != nil {
			s.defaultFn()
			return
		}
		queues := make([]*waitQueue, 0, len(s.cases))
		var waitCtx context.Context
		for _, c := range s.cases {
			switch {
			case c.future != nil:
				queues = append(queues, c.future.waitQueue())
			case c.recv != nil:
				queues = append(queues, c.recv.waitQueue())
			case c.send != nil:
				queues = append(queues, c.send.waitQueue())
			case c.done != nil && waitCtx == nil:
				waitCtx = c.done
			}
		}
		if len(queues) == 0 && waitCtx == nil {
			panic("durable: Selector.Select with no cases would wait forever")
		}
		in.sched.park(waitCtx, queues...)
		if in.halt != nil {
			in.parkForever()
		}
	}
}
