package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"time"
)

// WorkerInterceptor wraps the code a worker runs, as Temporal's
// interceptor.WorkerInterceptor does: for every workflow run and every
// activity attempt, the engine asks each interceptor (the first given to
// WithInterceptors outermost) for an inbound interceptor around the next
// one, and the innermost calls the code. The package
// runtime/durable/interceptor has the same types and the Base types to
// embed, which pass everything on.
//
// Workflow interceptors run inside the run, on every replay as they did
// live: what they do must be deterministic, as workflow code must. The
// calls they make (an activity, a timer, a child) are journaled like the
// workflow's own, so a replay sees the same outcomes.
type WorkerInterceptor interface {
	// InterceptActivity returns the inbound interceptor of one activity
	// attempt, wrapping next; returning next adds nothing.
	InterceptActivity(ctx context.Context, next ActivityInboundInterceptor) ActivityInboundInterceptor
	// InterceptWorkflow returns the inbound interceptor of one workflow
	// run, wrapping next; returning next adds nothing. ctx is the run's
	// root context.
	InterceptWorkflow(ctx context.Context, next WorkflowInboundInterceptor) WorkflowInboundInterceptor
}

// ActivityInboundInterceptor is called by the engine around an activity
// attempt.
type ActivityInboundInterceptor interface {
	// Init is called first with the outbound interceptor the activity's
	// calls go through (GetLogger, GetInfo, RecordHeartbeat, ...); an
	// interceptor that wraps them passes its own on to the next Init. An
	// error fails the attempt.
	Init(outbound ActivityOutboundInterceptor) error
	// ExecuteActivity runs the activity with the decoded arguments and
	// returns its result.
	ExecuteActivity(ctx context.Context, in *ExecuteActivityInput) (any, error)
}

// ExecuteActivityInput is the input of ActivityInboundInterceptor.ExecuteActivity.
type ExecuteActivityInput struct {
	// Args are the activity's arguments (without its context), decoded
	// into the types its function takes.
	Args []any
}

// ActivityOutboundInterceptor is what activity code calls through
// (Logger, GetActivityInfo, RecordHeartbeat, HasHeartbeatDetails and
// HeartbeatDetails, in an activity).
type ActivityOutboundInterceptor interface {
	GetLogger(ctx context.Context) *slog.Logger
	GetInfo(ctx context.Context) ActivityInfo
	RecordHeartbeat(ctx context.Context, details ...any)
	HasHeartbeatDetails(ctx context.Context) bool
	GetHeartbeatDetails(ctx context.Context, d ...any) error
}

// WorkflowInboundInterceptor is called by the engine around a workflow
// run: its start, the signals it receives and the queries it answers.
type WorkflowInboundInterceptor interface {
	// Init is called first, on every replay too, with the outbound
	// interceptor the workflow's calls go through; an interceptor that
	// wraps them passes its own on to the next Init. An error fails the
	// run.
	Init(outbound WorkflowOutboundInterceptor) error
	// ExecuteWorkflow runs the workflow function with the decoded
	// arguments and returns its result.
	ExecuteWorkflow(ctx context.Context, in *ExecuteWorkflowInput) (any, error)
	// HandleSignal is called, in a coroutine of the run, for each signal
	// the run receives; the innermost puts it in the signal's channel
	// (durable.Receive). Not passing it on drops the signal.
	HandleSignal(ctx context.Context, in *HandleSignalInput) error
	// HandleQuery answers a query; the innermost calls the handler set
	// with SetQueryHandler. It must not block or change the run's state.
	HandleQuery(ctx context.Context, in *HandleQueryInput) (any, error)
	// ValidateUpdate runs before an update is accepted; the innermost
	// calls the validator of SetUpdateHandler. An error rejects the
	// update, which leaves no trace. It must not block or change the
	// run's state.
	ValidateUpdate(ctx context.Context, in *UpdateInput) error
	// ExecuteUpdate runs an accepted update, in a coroutine of the run;
	// the innermost calls the update's handler.
	ExecuteUpdate(ctx context.Context, in *UpdateInput) (any, error)
}

// UpdateInput is the input of WorkflowInboundInterceptor.ValidateUpdate
// and ExecuteUpdate.
type UpdateInput struct {
	Name string
	// Args are the update's arguments, decoded into the types its
	// handler takes.
	Args []any
}

