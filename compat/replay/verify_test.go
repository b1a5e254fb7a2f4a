package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the builders")

// engine opens a memory engine with the converted code registered under
// the names the histories use. The workflows are passed as options so
// that a test can swap in an altered conversion.
func engine(t *testing.T, workflows ...any) *durable.Engine {
	t.Helper()
	e, err := durable.Open(context.Background(), "memory:")
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	for _, w := range workflows {
		if named, ok := w.(namedWorkflow); ok {
			e.RegisterWorkflow(named.fn, durable.WithName(named.name))
			continue
		}
		e.RegisterWorkflow(w)
	}
	e.RegisterActivity(Hello)
	e.RegisterActivity(Count)
	e.RegisterActivity(Charge)
	return e
}

type namedWorkflow struct {
	name string
	fn   any
}

// Histories as Temporal records them for the original workflows.

func greetHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("greet-1", "Greet", "World").task()
	a := b.activity("Hello", "World")
	b.completed(a, "Hello World").task()
	tm := b.timer(time.Minute)
	b.fired(tm).task().signal("approve", "!").task().complete("Hello World!")
	return b.history()
}

func fanHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("fan-1", "Fan").task()
	a := b.activity("Hello", "a")
	c := b.activity("Count", 1)
	// Both results arrive before the next workflow task.
	b.completed(c, 2).completed(a, "Hello a").task()
	b.completed(b.activity("Charge", "Hello a", 2), "Hello a:2").task().complete("Hello a:2")
	return b.history()
}

func guardedHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("guarded-1", "Guarded").task().sideEffect("random").version("charge-v2", 1)
	b.completed(b.activity("Charge", "random", 2), "random:2").task().complete("random:2")
	return b.history()
}

func parentHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("parent-1", "Parent").task()
	b.childCompleted(b.child("parent-1-kid", "Kid", 21), 42).task().signalExternal("other", "done", 42).complete(42)
	return b.history()
}

func counterHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("counter-1", "Counter").task()
	b.task().updateAccepted("u1", "add", 5).updateCompleted("u1", 5)
	b.task().updateAccepted("u2", "add", 7).updateCompleted("u2", 12)
	b.signal("stop", true).task().complete(12)
	return b.history()
}

func fallbackHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("fallback-1", "Fallback").task()
	b.failed(b.activity("Hello", "x"), "busy", "Busy").task().complete("fallback")
	return b.history()
}

var histories = []struct {
	file    string
	history func(testing.TB) *historypb.History
}{
	{"greet.json", greetHistory},
	{"fan.json", fanHistory},
	{"guarded.json", guardedHistory},
	{"parent.json", parentHistory},
	{"counter.json", counterHistory},
	{"fallback.json", fallbackHistory},
	{"remind.json", remindHistory},
	{"countdown-2.json", countdown2History},
	{"countdown-1.json", countdown1History},
	{"countdown-0.json", countdown0History},
	{"lottery.json", lotteryHistory},
	{"pricing.json", pricingHistory},
	{"notify.json", notifyHistory},
	{"family.json", familyHistory},
}

// TestTestdata keeps testdata/*.json (the format `temporal workflow show
// --output json` writes) in step with the builders; -update rewrites them.
func TestTestdata(t *testing.T) {
	t.Parallel()
	for _, h := range histories {
		path := filepath.Join("testdata", h.file)
		got, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h.history(t))
		require.NoError(t, err)
		if *update {
			// protojson varies its spacing on purpose; store one layout.
			var compact, indented bytes.Buffer
			require.NoError(t, json.Compact(&compact, got))
			require.NoError(t, json.Indent(&indented, compact.Bytes(), "", "  "))
			require.NoError(t, os.WriteFile(path, append(indented.Bytes(), '\n'), 0o644))
			continue
		}
		want, err := replay.Load(path)
		require.NoError(t, err)
		parsed, err := replay.Parse(bytes.NewReader(got))
		require.NoError(t, err)
		require.Len(t, want.GetEvents(), len(parsed.GetEvents()), path)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	all := []any{Greet, Fan, Guarded, Parent, Kid, Counter, Fallback, Remind, Countdown, Lottery, Pricing, Notify, Family}
	for _, h := range histories {
		t.Run(h.file, func(t *testing.T) {
			t.Parallel()
			rep, err := replay.VerifyFile(context.Background(), engine(t, all...), filepath.Join("testdata", h.file))
			require.NoError(t, err)
			require.True(t, rep.OK(), rep.String())
			require.True(t, rep.Closed)
		})
	}
}

