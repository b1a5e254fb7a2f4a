package durable

import (
	"context"
	"fmt"
)

// Header carries values of a context.Context where the runtime hands work
// on: from the code that starts a run to the run's workflow code, and from
// workflow code to the activities and child workflows it starts and the
// next run of its chain (continue-as-new, retries, cron). A
// ContextPropagator writes it from one context and reads it into the
// next; the runtime stores it, opaque, with the run's Started event and
// the activity's task, so the values survive a crash and reach whichever
// worker takes the work.
type Header map[string][]byte

// ContextPropagator moves values between a context and a Header, as
// Temporal's workflow.ContextPropagator does (a tenant ID, a user, a
// trace baggage item). compat.ContextPropagator adapts a Temporal one.
//
// Inject runs where work is handed on (Start, Call, Child); Extract runs
// where it is taken up, in the workflow (on every replay too, so it must
// be deterministic: read the header, nothing else) and in each activity
// attempt.
type ContextPropagator interface {
	// Inject writes the values of ctx to carry into h.
	Inject(ctx context.Context, h Header) error
	// Extract returns ctx with the values h carries.
	Extract(ctx context.Context, h Header) (context.Context, error)
}

// WithContextPropagators sets the propagators that carry context values
// into runs, activities and children (see ContextPropagator). Every
// engine that starts or works the runs needs the same ones.
func WithContextPropagators(ps ...ContextPropagator) Option {
	return optionFunc(func(c *config) { c.propagators = append(c.propagators, ps...) })
}

// inject is the header the propagators write from ctx; nil without
// propagators or values.
func (e *Engine) inject(ctx context.Context, extra Header) (Header, error) {
	if len(e.cfg.propagators) == 0 && len(extra) == 0 {
		return nil, nil
	}
	h := Header{}
	for _, p := range e.cfg.propagators {
		if err := p.Inject(ctx, h); err != nil {
			return nil, fmt.Errorf("context propagator %T: inject: %w", p, err)
		}
	}
	for k, v := range extra {
		h[k] = v
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}

// extract returns ctx with the values of h, read by every propagator.
func (e *Engine) extract(ctx context.Context, h Header) (context.Context, error) {
	for _, p := range e.cfg.propagators {
		var err error
		if ctx, err = p.Extract(ctx, h); err != nil {
			return ctx, fmt.Errorf("context propagator %T: extract: %w", p, err)
		}
	}
	return ctx, nil
}