// ExecuteWorkflowInput is the input of WorkflowInboundInterceptor.ExecuteWorkflow.
type ExecuteWorkflowInput struct {
	// Args are the workflow's arguments (without its context), decoded
	// into the types its function takes.
	Args []any
}

// HandleSignalInput is the input of WorkflowInboundInterceptor.HandleSignal.
type HandleSignalInput struct {
	SignalName string
	// Arg is the signal's value as JSON (Temporal's holds the payloads).
	Arg json.RawMessage
}

// HandleQueryInput is the input of WorkflowInboundInterceptor.HandleQuery.
type HandleQueryInput struct {
	QueryType string
	Args      []any
}

// WorkflowOutboundInterceptor is what workflow code calls through:
// activity calls (Call, Exec, Async and their local forms), children
// (Child, ChildAsync), timers (Sleep, NewTimer, Now), external signals and
// cancellations, GetInfo and Logger. The typed calls check their arguments
// and result type first, then hand the call on by name; the future an
// interceptor returns is read into the caller's type.
type WorkflowOutboundInterceptor interface {
	ExecuteActivity(ctx context.Context, activityType string, args ...any) EncodedFuture
	ExecuteLocalActivity(ctx context.Context, activityType string, args ...any) EncodedFuture
	ExecuteChildWorkflow(ctx context.Context, childWorkflowType string, args ...any) ChildWorkflowFuture
	GetInfo(ctx context.Context) *Info
	GetLogger(ctx context.Context) *slog.Logger
	Now(ctx context.Context) time.Time
	NewTimer(ctx context.Context, d time.Duration) EncodedFuture
	Sleep(ctx context.Context, d time.Duration) error
	// SignalExternalWorkflow signals another workflow's open run; runID
	// is ignored (a workflow ID has one open run).
	SignalExternalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) EncodedFuture
	// RequestCancelExternalWorkflow cancels another workflow's open run;
	// runID is ignored.
	RequestCancelExternalWorkflow(ctx context.Context, workflowID, runID string) EncodedFuture
}

// EncodedFuture is a future read into a pointer, with Temporal's
// workflow.Future shape: what interceptors pass around, and what
// converted code that keeps Temporal's futures uses (package shaped).
// Code may implement it (a future of its own that waits for others).
type EncodedFuture interface {
	// Get waits for the result and decodes it into valuePtr (nil to
	// discard it); it returns the call's error.
	Get(ctx context.Context, valuePtr any) error
	// IsReady reports whether Get would return without waiting.
	IsReady() bool
}

// ChildWorkflowFuture is the future of a child workflow, with Temporal's
// workflow.ChildWorkflowFuture shape.
type ChildWorkflowFuture interface {
	EncodedFuture
	// GetChildWorkflowExecution returns a future of the child's Execution.
	GetChildWorkflowExecution() EncodedFuture
	// SignalChildWorkflow sends a signal to the child.
	SignalChildWorkflow(ctx context.Context, signalName string, data any) EncodedFuture
}

// WithInterceptors installs worker interceptors: every workflow run and
// activity attempt this engine works goes through them, the first given
// outermost. Every engine that works the runs needs the same ones, since a
// replay must make the calls the run made.
func WithInterceptors(is ...WorkerInterceptor) Option {
	return optionFunc(func(c *config) { c.interceptors = append(c.interceptors, is...) })
}

// encodedFuture is the engine's EncodedFuture: a promise read into a
// pointer. It is a Waiter, so selectors wait on it directly.
type encodedFuture struct {
	p            *promise
	what         string
	holdOnCancel bool
}

func (f *encodedFuture) waitQueue() *waitQueue { return &f.p.q }
func (f *encodedFuture) isReady() bool         { return f.p.ready }
func (f *encodedFuture) promise() *promise     { return f.p }
func (f *encodedFuture) IsReady() bool         { return f.p.ready }

