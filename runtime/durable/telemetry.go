package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Telemetry: the engine reports OpenTelemetry metrics and traces through
// the providers given to Open (WithMeterProvider, WithTracerProvider), so
// any exporter works. Without them it reports nothing and costs nothing:
// each hook below starts with a nil check. docs/telemetry.md lists what is
// emitted.
//
// Metric names (instrumentation scope TelemetryScope):
//
//	durable.runs.started                counter        {workflow, queue}
//	durable.runs.closed                 counter        {workflow, queue, status}
//	durable.runs.stuck                  counter        {workflow, queue}
//	durable.activity.attempts           counter        {activity, outcome}
//	durable.activity.schedule_to_start  histogram (s)  {activity}
//	durable.activity.execution          histogram (s)  {activity, outcome}
//	durable.commit.latency              histogram (s)  {outcome}
//	durable.runs.loaded                 gauge          runs in this engine's memory
//	durable.runs.parked                 gauge          loaded runs waiting for input
//
// Spans: "durable.start WORKFLOW" for a client's Start, "durable.step
// WORKFLOW" for each step of a run (its code running between two waits,
// and the commit of what it did), "durable.activity ACTIVITY" for each
// activity attempt. The span context crosses processes through the store:
// a Start stores it (W3C traceparent) in the run's Started event, whose
// steps are its children wherever they run, and each activity task
// carries the span context of the step that scheduled it.

// TelemetryScope is the instrumentation scope name of the engine's meter
// and tracer.
const TelemetryScope = "github.com/durablego/toolkit/runtime/durable"

// Metric names the engine reports.
const (
	MetricRunsStarted             = "durable.runs.started"
	MetricRunsClosed              = "durable.runs.closed"
	MetricRunsStuck               = "durable.runs.stuck"
	MetricActivityAttempts        = "durable.activity.attempts"
	MetricActivityScheduleToStart = "durable.activity.schedule_to_start"
	MetricActivityExecution       = "durable.activity.execution"
	MetricCommitLatency           = "durable.commit.latency"
	MetricRunsLoaded              = "durable.runs.loaded"
	MetricRunsParked              = "durable.runs.parked"
)

// Activity attempt outcomes (the outcome attribute of
// durable.activity.attempts and durable.activity.execution).
const (
	OutcomeCompleted = "completed"
	OutcomeFailed    = "failed"
	OutcomeTimedOut  = "timed_out"
	OutcomeCanceled  = "canceled"
	OutcomePanicked  = "panicked"
	// OutcomePending: the attempt returned ErrResultPending; its outcome
	// comes later, through Engine.CompleteActivity (async.go).
	OutcomePending = "pending"
)

// WithMeterProvider makes the engine report its metrics (docs/telemetry.md)
// through mp. Without it, or WithMeter, the engine reports none; nor with
// OpenTelemetry's noop provider, which it recognises and skips.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		c.meter = nil
		if _, isNoop := mp.(metricnoop.MeterProvider); mp != nil && !isNoop {
			c.meter = mp.Meter(TelemetryScope)
		}
	})
}

// WithMeter makes the engine report its metrics through m, for programs
// that hold a Meter rather than its provider (as Temporal's
// opentelemetry.MetricsHandlerOptions do).
func WithMeter(m metric.Meter) Option {
	return optionFunc(func(c *config) {
		if _, isNoop := m.(metricnoop.Meter); isNoop {
			m = nil
		}
		c.meter = m
	})
}

// WithTracerProvider makes the engine record spans (docs/telemetry.md)
// through tp. Without it, or WithTracer, the engine records none, but
// still stores the span context of a Start's ctx with the run, so that
// workers that trace continue the starter's trace. OpenTelemetry's noop
// provider counts as none.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		c.tracer = nil
		if _, isNoop := tp.(tracenoop.TracerProvider); tp != nil && !isNoop {
			c.tracer = tp.Tracer(TelemetryScope)
		}
	})
}

// WithTracer makes the engine record spans through t, for programs that
// hold a Tracer rather than its provider (as Temporal's
// opentelemetry.TracerOptions do).
func WithTracer(t trace.Tracer) Option {
	return optionFunc(func(c *config) {
		if _, isNoop := t.(tracenoop.Tracer); isNoop {
			t = nil
		}
		c.tracer = t
	})
}

// telemetry holds the engine's instruments. A nil *telemetry reports
// nothing; so does one whose tracer or instruments are nil.
type telemetry struct {
	tracer trace.Tracer // nil: no spans

	metrics                            bool // the instruments below are set
	started, closed, stuck, attempts   metric.Int64Counter
	scheduleToStart, execution, commit metric.Float64Histogram
	gauges                             metric.Registration // loaded and parked runs
	commitOK, commitErr                metric.MeasurementOption

	// sets caches attribute sets: building one sorts and hashes its
	// attributes, which would cost more than the measurement.
	setsMu sync.RWMutex
	sets   map[attrKey]metric.MeasurementOption
}

