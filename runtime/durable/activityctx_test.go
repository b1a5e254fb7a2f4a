package durable_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

type bgTenantKey struct{}

// bgTenantOf reads what the worker put in its activities' background context.
func bgTenantOf(ctx context.Context) (string, error) {
	s, _ := ctx.Value(bgTenantKey{}).(string)
	return s, nil
}

// blockUntilDone waits for its context to end, and says why.
func blockUntilDone(ctx context.Context) (string, error) {
	<-ctx.Done()
	return context.Cause(ctx).Error(), nil
}

func bgTenantWorkflow(ctx context.Context) ([]string, error) {
	remote, err := durable.Call[string](ctx, bgTenantOf)
	if err != nil {
		return nil, err
	}
	local, err := durable.CallLocal[string](ctx, bgTenantOf)
	if err != nil {
		return nil, err
	}
	return []string{remote, local}, nil
}

func blockingWorkflow(ctx context.Context) (string, error) {
	return durable.Call[string](ctx, blockUntilDone)
}

func TestServeWithActivityContext(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:", durable.WithQueues())
	bg, stop := context.WithCancelCause(context.WithValue(context.Background(), bgTenantKey{}, "acme"))
	defer stop(nil)
	e.ServeWithActivityContext(bg, "tenants")
	e.Serve("plain")
	e.RegisterWorkflow(bgTenantWorkflow)
	e.RegisterWorkflow(blockingWorkflow)
	e.RegisterActivity(bgTenantOf)
	e.RegisterActivity(blockUntilDone)

	var got []string
	run, err := e.Start(ctx, durable.StartOptions{ID: "t", Queue: "tenants"}, bgTenantWorkflow)
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, []string{"acme", "acme"}, got, "activities and local activities see the queue's background values")

	run, err = e.Start(ctx, durable.StartOptions{ID: "p", Queue: "plain"}, bgTenantWorkflow)
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, []string{"", ""}, got, "another queue's activities do not")

	run, err = e.Start(ctx, durable.StartOptions{ID: "b", Queue: "tenants"}, blockingWorkflow)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.Busy() > 0 }, 10*time.Second, 5*time.Millisecond)
	stop(context.Canceled)
	var why string
	require.NoError(t, run.Get(ctx, &why))
	require.Equal(t, context.Canceled.Error(), why, "the background context's end ends the attempt's")
}
