package shaped

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Future is the result of an asynchronous call (workflow.Future): Get
// decodes it into a pointer. It is durable.EncodedFuture, the type
// interceptors pass around; code may implement it with a future of its
// own.
type Future = durable.EncodedFuture

// waiterOf returns what a durable.Selector waits on for f: the future
// itself when the engine made it, else a future a coroutine completes
// once f's Get returns.
func waiterOf(ctx context.Context, f Future) durable.Waiter {
	switch w := f.(type) {
	case interface{ waiter() durable.Waiter }:
		return w.waiter()
	case durable.Waiter:
		return w
	}
	done, s := durable.NewFuture[struct{}](ctx)
	durable.Go(ctx, func(ctx context.Context) {
		_ = f.Get(context.WithoutCancel(ctx), nil)
		s.SetValue(struct{}{})
	})
	return done
}

// Settable completes a future made with NewFuture (workflow.Settable).
type Settable interface {
	Set(value any, err error)
	SetValue(value any)
	SetError(err error)
	// Chain completes the future with another future's outcome once it is ready.
	Chain(future Future)
}

// rawFuture is a future whose value crossed the journal as JSON.
type rawFuture struct {
	f durable.Future[json.RawMessage]
}

func (r *rawFuture) waiter() durable.Waiter { return r.f }
func (r *rawFuture) IsReady() bool          { return r.f.Ready() }

func (r *rawFuture) Get(ctx context.Context, valuePtr any) error {
	raw, err := r.f.Get(ctx)
	if err != nil {
		return err
	}
	return decode(raw, valuePtr)
}

// decode fills valuePtr from a JSON value; a nil pointer discards it.
func decode(raw json.RawMessage, valuePtr any) error {
	if valuePtr == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, valuePtr); err != nil {
		return fmt.Errorf("shaped: decode %s into %T: %w", raw, valuePtr, err)
	}
	return nil
}

// assign stores v in valuePtr: directly when the types allow it, through
// JSON otherwise (values a coroutine hands to another, as Temporal's
// channels and settable futures do).
func assign(v any, valuePtr any) error {
	if valuePtr == nil {
		return nil
	}
	pv := reflect.ValueOf(valuePtr)
	if pv.Kind() != reflect.Pointer || pv.IsNil() {
		return fmt.Errorf("shaped: %T is not a non-nil pointer", valuePtr)
	}
	if v == nil {
		pv.Elem().SetZero()
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Type().AssignableTo(pv.Elem().Type()) {
		pv.Elem().Set(rv)
		return nil
	}
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Type().AssignableTo(pv.Elem().Type()) {
		pv.Elem().Set(rv.Elem())
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("shaped: encode %T: %w", v, err)
	}
	return decode(raw, valuePtr)
}

// ExecuteActivity schedules an activity and returns the future of its
// result (workflow.ExecuteActivity); options come from the context
// (durable.WithCallOptions).
func ExecuteActivity(ctx context.Context, activity any, args ...any) Future {
	return &rawFuture{f: durable.Async[json.RawMessage](ctx, activity, args...)}
}

// ExecuteLocalActivity runs an activity as a local activity
// (workflow.ExecuteLocalActivity).
func ExecuteLocalActivity(ctx context.Context, activity any, args ...any) Future {
	return &rawFuture{f: durable.AsyncLocal[json.RawMessage](ctx, activity, args...)}
}

// NewTimer returns a future that is ready after d of workflow time
// (workflow.NewTimer). Cancelling ctx cancels the timer: its Get returns
// a cancellation error.
func NewTimer(ctx context.Context, d time.Duration) Future {
	return &timerFuture{f: durable.NewTimer(ctx, d)}
}

type timerFuture struct{ f durable.Future[struct{}] }

func (t *timerFuture) waiter() durable.Waiter { return t.f }
func (t *timerFuture) IsReady() bool          { return t.f.Ready() }
func (t *timerFuture) Get(ctx context.Context, valuePtr any) error {
	_, err := t.f.Get(ctx)
	return err
}

// NewFuture returns a future and the Settable that completes it
// (workflow.NewFuture).
func NewFuture(ctx context.Context) (Future, Settable) {
	f, s := durable.NewFuture[any](ctx)
	return &valueFuture{f: f}, &settable{s: s, ctx: ctx}
}

type valueFuture struct{ f durable.Future[any] }

func (v *valueFuture) waiter() durable.Waiter { return v.f }
func (v *valueFuture) IsReady() bool          { return v.f.Ready() }
func (v *valueFuture) Get(ctx context.Context, valuePtr any) error {
	val, err := v.f.Get(ctx)
	if err != nil {
		if val != nil {
			_ = assign(val, valuePtr)
		}
		return err
	}
	return assign(val, valuePtr)
}

type settable struct {
	s   durable.Settable[any]
	ctx context.Context
}

func (s *settable) Set(value any, err error) { s.s.Set(value, err) }
func (s *settable) SetValue(value any)       { s.s.SetValue(value) }
func (s *settable) SetError(err error)       { s.s.SetError(err) }
func (s *settable) Chain(future Future) {
	durable.Go(s.ctx, func(ctx context.Context) {
		var raw json.RawMessage
		err := future.Get(context.WithoutCancel(ctx), &raw)
		if err != nil {
			s.s.Set(nil, err)
			return
		}
		s.s.Set(raw, nil)
	})
}

// Ready returns a future that is already complete with value and err, for
// code that hands a typed durable result to a function expecting a Future.
func Ready(ctx context.Context, value any, err error) Future {
	f, s := NewFuture(ctx)
	s.Set(value, err)
	return f
}
