package durable

import "context"

// Go starts fn as a workflow coroutine: it runs when the coroutines
// started before it wait, and only one coroutine of a run runs at a time,
// in an order replay repeats, so coroutines may share variables freely.
// Use it wherever Temporal code used workflow.Go; a plain go statement in
// workflow code breaks determinism.
func Go(ctx context.Context, fn func(ctx context.Context)) {
	in := instanceOf(ctx, "Go")
	in.sched.spawn("go", func() { fn(ctx) })
}