func (f *encodedFuture) Get(ctx context.Context, valuePtr any) error {
	in := instanceOf(ctx, "Future.Get")
	waitCtx := ctx
	if f.holdOnCancel {
		waitCtx = context.WithoutCancel(ctx)
	}
	if err := in.await(waitCtx, f.isReady, &f.p.q); err != nil {
		return err
	}
	if f.p.err != nil {
		return f.p.err
	}
	if f.p.value != nil {
		return assignValue(f.what, f.p.value, valuePtr)
	}
	if valuePtr == nil || len(f.p.raw) == 0 {
		return nil
	}
	return decodeInto(f.what, f.p.raw, valuePtr)
}

// Encoded returns f as an EncodedFuture, for an interceptor that returns
// a future of its own making (NewFuture) or a typed call's: Get decodes
// f's value into the pointer it is given.
func Encoded[R any](f Future[R]) EncodedFuture { return encodedOf(f) }

// encodedOf returns the engine future behind a typed one.
func encodedOf[R any](f Future[R]) *encodedFuture {
	tf := f.(*future[R])
	return &encodedFuture{p: tf.p, what: tf.what, holdOnCancel: tf.holdOnCancel}
}

// readyFuture is an EncodedFuture already complete with value and err.
func readyFuture(in *instance, what string, value any, err error) *encodedFuture {
	p := newPromise(in)
	p.ready, p.value, p.err = true, value, err
	return &encodedFuture{p: p, what: what}
}

// assignValue stores v in valuePtr: directly when the types allow it,
// through JSON otherwise (a value one coroutine hands another).
func assignValue(what string, v any, valuePtr any) error {
	if valuePtr == nil {
		return nil
	}
	pv := reflect.ValueOf(valuePtr)
	if pv.Kind() != reflect.Pointer || pv.IsNil() {
		return fmt.Errorf("durable: decode %s: want a non-nil pointer, got %T", what, valuePtr)
	}
	if rv := reflect.ValueOf(v); rv.Type().AssignableTo(pv.Elem().Type()) {
		pv.Elem().Set(rv)
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("durable: decode %s: encode %T: %w", what, v, err)
	}
	return decodeInto(what, raw, valuePtr)
}

// typedFuture reads an interceptor's future into R: the engine's own
// future shares its promise; any other is waited for by a coroutine of
// the run, which replays alike.
func typedFuture[R any](ctx context.Context, in *instance, f EncodedFuture, what string) Future[R] {
	if f == nil {
		return failedFuture[R](in, fmt.Errorf("durable: %s: an interceptor returned no future", what))
	}
	if ef, ok := f.(*encodedFuture); ok {
		return &future[R]{p: ef.p, what: ef.what, holdOnCancel: ef.holdOnCancel}
	}
	if cf, ok := f.(*childFuture); ok {
		return &future[R]{p: cf.p, what: cf.what}
	}
	p := newPromise(in)
	in.sched.spawn("intercepted "+what, func() {
		var v R
		err := f.Get(context.WithoutCancel(ctx), &v)
		p.value = v
		in.resolve(p, nil, err)
	})
	return &future[R]{p: p, what: what}
}

// childFuture is the engine's ChildWorkflowFuture.
type childFuture struct {
	encodedFuture
	in *instance
}

func (c *childFuture) GetChildWorkflowExecution() EncodedFuture {
	id, runID := ChildExecution(&c.encodedFuture)
	return readyFuture(c.in, "child execution", Execution{ID: id, RunID: runID}, nil)
}

func (c *childFuture) SignalChildWorkflow(ctx context.Context, signalName string, data any) EncodedFuture {
	id, _ := ChildExecution(&c.encodedFuture)
	return readyFuture(c.in, "signal", nil, signalExternal(ctx, id, signalName, data))
}

// engineOutbound is the innermost WorkflowOutboundInterceptor: the
// engine's own calls.
type engineOutbound struct{ in *instance }

func (o engineOutbound) ExecuteActivity(ctx context.Context, activityType string, args ...any) EncodedFuture {
	return encodedOf(scheduleActivity[json.RawMessage](ctx, o.in, o.in.activityValue(activityType), args, false))
}

func (o engineOutbound) ExecuteLocalActivity(ctx context.Context, activityType string, args ...any) EncodedFuture {
	return encodedOf(scheduleActivity[json.RawMessage](ctx, o.in, o.in.activityValue(activityType), args, true))
}

