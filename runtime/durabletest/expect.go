package durabletest

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/stretchr/testify/mock"
)

// Anything matches any argument in OnActivity and the Assert methods. Its
// value is testify's mock.Anything, so tests that kept that constant match
// the same way.
const Anything = "mock.Anything"

// AnythingOfType matches an argument whose type's name (or full name, as
// fmt's %T prints it) is typ.
func AnythingOfType(typ string) any { return anythingOfType(typ) }

type anythingOfType string

// MatchedBy matches an argument for which fn, a func(T) bool, returns
// true; arguments not of type T do not match.
func MatchedBy(fn any) any {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.Type().NumIn() != 1 || v.Type().NumOut() != 1 || v.Type().Out(0).Kind() != reflect.Bool {
		panic(fmt.Sprintf("durabletest.MatchedBy: want a func(T) bool, got %T", fn))
	}
	return argMatcher{fn: v}
}

type argMatcher struct{ fn reflect.Value }

func (m argMatcher) String() string { return "MatchedBy(" + m.fn.Type().In(0).String() + ")" }

// TestingT is what the Assert methods report to: *testing.T, or any fake
// that records failures (testify's mock.TestingT has the same methods).
type TestingT interface {
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	FailNow()
}

// Arguments are a mock call's arguments, as a Run function gets them. It is
// testify's mock.Arguments, so Run(func(args mock.Arguments) {...}) written
// for Temporal's mocks compiles and works unchanged (Get, String, Int, Bool,
// Error).
type Arguments = mock.Arguments

// match reports whether actual arguments meet expected ones, and if not,
// why.
func match(expected, actual []any) (bool, string) {
	if len(expected) < len(actual) {
		return false, fmt.Sprintf("%d arguments expected, %d given", len(expected), len(actual))
	}
	// As with testify (so Temporal's mocks), an expected Anything also
	// matches a missing argument: OnActivity(a, mock.Anything) matches an
	// activity without parameters.
	for i := len(actual); i < len(expected); i++ {
		if m, ok := expected[i].(string); !ok || m != Anything {
			return false, fmt.Sprintf("%d arguments expected, %d given", len(expected), len(actual))
		}
	}
	for i, exp := range expected[:len(actual)] {
		act := actual[i]
		if _, ok := act.(unseenRunID); ok {
			continue
		}
		if m, ok := testifyAnythingOfType(exp); ok {
			exp = m
		}
		switch m := exp.(type) {
		case string:
			if m == Anything {
				continue
			}
		case argumentMatcher:
			// testify's mock.MatchedBy, kept by tests written for
			// Temporal's mocks.
			if !m.Matches(act) {
				return false, fmt.Sprintf("argument %d: %#v not matched by %v", i, act, m)
			}
			continue
		case anythingOfType:
			t := fmt.Sprintf("%T", act)
			if act != nil && (reflect.TypeOf(act).Name() == string(m) || t == string(m)) {
				continue
			}
			return false, fmt.Sprintf("argument %d: want a %s, got %s", i, string(m), t)
		case argMatcher:
			in := m.fn.Type().In(0)
			var av reflect.Value
			switch {
			case act == nil && nilable(in):
				av = reflect.Zero(in)
			case act != nil && reflect.TypeOf(act).AssignableTo(in):
				av = reflect.ValueOf(act)
			default:
				return false, fmt.Sprintf("argument %d: %#v is not a %s", i, act, in)
			}
			if !m.fn.Call([]reflect.Value{av})[0].Bool() {
				return false, fmt.Sprintf("argument %d: %#v not matched by %s", i, act, m)
			}
			continue
		}
		if !equal(exp, act) {
			return false, fmt.Sprintf("argument %d: want %#v, got %#v", i, exp, act)
		}
	}
	return true, ""
}

// argumentMatcher is testify's mock.MatchedBy (its Matches method).
type argumentMatcher interface{ Matches(argument any) bool }

