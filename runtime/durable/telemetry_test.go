package durable_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/durablego/toolkit/runtime/durable"
)

// flaky is an activity that fails the first attempt of each input.
type flaky struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (f *flaky) Flaky(ctx context.Context, s string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen[s] {
		f.seen[s] = true
		return "", errors.New("first attempt fails")
	}
	return s + "!", nil
}

// RetryOnce calls Flaky, whose first attempt fails, with a quick retry.
func RetryOnce(ctx context.Context, s string) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &durable.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 3},
	})
	return durable.Call[string](ctx, "Flaky", s)
}

// Fails fails at once.
func Fails(ctx context.Context) error { return errors.New("boom") }

// WaitGo waits for the "go" signal.
func WaitGo(ctx context.Context) (string, error) { return durable.Receive[string](ctx, "go") }

// ParentOfSteps3 runs Steps3 as a child.
func ParentOfSteps3(ctx context.Context) (string, error) {
	return durable.Child[string](ctx, Steps3, "c")
}

// DotElsewhere calls Dot on the "acts" queue, which another worker serves.
func DotElsewhere(ctx context.Context, s string) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{Queue: "acts", StartToCloseTimeout: 10 * time.Second})
	return durable.Call[string](ctx, Dot, s)
}

func quietLogger() durable.Option { return durable.WithLogger(slog.New(slog.DiscardHandler)) }

// telemetryWorkflows registers the workflows and activities of these tests.
func telemetryWorkflows(e *durable.Engine) {
	e.RegisterWorkflow(Steps3)
	e.RegisterWorkflow(RetryOnce)
	e.RegisterWorkflow(Fails)
	e.RegisterWorkflow(WaitGo)
	e.RegisterWorkflow(ParentOfSteps3)
	e.RegisterWorkflow(DotElsewhere)
	e.RegisterActivity(Dot)
	e.RegisterActivity(&flaky{seen: map[string]bool{}})
}

// metricsOf collects the reader's metrics by name.
func metricsOf(t *testing.T, r sdkmetric.Reader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != durable.TelemetryScope {
			continue
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// matches reports whether set has every key/value of want.
func matches(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.AsString() != v {
			return false
		}
	}
	return true
}

// sum adds the points of an int64 sum or gauge whose attributes match want.
func sum(t *testing.T, m metricdata.Metrics, want map[string]string) int64 {
	t.Helper()
	var n int64
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	default:
		t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
	}
	return n
}

// count adds the counts of a histogram's points whose attributes match want.
func count(t *testing.T, m metricdata.Metrics, want map[string]string) uint64 {
	t.Helper()
	d, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s: %T", m.Name, m.Data)
	var n uint64
	for _, p := range d.DataPoints {
		if matches(p.Attributes, want) {
			n += p.Count
		}
	}
	return n
}

