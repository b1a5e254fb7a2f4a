package durabletest

import (
	"context"
	"maps"
	"sync"

	"github.com/durablego/toolkit/runtime/durable"
)

// SetContextPropagators sets the propagators that carry context values
// into the workflow, its activities and children (Temporal's
// SetContextPropagators; compat.ContextPropagators adapts Temporal ones).
// Call it before the workflow starts.
func (e *Env) SetContextPropagators(ps []durable.ContextPropagator) *Env {
	e.propagators.set(ps)
	return e
}

// SetHeader sets the header the workflow starts with, as if the
// propagators had written it from the caller's context (Temporal's
// WorkflowTestSuite.SetHeader, whose ExecuteWorkflow takes no context).
func (e *Env) SetHeader(h durable.Header) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startOpts.Header = maps.Clone(h)
	return e
}

// envPropagators are the Env's propagators, settable after NewEnv made
// the engine: the engine holds this list as its one propagator.
type envPropagators struct {
	mu sync.RWMutex
	ps []durable.ContextPropagator
}

func (l *envPropagators) set(ps []durable.ContextPropagator) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ps = append([]durable.ContextPropagator(nil), ps...)
}

func (l *envPropagators) list() []durable.ContextPropagator {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.ps
}

func (l *envPropagators) Inject(ctx context.Context, h durable.Header) error {
	for _, p := range l.list() {
		if err := p.Inject(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

func (l *envPropagators) Extract(ctx context.Context, h durable.Header) (context.Context, error) {
	for _, p := range l.list() {
		var err error
		if ctx, err = p.Extract(ctx, h); err != nil {
			return ctx, err
		}
	}
	return ctx, nil
}