// testifyAnythingOfType reads testify's mock.AnythingOfType, a string of
// an unexported type of package mock, as AnythingOfType.
func testifyAnythingOfType(exp any) (anythingOfType, bool) {
	t := reflect.TypeOf(exp)
	if t == nil || t.Kind() != reflect.String || t.PkgPath() != "github.com/stretchr/testify/mock" {
		return "", false
	}
	return anythingOfType(reflect.ValueOf(exp).String()), true
}

func equal(exp, act any) bool {
	if eb, ok := exp.([]byte); ok {
		ab, ok := act.([]byte)
		return ok && string(eb) == string(ab)
	}
	return reflect.DeepEqual(exp, act)
}

// expectation is one OnActivity set-up.
type expectation struct {
	e      *Env
	kind   string // "activity" or "workflow"
	name   string
	args   []any
	at     string // file:line of OnActivity
	ret    []any
	times  int // expected calls; 0: any number
	calls  int
	maybe  bool
	never  bool
	panic  *string
	runFn  func(args Arguments)
	after  func() time.Duration
	hasRet bool
}

type recordedCall struct {
	name string
	args []any
}

// mocker holds an Env's expectations and the calls they answered.
type mocker struct {
	mu    sync.Mutex
	exps  []*expectation
	calls []recordedCall
}

func (m *mocker) add(x *expectation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exps = append(m.exps, x)
}

// called finds the expectation an invocation meets, records the call and
// returns the expectation's return values (after its Run function).
// A nil wait waits on the test clock (an activity's mock); a workflow's
// mock waits with durable.Sleep.
func (m *mocker) called(kind, name string, args []any, wait func(time.Duration)) ([]any, error) {
	m.mu.Lock()
	var (
		found     *expectation
		exhausted *expectation
		closest   *expectation
		why       string
	)
	for _, x := range m.exps {
		if x.name != name || x.kind != kind {
			continue
		}
		ok, reason := match(x.args, args)
		if !ok {
			if closest == nil {
				closest, why = x, reason
			}
			continue
		}
		if x.times > 0 && x.calls >= x.times {
			exhausted = x
			continue
		}
		found = x
		break
	}
	call := fmt.Sprintf("%s(%s)", name, formatArgs(args))
	if found == nil {
		m.mu.Unlock()
		switch {
		case exhausted != nil:
			return nil, fmt.Errorf("unexpected call of "+kind+" %s: the mock set at %s expects %d call(s), this is call %d",
				call, exhausted.at, exhausted.times, exhausted.calls+1)
		case closest != nil:
			return nil, fmt.Errorf("unexpected call of "+kind+" %s: no mock matches; closest is %s(%s) set at %s: %s",
				call, name, formatArgs(closest.args), closest.at, why)
		default:
			return nil, fmt.Errorf("unexpected call of "+kind+" %s: no mock for it", call)
		}
	}
	found.calls++
	m.calls = append(m.calls, recordedCall{name: name, args: args})
	x := *found
	m.mu.Unlock()
	if x.never {
		return nil, fmt.Errorf("unexpected call of "+kind+" %s: the mock set at %s says Never", call, x.at)
	}
	if x.panic != nil {
		panic(*x.panic)
	}
	if wait == nil {
		x.wait()
	} else if x.after != nil {
		if d := x.after(); d > 0 {
			wait(d)
		}
	}
	if x.runFn != nil {
		x.runFn(Arguments(args))
	}
	if !x.hasRet {
		return nil, fmt.Errorf("the mock of %s %s set at %s has no Return", kind, name, x.at)
	}
	return x.ret, nil
}

// wait blocks until the test clock has moved the After duration; time
// skips meanwhile.
func (x *expectation) wait() {
	if x.after == nil {
		return
	}
	d := x.after()
	if d <= 0 {
		return
	}
	ch := make(chan struct{})
	// The timer exists before the wait counts as idle, so time cannot skip
	// past it.
	x.e.clk.AfterFunc(d, func() {
		x.e.waitingMocks.Add(-1)
		close(ch)
	})
	x.e.waitingMocks.Add(1)
	<-ch
}

