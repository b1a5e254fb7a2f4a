package durable

import "context"

// Case is one case of Select: build it with OnFuture, OnReceive, OnSend,
// OnDone or OnDefault.
type Case struct{ c *selectCase }

// OnFuture is ready when f is.
func OnFuture(f Waiter) Case { return Case{&selectCase{future: f}} }

// OnReceive is ready when ch has a value or is closed; the caller then
// receives it (ReceiveAsync) itself.
func OnReceive(ch Receiver) Case { return Case{&selectCase{recv: ch}} }

// OnSend sends v on ch when ch can take it.
func OnSend(ch Sender, v any) Case { return Case{&selectCase{send: ch, sendV: v}} }

// OnDone is ready once ctx is cancelled.
func OnDone(ctx context.Context) Case { return Case{&selectCase{done: ctx}} }

// OnDefault is chosen when no other case is ready.
func OnDefault() Case { return Case{} }

// Select waits until one of cases is ready and returns its index: the
// plain-loop form of Selector, for code written as Go's select statement.
//
//	for {
//		switch durable.Select(ctx, durable.OnReceive(orders), durable.OnFuture(timer)) {
//		case 0:
//			o, _ := orders.ReceiveAsync()
//			...
//		case 1:
//			return nil
//		}
//	}
//
// A future or done case is reported every time it is ready (unlike a
// Selector's, which fires once). Without an OnDefault case, Select waits;
// cancelling ctx does not end the wait unless an OnDone case says so.
func Select(ctx context.Context, cases ...Case) int {
	s := NewSelector(ctx)
	chosen := -1
	for i, c := range cases {
		switch {
		case c.c == nil:
			s.AddDefault(func() { chosen = i })
		case c.c.future != nil:
			s.AddFuture(c.c.future, func(Waiter) { chosen = i })
		case c.c.recv != nil:
			s.AddReceive(c.c.recv, func(Receiver, bool) { chosen = i })
		case c.c.send != nil:
			s.AddSend(c.c.send, c.c.sendV, func() { chosen = i })
		case c.c.done != nil:
			s.AddDone(c.c.done, func() { chosen = i })
		}
	}
	s.Select(ctx)
	return chosen
}
