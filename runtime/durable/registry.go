package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
)

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// RegisterOption configures RegisterWorkflow and RegisterActivity.
type RegisterOption interface{ applyRegister(*registerConfig) }

type registerConfig struct{ name string }

type registerOptionFunc func(*registerConfig)

func (f registerOptionFunc) applyRegister(c *registerConfig) { f(c) }

// WithName registers a workflow or activity function under name instead of
// the function's own name. For a struct of activities, name is a prefix put
// before each method's name, as Temporal's RegisterActivityOptions.Name is.
func WithName(name string) RegisterOption {
	return registerOptionFunc(func(c *registerConfig) { c.name = name })
}

// funcDef is a registered workflow or activity function.
type funcDef struct {
	name      string
	fn        reflect.Value
	typ       reflect.Type
	hasCtx    bool         // first parameter is a context.Context
	result    reflect.Type // nil when the function returns only an error
	paramBase int          // index of the first non-context parameter
	// resultOnly marks handlers that return a value and no error.
	resultOnly bool
	// dynamic marks a dynamic workflow or activity (dynamic.go): its one
	// parameter, EncodedValues, takes the arguments as they were sent.
	dynamic bool
	// origin identifies the registered function (or receiver and method),
	// so that registering it again under the same name is no error: a
	// converted program with several workers registers on one engine.
	origin string
}

// sameOrigin reports whether d and o were registered from the same code.
func (d *funcDef) sameOrigin(o *funcDef) bool { return d.origin != "" && d.origin == o.origin }

func (d *funcDef) params() []reflect.Type {
	ps := make([]reflect.Type, 0, d.typ.NumIn()-d.paramBase)
	for i := d.paramBase; i < d.typ.NumIn(); i++ {
		ps = append(ps, d.typ.In(i))
	}
	return ps
}

// signature renders the function's parameters for error messages.
func (d *funcDef) signature() string {
	var b strings.Builder
	b.WriteString(d.name)
	b.WriteByte('(')
	for i, p := range d.params() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteByte(')')
	return b.String()
}

// registry holds an engine's workflows and activities by name.
type registry struct {
	mu         sync.RWMutex
	workflows  map[string]*funcDef
	activities map[string]*funcDef
	// aliases map a function's own name to the name it was registered
	// under (WithName), so that passing the function value finds it, as
	// Temporal's registry does.
	workflowAliases map[string]string
	activityAliases map[string]string
	// dynamicWorkflow and dynamicActivity run the names nothing else
	// registered (dynamic.go).
	dynamicWorkflow, dynamicActivity *funcDef
}

func newRegistry() *registry {
	return &registry{
		workflows: map[string]*funcDef{}, activities: map[string]*funcDef{},
		workflowAliases: map[string]string{}, activityAliases: map[string]string{},
	}
}

// workflowName resolves a workflow function value or name.
func (r *registry) workflowName(fn any) (string, error) {
	name, err := nameOf("workflow", fn)
	if err != nil {
		return "", err
	}
	if _, isName := fn.(string); !isName {
		r.mu.RLock()
		if alias, ok := r.workflowAliases[name]; ok {
			name = alias
		}
		r.mu.RUnlock()
	}
	return name, nil
}

// workflowCall resolves the workflow a call names and checks and encodes
// its arguments. def is nil only for a name this engine does not know (a
// workflow registered on other workers), whose arguments cannot be checked.
func (r *registry) workflowCall(call string, workflow any, args []any) (name string, def *funcDef, raw json.RawMessage, err error) {
	if name, err = r.workflowName(workflow); err != nil {
		return "", nil, nil, fmt.Errorf("%s: %w", call, err)
	}
	if def = r.workflow(name); def == nil {
		if v := reflect.ValueOf(workflow); v.Kind() == reflect.Func {
			if def, err = newFuncDef("workflow", name, v, true); err != nil {
				return "", nil, nil, fmt.Errorf("%s: %w", call, err)
			}
		}
	}
	if def != nil {
		if err := checkArgs(call+" "+name, def, args); err != nil {
			return "", nil, nil, err
		}
	}
	if raw, err = encodeArgs(args); err != nil {
		return "", nil, nil, fmt.Errorf("%s %s: %w", call, name, err)
	}
	return name, def, raw, nil
}

// activityName resolves an activity function value, method value or name.
func (r *registry) activityName(fn any) (string, error) {
	name, err := nameOf("activity", fn)
	if err != nil {
		return "", err
	}
	if _, isName := fn.(string); !isName {
		r.mu.RLock()
		if alias, ok := r.activityAliases[name]; ok {
			name = alias
		}
		r.mu.RUnlock()
	}
	return name, nil
}

// funcName returns the name Temporal gives a function value: the last
// element of its qualified name, without the "-fm" of method values.
func funcName(fn reflect.Value) string {
	full := runtime.FuncForPC(fn.Pointer()).Name()
	full = strings.TrimSuffix(full, "-fm")
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		full = full[i+1:]
	}
	return full
}

