package durable

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// EncodedValues are the arguments of a call to a dynamic workflow or
// activity, as they were sent: the function decodes them itself, since no
// parameter list says their types. It is Temporal's
// converter.EncodedValues.
type EncodedValues struct{ raw json.RawMessage }

var encodedValuesType = reflect.TypeFor[EncodedValues]()

// HasValues reports whether there are any arguments.
func (v EncodedValues) HasValues() bool {
	var elems []json.RawMessage
	return json.Unmarshal(v.raw, &elems) == nil && len(elems) > 0
}

// Get decodes the arguments into valuePtrs, one pointer per argument in
// order; fewer pointers than arguments leave the rest undecoded, as in
// Temporal.
func (v EncodedValues) Get(valuePtrs ...any) error {
	var elems []json.RawMessage
	if len(v.raw) > 0 {
		if err := json.Unmarshal(v.raw, &elems); err != nil {
			return fmt.Errorf("durable: decode arguments: %w", err)
		}
	}
	if len(valuePtrs) > len(elems) {
		return fmt.Errorf("durable: decode arguments: %d sent, %d requested", len(elems), len(valuePtrs))
	}
	for i, p := range valuePtrs {
		if err := decodeInto(fmt.Sprintf("argument %d", i+1), elems[i], p); err != nil {
			return err
		}
	}
	return nil
}

// RegisterDynamicWorkflow registers fn as the workflow that runs when a run
// names a workflow no RegisterWorkflow registered. fn is a
// func(ctx context.Context, args EncodedValues) (R, error) (or error): it
// reads the name it runs as from GetInfo(ctx).Workflow and decodes its
// arguments with args.Get. One dynamic workflow per engine; it panics,
// naming the problem, on a second one or a wrong shape. It is Temporal's
// worker.RegisterDynamicWorkflow.
func (e *Engine) RegisterDynamicWorkflow(fn any) {
	if err := e.reg.registerDynamic("workflow", fn, &e.reg.dynamicWorkflow); err != nil {
		panic(err)
	}
	e.startWorking()
}

// RegisterDynamicActivity registers fn as the activity that runs when a
// call names an activity no RegisterActivity registered: a
// func(ctx context.Context, args EncodedValues) (R, error) (or error),
// which reads the name it runs as from GetActivityInfo(ctx).Activity. It is
// Temporal's worker.RegisterDynamicActivity.
func (e *Engine) RegisterDynamicActivity(fn any) {
	if err := e.reg.registerDynamic("activity", fn, &e.reg.dynamicActivity); err != nil {
		panic(err)
	}
	e.startWorking()
}

// registerDynamic checks fn's shape and keeps it in *slot.
func (r *registry) registerDynamic(kind string, fn any, slot **funcDef) error {
	v := reflect.ValueOf(fn)
	if fn == nil || v.Kind() != reflect.Func {
		return fmt.Errorf("durable: RegisterDynamic: want a function, got %T", fn)
	}
	name := funcName(v)
	d, err := newFuncDef(kind, name, v, true)
	if err != nil {
		return err
	}
	if ps := d.params(); len(ps) != 1 || ps[0] != encodedValuesType {
		return fmt.Errorf("durable: register dynamic %s %s: want func(context.Context, durable.EncodedValues) (R, error), got %s", kind, name, v.Type())
	}
	d.dynamic = true
	d.origin = fmt.Sprintf("func %#x", v.Pointer())
	r.mu.Lock()
	defer r.mu.Unlock()
	if *slot != nil {
		if (*slot).sameOrigin(d) {
			return nil
		}
		return fmt.Errorf("durable: register dynamic %s: %s is registered already, and an engine has one", kind, (*slot).name)
	}
	*slot = d
	return nil
}

// dynamicAs is the dynamic function d running as name.
func dynamicAs(d *funcDef, name string) *funcDef {
	if d == nil {
		return nil
	}
	c := *d
	c.name = name
	return &c
}
