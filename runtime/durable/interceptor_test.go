package durable_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durable/interceptor"
	"github.com/durablego/toolkit/runtime/durable/shaped"
)

// capture is a slog handler that keeps every record with its attributes
// (those added by With included), flattened to key=value strings.
type capture struct {
	mu    *sync.Mutex
	recs  *[]capturedRecord
	attrs []string
}

type capturedRecord struct {
	msg   string
	attrs []string
}

func newCapture() *capture { return &capture{mu: &sync.Mutex{}, recs: &[]capturedRecord{}} }

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	attrs := slices.Clone(c.attrs)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a.Key+"="+a.Value.String())
		return true
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.recs = append(*c.recs, capturedRecord{msg: r.Message, attrs: attrs})
	return nil
}

func (c *capture) WithAttrs(as []slog.Attr) slog.Handler {
	n := *c
	n.attrs = slices.Clone(c.attrs)
	for _, a := range as {
		n.attrs = append(n.attrs, a.Key+"="+a.Value.String())
	}
	return &n
}

func (c *capture) WithGroup(string) slog.Handler { return c }

// records returns the records logged with msg.
func (c *capture) records(msg string) []capturedRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []capturedRecord
	for _, r := range *c.recs {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// auditLog records the activity types the audit activity saw.
type auditLog struct {
	mu    sync.Mutex
	types []string
}

func (a *auditLog) Audit(ctx context.Context, activityType string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.types = append(a.types, activityType)
	return nil
}

func (a *auditLog) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.types)
}

// tenantInterceptor exercises every layer: it upper-cases the workflow's
// argument, tags the workflow's and activities' loggers, calls an audit
// activity before every other activity call, marks activity results and
// signal values, and counts queries.
type tenantInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (t *tenantInterceptor) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	// Workflow code may run here: the run's info names the workflow.
	i := &tenantWorkflowInbound{workflow: durable.GetInfo(ctx).Workflow}
	i.Next = next
	return i
}

func (t *tenantInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &tenantActivityInbound{}
	i.Next = next
	return i
}

type tenantWorkflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	queries  int
	workflow string
}

func (w *tenantWorkflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &tenantWorkflowOutbound{workflow: w.workflow}
	o.Next = outbound
	return w.Next.Init(o)
}

func (w *tenantWorkflowInbound) ExecuteWorkflow(ctx context.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	in.Args[0] = strings.ToUpper(in.Args[0].(string))
	return w.Next.ExecuteWorkflow(ctx, in)
}

func (w *tenantWorkflowInbound) HandleSignal(ctx context.Context, in *interceptor.HandleSignalInput) error {
	var v string
	if err := json.Unmarshal(in.Arg, &v); err != nil {
		return err
	}
	in.Arg, _ = json.Marshal(v + "+")
	return w.Next.HandleSignal(ctx, in)
}

func (w *tenantWorkflowInbound) HandleQuery(ctx context.Context, in *interceptor.HandleQueryInput) (any, error) {
	w.queries++
	res, err := w.Next.HandleQuery(ctx, in)
	if err != nil {
		return nil, err
	}
	var state string
	if err := json.Unmarshal(res.(json.RawMessage), &state); err != nil {
		return nil, err
	}
	return state + "#" + strings.Repeat("q", w.queries), nil
}

type tenantWorkflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	workflow string
}

func (o *tenantWorkflowOutbound) GetLogger(ctx context.Context) *slog.Logger {
	return o.Next.GetLogger(ctx).With("tenant", "acme", "wf", o.workflow)
}

func (o *tenantWorkflowOutbound) ExecuteActivity(ctx context.Context, activityType string, args ...any) durable.EncodedFuture {
	if err := o.Next.ExecuteActivity(ctx, "Audit", activityType).Get(ctx, nil); err != nil {
		return shaped.Ready(ctx, nil, err)
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

type tenantActivityInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *tenantActivityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	o := &tenantActivityOutbound{}
	o.Next = outbound
	return a.Next.Init(o)
}

func (a *tenantActivityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	if s, ok := res.(string); ok && err == nil {
		return s + "!", nil
	}
	return res, err
}

type tenantActivityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (o *tenantActivityOutbound) GetLogger(ctx context.Context) *slog.Logger {
	return o.Next.GetLogger(ctx).With("tenant", "acme-activity")
}

func LoggedGreet(ctx context.Context, name string) (string, error) {
	durable.Logger(ctx).Info("greeting", "name", name)
	return "hello " + name, nil
}

func Intercepted(ctx context.Context, name string) (string, error) {
	state := "started"
	if err := durable.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	durable.Logger(ctx).Info("workflow started", "name", name)
	g, err := durable.Call[string](ctx, LoggedGreet, name)
	if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, 5*time.Millisecond); err != nil {
		return "", err
	}
	state = "waiting"
	msg, err := durable.Receive[string](ctx, "go")
	if err != nil {
		return "", err
	}
	return g + "/" + msg, nil
}