// attrKey names an attribute set of one of the metrics: its keys are
// fixed by kind, its values are a, b and c.
type attrKey struct {
	kind    uint8
	a, b, c string
}

// Attribute set kinds.
const (
	setRun       uint8 = iota // workflow, queue
	setRunStatus              // workflow, queue, status
	setActivity               // activity
	setAttempt                // activity, outcome
)

// attrs returns the measurement option of an attribute set, made once.
func (t *telemetry) attrs(k attrKey) metric.MeasurementOption {
	t.setsMu.RLock()
	o, ok := t.sets[k]
	t.setsMu.RUnlock()
	if ok {
		return o
	}
	var kvs []attribute.KeyValue
	switch k.kind {
	case setRun:
		kvs = []attribute.KeyValue{attribute.String("workflow", k.a), attribute.String("queue", k.b)}
	case setRunStatus:
		kvs = []attribute.KeyValue{attribute.String("workflow", k.a), attribute.String("queue", k.b), attribute.String("status", k.c)}
	case setActivity:
		kvs = []attribute.KeyValue{attribute.String("activity", k.a)}
	case setAttempt:
		kvs = []attribute.KeyValue{attribute.String("activity", k.a), attribute.String("outcome", k.b)}
	}
	o = metric.WithAttributeSet(attribute.NewSet(kvs...))
	t.setsMu.Lock()
	if len(t.sets) >= attrSetsMax {
		clear(t.sets) // many workflow or activity names: start over rather than grow
	}
	t.sets[k] = o
	t.setsMu.Unlock()
	return o
}

// attrSetsMax bounds the attribute sets telemetry keeps.
const attrSetsMax = 4096

// stepTelemetry is a run's tracing state.
type stepTelemetry struct {
	span      trace.Span        // the current step's; nil between steps
	traceRead bool              // runTrace was read from the start options
	runTrace  trace.SpanContext // stored with the run at Start
}

// newTelemetry makes the engine's instruments; nil when it reports nothing.
func newTelemetry(e *Engine) (*telemetry, error) {
	cfg := &e.cfg
	if cfg.meter == nil && cfg.tracer == nil {
		return nil, nil
	}
	t := &telemetry{tracer: cfg.tracer, sets: map[attrKey]metric.MeasurementOption{}}
	m := cfg.meter
	if m == nil {
		return t, nil
	}
	var errs []error
	counter := func(name, desc, unit string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
		errs = append(errs, err)
		return h
	}
	t.started = counter(MetricRunsStarted, "Runs whose first step ran on this engine.", "{run}")
	t.closed = counter(MetricRunsClosed, "Runs closed by this engine, by status.", "{run}")
	t.stuck = counter(MetricRunsStuck, "Runs this engine stopped as stuck (non-determinism or a panic in workflow code).", "{run}")
	t.attempts = counter(MetricActivityAttempts, "Activity attempts run by this engine, by outcome.", "{attempt}")
	t.scheduleToStart = seconds(MetricActivityScheduleToStart, "Time from an activity attempt being due to its start.")
	t.execution = seconds(MetricActivityExecution, "Time an activity attempt ran.")
	t.commit = seconds(MetricCommitLatency, "Time a run's commit to the store took.")
	loaded, err := m.Int64ObservableGauge(MetricRunsLoaded, metric.WithDescription("Runs in this engine's memory."), metric.WithUnit("{run}"))
	errs = append(errs, err)
	parked, err := m.Int64ObservableGauge(MetricRunsParked, metric.WithDescription("Runs in this engine's memory that wait for input."), metric.WithUnit("{run}"))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("durable: telemetry instruments: %w", err)
	}
	t.gauges, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		n, idle := e.loadedRuns()
		o.ObserveInt64(loaded, int64(n))
		o.ObserveInt64(parked, int64(idle))
		return nil
	}, loaded, parked)
	if err != nil {
		return nil, fmt.Errorf("durable: telemetry gauges: %w", err)
	}
	t.commitOK = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "ok")))
	t.commitErr = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "error")))
	t.metrics = true
	return t, nil
}

// close unregisters the gauges' callback.
func (t *telemetry) close() {
	if t != nil && t.gauges != nil {
		_ = t.gauges.Unregister()
	}
}

// loadedRuns counts the runs in memory and those of them parked: loaded
// and not working (no message being handled).
func (e *Engine) loadedRuns() (loaded, parked int) {
	e.mu.Lock()
	ins := make([]*instance, 0, len(e.instances))
	for _, in := range e.instances {
		ins = append(ins, in)
	}
	e.mu.Unlock()
	for _, in := range ins {
		if open, draining := in.box.state(); open {
			loaded++
			if !draining {
				parked++
			}
		}
	}
	return loaded, parked
}