// Altered conversions: each must be reported at the right Temporal event.

func GreetOtherActivity(ctx context.Context, name string) (string, error) {
	s, err := durable.Call[int](ctx, Count, 1)
	_ = s
	return "", err
}

func GreetOtherArgType(ctx context.Context, name string) (string, error) {
	return durable.Call[string](ctx, Charge, name, 1)
}

func GreetNoSleep(ctx context.Context, name string) (string, error) {
	s, err := durable.Call[string](ctx, Hello, name)
	if err != nil {
		return "", err
	}
	mark, err := durable.Receive[string](ctx, "approve")
	return s + mark, err
}

func GreetExtraSleep(ctx context.Context, name string) (string, error) {
	if err := durable.Sleep(ctx, time.Second); err != nil {
		return "", err
	}
	return Greet(ctx, name)
}

func GreetOtherResult(ctx context.Context, name string) (string, error) {
	s, err := Greet(ctx, name)
	return s + "?", err
}

func GreetFails(ctx context.Context, name string) (string, error) {
	_, err := Greet(ctx, name)
	if err == nil {
		err = durable.NewApplicationError("nope", "Nope")
	}
	return "", err
}

func FanReordered(ctx context.Context) (string, error) {
	b := durable.Async[int](ctx, Count, 1)
	a := durable.Async[string](ctx, Hello, "a")
	x, _ := a.Get(ctx)
	y, _ := b.Get(ctx)
	return durable.Call[string](ctx, Charge, x, y)
}

func GuardedNoVersion(ctx context.Context) (string, error) {
	id := durable.SideEffect(ctx, func() string { return "random" })
	return durable.Call[string](ctx, Charge, id, 1)
}

func TestVerifyReportsFirstDivergence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		history  func(testing.TB) *historypb.History
		workflow any
		eventID  int64
		history_ string
		code     string
		kind     durable.DivergenceKind
	}{
		{"OtherActivity", greetHistory, GreetOtherActivity, 5, `activity Hello("World")`, "Call Count(int)", durable.DivergenceMismatch},
		{"OtherArgumentTypes", greetHistory, GreetOtherArgType, 5, `activity Hello("World")`, "Call Charge(string, int)", durable.DivergenceMismatch},
		{"MissingTimer", greetHistory, GreetNoSleep, 11, "timer 1m0s", "nothing: every coroutine waits", durable.DivergenceMissingCommand},
		{"ExtraTimer", greetHistory, GreetExtraSleep, 5, `activity Hello("World")`, "Timer 1s", durable.DivergenceMismatch},
		{"OtherResult", greetHistory, GreetOtherResult, 20, `completed with "Hello World!"`, `result differs: journal "Hello World!", code "Hello World!?"`, durable.DivergenceResult},
		{"FailsInstead", greetHistory, GreetFails, 20, `completed with "Hello World!"`, "Fail", durable.DivergenceMismatch},
		{"ActivitiesReordered", fanHistory, FanReordered, 5, `activity Hello("a")`, "Call Count(int)", durable.DivergenceMismatch},
		{"VersionRemoved", guardedHistory, GuardedNoVersion, 6, `Version("charge-v2") = 1`, "Call Charge(string, int)", durable.DivergenceMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := tc.history(t)
			name := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
			e := engine(t, namedWorkflow{name, tc.workflow})
			rep, err := replay.Verify(context.Background(), e, h)
			require.NoError(t, err)
			require.False(t, rep.OK(), "want a divergence")
			d := rep.Divergence
			require.Equal(t, tc.eventID, d.EventID, rep.String())
			require.Equal(t, tc.history_, d.History, rep.String())
			require.Contains(t, d.Code, tc.code, rep.String())
			var nd *durable.NonDeterminismError
			require.ErrorAs(t, d.Err, &nd)
			require.Equal(t, tc.kind, nd.Kind, rep.String())
			require.Equal(t, tc.eventID, d.EventID)
		})
	}
}