func (m *mocker) assertExpectations(t TestingT) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := true
	for _, x := range m.exps {
		call := fmt.Sprintf("%s(%s)", x.name, formatArgs(x.args))
		switch {
		case x.times > 0 && x.calls != x.times && !(x.maybe && x.calls == 0):
			t.Errorf("durabletest: expected %s %d time(s), got %d (mock set at %s)", call, x.times, x.calls, x.at)
			ok = false
		case x.times == 0 && x.calls == 0 && !x.maybe:
			t.Errorf("durabletest: expected %s to be called, it was not (mock set at %s)", call, x.at)
			ok = false
		}
	}
	return ok
}

func (m *mocker) count(name string, args []any, anyArgs bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.calls {
		if c.name != name {
			continue
		}
		if ok, _ := match(args, c.args); anyArgs || ok {
			n++
		}
	}
	return n
}

func (m *mocker) callsOf(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, c := range m.calls {
		if c.name == name {
			fmt.Fprintf(&b, "\n\t%s(%s)", name, formatArgs(c.args))
		}
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}

// MockCall is an expectation set with OnActivity; its methods configure it
// and return it, as Temporal's MockCallWrapper does.
type MockCall struct {
	e *Env
	x *expectation
}

// OnActivity sets up a mock for an activity (a function, a method value or
// a registered name), registering the function if needed. args are matched
// against the call's arguments, the activity's context first when it takes
// one (use Anything for it), as with Temporal's OnActivity. Once an
// activity has a mock, every call of it must meet one of its expectations;
// any other call fails the test, naming the activity and its arguments,
// and fails the activity without retries.
func (e *Env) OnActivity(activity any, args ...any) *MockCall {
	e.tb.Helper()
	var name string
	switch a := activity.(type) {
	case string:
		if e.activity(a) == nil {
			e.tb.Fatalf("durabletest: OnActivity: activity %q is not registered; registered: %s", a, e.activityNames())
			return nil
		}
		name = a
	default:
		v := reflect.ValueOf(activity)
		if activity == nil || v.Kind() != reflect.Func {
			e.tb.Fatalf("durabletest: OnActivity: want an activity function or name, got %T", activity)
			return nil
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
				e.tb.Fatalf("durabletest: OnActivity: %v", err)
				return nil
			}
			if d := e.activity(name); d != nil {
				e.mu.Lock()
				d.auto = true
				e.mu.Unlock()
			}
		}
	}
	at := "?"
	if _, file, line, ok := runtime.Caller(1); ok {
		at = fmt.Sprintf("%s:%d", file[strings.LastIndexByte(file, '/')+1:], line)
	}
	x := &expectation{e: e, kind: "activity", name: name, args: args, at: at}
	e.mu.Lock()
	e.mocked[name] = true
	e.mu.Unlock()
	e.mock.add(x)
	return &MockCall{e: e, x: x}
}

func (e *Env) activityNames() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.activities))
	for n := range e.activities {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (c *MockCall) set(f func(x *expectation)) *MockCall {
	c.e.mock.mu.Lock()
	defer c.e.mock.mu.Unlock()
	f(c.x)
	return c
}

// Return sets what the mock returns: values of the activity's result types
// (Return("ok", nil); Return(nil) for an error-only activity), or one
// function with exactly the activity's signature, called with the call's
// arguments.
func (c *MockCall) Return(values ...any) *MockCall {
	return c.set(func(x *expectation) { x.ret, x.hasRet = values, true })
}

// Times expects exactly n calls; further calls fail the test.
func (c *MockCall) Times(n int) *MockCall { return c.set(func(x *expectation) { x.times = n }) }

// Once expects exactly one call.
func (c *MockCall) Once() *MockCall { return c.Times(1) }

// Twice expects exactly two calls.
func (c *MockCall) Twice() *MockCall { return c.Times(2) }

// Never expects no call: a call fails the test.
func (c *MockCall) Never() *MockCall {
	return c.set(func(x *expectation) { x.maybe, x.never = true, true })
}

// Maybe makes the call optional for AssertExpectations.
func (c *MockCall) Maybe() *MockCall { return c.set(func(x *expectation) { x.maybe = true }) }

// Panic makes the mock panic with msg: the attempt fails with a
// durable.PanicError.
func (c *MockCall) Panic(msg string) *MockCall { return c.set(func(x *expectation) { x.panic = &msg }) }

// Run sets a function called with the call's arguments before the mock
// returns.
func (c *MockCall) Run(fn func(args Arguments)) *MockCall {
	return c.set(func(x *expectation) { x.runFn = fn })
}

// After makes the mock return only once the test clock has moved d, as
// Temporal's After does; time skips while it waits.
func (c *MockCall) After(d time.Duration) *MockCall {
	return c.AfterFn(func() time.Duration { return d })
}

// AfterFn is After with the duration computed at each call.
func (c *MockCall) AfterFn(fn func() time.Duration) *MockCall {
	return c.set(func(x *expectation) { x.after = fn })
}

func helper(t TestingT) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
}

