package durabletest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/durablego/toolkit/runtime/durable"
)

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// activityDef is an activity registered through the Env. The engine gets a
// stand-in of the same parameters (plus a leading context) that calls the
// mock when the activity has OnActivity expectations, and the function
// otherwise.
type activityDef struct {
	name   string
	fn     reflect.Value
	typ    reflect.Type
	hasCtx bool
	auto   bool // registered by OnActivity, not by RegisterActivity
}

// RegisterActivity registers an activity function, or every exported method
// of a struct (pointer), as durable.Engine.RegisterActivity does, so that
// OnActivity can mock it. durable.WithName names a function, or prefixes a
// struct's methods, as with the engine.
func (e *Env) RegisterActivity(fnOrStructPtr any, opts ...durable.RegisterOption) {
	e.tb.Helper()
	if err := e.registerActivity(fnOrStructPtr, opts); err != nil {
		e.tb.Fatalf("durabletest: %v", err)
	}
}

func (e *Env) registerActivity(a any, opts []durable.RegisterOption) error {
	name, err := optionName(opts)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(a)
	switch {
	case a == nil:
		return fmt.Errorf("RegisterActivity: want a function or a pointer to a struct, got nil")
	case v.Kind() == reflect.Func:
		own := funcName(v)
		if name == "" {
			name = own
		}
		if err := e.addActivity(name, v, opts); err != nil {
			return err
		}
		if own != name {
			e.mu.Lock()
			e.aliases[own] = name
			_, taken := e.activities[own]
			e.mu.Unlock()
			if !taken {
				// The engine resolves a function value to the name it was
				// registered under only when that function itself was
				// registered; register the stand-in under the function's own
				// name too, so that durable.Call(ctx, fn) finds it.
				_ = e.registerStandIn(own, e.activity(name), nil)
			}
		}
		return nil
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct || v.Kind() == reflect.Struct:
		// A nil struct pointer registers its methods too, as in Temporal.
		t := v.Type()
		n := 0
		for i := range t.NumMethod() {
			m := t.Method(i)
			if !m.IsExported() {
				continue
			}
			if err := e.addActivity(name+m.Name, v.Method(i), nil); err != nil {
				return fmt.Errorf("%w (method %s of %s)", err, m.Name, t)
			}
			n++
		}
		if n == 0 {
			return fmt.Errorf("RegisterActivity: %s has no exported methods", t)
		}
		return nil
	default:
		return fmt.Errorf("RegisterActivity: want a function or a pointer to a struct, got %T", a)
	}
}

func (e *Env) activity(name string) *activityDef {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.activities[name]
}

// addActivity checks fn's shape and registers its stand-in under name.
func (e *Env) addActivity(name string, fn reflect.Value, opts []durable.RegisterOption) error {
	t := fn.Type()
	d := &activityDef{name: name, fn: fn, typ: t, hasCtx: t.NumIn() > 0 && t.In(0) == contextType}
	if t.IsVariadic() {
		return fmt.Errorf("RegisterActivity %s: variadic functions are not supported", name)
	}
	switch {
	case t.NumOut() == 1 && t.Out(0) == errorType:
	case t.NumOut() == 2 && t.Out(1) == errorType:
	default:
		return fmt.Errorf("RegisterActivity %s: must return error or (R, error), got %s", name, t)
	}
	e.mu.Lock()
	if old, ok := e.activities[name]; ok {
		e.mu.Unlock()
		if old.typ == t && (old.auto || old.fn.Pointer() == fn.Pointer()) {
			// Registered already, by OnActivity say: Temporal lets a test
			// register an activity after mocking it. The registered
			// function is the one that runs unmocked.
			e.mu.Lock()
			old.fn, old.auto = fn, false
			e.mu.Unlock()
			return nil
		}
		return fmt.Errorf("RegisterActivity: activity %q is already registered", name)
	}
	e.activities[name] = d
	e.mu.Unlock()
	return e.registerStandIn(name, d, opts)
}