// newFuncDef checks that fn has the shape of a workflow or activity:
// func([ctx context.Context,] args...) ([R,] error).
func newFuncDef(kind, name string, fn reflect.Value, requireCtx bool) (*funcDef, error) {
	t := fn.Type()
	d := &funcDef{name: name, fn: fn, typ: t}
	if t.IsVariadic() {
		return nil, fmt.Errorf("durable: register %s %s: variadic functions are not supported", kind, name)
	}
	if t.NumIn() > 0 && t.In(0) == contextType {
		d.hasCtx = true
		d.paramBase = 1
	} else if requireCtx {
		return nil, fmt.Errorf("durable: register %s %s: first parameter must be context.Context, got %s", kind, name, t)
	}
	switch t.NumOut() {
	case 1:
		if t.Out(0) != errorType {
			return nil, fmt.Errorf("durable: register %s %s: must return error or (R, error), got %s", kind, name, t)
		}
	case 2:
		if t.Out(1) != errorType {
			return nil, fmt.Errorf("durable: register %s %s: last result must be error, got %s", kind, name, t)
		}
		d.result = t.Out(0)
	default:
		return nil, fmt.Errorf("durable: register %s %s: must return error or (R, error), got %s", kind, name, t)
	}
	return d, nil
}

func (r *registry) registerWorkflow(fn any, opts []RegisterOption) error {
	v := reflect.ValueOf(fn)
	if fn == nil || v.Kind() != reflect.Func {
		return fmt.Errorf("durable: RegisterWorkflow: want a function, got %T", fn)
	}
	cfg := registerConfig{}
	for _, o := range opts {
		o.applyRegister(&cfg)
	}
	name := cfg.name
	if name == "" {
		name = funcName(v)
	}
	d, err := newFuncDef("workflow", name, v, true)
	if err != nil {
		return err
	}
	d.origin = fmt.Sprintf("func %#x", v.Pointer())
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.workflows[name]; ok {
		if old.sameOrigin(d) {
			return nil
		}
		return fmt.Errorf("durable: RegisterWorkflow: workflow %q is already registered", name)
	}
	r.workflows[name] = d
	if own := funcName(v); own != name {
		r.workflowAliases[own] = name
	}
	return nil
}

func (r *registry) registerActivity(fnOrStruct any, opts []RegisterOption) error {
	cfg := registerConfig{}
	for _, o := range opts {
		o.applyRegister(&cfg)
	}
	v := reflect.ValueOf(fnOrStruct)
	var defs []*funcDef
	switch {
	case fnOrStruct == nil:
		return fmt.Errorf("durable: RegisterActivity: want a function or a pointer to a struct, got nil")
	case v.Kind() == reflect.Func:
		name := cfg.name
		if name == "" {
			name = funcName(v)
		}
		d, err := newFuncDef("activity", name, v, false)
		if err != nil {
			return err
		}
		d.origin = fmt.Sprintf("func %#x", v.Pointer())
		defs = append(defs, d)
	case v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct || v.Kind() == reflect.Struct:
		t := v.Type()
		for i := range t.NumMethod() {
			m := t.Method(i)
			if !m.IsExported() {
				continue
			}
			d, err := newFuncDef("activity", cfg.name+m.Name, v.Method(i), false)
			if err != nil {
				return fmt.Errorf("%w (method %s of %s)", err, m.Name, t)
			}
			if v.Kind() == reflect.Pointer {
				d.origin = fmt.Sprintf("method %#x %s.%s", v.Pointer(), t, m.Name)
			}
			defs = append(defs, d)
		}
		if len(defs) == 0 {
			return fmt.Errorf("durable: RegisterActivity: %s has no exported methods", t)
		}
	default:
		return fmt.Errorf("durable: RegisterActivity: want a function or a pointer to a struct, got %T", fnOrStruct)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fresh := defs[:0:0]
	for _, d := range defs {
		if old, ok := r.activities[d.name]; ok {
			if old.sameOrigin(d) {
				continue
			}
			return fmt.Errorf("durable: RegisterActivity: activity %q is already registered", d.name)
		}
		fresh = append(fresh, d)
	}
	for _, d := range fresh {
		r.activities[d.name] = d
		if v.Kind() == reflect.Func && cfg.name != "" {
			r.activityAliases[funcName(v)] = d.name
		}
	}
	return nil
}

// workflow returns the workflow registered as name, else the dynamic
// workflow (running as name), else nil.
func (r *registry) workflow(name string) *funcDef {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if d := r.workflows[name]; d != nil {
		return d
	}
	return dynamicAs(r.dynamicWorkflow, name)
}

// activity returns the activity registered as name, else the dynamic
// activity (running as name), else nil.
func (r *registry) activity(name string) *funcDef {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if d := r.activities[name]; d != nil {
		return d
	}
	return dynamicAs(r.dynamicActivity, name)
}

// nameOf resolves what callers pass for a workflow or activity: a
// registered name, a function value, or a method value (a method of a nil
// struct pointer resolves by its name, as in Temporal).
func nameOf(what string, fn any) (string, error) {
	switch f := fn.(type) {
	case string:
		if f == "" {
			return "", fmt.Errorf("durable: empty %s name", what)
		}
		return f, nil
	case nil:
		return "", fmt.Errorf("durable: %s is nil", what)
	}
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func {
		return "", fmt.Errorf("durable: %s must be a function or a registered name, got %T", what, fn)
	}
	if v.IsNil() {
		return "", fmt.Errorf("durable: %s is a nil function", what)
	}
	return funcName(v), nil
}