// AssertExpectations asserts that every OnActivity expectation was met:
// each was called (Maybe ones need not be), exactly Times times when set.
// Calls may have come in any order.
func (e *Env) AssertExpectations(t TestingT) bool {
	helper(t)
	return e.mock.assertExpectations(t)
}

// AssertActivityCalled asserts that a mocked activity was called with
// arguments (the context first when the activity takes one).
func (e *Env) AssertActivityCalled(t TestingT, name string, arguments ...any) bool {
	helper(t)
	if e.mock.count(name, arguments, false) == 0 {
		t.Errorf("durabletest: expected a call %s(%s); calls:%s", name, formatArgs(arguments), e.mock.callsOf(name))
		return false
	}
	return true
}

// AssertActivityNotCalled asserts that a mocked activity was not called
// with arguments.
func (e *Env) AssertActivityNotCalled(t TestingT, name string, arguments ...any) bool {
	helper(t)
	if e.mock.count(name, arguments, false) > 0 {
		t.Errorf("durabletest: expected no call %s(%s); calls:%s", name, formatArgs(arguments), e.mock.callsOf(name))
		return false
	}
	return true
}

// AssertActivityNumberOfCalls asserts how often a mocked activity was
// called, whatever the arguments.
func (e *Env) AssertActivityNumberOfCalls(t TestingT, name string, expected int) bool {
	helper(t)
	if n := e.mock.count(name, nil, true); n != expected {
		t.Errorf("durabletest: expected %d call(s) of %s, got %d:%s", expected, name, n, e.mock.callsOf(name))
		return false
	}
	return true
}

// AssertWorkflowCalled asserts that a mocked child workflow (OnWorkflow)
// was called with arguments.
func (e *Env) AssertWorkflowCalled(t TestingT, name string, arguments ...any) bool {
	helper(t)
	return e.AssertActivityCalled(t, name, arguments...)
}

// AssertWorkflowNotCalled asserts that a mocked child workflow was not
// called with arguments.
func (e *Env) AssertWorkflowNotCalled(t TestingT, name string, arguments ...any) bool {
	helper(t)
	return e.AssertActivityNotCalled(t, name, arguments...)
}

// AssertWorkflowNumberOfCalls asserts how many times a mocked child
// workflow was called.
func (e *Env) AssertWorkflowNumberOfCalls(t TestingT, name string, expected int) bool {
	helper(t)
	return e.AssertActivityNumberOfCalls(t, name, expected)
}

// AssertCalled is AssertActivityCalled (only activities are mocked).
func (e *Env) AssertCalled(t TestingT, name string, arguments ...any) bool {
	helper(t)
	return e.AssertActivityCalled(t, name, arguments...)
}

// AssertNotCalled is AssertActivityNotCalled.
func (e *Env) AssertNotCalled(t TestingT, name string, arguments ...any) bool {
	helper(t)
	return e.AssertActivityNotCalled(t, name, arguments...)
}

// AssertNumberOfCalls is AssertActivityNumberOfCalls.
func (e *Env) AssertNumberOfCalls(t TestingT, name string, expected int) bool {
	helper(t)
	return e.AssertActivityNumberOfCalls(t, name, expected)
}
