// Package shaped gives durable workflow code the shape of Temporal's
// go.temporal.io/sdk/workflow package: futures whose Get decodes into a
// pointer, channels whose Receive fills a pointer, selectors whose callbacks
// get those futures and channels back, encoded values of side effects.
//
// The durable runtime's own API is typed (durable.Call[T], durable.Receive[T],
// durable.Future[T]); migrate convert uses it wherever the code around a call
// proves the type. Where it does not (a future kept in a slice or map and read
// into values of different types, a channel passed to a helper, a selector
// callback that hands its future on), the converted code uses this package:
// the Temporal code keeps its form, the workflow.Context becomes a
// context.Context, and every wait is still a durable yield point with the
// same journal as the typed form.
//
//	f := shaped.ExecuteActivity(ctx, Charge, order)
//	sel := shaped.NewSelector(ctx)
//	sel.AddFuture(f, func(f shaped.Future) { err = f.Get(ctx, &receipt) })
//	sel.AddReceive(shaped.GetSignalChannel(ctx, "cancel"), func(c shaped.ReceiveChannel, more bool) {
//		c.Receive(ctx, nil)
//	})
//	sel.Select(ctx)
//
// Values cross as JSON, as in Temporal's default data converter: a value
// sent on a channel is handed over as is when the receiving pointer's type
// can hold it, and through JSON otherwise.
package shaped
