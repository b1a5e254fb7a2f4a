package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// handlerFunc is a query handler and the shape it was checked to have.
type handlerFunc struct {
	def *funcDef
}

// SetQueryHandler registers a handler that answers Engine.Query for name
// with the run's current state. handler is a func(args...) (R, error) (a
// leading context.Context is allowed). It must not block or call durable
// yield points: queries are not journaled.
func SetQueryHandler(ctx context.Context, name string, handler any) error {
	in := instanceOf(ctx, "SetQueryHandler")
	if name == "" {
		return errors.New("durable.SetQueryHandler: empty query name")
	}
	v := reflect.ValueOf(handler)
	if handler == nil || v.Kind() != reflect.Func {
		return fmt.Errorf("durable.SetQueryHandler %q: handler must be a function, got %T", name, handler)
	}
	def, err := newHandlerDef("query", name, v)
	if err != nil {
		return err
	}
	in.queries[name] = &handlerFunc{def: def}
	return nil
}

// newHandlerDef accepts func([ctx,] args...) (R, error), (R) or error.
func newHandlerDef(kind, name string, v reflect.Value) (*funcDef, error) {
	t := v.Type()
	if t.NumOut() == 1 && t.Out(0) != errorType {
		d := &funcDef{name: name, fn: v, typ: t, result: t.Out(0)}
		if t.NumIn() > 0 && t.In(0) == contextType {
			d.hasCtx, d.paramBase = true, 1
		}
		d.resultOnly = true
		return d, nil
	}
	d, err := newFuncDef(kind+" handler", name, v, false)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// callHandler decodes JSON arguments for a handler, calls it and encodes
// its result.
func callHandler(ctx context.Context, def *funcDef, args []any) (result json.RawMessage, err error) {
	raw, err := encodeArgs(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", def.name, err)
	}
	vals, err := decodeArgs(def, raw)
	if err != nil {
		return nil, err
	}
	call := make([]reflect.Value, 0, len(vals)+1)
	if def.hasCtx {
		call = append(call, reflect.ValueOf(ctx))
	}
	out, perr := callRecover(def.fn, append(call, vals...))
	if perr != nil {
		return nil, perr
	}
	var res any
	if def.resultOnly {
		res = out[0].Interface()
	} else {
		if e := out[len(out)-1].Interface(); e != nil {
			return nil, e.(error)
		}
		if def.result != nil {
			res = out[0].Interface()
		}
	}
	return encodeValue(res)
}

// runQuery answers a query from the instance's current state, through
// the interceptors when there are.
func (in *instance) runQuery(name string, args []any) (json.RawMessage, error) {
	if in.icptIn == nil {
		return in.runQueryDirect(name, args)
	}
	res, err := in.icptIn.HandleQuery(context.WithoutCancel(in.rootCtx), &HandleQueryInput{QueryType: name, Args: args})
	if err != nil {
		return nil, err
	}
	if raw, ok := res.(json.RawMessage); ok {
		return raw, nil
	}
	return encodeValue(res)
}

// runQueryDirect calls the query's handler.
func (in *instance) runQueryDirect(name string, args []any) (json.RawMessage, error) {
	h := in.queries[name]
	if h == nil {
		known := make([]string, 0, len(in.queries))
		for k := range in.queries {
			known = append(known, k)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("durable: run %s has no query handler %q (known: %s)", in.runID, name, strings.Join(known, ", "))
	}
	return callHandler(context.WithoutCancel(in.rootCtx), h.def, args)
}
