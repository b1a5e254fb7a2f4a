package durabletest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// ActivityEnv runs activities alone, as Temporal's TestActivityEnvironment
// does: each ExecuteActivity runs one attempt (no retries) on the real
// engine, through a one-activity workflow, with an activity context that
// carries durable.ActivityInfo and the heartbeat details SetHeartbeatDetails
// seeded.
type ActivityEnv struct {
	env *Env

	mu      sync.Mutex
	n       int
	options durable.CallOptions
}

// NewActivityEnv returns an ActivityEnv for one test; its engine is closed
// when the test ends.
func NewActivityEnv(tb testing.TB, opts ...Option) *ActivityEnv {
	tb.Helper()
	return &ActivityEnv{env: NewEnv(tb, append([]Option{WithReplayCheck(false)}, opts...)...)}
}

// RegisterActivity registers an activity function or struct, as
// Env.RegisterActivity does. ExecuteActivity registers functions itself.
func (a *ActivityEnv) RegisterActivity(fnOrStructPtr any, opts ...durable.RegisterOption) {
	a.env.tb.Helper()
	a.env.RegisterActivity(fnOrStructPtr, opts...)
}

// SetHeartbeatDetails sets the details the next attempts find with
// durable.HasHeartbeatDetails and durable.HeartbeatDetails, as if an
// earlier attempt had recorded them with durable.RecordHeartbeat.
func (a *ActivityEnv) SetHeartbeatDetails(details ...any) {
	a.env.tb.Helper()
	raw, err := json.Marshal(details)
	if err != nil {
		a.env.tb.Fatalf("durabletest: SetHeartbeatDetails: %v", err)
	}
	seed := json.RawMessage(raw)
	a.env.heartbeatSeed.Store(&seed)
}

// seededHeartbeat returns the details SetHeartbeatDetails seeded for new
// activity tasks (durable.ActivityTestHooks.HeartbeatDetails), nil when
// none were.
func (e *Env) seededHeartbeat() json.RawMessage {
	if p := e.heartbeatSeed.Load(); p != nil {
		return *p
	}
	return nil
}

// SetCallOptions sets the options of the activity's attempt (timeouts,
// heartbeat timeout); its RetryPolicy is always one attempt.
func (a *ActivityEnv) SetCallOptions(o durable.CallOptions) *ActivityEnv {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.options = o
	return a
}

// SetWorkerOptions sets the options of the worker running the activities
// (their BackgroundActivityContext).
func (a *ActivityEnv) SetWorkerOptions(o WorkerOptions) *ActivityEnv {
	a.env.SetWorkerOptions(o)
	return a
}

// SetOnActivityStartedListener sets a function called as each attempt
// starts, with its info, context and arguments.
func (a *ActivityEnv) SetOnActivityStartedListener(listener func(info *durable.ActivityInfo, ctx context.Context, args Values)) *ActivityEnv {
	a.env.SetOnActivityStartedListener(listener)
	return a
}

// SetOnActivityHeartbeatListener sets a function called with the details
// each time the engine records the activity's heartbeat (see
// Env.SetOnActivityHeartbeatListener).
func (a *ActivityEnv) SetOnActivityHeartbeatListener(listener func(info *durable.ActivityInfo, details Values)) *ActivityEnv {
	a.env.SetOnActivityHeartbeatListener(listener)
	return a
}

// SetTestTimeout bounds, in real time, how long ExecuteActivity may take.
func (a *ActivityEnv) SetTestTimeout(d time.Duration) *ActivityEnv {
	a.env.SetTestTimeout(d)
	return a
}

// SetStartTime sets the test clock.
func (a *ActivityEnv) SetStartTime(t time.Time) { a.env.clk.set(t) }

// ExecuteActivity runs one attempt of activity (a function or a registered
// name) with args and returns its result, or its error as it crossed the
// journal (a *durable.ApplicationError, *durable.TimeoutError,
// *durable.PanicError, ...).
func (a *ActivityEnv) ExecuteActivity(activity any, args ...any) (durable.Value, error) {
	e := a.env
	e.tb.Helper()
	var name string
	switch act := activity.(type) {
	case string:
		name = act
	default:
		v := reflect.ValueOf(activity)
		if activity == nil || v.Kind() != reflect.Func {
			e.tb.Fatalf("durabletest: ExecuteActivity: want an activity function or name, got %T", activity)
			return nil, nil
		}
		own := funcName(v)
		e.mu.Lock()
		name = own
		if alias, ok := e.aliases[own]; ok {
			name = alias
		}
		_, ok := e.activities[name]
		e.mu.Unlock()
		if !ok {
			if err := e.registerActivity(activity, nil); err != nil {
				e.tb.Fatalf("durabletest: ExecuteActivity: %v", err)
				return nil, nil
			}
		}
	}
	d := e.activity(name)
	if d == nil {
		e.tb.Fatalf("durabletest: ExecuteActivity: activity %q is not registered; registered: %s", name, e.activityNames())
		return nil, nil
	}
	a.mu.Lock()
	a.n++
	wfName := fmt.Sprintf("%s%d", activityRunnerPrefix, a.n)
	o := a.options
	a.mu.Unlock()
	o.RetryPolicy = &durable.RetryPolicy{MaximumAttempts: 1}
	runner := activityRunner(d, name, o)
	if err := catch(func() { e.eng.RegisterWorkflow(runner.Interface(), durable.WithName(wfName)) }); err != nil {
		e.tb.Fatalf("durabletest: ExecuteActivity: %v", err)
		return nil, nil
	}
	id := WorkflowIDDefault
	run, err := e.eng.Start(e.ctx, durable.StartOptions{ID: id}, wfName, args...)
	if err != nil {
		e.tb.Fatalf("durabletest: ExecuteActivity %s: %v", name, err)
		return nil, nil
	}
	var pending atomic.Bool
	e.mu.Lock()
	e.pendingSeen = func() { pending.Store(true) }
	e.mu.Unlock()
	raw, err, completed := e.runToEnd(run, id, false)
	if pending.Load() {
		// As Temporal's test environment: the activity's own answer.
		return nil, durable.ErrResultPending
	}
	if !completed || err != nil {
		return nil, err
	}
	var res json.RawMessage
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("durabletest: ExecuteActivity %s: decode result: %w", name, err)
	}
	return value{raw: res}, nil
}

// activityRunner makes a workflow with the activity's parameters that
// calls it once and returns its encoded result.
func activityRunner(d *activityDef, name string, o durable.CallOptions) reflect.Value {
	in := []reflect.Type{contextType}
	for i := range d.typ.NumIn() {
		if i == 0 && d.hasCtx {
			continue
		}
		in = append(in, d.typ.In(i))
	}
	rawType := reflect.TypeFor[json.RawMessage]()
	out := []reflect.Type{rawType, errorType}
	return reflect.MakeFunc(reflect.FuncOf(in, out, false), func(args []reflect.Value) []reflect.Value {
		ctx := durable.WithCallOptions(args[0].Interface().(context.Context), o)
		r, err := durable.Call[json.RawMessage](ctx, name, valuesOf(args[1:])...)
		ev := reflect.New(errorType).Elem()
		if err != nil {
			ev.Set(reflect.ValueOf(err))
		}
		return []reflect.Value{reflect.ValueOf(r), ev}
	})
}
