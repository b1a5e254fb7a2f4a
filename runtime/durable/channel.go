package durable

import (
	"context"
	"slices"
)

// Receiver is a channel a Selector can receive from.
type Receiver interface {
	waitQueue() *waitQueue
	canReceive() bool
}

// Sender is a channel a Selector can send to.
type Sender interface {
	waitQueue() *waitQueue
	canSend() bool
	sendValue(v any) bool
}

// ReceiveChannel is the receiving side of a workflow channel (also what
// SignalChannel returns).
type ReceiveChannel[T any] interface {
	Receiver
	// Receive waits for a value. more is false once the channel is closed
	// and drained, or when ctx is cancelled first.
	Receive(ctx context.Context) (v T, more bool)
	// ReceiveAsync takes a value if one is ready.
	ReceiveAsync() (v T, ok bool)
	// ReceiveAsyncWithMoreFlag also reports whether more values can come.
	ReceiveAsyncWithMoreFlag() (v T, ok bool, more bool)
	// Len returns the number of buffered values.
	Len() int
}

// Channel is a deterministic channel between a run's coroutines
// (workflow.Channel): buffered or not, closable, usable in a Selector.
type Channel[T any] interface {
	ReceiveChannel[T]
	Sender
	// Send waits until the value is taken (or buffered). It returns an
	// error matching context.Canceled when ctx is cancelled first, and
	// panics on a closed channel, as Go's channels do.
	Send(ctx context.Context, v T) error
	// SendAsync sends if that needs no waiting and reports whether it did.
	SendAsync(v T) bool
	// Close closes the channel; receivers drain what is buffered.
	Close()
	// Cap returns the buffer size.
	Cap() int
}

// NewChannel returns an unbuffered workflow channel.
func NewChannel[T any](ctx context.Context) Channel[T] {
	return &channel[T]{in: instanceOf(ctx, "NewChannel")}
}

// NewBufferedChannel returns a workflow channel with a buffer of size n.
func NewBufferedChannel[T any](ctx context.Context, n int) Channel[T] {
	return &channel[T]{in: instanceOf(ctx, "NewBufferedChannel"), capacity: max(n, 0)}
}

type channel[T any] struct {
	in        *instance
	buf       []T
	capacity  int
	closed    bool
	senders   []*pendingSend[T] // senders waiting for a receiver
	receivers int               // receivers parked on the channel
	q         waitQueue
}

type pendingSend[T any] struct {
	v     T
	taken bool
}

func (c *channel[T]) waitQueue() *waitQueue { return &c.q }
func (c *channel[T]) Len() int              { return len(c.buf) }
func (c *channel[T]) Cap() int              { return c.capacity }

func (c *channel[T]) canReceive() bool {
	return len(c.buf) > 0 || len(c.senders) > 0 || c.closed
}

func (c *channel[T]) canSend() bool {
	return !c.closed && (len(c.buf) < c.capacity && len(c.senders) == 0 || c.receivers > len(c.senders))
}

// take removes the next value, if any.
func (c *channel[T]) take() (T, bool) {
	var zero T
	if len(c.buf) > 0 {
		v := c.buf[0]
		c.buf[0] = zero
		c.buf = c.buf[1:]
		if len(c.senders) > 0 { // a waiting sender moves into the buffer
			s := c.senders[0]
			c.senders = c.senders[1:]
			s.taken = true
			c.buf = append(c.buf, s.v)
		}
		c.in.sched.notify(&c.q)
		return v, true
	}
	if len(c.senders) > 0 {
		s := c.senders[0]
		c.senders = c.senders[1:]
		s.taken = true
		c.in.sched.notify(&c.q)
		return s.v, true
	}
	return zero, false
}

func (c *channel[T]) Receive(ctx context.Context) (T, bool) {
	for {
		if v, ok := c.take(); ok {
			return v, true
		}
		var zero T
		if c.closed || ctx.Err() != nil {
			return zero, false
		}
		c.receivers++
		c.in.sched.notify(&c.q) // unbuffered senders in a Selector may now send
		c.in.sched.park(ctx, &c.q)
		c.receivers--
		if c.in.halt != nil {
			c.in.parkForever()
		}
	}
}