// registerStandIn registers with the engine, under name, a function with
// d's parameters (and a leading context) that dispatches to d.
func (e *Env) registerStandIn(name string, d *activityDef, opts []durable.RegisterOption) error {
	in := []reflect.Type{contextType}
	for i := range d.typ.NumIn() {
		if i == 0 && d.hasCtx {
			continue
		}
		in = append(in, d.typ.In(i))
	}
	out := make([]reflect.Type, d.typ.NumOut())
	for i := range out {
		out[i] = d.typ.Out(i)
	}
	standIn := reflect.MakeFunc(reflect.FuncOf(in, out, false), func(args []reflect.Value) []reflect.Value {
		return e.dispatch(d, args)
	})
	all := append(append([]durable.RegisterOption(nil), opts...), durable.WithName(name))
	return catch(func() { e.eng.RegisterActivity(standIn.Interface(), all...) })
}

// dispatch runs one invocation of an activity: its mock when OnActivity
// set one up, else the function itself. args[0] is the attempt's context.
func (e *Env) dispatch(d *activityDef, args []reflect.Value) []reflect.Value {
	e.activeActs.Add(1)
	defer e.activeActs.Add(-1)
	ctx, _ := args[0].Interface().(context.Context)
	// Activities started during a burst of delayed callbacks start once
	// the burst is over (runBurst).
	e.awaitRelease(ctx)
	info := durable.GetActivityInfo(ctx)
	id := info.RunID + "/" + info.ActivityID
	e.mu.Lock()
	listener := e.listener
	mocked := e.mocked[d.name]
	background := e.background
	e.running[id] = info
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, id)
		e.mu.Unlock()
	}()
	if background != nil {
		var stop func()
		ctx, stop = withBackground(ctx, background)
		defer stop()
		args = append([]reflect.Value{reflect.ValueOf(&ctx).Elem()}, args[1:]...)
	}
	if listener != nil {
		listener(&info, ctx, Values(valuesOf(args[1:])))
	}
	if mocked {
		return e.pendingOutcome(e.callMock(d, ctx, args))
	}
	return e.pendingOutcome(d.call(args))
}

// withBackground returns the attempt's context with bg's values behind its
// own, cancelled when bg is (WorkerOptions.BackgroundActivityContext).
func withBackground(ctx, bg context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(backgroundValues{Context: ctx, bg: bg})
	stop := context.AfterFunc(bg, func() { cancel(context.Cause(bg)) })
	return ctx, func() { stop(); cancel(nil) }
}

// backgroundValues looks values up in the attempt's context, then in the
// background context.
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

// heartbeat passes heartbeat details the engine records for an attempt to
// the heartbeat listener.
func (e *Env) heartbeat(taskID string, details json.RawMessage) {
	e.mu.Lock()
	listener := e.heartbeats
	info, ok := e.running[taskID]
	e.mu.Unlock()
	if listener == nil || !ok {
		return
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(details, &elems); err != nil {
		e.tb.Errorf("durabletest: heartbeat details of %s: %v", info.Activity, err)
		return
	}
	vs := make(Values, len(elems))
	for i, el := range elems {
		vs[i] = encoded(el)
	}
	listener(&info, vs)
}

// SetOnActivityHeartbeatListener sets a function called with the details
// each time the engine records an activity's heartbeat. The engine records
// at most one heartbeat a second of test time, and the test clock stands
// still while activities run; Temporal's throttling is of the same kind
// (one heartbeat, then one per interval).
func (e *Env) SetOnActivityHeartbeatListener(listener func(info *durable.ActivityInfo, details Values)) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.heartbeats = listener
	return e
}

// call calls the activity function with args (the context first).
func (d *activityDef) call(args []reflect.Value) []reflect.Value {
	if d.hasCtx {
		return d.fn.Call(args)
	}
	return d.fn.Call(args[1:])
}