func TestTelemetry(t *testing.T) {
	t.Parallel()

	t.Run("MetricsCountAKnownWorkload", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		e, err := durable.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "m.db"), durable.WithMeterProvider(mp), quietLogger())
		require.NoError(t, err)
		defer e.Close()
		telemetryWorkflows(e)

		// A run waiting for a signal is loaded and parked.
		waiting, err := e.Start(ctx, durable.StartOptions{ID: "wait"}, WaitGo)
		require.NoError(t, err)
		m := metricsOf(t, reader)
		require.EqualValues(t, 1, sum(t, m[durable.MetricRunsLoaded], nil))
		require.EqualValues(t, 1, sum(t, m[durable.MetricRunsParked], nil))

		var runs []durable.Run
		for _, id := range []string{"s1", "s2", "s3"} {
			r, err := e.Start(ctx, durable.StartOptions{ID: id}, Steps3, id)
			require.NoError(t, err)
			runs = append(runs, r)
		}
		r, err := e.Start(ctx, durable.StartOptions{ID: "retry"}, RetryOnce, "r")
		require.NoError(t, err)
		runs = append(runs, r)
		for _, r := range runs {
			require.NoError(t, r.Get(ctx, nil))
		}
		r, err = e.Start(ctx, durable.StartOptions{ID: "fails"}, Fails)
		require.NoError(t, err)
		require.ErrorContains(t, r.Get(ctx, nil), "boom")
		require.NoError(t, e.Signal(ctx, "wait", "go", "now"))
		require.NoError(t, waiting.Get(ctx, nil))

		m = metricsOf(t, reader)
		started := m[durable.MetricRunsStarted]
		require.EqualValues(t, 6, sum(t, started, nil))
		require.EqualValues(t, 3, sum(t, started, map[string]string{"workflow": "Steps3", "queue": durable.QueueDefault}))
		closed := m[durable.MetricRunsClosed]
		require.EqualValues(t, 5, sum(t, closed, map[string]string{"status": "completed"}))
		require.EqualValues(t, 1, sum(t, closed, map[string]string{"status": "failed", "workflow": "Fails"}))
		require.EqualValues(t, 6, sum(t, closed, nil))

		attempts := m[durable.MetricActivityAttempts]
		require.EqualValues(t, 9, sum(t, attempts, map[string]string{"activity": "Dot", "outcome": durable.OutcomeCompleted}))
		require.EqualValues(t, 1, sum(t, attempts, map[string]string{"activity": "Flaky", "outcome": durable.OutcomeFailed}))
		require.EqualValues(t, 1, sum(t, attempts, map[string]string{"activity": "Flaky", "outcome": durable.OutcomeCompleted}))
		require.EqualValues(t, 11, sum(t, attempts, nil))

		require.EqualValues(t, 11, count(t, m[durable.MetricActivityScheduleToStart], nil))
		require.EqualValues(t, 2, count(t, m[durable.MetricActivityScheduleToStart], map[string]string{"activity": "Flaky"}))
		require.EqualValues(t, 11, count(t, m[durable.MetricActivityExecution], nil))
		require.EqualValues(t, 1, count(t, m[durable.MetricActivityExecution], map[string]string{"activity": "Flaky", "outcome": durable.OutcomeFailed}))
		// Each run commits at least its first step and its close.
		require.GreaterOrEqual(t, count(t, m[durable.MetricCommitLatency], map[string]string{"outcome": "ok"}), uint64(12))
		require.Zero(t, count(t, m[durable.MetricCommitLatency], map[string]string{"outcome": "error"}))
	})

	t.Run("SpansOfARunWithARetriedActivity", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		e, err := durable.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "t.db"), durable.WithTracerProvider(tp), quietLogger())
		require.NoError(t, err)
		defer e.Close()
		telemetryWorkflows(e)

		// The caller's span becomes the parent of the run's.
		callerCtx, caller := sdktrace.NewTracerProvider().Tracer("app").Start(ctx, "handle request")
		r, err := e.Start(callerCtx, durable.StartOptions{ID: "retry"}, RetryOnce, "r")
		require.NoError(t, err)
		caller.End()
		var out string
		require.NoError(t, r.Get(ctx, &out))
		require.Equal(t, "r!", out)
		require.NoError(t, e.Close())

		spans := rec.Ended()
		byName := map[string][]sdktrace.ReadOnlySpan{}
		ids := map[string]string{} // span ID -> name
		for _, s := range spans {
			require.Equal(t, caller.SpanContext().TraceID(), s.SpanContext().TraceID(), "span %s is in the caller's trace", s.Name())
			byName[s.Name()] = append(byName[s.Name()], s)
			ids[s.SpanContext().SpanID().String()] = s.Name()
		}
		require.Len(t, byName["durable.start RetryOnce"], 1)
		start := byName["durable.start RetryOnce"][0]
		require.Equal(t, caller.SpanContext().SpanID(), start.Parent().SpanID())

		// Steps: the first (schedules Flaky) and the one that takes its
		// result and completes the run.
		steps := byName["durable.step RetryOnce"]
		require.GreaterOrEqual(t, len(steps), 2)
		for _, s := range steps {
			require.Equal(t, start.SpanContext().SpanID(), s.Parent().SpanID(), "a step's parent is the start")
		}
		require.Contains(t, steps[len(steps)-1].Attributes(), attribute.String("durable.status", "completed"))

		attempts := byName["durable.activity Flaky"]
		require.Len(t, attempts, 2)
		for i, a := range attempts {
			require.Contains(t, a.Attributes(), attribute.Int("durable.attempt", i+1))
			require.Equal(t, "durable.step RetryOnce", ids[a.Parent().SpanID().String()], "an attempt's parent is the step that scheduled it")
		}
		require.Equal(t, codes.Error, attempts[0].Status().Code)
		require.Contains(t, attempts[0].Attributes(), attribute.String("durable.outcome", durable.OutcomeFailed))
		require.Equal(t, codes.Unset, attempts[1].Status().Code)
	})

	t.Run("ChildRunsContinueTheTraceOfTheStepThatStartedThem", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rec := tracetest.NewSpanRecorder()
		e, err := durable.Open(ctx, "memory:", durable.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))), quietLogger())
		require.NoError(t, err)
		defer e.Close()
		telemetryWorkflows(e)
		r, err := e.Start(ctx, durable.StartOptions{ID: "parent"}, ParentOfSteps3)
		require.NoError(t, err)
		var out string
		require.NoError(t, r.Get(ctx, &out))
		require.Equal(t, "c...", out)
		require.NoError(t, e.Close())

		names := map[string]string{}
		for _, s := range rec.Ended() {
			names[s.SpanContext().SpanID().String()] = s.Name()
		}
		var start sdktrace.ReadOnlySpan
		childSteps := 0
		for _, s := range rec.Ended() {
			if s.Name() == "durable.start ParentOfSteps3" {
				start = s
			}
		}
		require.NotNil(t, start)
		for _, s := range rec.Ended() {
			require.Equal(t, start.SpanContext().TraceID(), s.SpanContext().TraceID(), "%s is in the parent's trace", s.Name())
			if s.Name() == "durable.step Steps3" {
				childSteps++
				require.Equal(t, "durable.step ParentOfSteps3", names[s.Parent().SpanID().String()])
			}
		}
		require.GreaterOrEqual(t, childSteps, 4)
	})

	t.Run("NoTraceStoredWithoutASpan", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e, err := durable.Open(ctx, "memory:", quietLogger())
		require.NoError(t, err)
		defer e.Close()
		telemetryWorkflows(e)
		r, err := e.Start(ctx, durable.StartOptions{ID: "plain"}, Steps3, "x")
		require.NoError(t, err)
		require.NoError(t, r.Get(ctx, nil))
		startedEvent := func(id string) string {
			r, err := e.Store().CurrentRun(ctx, id)
			require.NoError(t, err)
			events, err := e.Store().LoadJournal(ctx, r.RunID, 0)
			require.NoError(t, err)
			require.NotEmpty(t, events)
			require.Equal(t, "Started", events[0].Kind)
			return string(events[0].Data)
		}
		require.NotContains(t, startedEvent("plain"), "traceparent")

		callerCtx, caller := sdktrace.NewTracerProvider().Tracer("app").Start(ctx, "handle request")
		defer caller.End()
		r, err = e.Start(callerCtx, durable.StartOptions{ID: "traced"}, Steps3, "x")
		require.NoError(t, err)
		require.NoError(t, r.Get(ctx, nil))
		require.Contains(t, startedEvent("traced"), caller.SpanContext().TraceID().String(), "an engine without a tracer stores the caller's span context")
	})

	t.Run("AttemptsOnAnotherWorkerAreChildrenOfTheirStep", func(t *testing.T) {
		t.Parallel()
		dsn, schema := pgSchema(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		runsRec, actsRec := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
		runs := openPGEngine(t, dsn, schema, durable.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(runsRec))))
		runs.RegisterWorkflow(DotElsewhere)
		acts := openPGEngine(t, dsn, schema, durable.WithQueues("acts"), durable.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(actsRec))))
		acts.RegisterActivity(Dot)

		r, err := runs.Start(ctx, durable.StartOptions{ID: "elsewhere"}, DotElsewhere, "x")
		require.NoError(t, err)
		var out string
		require.NoError(t, r.Get(ctx, &out))
		require.Equal(t, "x.", out)
		require.NoError(t, acts.Close())
		require.NoError(t, runs.Close())

		steps := map[string]bool{}
		var start sdktrace.ReadOnlySpan
		for _, s := range runsRec.Ended() {
			switch s.Name() {
			case "durable.step DotElsewhere":
				steps[s.SpanContext().SpanID().String()] = true
			case "durable.start DotElsewhere":
				start = s
			}
		}
		require.NotNil(t, start)
		attempts := actsRec.Ended()
		require.Len(t, attempts, 1)
		require.Equal(t, "durable.activity Dot", attempts[0].Name())
		require.Equal(t, start.SpanContext().TraceID(), attempts[0].SpanContext().TraceID())
		require.True(t, attempts[0].Parent().IsRemote())
		require.True(t, steps[attempts[0].Parent().SpanID().String()], "the attempt's parent is the step that scheduled it, on the other worker")
	})

	t.Run("TraceCrossesProcessesThroughTheStore", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
		workerRec, clientRec := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
		worker, err := durable.Open(ctx, dsn, durable.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(workerRec))), quietLogger())
		require.NoError(t, err)
		defer worker.Close()
		telemetryWorkflows(worker)
		client, err := durable.Open(ctx, dsn, durable.WithClientOnly(),
			durable.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(clientRec))), quietLogger())
		require.NoError(t, err)
		defer client.Close()

		r, err := client.Start(ctx, durable.StartOptions{ID: "steps"}, "Steps3", "x")
		require.NoError(t, err)
		var out string
		require.NoError(t, r.Get(ctx, &out))
		require.Equal(t, "x...", out)
		require.NoError(t, worker.Close())

		clientSpans := clientRec.Ended()
		require.Len(t, clientSpans, 1)
		start := clientSpans[0]
		require.Equal(t, "durable.start Steps3", start.Name())
		var steps, attempts int
		stepIDs := map[string]bool{}
		workerSpans := workerRec.Ended()
		for _, s := range workerSpans {
			if s.Name() == "durable.step Steps3" {
				stepIDs[s.SpanContext().SpanID().String()] = true
			}
		}
		for _, s := range workerSpans {
			require.Equal(t, start.SpanContext().TraceID(), s.SpanContext().TraceID(), "%s continues the starter's trace", s.Name())
			switch s.Name() {
			case "durable.step Steps3":
				steps++
				require.Equal(t, start.SpanContext().SpanID(), s.Parent().SpanID())
				require.True(t, s.Parent().IsRemote())
			case "durable.activity Dot":
				attempts++
				require.True(t, stepIDs[s.Parent().SpanID().String()], "an attempt's parent is a step")
			}
		}
		require.GreaterOrEqual(t, steps, 4) // the first step and one per activity result
		require.Equal(t, 3, attempts)
	})
}
