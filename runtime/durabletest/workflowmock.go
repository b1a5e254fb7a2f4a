package durabletest

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// registerWorkflow registers with the engine, under the workflow's name, a
// stand-in of the same type that runs the workflow, or its mock once
// OnWorkflow has set expectations for it.
func (e *Env) registerWorkflow(wf any, opts []durable.RegisterOption) error {
	v := reflect.ValueOf(wf)
	if wf == nil || v.Kind() != reflect.Func {
		// The engine says what is wrong.
		return catch(func() { e.eng.RegisterWorkflow(wf, opts...) })
	}
	name, err := optionName(opts)
	if err != nil {
		return err
	}
	own := funcName(v)
	if name == "" {
		name = own
	}
	standIn := reflect.MakeFunc(v.Type(), func(args []reflect.Value) []reflect.Value {
		return e.dispatchWorkflow(name, v, args)
	}).Interface()
	if err := catch(func() { e.eng.RegisterWorkflow(standIn, append(opts, durable.WithName(name))...) }); err != nil {
		return err
	}
	e.mu.Lock()
	e.workflows[own] = true
	_, taken := e.wfAliases[own]
	if own != name {
		e.wfAliases[own] = name
	}
	e.mu.Unlock()
	if own != name && !taken {
		// The engine finds a function value by its own name only when that
		// function itself was registered: register the stand-in under the
		// function's own name too, so that durable.Child(ctx, fn) finds it.
		_ = catch(func() { e.eng.RegisterWorkflow(standIn, durable.WithName(own)) })
	}
	return nil
}

// dispatchWorkflow runs one run of a workflow: its mock when OnWorkflow set
// one up, else the function itself.
func (e *Env) dispatchWorkflow(name string, fn reflect.Value, args []reflect.Value) []reflect.Value {
	e.mu.Lock()
	mocked := e.wfMocked[name]
	childStarted := e.childStarted
	e.mu.Unlock()
	ctx, _ := args[0].Interface().(context.Context)
	if childStarted != nil && ctx != nil && !durable.IsReplaying(ctx) {
		if info := durable.GetInfo(ctx); info.ParentWorkflowID != "" {
			childStarted(info, ctx, Values(valuesOf(args[1:])))
		}
	}
	if !mocked {
		return fn.Call(args)
	}
	margs := append([]any{mockContext{ctx}}, valuesOf(args[1:])...)
	ret, err := e.mock.called("workflow", name, margs, func(d time.Duration) { _ = durable.Sleep(ctx, d) })
	if err != nil {
		return e.mockFailed(fn.Type(), err.Error())
	}
	out, msg := mockResults("workflow", name, fn.Type(), ret, func(fv reflect.Value) []reflect.Value { return fv.Call(args) })
	if msg != "" {
		return e.mockFailed(fn.Type(), msg)
	}
	return out
}

// OnWorkflow sets up a mock for a child workflow (a function or a
// registered name), registering the function if needed, as Temporal's
// OnWorkflow does: args are matched against the child's arguments, its
// context first (use Anything), and Return gives its results, or a
// function of the workflow's type that runs in its place. The child still
// runs as a run of its own (its mock is its code), so its ID, its
// cancellation and its result go through the engine. Once a workflow has a
// mock, every run of it must meet one of its expectations; any other fails
// the test and the run.
func (e *Env) OnWorkflow(workflow any, args ...any) *MockCall {
	e.tb.Helper()
	var name string
	switch w := workflow.(type) {
	case string:
		name = w
		e.mu.Lock()
		ok := e.workflows[w]
		for _, n := range e.wfAliases {
			ok = ok || n == w
		}
		e.mu.Unlock()
		if !ok {
			e.tb.Fatalf("durabletest: OnWorkflow: workflow %q is not registered (RegisterWorkflow)", w)
			return nil
		}
	default:
		v := reflect.ValueOf(workflow)
		if workflow == nil || v.Kind() != reflect.Func {
			e.tb.Fatalf("durabletest: OnWorkflow: want a workflow function or name, got %T", workflow)
			return nil
		}
		own := funcName(v)
		e.mu.Lock()
		name = own
		if alias, ok := e.wfAliases[own]; ok {
			name = alias
		}
		registered := e.workflows[own]
		e.mu.Unlock()
		if !registered {
			if err := e.registerWorkflow(workflow, nil); err != nil {
				e.tb.Fatalf("durabletest: OnWorkflow: %v", err)
				return nil
			}
		}
	}
	at := "?"
	if _, file, line, ok := runtime.Caller(1); ok {
		at = fmt.Sprintf("%s:%d", file[strings.LastIndexByte(file, '/')+1:], line)
	}
	x := &expectation{e: e, kind: "workflow", name: name, args: args, at: at}
	e.mu.Lock()
	e.wfMocked[name] = true
	e.mu.Unlock()
	e.mock.add(x)
	return &MockCall{e: e, x: x}
}

// SetOnChildWorkflowStartedListener sets a function called as each child
// run of a workflow registered through the Env starts (mocked or not),
// with its info, context and arguments, as Temporal's is. It is not called
// again when the replay check replays the run.
func (e *Env) SetOnChildWorkflowStartedListener(listener func(info *durable.Info, ctx context.Context, args Values)) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.childStarted = listener
	return e
}