// activityValue is the function the workflow named activityType by, when
// it called one (an unregistered local activity runs by its function), or
// the name.
func (in *instance) activityValue(activityType string) any {
	if fn, ok := in.icptFuncs[activityType]; ok {
		return fn
	}
	return activityType
}

func (o engineOutbound) ExecuteChildWorkflow(ctx context.Context, childWorkflowType string, args ...any) ChildWorkflowFuture {
	ef := encodedOf(childAsync[json.RawMessage](ctx, o.in, childWorkflowType, args))
	return &childFuture{encodedFuture: *ef, in: o.in}
}

func (o engineOutbound) GetInfo(ctx context.Context) *Info          { return o.in.getInfo() }
func (o engineOutbound) GetLogger(ctx context.Context) *slog.Logger { return o.in.log() }
func (o engineOutbound) Now(ctx context.Context) time.Time          { return o.in.m.Now() }
func (o engineOutbound) Sleep(ctx context.Context, d time.Duration) error {
	_, err := o.in.startTimer(ctx, d).Get(ctx)
	return err
}

func (o engineOutbound) NewTimer(ctx context.Context, d time.Duration) EncodedFuture {
	return encodedOf[struct{}](o.in.startTimer(ctx, d))
}

func (o engineOutbound) SignalExternalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) EncodedFuture {
	return readyFuture(o.in, "signal", nil, signalExternal(ctx, workflowID, signalName, arg))
}

func (o engineOutbound) RequestCancelExternalWorkflow(ctx context.Context, workflowID, runID string) EncodedFuture {
	return readyFuture(o.in, "cancel", nil, cancelExternal(ctx, workflowID))
}

// engineInbound is the innermost WorkflowInboundInterceptor: the
// workflow's own code.
type engineInbound struct{ in *instance }

func (e engineInbound) Init(outbound WorkflowOutboundInterceptor) error {
	e.in.icptOut = outbound
	return nil
}

func (e engineInbound) ExecuteWorkflow(ctx context.Context, input *ExecuteWorkflowInput) (any, error) {
	out := e.in.def.fn.Call(callValues(e.in.def.fn.Type(), ctx, input.Args))
	var err error
	if errV := out[len(out)-1].Interface(); errV != nil {
		err = errV.(error)
	}
	if e.in.def.result == nil {
		return nil, err
	}
	return out[0].Interface(), err
}

func (e engineInbound) HandleSignal(ctx context.Context, input *HandleSignalInput) error {
	e.in.deliverSignal(input.SignalName, input.Arg)
	return nil
}

func (e engineInbound) HandleQuery(ctx context.Context, input *HandleQueryInput) (any, error) {
	raw, err := e.in.runQueryDirect(input.QueryType, input.Args)
	if err != nil {
		return nil, err
	}
	return raw, nil
}

func (e engineInbound) ValidateUpdate(ctx context.Context, input *UpdateInput) error {
	return e.in.validateDirect(input.Name, input.Args)
}

func (e engineInbound) ExecuteUpdate(ctx context.Context, input *UpdateInput) (any, error) {
	u := e.in.updates[input.Name]
	if u == nil {
		return nil, fmt.Errorf("durable: run %s has no update handler %q", e.in.runID, input.Name)
	}
	out := u.handler.fn.Call(callValues(u.handler.fn.Type(), ctx, input.Args))
	var err error
	if errV := out[len(out)-1].Interface(); errV != nil {
		err = errV.(error)
	}
	if u.handler.result == nil {
		return nil, err
	}
	return out[0].Interface(), err
}

// callValues is the reflect call of function type ft with args, after
// ctx when it is non-nil; a nil argument becomes its parameter's zero
// value.
func callValues(ft reflect.Type, ctx context.Context, args []any) []reflect.Value {
	call := make([]reflect.Value, 0, len(args)+1)
	if ctx != nil {
		call = append(call, reflect.ValueOf(ctx))
	}
	for _, a := range args {
		pi := len(call)
		if a != nil {
			call = append(call, reflect.ValueOf(a))
			continue
		}
		switch {
		case ft.IsVariadic() && pi >= ft.NumIn()-1:
			call = append(call, reflect.Zero(ft.In(ft.NumIn()-1).Elem()))
		case pi < ft.NumIn():
			call = append(call, reflect.Zero(ft.In(pi)))
		default:
			call = append(call, reflect.ValueOf(a))
		}
	}
	return call
}

