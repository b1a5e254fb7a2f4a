package durable

import (
	"context"
	"encoding/json"
)

// signalQueue buffers the signals of one name in arrival order.
type signalQueue struct {
	items []json.RawMessage
	q     waitQueue
}

func (in *instance) signalQueue(name string) *signalQueue {
	q := in.signals[name]
	if q == nil {
		q = &signalQueue{}
		in.signals[name] = q
	}
	return q
}

// Receive waits durably for the next signal of that name and decodes it.
// Signals that arrived before the call are buffered per name, in order.
// It returns an error matching context.Canceled when ctx is cancelled
// first, and a decoding error (the signal is consumed) when the signal's
// value does not fit T.
func Receive[T any](ctx context.Context, signal string) (T, error) {
	in := instanceOf(ctx, "Receive")
	q := in.signalQueue(signal)
	var zero T
	if err := in.await(ctx, func() bool { return len(q.items) > 0 }, &q.q); err != nil {
		return zero, err
	}
	raw := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return decodeTyped[T]("signal "+signal, raw)
}