func (c *channel[T]) ReceiveAsync() (T, bool) {
	v, ok, _ := c.ReceiveAsyncWithMoreFlag()
	return v, ok
}

func (c *channel[T]) ReceiveAsyncWithMoreFlag() (T, bool, bool) {
	if v, ok := c.take(); ok {
		return v, true, true
	}
	var zero T
	return zero, false, !c.closed
}

func (c *channel[T]) Send(ctx context.Context, v T) error {
	if c.closed {
		panic("durable: send on closed channel")
	}
	if len(c.buf) < c.capacity && len(c.senders) == 0 {
		c.buf = append(c.buf, v)
		c.in.sched.notify(&c.q)
		return nil
	}
	s := &pendingSend[T]{v: v}
	c.senders = append(c.senders, s)
	c.in.sched.notify(&c.q)
	for !s.taken {
		if ctx.Err() != nil {
			c.senders = slices.DeleteFunc(c.senders, func(p *pendingSend[T]) bool { return p == s })
			return &CanceledError{}
		}
		if c.closed {
			panic("durable: send on closed channel")
		}
		c.in.sched.park(ctx, &c.q)
		if c.in.halt != nil {
			c.in.parkForever()
		}
	}
	return nil
}

func (c *channel[T]) SendAsync(v T) bool {
	if !c.canSend() {
		return false
	}
	if len(c.buf) < c.capacity && len(c.senders) == 0 {
		c.buf = append(c.buf, v)
	} else {
		c.senders = append(c.senders, &pendingSend[T]{v: v})
	}
	c.in.sched.notify(&c.q)
	return true
}

func (c *channel[T]) sendValue(v any) bool {
	t, _ := v.(T)
	return c.SendAsync(t)
}

func (c *channel[T]) Close() {
	c.closed = true
	c.in.sched.notify(&c.q)
}

// SignalChannel returns the signals of a name as a receive-only channel
// (workflow.GetSignalChannel), for code that selects over signals. Signals
// are buffered per name in arrival order; one whose value does not decode
// into T is logged and dropped.
func SignalChannel[T any](ctx context.Context, signal string) ReceiveChannel[T] {
	in := instanceOf(ctx, "SignalChannel")
	return &signalChannel[T]{in: in, name: signal, q: in.signalQueue(signal)}
}

type signalChannel[T any] struct {
	in   *instance
	name string
	q    *signalQueue
}

func (s *signalChannel[T]) waitQueue() *waitQueue { return &s.q.q }
func (s *signalChannel[T]) canReceive() bool      { return len(s.q.items) > 0 }
func (s *signalChannel[T]) Len() int              { return len(s.q.items) }

func (s *signalChannel[T]) next() (T, bool) {
	for len(s.q.items) > 0 {
		raw := s.q.items[0]
		s.q.items[0] = nil
		s.q.items = s.q.items[1:]
		v, err := decodeTyped[T]("signal "+s.name, raw)
		if err != nil {
			s.in.log().Error("durable: dropped a signal that does not decode", "signal", s.name, "error", err)
			continue
		}
		return v, true
	}
	var zero T
	return zero, false
}

func (s *signalChannel[T]) Receive(ctx context.Context) (T, bool) {
	for {
		if v, ok := s.next(); ok {
			return v, true
		}
		var zero T
		if ctx.Err() != nil {
			return zero, false
		}
		s.in.sched.park(ctx, &s.q.q)
		if s.in.halt != nil {
			s.in.parkForever()
		}
	}
}

func (s *signalChannel[T]) ReceiveAsync() (T, bool) { return s.next() }

func (s *signalChannel[T]) ReceiveAsyncWithMoreFlag() (T, bool, bool) {
	v, ok := s.next()
	return v, ok, true
}
