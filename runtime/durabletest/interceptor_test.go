package durabletest_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durable/interceptor"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// keyValues records what it is told to log.
type keyValues struct{ entries []kvEntry }

type kvEntry struct {
	level, msg string
	kv         []any
}

func (k *keyValues) Debug(msg string, kv ...any) {
	k.entries = append(k.entries, kvEntry{"DEBUG", msg, kv})
}
func (k *keyValues) Info(msg string, kv ...any) {
	k.entries = append(k.entries, kvEntry{"INFO", msg, kv})
}
func (k *keyValues) Warn(msg string, kv ...any) {
	k.entries = append(k.entries, kvEntry{"WARN", msg, kv})
}
func (k *keyValues) Error(msg string, kv ...any) {
	k.entries = append(k.entries, kvEntry{"ERROR", msg, kv})
}

func (k *keyValues) find(level, msg string) []any {
	for _, e := range k.entries {
		if e.level == level && e.msg == msg {
			return e.kv
		}
	}
	return nil
}

// tagger adds a tag to the workflow's and the activities' loggers.
type tagger struct {
	interceptor.WorkerInterceptorBase
}

func (t *tagger) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &taggerWorkflowIn{}
	i.Next = next
	return i
}

func (t *tagger) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &taggerActivityIn{}
	i.Next = next
	return i
}

type taggerWorkflowIn struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (w *taggerWorkflowIn) Init(out interceptor.WorkflowOutboundInterceptor) error {
	o := &taggerWorkflowOut{}
	o.Next = out
	return w.Next.Init(o)
}

type taggerWorkflowOut struct {
	interceptor.WorkflowOutboundInterceptorBase
}

func (o *taggerWorkflowOut) GetLogger(ctx context.Context) *slog.Logger {
	return o.Next.GetLogger(ctx).With("tag", "workflow")
}

type taggerActivityIn struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *taggerActivityIn) Init(out interceptor.ActivityOutboundInterceptor) error {
	o := &taggerActivityOut{}
	o.Next = out
	return a.Next.Init(o)
}

type taggerActivityOut struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (o *taggerActivityOut) GetLogger(ctx context.Context) *slog.Logger {
	return o.Next.GetLogger(ctx).With("tag", "activity")
}

func TaggedActivity(ctx context.Context, name string) (string, error) {
	durable.Logger(ctx).Info("activity ran", "name", name)
	return "hi " + name, nil
}

func TaggedWorkflow(ctx context.Context, name string) (string, error) {
	durable.Logger(ctx).Info("workflow ran", "name", name)
	return durable.Call[string](ctx, TaggedActivity, name)
}

func TestInterceptors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		interceptors []durable.WorkerInterceptor
		wantTags     bool
	}{
		{"WithInterceptor", []durable.WorkerInterceptor{&tagger{}}, true},
		{"WithoutInterceptor", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs keyValues
			var suite durabletest.WorkflowTestSuite
			suite.SetLogger(&logs)
			env := suite.NewEnv(t)
			env.RegisterActivity(TaggedActivity)
			env.SetWorkerOptions(durabletest.WorkerOptions{Interceptors: tc.interceptors})
			env.ExecuteWorkflow(TaggedWorkflow, "ann")
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var got string
			require.NoError(t, env.GetWorkflowResult(&got))
			require.Equal(t, "hi ann", got)

			wf, act := logs.find("INFO", "workflow ran"), logs.find("INFO", "activity ran")
			require.NotNil(t, wf)
			require.NotNil(t, act)
			require.True(t, hasPair(wf, "name", "ann"))
			require.True(t, hasPair(act, "name", "ann"))
			require.Equal(t, tc.wantTags, hasPair(wf, "tag", "workflow"), "workflow log: %v", wf)
			require.Equal(t, tc.wantTags, hasPair(act, "tag", "activity"), "activity log: %v", act)
		})
	}
}

func hasPair(kv []any, k, v any) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == k && kv[i+1] == v {
			return true
		}
	}
	return false
}

func TestKeyValueHandlerFlattensGroups(t *testing.T) {
	t.Parallel()
	var logs keyValues
	l := slog.New(durabletest.NewKeyValueHandler(&logs)).With("a", 1).WithGroup("g")
	l.Warn("m", "b", "x", slog.Group("h", "c", true))
	l.Debug("d")
	l.Error("e")
	require.Equal(t, []any{"a", int64(1), "g.b", "x", "g.h.c", true}, logs.find("WARN", "m"))
	require.True(t, slices.ContainsFunc(logs.entries, func(e kvEntry) bool { return e.level == "DEBUG" && e.msg == "d" }))
	require.Equal(t, 3, len(logs.entries))
	require.Equal(t, "ERROR", logs.entries[2].level)
}

// TestActivityEnvInterceptors checks that an ActivityEnv runs the
// activity interceptors and not the workflow ones, as Temporal's does.
func TestActivityEnvInterceptors(t *testing.T) {
	t.Parallel()
	var logs keyValues
	aenv := durabletest.NewActivityEnv(t, durabletest.WithEngineOptions(durable.WithLogger(slog.New(durabletest.NewKeyValueHandler(&logs)))))
	aenv.SetWorkerOptions(durabletest.WorkerOptions{Interceptors: []durable.WorkerInterceptor{&tagger{}, &noWorkflows{t: t}}})
	v, err := aenv.ExecuteActivity(TaggedActivity, "cy")
	require.NoError(t, err)
	var got string
	require.NoError(t, v.Get(&got))
	require.Equal(t, "hi cy", got)
	require.True(t, hasPair(logs.find("INFO", "activity ran"), "tag", "activity"))
}

// noWorkflows fails the test if a workflow interceptor is asked for.
type noWorkflows struct {
	interceptor.WorkerInterceptorBase
	t *testing.T
}

func (n *noWorkflows) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	n.t.Errorf("workflow interceptor asked for %s", durable.GetInfo(ctx).Workflow)
	return next
}
