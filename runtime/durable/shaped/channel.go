package shaped

import (
	"context"
	"encoding/json"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// ReceiveChannel is the receiving side of a channel (workflow.ReceiveChannel).
type ReceiveChannel interface {
	// Receive waits for a value and stores it in valuePtr (nil discards
	// it). more is false once the channel is closed and drained.
	Receive(ctx context.Context, valuePtr any) (more bool)
	// ReceiveWithTimeout is Receive bounded by a durable timer; ok is
	// false when the timeout came first.
	ReceiveWithTimeout(ctx context.Context, timeout time.Duration, valuePtr any) (ok, more bool)
	// ReceiveAsync takes a value if one is ready.
	ReceiveAsync(valuePtr any) (ok bool)
	// ReceiveAsyncWithMoreFlag also reports whether more values can come.
	ReceiveAsyncWithMoreFlag(valuePtr any) (ok bool, more bool)
	// Len returns the number of buffered values.
	Len() int
	// Name returns the channel's name (a signal's name).
	Name() string
	receiver() durable.Receiver
}

// SendChannel is the sending side of a channel (workflow.SendChannel).
type SendChannel interface {
	Send(ctx context.Context, v any)
	SendAsync(v any) (ok bool)
	Close()
	Name() string
	sender() durable.Sender
}

// Channel is a deterministic channel between a run's coroutines
// (workflow.Channel).
type Channel interface {
	ReceiveChannel
	SendChannel
}

// GetSignalChannel returns the signals of a name as a channel
// (workflow.GetSignalChannel). Signals are buffered per name in arrival
// order and never lost.
func GetSignalChannel(ctx context.Context, signalName string) ReceiveChannel {
	return &signalChannel{c: durable.SignalChannel[json.RawMessage](ctx, signalName), name: signalName}
}

type signalChannel struct {
	c    durable.ReceiveChannel[json.RawMessage]
	name string
}

func (s *signalChannel) receiver() durable.Receiver { return s.c }
func (s *signalChannel) Name() string               { return s.name }
func (s *signalChannel) Len() int                   { return s.c.Len() }

func (s *signalChannel) Receive(ctx context.Context, valuePtr any) bool {
	raw, more := s.c.Receive(ctx)
	if !more {
		return false
	}
	s.fill(raw, valuePtr)
	return true
}

func (s *signalChannel) fill(raw json.RawMessage, valuePtr any) {
	if err := decode(raw, valuePtr); err != nil {
		panic(err) // as Temporal does when a signal does not decode into the pointer
	}
}

func (s *signalChannel) ReceiveWithTimeout(ctx context.Context, timeout time.Duration, valuePtr any) (bool, bool) {
	return receiveWithTimeout(ctx, s, timeout, valuePtr)
}

func (s *signalChannel) ReceiveAsync(valuePtr any) bool {
	ok, _ := s.ReceiveAsyncWithMoreFlag(valuePtr)
	return ok
}

func (s *signalChannel) ReceiveAsyncWithMoreFlag(valuePtr any) (bool, bool) {
	raw, ok, more := s.c.ReceiveAsyncWithMoreFlag()
	if ok {
		s.fill(raw, valuePtr)
	}
	return ok, more
}

// receiveWithTimeout waits for c or a durable timer, whichever is first.
func receiveWithTimeout(ctx context.Context, c ReceiveChannel, timeout time.Duration, valuePtr any) (ok, more bool) {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := NewTimer(tctx, timeout)
	sel := NewSelector(ctx)
	sel.AddReceive(c, func(c ReceiveChannel, m bool) {
		more = c.Receive(ctx, valuePtr)
		ok = more
	})
	sel.AddFuture(timer, func(Future) { more = true })
	sel.Select(ctx)
	return ok, more
}

// NewChannel returns an unbuffered channel (workflow.NewChannel).
func NewChannel(ctx context.Context) Channel {
	return &channel{c: durable.NewChannel[any](ctx)}
}

// NewNamedChannel is NewChannel; the name is kept for Name.
func NewNamedChannel(ctx context.Context, name string) Channel {
	return &channel{c: durable.NewChannel[any](ctx), name: name}
}

// NewBufferedChannel returns a channel with a buffer of size values
// (workflow.NewBufferedChannel).
func NewBufferedChannel(ctx context.Context, size int) Channel {
	return &channel{c: durable.NewBufferedChannel[any](ctx, size)}
}

// NewNamedBufferedChannel is NewBufferedChannel; the name is kept for Name.
func NewNamedBufferedChannel(ctx context.Context, name string, size int) Channel {
	return &channel{c: durable.NewBufferedChannel[any](ctx, size), name: name}
}

type channel struct {
	c    durable.Channel[any]
	name string
}

func (c *channel) receiver() durable.Receiver { return c.c }
func (c *channel) sender() durable.Sender     { return c.c }
func (c *channel) Name() string               { return c.name }
func (c *channel) Len() int                   { return c.c.Len() }
func (c *channel) Close()                     { c.c.Close() }
func (c *channel) SendAsync(v any) bool       { return c.c.SendAsync(v) }

// Send waits until the value is taken or buffered; a cancelled ctx ends
// the wait without sending.
func (c *channel) Send(ctx context.Context, v any) { _ = c.c.Send(ctx, v) }

func (c *channel) Receive(ctx context.Context, valuePtr any) bool {
	v, more := c.c.Receive(ctx)
	if !more {
		return false
	}
	c.fill(v, valuePtr)
	return true
}

func (c *channel) fill(v any, valuePtr any) {
	if err := assign(v, valuePtr); err != nil {
		panic(err)
	}
}

func (c *channel) ReceiveWithTimeout(ctx context.Context, timeout time.Duration, valuePtr any) (bool, bool) {
	return receiveWithTimeout(ctx, c, timeout, valuePtr)
}

func (c *channel) ReceiveAsync(valuePtr any) bool {
	ok, _ := c.ReceiveAsyncWithMoreFlag(valuePtr)
	return ok
}

func (c *channel) ReceiveAsyncWithMoreFlag(valuePtr any) (bool, bool) {
	v, ok, more := c.c.ReceiveAsyncWithMoreFlag()
	if ok {
		c.fill(v, valuePtr)
	}
	return ok, more
}