// intercept builds the run's interceptor chain and calls each Init; the
// innermost Init sets in.icptOut. It runs on every replay.
func (in *instance) intercept(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			in.icptIn, in.icptOut = nil, nil
			err = fmt.Errorf("workflow interceptor panicked: %v", r)
		}
	}()
	var next WorkflowInboundInterceptor = engineInbound{in: in}
	is := in.e.cfg.interceptors
	for i := len(is) - 1; i >= 0; i-- {
		next = is[i].InterceptWorkflow(ctx, next)
		if next == nil {
			return fmt.Errorf("interceptor %T: InterceptWorkflow returned nil", is[i])
		}
	}
	if _, own := next.(engineInbound); own {
		return nil // no interceptor wraps this run: its calls go straight on
	}
	if err := next.Init(engineOutbound{in: in}); err != nil {
		return fmt.Errorf("workflow interceptor: init: %w", err)
	}
	if in.icptOut == nil {
		return fmt.Errorf("workflow interceptor: an Init did not call its Next.Init")
	}
	in.icptIn = next
	return nil
}

// engineActivityInbound is the innermost ActivityInboundInterceptor: the
// activity's own function.
type engineActivityInbound struct {
	st  *activityState
	def *funcDef
}

func (a engineActivityInbound) Init(outbound ActivityOutboundInterceptor) error {
	a.st.outbound = outbound
	return nil
}

func (a engineActivityInbound) ExecuteActivity(ctx context.Context, input *ExecuteActivityInput) (any, error) {
	callCtx := ctx
	if !a.def.hasCtx {
		callCtx = nil
	}
	out, perr := callRecover(a.def.fn, callValues(a.def.fn.Type(), callCtx, input.Args))
	if perr != nil {
		return nil, perr
	}
	var err error
	if errV := out[len(out)-1].Interface(); errV != nil {
		err = errV.(error)
	}
	if a.def.result == nil {
		return nil, err
	}
	return out[0].Interface(), err
}

// engineActivityOutbound is the innermost ActivityOutboundInterceptor.
type engineActivityOutbound struct{ st *activityState }

func (o engineActivityOutbound) GetLogger(ctx context.Context) *slog.Logger { return o.st.logger() }
func (o engineActivityOutbound) GetInfo(ctx context.Context) ActivityInfo   { return o.st.info }
func (o engineActivityOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	o.st.recordHeartbeat(details)
}
func (o engineActivityOutbound) HasHeartbeatDetails(ctx context.Context) bool {
	return len(o.st.previous) > 0
}
func (o engineActivityOutbound) GetHeartbeatDetails(ctx context.Context, d ...any) error {
	return o.st.heartbeatDetails(d)
}

// interceptActivity runs one attempt through the interceptors; handled
// is false when none wraps it. A panic in one fails the attempt, as a
// panic in the activity does.
func (e *Engine) interceptActivity(ctx context.Context, st *activityState, def *funcDef, args []reflect.Value) (res any, handled bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, handled, err = nil, true, &PanicError{Value: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	var next ActivityInboundInterceptor = engineActivityInbound{st: st, def: def}
	is := e.cfg.interceptors
	for i := len(is) - 1; i >= 0; i-- {
		next = is[i].InterceptActivity(ctx, next)
		if next == nil {
			return nil, true, NewNonRetryableApplicationError(fmt.Sprintf("interceptor %T: InterceptActivity returned nil", is[i]), "InterceptorError", nil)
		}
	}
	if _, own := next.(engineActivityInbound); own {
		return nil, false, nil
	}
	res, err = e.runActivityChain(ctx, st, next, args)
	return res, true, err
}

// runActivityChain calls Init and ExecuteActivity of an attempt's chain.
func (e *Engine) runActivityChain(ctx context.Context, st *activityState, next ActivityInboundInterceptor, args []reflect.Value) (any, error) {
	if err := next.Init(engineActivityOutbound{st: st}); err != nil {
		return nil, fmt.Errorf("activity interceptor: init: %w", err)
	}
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Interface()
	}
	return next.ExecuteActivity(ctx, &ExecuteActivityInput{Args: vals})
}
