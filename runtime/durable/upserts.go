package durable

import "context"

// UpsertObserver is told of each upsert of memo or search attributes a
// workflow makes (UpsertMemo, UpsertSearchAttributes,
// UpsertTypedSearchAttributes), with the values as the workflow gave them
// (nil for a removed field), the first time the code runs, not on replay.
// It cannot change the upsert. Test environments use it to check mocks
// (durabletest's OnUpsertMemo and OnUpsertSearchAttributes).
type UpsertObserver func(ctx context.Context, memo, searchAttributes map[string]any)

// WithUpsertObserver sets the function told of every upsert.
func WithUpsertObserver(f UpsertObserver) Option {
	return optionFunc(func(c *config) { c.upsertObserver = f })
}

// observeUpsert tells the engine's observer of an upsert the code makes
// for the first time.
func (in *instance) observeUpsert(ctx context.Context, memo, search map[string]any) {
	if f := in.e.cfg.upsertObserver; f != nil && !in.reexecuting() {
		f(ctx, memo, search)
	}
}