// runStarted counts a run whose first step runs (live, not replayed).
func (t *telemetry) runStarted(in *instance) {
	if t == nil || !t.metrics {
		return
	}
	t.started.Add(in.e.ctx, 1, t.attrs(attrKey{kind: setRun, a: in.workflow, b: in.queue}))
}

// runClosed counts a run whose close was committed.
func (t *telemetry) runClosed(in *instance, status store.RunStatus) {
	if t == nil || !t.metrics {
		return
	}
	t.closed.Add(in.e.ctx, 1, t.attrs(attrKey{kind: setRunStatus, a: in.workflow, b: in.queue, c: string(status)}))
}

// runStuck counts a run stopped as stuck.
func (t *telemetry) runStuck(in *instance) {
	if t == nil || !t.metrics {
		return
	}
	t.stuck.Add(in.e.ctx, 1, t.attrs(attrKey{kind: setRun, a: in.workflow, b: in.queue}))
}

// commitStart returns the time a commit starts, zero when commits are not
// measured.
func (t *telemetry) commitStart() time.Time {
	if t == nil || !t.metrics {
		return time.Time{}
	}
	return time.Now()
}

// commitDone records a commit's latency.
func (t *telemetry) commitDone(start time.Time, err error) {
	if t == nil || !t.metrics {
		return
	}
	o := t.commitOK
	if err != nil {
		o = t.commitErr
	}
	t.commit.Record(context.Background(), time.Since(start).Seconds(), o)
}

// attempt is an activity attempt being measured (attemptStart).
type attempt struct {
	span  trace.Span
	start time.Time
}

// attemptStart begins an activity attempt's span and measures its
// schedule-to-start latency: from the time the attempt was due (the
// call's schedule for a first attempt, the retry's due time for a later
// one with a task row) to now. It returns ctx with the span.
func (t *telemetry) attemptStart(ctx context.Context, at *activityTask, st *activityState) (context.Context, attempt) {
	if t == nil {
		return ctx, attempt{}
	}
	a := attempt{start: time.Now()}
	if t.metrics {
		due := time.Time{}
		switch {
		case st.task != nil && !st.task.DueAt.IsZero():
			due = st.task.DueAt
		case st.info.Attempt <= 1:
			due = at.ScheduledAt
		}
		if !due.IsZero() {
			d := max(st.info.StartedTime.Sub(due), 0)
			t.scheduleToStart.Record(ctx, d.Seconds(), t.attrs(attrKey{kind: setActivity, a: at.Activity}))
		}
	}
	if t.tracer != nil {
		parent := ctx
		if sc := parseTraceparent(at.Trace); sc.IsValid() {
			parent = trace.ContextWithRemoteSpanContext(ctx, sc)
		}
		ctx, a.span = t.tracer.Start(parent, "durable.activity "+at.Activity, trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(
				attribute.String("durable.activity", at.Activity),
				attribute.Int("durable.attempt", st.info.Attempt),
				attribute.String("durable.workflow", at.Workflow),
				attribute.String("durable.workflow_id", at.WorkflowID),
				attribute.String("durable.run_id", at.RunID),
				attribute.Int64("durable.activity_id", at.ID),
			))
	}
	return ctx, a
}

// attemptEnd ends an activity attempt's span and counts its outcome.
func (t *telemetry) attemptEnd(a attempt, at *activityTask, err error) {
	if t == nil {
		return
	}
	outcome := attemptOutcome(err)
	if t.metrics {
		attrs := t.attrs(attrKey{kind: setAttempt, a: at.Activity, b: outcome})
		t.attempts.Add(context.Background(), 1, attrs)
		t.execution.Record(context.Background(), time.Since(a.start).Seconds(), attrs)
	}
	if a.span != nil {
		a.span.SetAttributes(attribute.String("durable.outcome", outcome))
		if err != nil && outcome != OutcomePending {
			a.span.RecordError(err)
			a.span.SetStatus(codes.Error, err.Error())
		}
		a.span.End()
	}
}

// attemptOutcome classifies an attempt's error.
func attemptOutcome(err error) string {
	var (
		te *TimeoutError
		pe *PanicError
		ce *CanceledError
	)
	switch {
	case err == nil:
		return OutcomeCompleted
	case errors.Is(err, ErrResultPending):
		return OutcomePending
	case errors.As(err, &te):
		return OutcomeTimedOut
	case errors.As(err, &pe):
		return OutcomePanicked
	case errors.As(err, &ce), errors.Is(err, context.Canceled):
		return OutcomeCanceled
	}
	return OutcomeFailed
}