func TestInterceptors(t *testing.T) {
	t.Parallel()
	type store struct {
		name string
		open func(t *testing.T, opts ...durable.Option) *durable.Engine
	}
	stores := []store{
		{"SQLite", func(t *testing.T, opts ...durable.Option) *durable.Engine {
			return openEngine(t, "sqlite:"+filepath.Join(t.TempDir(), "icpt.db"), opts...)
		}},
		{"PostgreSQL", func(t *testing.T, opts ...durable.Option) *durable.Engine {
			dsn, schema := pgSchema(t)
			return openPGEngine(t, dsn, schema, opts...)
		}},
	}
	modes := []struct {
		name string
		opts []durable.Option
	}{
		{"Parked", nil},
		{"EvictedAtEveryWait", []durable.Option{durable.WithMaxCachedRuns(1), durable.WithEvictAfter(time.Nanosecond)}},
	}
	for _, st := range stores {
		for _, mode := range modes {
			t.Run(st.name+"/"+mode.name+"/EveryLayer", func(t *testing.T) {
				t.Parallel()
				ctx := waitCtx(t)
				logs := newCapture()
				audit := &auditLog{}
				e := st.open(t, append(slices.Clone(mode.opts),
					durable.WithLogger(slog.New(logs)),
					durable.WithInterceptors(&tenantInterceptor{}))...)
				e.RegisterWorkflow(Intercepted)
				e.RegisterActivity(LoggedGreet)
				e.RegisterActivity(audit)
				run, err := e.Start(ctx, durable.StartOptions{ID: "icpt"}, Intercepted, "ann")
				require.NoError(t, err)
				require.Eventually(t, func() bool {
					v, err := e.Query(ctx, "icpt", "state")
					if err != nil {
						return false
					}
					var s string
					return v.Get(&s) == nil && strings.HasPrefix(s, "waiting#")
				}, 10*time.Second, 10*time.Millisecond)
				require.NoError(t, e.Signal(ctx, "icpt", "go", "go"))
				var got string
				require.NoError(t, run.Get(ctx, &got))
				require.Equal(t, "hello ANN!/go+", got)
				require.Equal(t, []string{"LoggedGreet"}, audit.seen())

				started := logs.records("workflow started")
				require.Len(t, started, 1, "the workflow logs once however often it replays")
				require.Contains(t, started[0].attrs, "tenant=acme")
				require.Contains(t, started[0].attrs, "wf=Intercepted")
				require.Contains(t, started[0].attrs, "name=ANN")
				greeting := logs.records("greeting")
				require.NotEmpty(t, greeting)
				require.Contains(t, greeting[0].attrs, "tenant=acme-activity")
				verifyAll(t, e)
			})
		}
	}

	t.Run("ChildRefused", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		e := openEngine(t, "memory:", durable.WithInterceptors(&childGuard{allowed: "AllowedChild"}))
		e.RegisterWorkflow(GuardedParent)
		e.RegisterWorkflow(AllowedChild)
		e.RegisterWorkflow(RefusedChild)
		run, err := e.Start(ctx, durable.StartOptions{ID: "parent"}, GuardedParent)
		require.NoError(t, err)
		var got string
		err = run.Get(ctx, &got)
		require.ErrorContains(t, err, `child workflow type "RefusedChild" is not allowed`)
		var appErr *durable.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, "not-allowed", appErr.Type())
		page, err := e.List(ctx, durable.ListOptions{})
		require.NoError(t, err)
		var names []string
		for _, r := range page.Runs {
			names = append(names, r.Workflow)
		}
		require.ElementsMatch(t, []string{"GuardedParent", "AllowedChild"}, names, "the refused child never started")
		verifyAll(t, e)
	})

	t.Run("EveryOutboundCall", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		calls := &callLog{}
		e := openEngine(t, "memory:", durable.WithMaxCachedRuns(1), durable.WithEvictAfter(time.Nanosecond),
			durable.WithInterceptors(&outboundRecorder{log: calls}))
		e.RegisterWorkflow(Outbound)
		e.RegisterWorkflow(AllowedChild)
		run, err := e.Start(ctx, durable.StartOptions{ID: "outbound"}, Outbound)
		require.NoError(t, err)
		var got string
		require.NoError(t, run.Get(ctx, &got))
		require.Equal(t, "local:x/ok", got)
		// Each call once, live; replays after every wait make them again
		// (the interceptor sees every replay), so only the order is
		// checked, on the last complete pass.
		last := calls.lastPass()
		require.Equal(t, []string{"GetInfo", "ExecuteLocalActivity", "NewTimer", "Now", "ExecuteChildWorkflow", "GetLogger"}, last)
		verifyAll(t, e)
	})

	t.Run("Updates", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		e := openEngine(t, "memory:", durable.WithInterceptors(&updateCap{max: 100}))
		e.RegisterWorkflow(CappedCounter)
		run, err := e.Start(ctx, durable.StartOptions{ID: "counter"}, CappedCounter)
		require.NoError(t, err)
		for _, tc := range []struct {
			n       int
			want    int
			wantErr string
		}{
			{n: 5, want: 50},             // the interceptor multiplies the handler's result by 10
			{n: -1, wantErr: "negative"}, // the workflow's own validator, reached through the interceptor
			{n: 101, wantErr: "over the cap of 100"},
			{n: 7, want: 120},
		} {
			v, err := e.Update(ctx, "counter", "add", tc.n)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, durable.ErrUpdateRejected)
				require.ErrorContains(t, err, tc.wantErr)
				continue
			}
			require.NoError(t, err)
			var got int
			require.NoError(t, v.Get(&got))
			require.Equal(t, tc.want, got)
		}
		require.NoError(t, e.Signal(ctx, "counter", "stop", nil))
		var total int
		require.NoError(t, run.Get(ctx, &total))
		require.Equal(t, 12, total, "rejected updates leave no trace")
		verifyAll(t, e)
	})

	for _, tc := range []struct {
		name    string
		broken  brokenInterceptor
		wantErr string
	}{
		{"InitWithoutNext", brokenInterceptor{mode: "skip-next"}, "an Init did not call its Next.Init"},
		{"InitError", brokenInterceptor{mode: "init-error"}, "workflow interceptor: init: no tenant"},
		{"NilInbound", brokenInterceptor{mode: "nil"}, "InterceptWorkflow returned nil"},
		{"Panic", brokenInterceptor{mode: "panic"}, "workflow interceptor panicked: boom"},
	} {
		t.Run("BrokenFailsTheRun/"+tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := waitCtx(t)
			e := openEngine(t, "memory:", durable.WithInterceptors(&tc.broken))
			e.RegisterWorkflow(Greet, durable.WithName("GreetWorkflow"))
			run, err := e.Start(ctx, durable.StartOptions{ID: "broken"}, "GreetWorkflow", "x")
			require.NoError(t, err)
			err = run.Get(ctx, nil)
			require.ErrorContains(t, err, tc.wantErr)
			var appErr *durable.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Equal(t, "InterceptorError", appErr.Type())
		})
	}
}