// failResults returns the results of a function of type typ for a
// failure.
func failResults(typ reflect.Type, err error) []reflect.Value {
	out := make([]reflect.Value, typ.NumOut())
	for i := range out {
		out[i] = reflect.Zero(typ.Out(i))
	}
	ev := reflect.New(errorType).Elem()
	ev.Set(reflect.ValueOf(err))
	out[len(out)-1] = ev
	return out
}

func valuesOf(args []reflect.Value) []any {
	vs := make([]any, len(args))
	for i, a := range args {
		vs[i] = a.Interface()
	}
	return vs
}

// mockContext is how an activity's context appears among a mock's
// arguments: a context.Context that prints briefly in testify's messages.
type mockContext struct{ context.Context }

func (mockContext) String() string   { return "context.Context" }
func (mockContext) GoString() string { return "context.Context" }

// callMock answers an invocation from the mock's expectations.
func (e *Env) callMock(d *activityDef, ctx context.Context, args []reflect.Value) []reflect.Value {
	margs := make([]any, 0, len(args))
	if d.hasCtx {
		margs = append(margs, mockContext{ctx})
	}
	margs = append(margs, valuesOf(args[1:])...)
	ret, err := e.mock.called("activity", d.name, margs, nil)
	if err != nil {
		return e.mockFailed(d.typ, err.Error())
	}
	out, msg := mockResults("activity", d.name, d.typ, ret, func(fv reflect.Value) []reflect.Value {
		if d.hasCtx {
			return fv.Call(args)
		}
		return fv.Call(args[1:])
	})
	if msg != "" {
		return e.mockFailed(d.typ, msg)
	}
	return out
}

// mockResults turns a mock's Return values into the results of a function
// of type typ: the values themselves, or what the one function returned
// calls. It reports what is wrong instead when they do not fit.
func mockResults(kind, name string, typ reflect.Type, ret []any, call func(fv reflect.Value) []reflect.Value) ([]reflect.Value, string) {
	if len(ret) == 1 {
		if fv := reflect.ValueOf(ret[0]); fv.Kind() == reflect.Func {
			if fv.Type() != typ {
				return nil, fmt.Sprintf("mock of %s %s returns a function of type %s, want %s", kind, name, fv.Type(), typ)
			}
			return call(fv), ""
		}
	}
	if len(ret) != typ.NumOut() {
		return nil, fmt.Sprintf("mock of %s %s has %d return values, want %d (%s) or a function of type %s",
			kind, name, len(ret), typ.NumOut(), outTypes(typ), typ)
	}
	out := make([]reflect.Value, len(ret))
	for i, r := range ret {
		t := typ.Out(i)
		v := reflect.New(t).Elem()
		if r != nil {
			rv := reflect.ValueOf(r)
			if !rv.Type().AssignableTo(t) {
				return nil, fmt.Sprintf("mock of %s %s: return value %d has type %T, want %s", kind, name, i+1, r, t)
			}
			v.Set(rv)
		} else if !nilable(t) {
			return nil, fmt.Sprintf("mock of %s %s: return value %d is nil, want %s", kind, name, i+1, t)
		}
		out[i] = v
	}
	return out, ""
}

// mockFailed fails the test and the invocation, which is not retried.
func (e *Env) mockFailed(typ reflect.Type, msg string) []reflect.Value {
	e.tb.Errorf("durabletest: %s", msg)
	return failResults(typ, durable.NewNonRetryableApplicationError(msg, "DurabletestMockError", nil))
}

func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return true
	}
	return false
}

func outTypes(t reflect.Type) string {
	s := make([]string, t.NumOut())
	for i := range s {
		s[i] = t.Out(i).String()
	}
	return strings.Join(s, ", ")
}

