package durable

import (
	"context"
	"maps"
)

// ServeWithActivityContext serves queues as Serve does, and runs the
// activities of those queues (local ones too) in contexts that carry
// ctx's values behind their own and end when ctx ends: Temporal's
// worker.Options.BackgroundActivityContext, which is per worker and so
// per task queue. Activities read what the program put there (a client, a
// database handle) with ctx.Value as they did under Temporal. A later call
// for the same queue replaces its context.
func (e *Engine) ServeWithActivityContext(ctx context.Context, queues ...string) *Engine {
	e.mu.Lock()
	next := map[string]context.Context{}
	if cur := e.activityCtx.Load(); cur != nil {
		maps.Copy(next, *cur)
	}
	for _, q := range queues {
		next[q] = ctx
	}
	e.activityCtx.Store(&next)
	e.mu.Unlock()
	return e.Serve(queues...)
}

// attemptContext is the context an attempt of an activity of queue runs
// in, derived from the engine's: with the queue's background values and
// cancellation when ServeWithActivityContext gave it some.
func (e *Engine) attemptContext(queue string) (context.Context, context.CancelCauseFunc) {
	var bg context.Context
	if m := e.activityCtx.Load(); m != nil {
		bg = (*m)[queue]
	}
	if bg == nil {
		return context.WithCancelCause(e.ctx)
	}
	ctx, cancel := context.WithCancelCause(backgroundValues{Context: e.ctx, bg: bg})
	stop := context.AfterFunc(bg, func() { cancel(context.Cause(bg)) })
	return ctx, func(cause error) { stop(); cancel(cause) }
}

// backgroundValues looks values up in the engine's context, then in the
// queue's background context.
type backgroundValues struct {
	context.Context
	bg context.Context
}

func (c backgroundValues) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.bg.Value(key)
}