// childGuard refuses child workflows other than allowed: its
// ExecuteChildWorkflow returns a future of its own, failed for a refused
// type and chained to the real child otherwise.
type childGuard struct {
	interceptor.WorkerInterceptorBase
	allowed string
}

func (g *childGuard) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &childGuardInbound{allowed: g.allowed}
	i.Next = next
	return i
}

type childGuardInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	allowed string
}

func (i *childGuardInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &childGuardOutbound{allowed: i.allowed}
	o.Next = outbound
	return i.Next.Init(o)
}

type childGuardOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	allowed string
}

type guardedChild struct {
	shaped.Future
	child durable.ChildWorkflowFuture
}

func (g guardedChild) GetChildWorkflowExecution() durable.EncodedFuture {
	return g.child.GetChildWorkflowExecution()
}

func (g guardedChild) SignalChildWorkflow(ctx context.Context, name string, data any) durable.EncodedFuture {
	return g.child.SignalChildWorkflow(ctx, name, data)
}

func (o *childGuardOutbound) ExecuteChildWorkflow(ctx context.Context, childWorkflowType string, args ...any) durable.ChildWorkflowFuture {
	result, settable := shaped.NewFuture(ctx)
	if childWorkflowType != o.allowed {
		settable.SetError(durable.NewApplicationError(`child workflow type "`+childWorkflowType+`" is not allowed`, "not-allowed"))
		return guardedChild{Future: result}
	}
	child := o.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
	settable.Chain(child)
	return guardedChild{Future: result, child: child}
}

func AllowedChild(ctx context.Context) (string, error) { return "ok", nil }
func RefusedChild(ctx context.Context) (string, error) { return "ok", nil }

func GuardedParent(ctx context.Context) (string, error) {
	a, err := durable.Child[string](ctx, AllowedChild)
	if err != nil {
		return "", err
	}
	b, err := durable.Child[string](ctx, RefusedChild)
	return a + b, err
}

// brokenInterceptor breaks the contract the way mode says.
type brokenInterceptor struct {
	interceptor.WorkerInterceptorBase
	mode string
}

func (b *brokenInterceptor) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	switch b.mode {
	case "nil":
		return nil
	case "panic":
		panic("boom")
	}
	i := &brokenInbound{mode: b.mode}
	i.Next = next
	return i
}

type brokenInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	mode string
}

func (b *brokenInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	if b.mode == "init-error" {
		return errors.New("no tenant")
	}
	return nil
}

// callLog records the outbound calls of each pass through a run; a pass
// starts at GetInfo, the workflow's first call.
type callLog struct {
	mu     sync.Mutex
	passes [][]string
}

func (c *callLog) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if name == "GetInfo" || len(c.passes) == 0 {
		c.passes = append(c.passes, nil)
	}
	c.passes[len(c.passes)-1] = append(c.passes[len(c.passes)-1], name)
}

func (c *callLog) lastPass() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.passes[len(c.passes)-1])
}

// outboundRecorder records every outbound call a run makes.
type outboundRecorder struct {
	interceptor.WorkerInterceptorBase
	log *callLog
}

func (r *outboundRecorder) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &recorderIn{log: r.log}
	i.Next = next
	return i
}

type recorderIn struct {
	interceptor.WorkflowInboundInterceptorBase
	log *callLog
}

func (i *recorderIn) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &recorderOut{log: i.log}
	o.Next = outbound
	return i.Next.Init(o)
}

type recorderOut struct {
	interceptor.WorkflowOutboundInterceptorBase
	log *callLog
}

func (o *recorderOut) GetInfo(ctx context.Context) *durable.Info {
	o.log.add("GetInfo")
	return o.Next.GetInfo(ctx)
}

func (o *recorderOut) ExecuteLocalActivity(ctx context.Context, activityType string, args ...any) durable.EncodedFuture {
	o.log.add("ExecuteLocalActivity")
	return o.Next.ExecuteLocalActivity(ctx, activityType, args...)
}

func (o *recorderOut) NewTimer(ctx context.Context, d time.Duration) durable.EncodedFuture {
	o.log.add("NewTimer")
	return o.Next.NewTimer(ctx, d)
}

func (o *recorderOut) Now(ctx context.Context) time.Time {
	o.log.add("Now")
	return o.Next.Now(ctx)
}

func (o *recorderOut) ExecuteChildWorkflow(ctx context.Context, childWorkflowType string, args ...any) durable.ChildWorkflowFuture {
	o.log.add("ExecuteChildWorkflow")
	return o.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
}

func (o *recorderOut) GetLogger(ctx context.Context) *slog.Logger {
	o.log.add("GetLogger")
	return o.Next.GetLogger(ctx)
}

// Outbound makes one call of each kind; its local activity is not
// registered (a local activity runs by its function).
func Outbound(ctx context.Context) (string, error) {
	if durable.GetInfo(ctx).WorkflowID != "outbound" {
		return "", fmt.Errorf("wrong info")
	}
	ctx = durable.WithLocalCallOptions(ctx, durable.LocalCallOptions{StartToCloseTimeout: time.Second})
	l, err := durable.CallLocal[string](ctx, func(ctx context.Context, s string) (string, error) { return "local:" + s, nil }, "x")
	if err != nil {
		return "", err
	}
	if _, err := durable.NewTimer(ctx, time.Millisecond).Get(ctx); err != nil {
		return "", err
	}
	_ = durable.Now(ctx)
	c, err := durable.Child[string](ctx, AllowedChild)
	if err != nil {
		return "", err
	}
	durable.Logger(ctx).Info("done")
	return l + "/" + c, nil
}

// CappedCounter adds what its "add" updates bring until it is told to stop.
func CappedCounter(ctx context.Context) (int, error) {
	total := 0
	err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, n int) (int, error) {
		total += n
		return total, nil
	}, durable.UpdateOptions{Validator: func(n int) error {
		if n < 0 {
			return errors.New("negative")
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	if _, err := durable.Receive[any](ctx, "stop"); err != nil {
		return 0, err
	}
	return total, nil
}

// updateCap rejects updates whose first argument exceeds max and
// multiplies their results by 10.
type updateCap struct {
	interceptor.WorkerInterceptorBase
	max int
}

func (u *updateCap) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &updateCapIn{max: u.max}
	i.Next = next
	return i
}

type updateCapIn struct {
	interceptor.WorkflowInboundInterceptorBase
	max int
}

func (u *updateCapIn) ValidateUpdate(ctx context.Context, in *interceptor.UpdateInput) error {
	if n := in.Args[0].(int); n > u.max {
		return fmt.Errorf("%d is over the cap of %d", n, u.max)
	}
	return u.Next.ValidateUpdate(ctx, in)
}

func (u *updateCapIn) ExecuteUpdate(ctx context.Context, in *interceptor.UpdateInput) (any, error) {
	res, err := u.Next.ExecuteUpdate(ctx, in)
	if err != nil {
		return nil, err
	}
	return res.(int) * 10, nil
}