func formatArgs(args []any) string {
	s := make([]string, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case string:
			if a == Anything {
				s[i] = "durabletest.Anything"
				continue
			}
		case anythingOfType:
			s[i] = fmt.Sprintf("durabletest.AnythingOfType(%q)", string(a))
			continue
		case argMatcher:
			s[i] = "durabletest." + a.String()
			continue
		}
		s[i] = fmt.Sprintf("%#v", a)
	}
	return strings.Join(s, ", ")
}

// Values are an activity's arguments as SetOnActivityStartedListener sees
// them, or heartbeat details as SetOnActivityHeartbeatListener does
// (Temporal's converter.EncodedValues): Get decodes them.
type Values []any

// encoded is a value as the journal holds it (JSON), decoded by Get.
type encoded json.RawMessage

// HasValues reports whether there are any.
func (v Values) HasValues() bool { return len(v) > 0 }

// Get assigns the values, in order, to the pointers given.
func (v Values) Get(ptrs ...any) error {
	if len(ptrs) > len(v) {
		return fmt.Errorf("durabletest: %d values, %d pointers", len(v), len(ptrs))
	}
	for i, p := range ptrs {
		pv := reflect.ValueOf(p)
		if pv.Kind() != reflect.Pointer || pv.IsNil() {
			return fmt.Errorf("durabletest: argument %d: want a non-nil pointer, got %T", i+1, p)
		}
		if raw, ok := v[i].(encoded); ok {
			if err := json.Unmarshal(raw, p); err != nil {
				return fmt.Errorf("durabletest: value %d: decode %s into %T: %w", i+1, raw, p, err)
			}
			continue
		}
		if v[i] == nil {
			pv.Elem().SetZero()
			continue
		}
		av := reflect.ValueOf(v[i])
		if av.Type().AssignableTo(pv.Elem().Type()) {
			pv.Elem().Set(av)
			continue
		}
		// Another type of the same encoding, as Temporal's decoding allows.
		raw, err := json.Marshal(v[i])
		if err == nil {
			err = json.Unmarshal(raw, p)
		}
		if err != nil {
			return fmt.Errorf("durabletest: value %d has type %s, not %s: %w", i+1, av.Type(), pv.Elem().Type(), err)
		}
	}
	return nil
}

// SetOnActivityStartedListener sets a function called as each activity
// invocation (mocked or not) starts, with its info, context and arguments.
func (e *Env) SetOnActivityStartedListener(listener func(info *durable.ActivityInfo, ctx context.Context, args Values)) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.listener = listener
	return e
}

// funcName is the name Temporal and the engine give a function value: the
// last element of its qualified name, without the "-fm" of method values.
func funcName(fn reflect.Value) string {
	full := runtime.FuncForPC(fn.Pointer()).Name()
	full = strings.TrimSuffix(full, "-fm")
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		full = full[i+1:]
	}
	return full
}

// optionName reads the name durable.WithName put in options. The runtime
// keeps it unexported, so this calls each option on a blank configuration
// of its own parameter type and reads back the field "name".
func optionName(opts []durable.RegisterOption) (name string, err error) {
	for _, o := range opts {
		v := reflect.ValueOf(o)
		if v.Kind() != reflect.Func || v.Type().NumIn() != 1 || v.Type().In(0).Kind() != reflect.Pointer {
			return "", fmt.Errorf("cannot read durable.RegisterOption %T (durabletest needs an update for this runtime)", o)
		}
		cfg := reflect.New(v.Type().In(0).Elem())
		if err := catch(func() { v.Call([]reflect.Value{cfg}) }); err != nil {
			return "", fmt.Errorf("cannot read durable.RegisterOption %T: %v", o, err)
		}
		f := cfg.Elem().FieldByName("name")
		if !f.IsValid() || f.Kind() != reflect.String {
			return "", fmt.Errorf("cannot read durable.RegisterOption %T (durabletest needs an update for this runtime)", o)
		}
		if f.String() != "" {
			name = f.String()
		}
	}
	return name, nil
}
