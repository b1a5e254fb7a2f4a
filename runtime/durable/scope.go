package durable

import "context"

// WithCancel returns a copy of ctx that is cancelled when the returned
// cancel function is called or ctx is, as context.WithCancel does
// (workflow.WithCancel). Workflow code may leave a scope uncancelled on some
// paths, as Temporal code often does: every context of a run is derived from
// its root context, which the runtime cancels when the run closes, so the
// scope is released then. migrate convert uses it where the cancel function
// is not deferred, which go vet's lostcancel check would report for
// context.WithCancel.
func WithCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}