// stepStart begins the span of a run's step: the handling of a batch of
// messages (msgs; nil for a Start's first step) up to the commit of what
// it did. Its parent is the span context stored with the run at Start
// (see withTraceparent). A batch of queries only, which runs no step, has
// no span.
func (t *telemetry) stepStart(in *instance, msgs []any) {
	if t == nil || t.tracer == nil || in.m.ReadOnly() {
		return
	}
	if msgs != nil && !slices.ContainsFunc(msgs, func(m any) bool {
		switch m.(type) {
		case msgQuery, msgEvict:
			return false
		}
		return true
	}) {
		return
	}
	parent := in.e.ctx
	if sc := in.runSpanContext(); sc.IsValid() {
		parent = trace.ContextWithRemoteSpanContext(parent, sc)
	}
	_, in.extra.tel.span = t.tracer.Start(parent, "durable.step "+in.workflow, trace.WithAttributes(
		attribute.String("durable.workflow", in.workflow),
		attribute.String("durable.workflow_id", in.workflowID),
		attribute.String("durable.run_id", in.runID),
		attribute.String("durable.queue", in.queue),
	))
}

// stepEnd ends the span of a run's step.
func (t *telemetry) stepEnd(in *instance) {
	span := in.extra.tel.span
	if t == nil || span == nil {
		return
	}
	in.extra.tel.span = nil
	if in.m.Closed() {
		span.SetAttributes(attribute.String("durable.status", string(in.m.Closing().Status)))
	}
	if in.halt != nil {
		span.RecordError(in.halt)
		span.SetStatus(codes.Error, in.halt.Error())
	}
	span.End()
}

// runSpanContext returns the span context stored with the run at Start,
// read from its Started event's options on first use. Before the event is
// applied (the step that loads the run) it is read from the journal.
func (in *instance) runSpanContext() trace.SpanContext {
	if in.extra.tel.traceRead {
		return in.extra.tel.runTrace
	}
	options := in.started.Options
	if in.started.Workflow == "" {
		var first []store.Event
		switch {
		case len(in.journal) > 0:
			first = in.journal[:1]
		case len(in.m.Step().Events) > 0:
			first = in.m.Step().Events[:1]
		}
		if len(first) == 0 || first[0].Kind != journal.Started {
			return trace.SpanContext{}
		}
		var d journal.StartedData
		if json.Unmarshal(first[0].Data, &d) != nil {
			return trace.SpanContext{}
		}
		options = d.Options
	}
	in.extra.tel.traceRead = true
	var o struct {
		Traceparent string `json:"traceparent"`
	}
	if len(options) > 0 && json.Unmarshal(options, &o) == nil {
		in.extra.tel.runTrace = parseTraceparent(o.Traceparent)
	}
	return in.extra.tel.runTrace
}

// spanContext is the span context of what the run does now: the current
// step's when it records one, else the one stored with the run.
func (in *instance) spanContext() trace.SpanContext {
	if in.e.tel == nil && len(in.started.Options) == 0 {
		return trace.SpanContext{}
	}
	if s := in.extra.tel.span; s != nil && s.SpanContext().IsValid() {
		return s.SpanContext()
	}
	return in.runSpanContext()
}

// traceparent is spanContext as a W3C traceparent ("" when none), which
// an activity task of the run carries to the worker that runs it.
func (in *instance) traceparent() string {
	sc := in.spanContext()
	if !sc.IsValid() {
		return ""
	}
	return formatTraceparent(sc)
}

// startSpan begins the span of a client's Start of a run. With no tracer
// it returns ctx as is and a span that records nothing.
func (t *telemetry) startSpan(ctx context.Context, workflow, id string) (context.Context, trace.Span) {
	if t == nil || t.tracer == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return t.tracer.Start(ctx, "durable.start "+workflow, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
		attribute.String("durable.workflow", workflow),
		attribute.String("durable.workflow_id", id),
	))
}

// withTraceparent adds sc, if valid, to a run's start options
// (journal.StartedData.Options), where the run's steps find it in
// whichever process works them. It is kept across continue-as-new and
// retries, which copy the options.
func withTraceparent(options json.RawMessage, sc trace.SpanContext) json.RawMessage {
	if !sc.IsValid() {
		return options
	}
	var o map[string]json.RawMessage
	if len(options) > 0 && json.Unmarshal(options, &o) != nil {
		return options
	}
	if o == nil {
		o = map[string]json.RawMessage{}
	}
	o["traceparent"], _ = json.Marshal(formatTraceparent(sc))
	raw, err := json.Marshal(o)
	if err != nil {
		return options
	}
	return raw
}

// formatTraceparent encodes a span context as a W3C traceparent.
func formatTraceparent(sc trace.SpanContext) string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	return c["traceparent"]
}

// parseTraceparent decodes a W3C traceparent; an invalid span context for
// "" or a malformed one.
func parseTraceparent(s string) trace.SpanContext {
	if s == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": s})
	return trace.SpanContextFromContext(ctx)
}
