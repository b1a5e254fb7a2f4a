package durable_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// tenantKey is the context key the test propagator carries.
type tenantKey struct{}

// tenantPropagator carries a tenant name under the header key "tenant".
type tenantPropagator struct{}

func (tenantPropagator) Inject(ctx context.Context, h durable.Header) error {
	if v, ok := ctx.Value(tenantKey{}).(string); ok {
		h["tenant"] = []byte(v)
	}
	return nil
}

func (tenantPropagator) Extract(ctx context.Context, h durable.Header) (context.Context, error) {
	if v, ok := h["tenant"]; ok {
		return context.WithValue(ctx, tenantKey{}, string(v)), nil
	}
	return ctx, nil
}

func tenantOf(ctx context.Context) string {
	v, _ := ctx.Value(tenantKey{}).(string)
	return v
}

// PropTenant is an activity that reports the tenant its context carries.
func PropTenant(ctx context.Context, where string) (string, error) {
	return where + "=" + tenantOf(ctx), nil
}

// PropChild reports the tenant of its own context and of its activity's.
func PropChild(ctx context.Context) (string, error) {
	a, err := durable.Call[string](ctx, PropTenant, "child-activity")
	return "child=" + tenantOf(ctx) + " " + a, err
}

// PropWorkflow waits for a signal (so that a test can restart the engine
// in between), then reports the tenant its code, its activity, its child
// and the next run of its chain see.
func PropWorkflow(ctx context.Context, hop int) (string, error) {
	if hop == 1 {
		return "next-run=" + tenantOf(ctx), nil
	}
	if _, err := durable.Receive[string](ctx, "go"); err != nil {
		return "", err
	}
	a, err := durable.Call[string](ctx, PropTenant, "activity")
	if err != nil {
		return "", err
	}
	c, err := durable.Child[string](ctx, PropChild)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("workflow=%s %s %s", tenantOf(ctx), a, c), nil
}

func propEngine(t *testing.T, path string) *durable.Engine {
	t.Helper()
	e, err := durable.Open(context.Background(), "sqlite:"+path, durable.WithContextPropagators(tenantPropagator{}),
		durable.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	e.RegisterWorkflow(PropWorkflow)
	e.RegisterWorkflow(PropChild)
	e.RegisterActivity(PropTenant)
	return e
}

// TestContextPropagation: a value of Start's context reaches the workflow,
// its activity, its child and the child's activity, through an engine
// restart in between (the header is stored with the run), and the next
// run of a continue-as-new chain.
func TestContextPropagation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "runs.db")

	first := propEngine(t, path)
	_, err := first.Start(context.WithValue(ctx, tenantKey{}, "acme"), durable.StartOptions{ID: "prop-1"}, PropWorkflow, 0)
	require.NoError(t, err)
	require.NoError(t, first.Close())

	second := propEngine(t, path)
	defer second.Close()
	require.NoError(t, second.Signal(ctx, "prop-1", "go", "now"))
	var got string
	require.NoError(t, second.Run("prop-1").Get(ctx, &got))
	require.Equal(t, "workflow=acme activity=acme child=acme child-activity=acme", got)

	// The header set on StartOptions joins the propagators', and the
	// next run of a chain keeps it.
	next, err := second.Start(ctx, durable.StartOptions{ID: "prop-2", Header: durable.Header{"tenant": []byte("globex")}}, PropWorkflow, 1)
	require.NoError(t, err)
	require.NoError(t, next.Get(ctx, &got))
	require.Equal(t, "next-run=globex", got)
}

// failingPropagator fails to inject or extract.
type failingPropagator struct{ inject bool }

func (p failingPropagator) Inject(ctx context.Context, h durable.Header) error {
	if p.inject {
		return errors.New("no tenant")
	}
	return nil
}

func (p failingPropagator) Extract(ctx context.Context, h durable.Header) (context.Context, error) {
	return ctx, errors.New("bad header")
}

// TestContextPropagationErrors: a propagator's error fails Start (inject)
// or the run (extract), naming the propagator.
func TestContextPropagationErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := durable.Open(ctx, "memory:", durable.WithContextPropagators(failingPropagator{inject: true}))
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(PropWorkflow)
	_, err = e.Start(ctx, durable.StartOptions{}, PropWorkflow, 1)
	require.ErrorContains(t, err, "context propagator durable_test.failingPropagator: inject: no tenant")

	e2, err := durable.Open(ctx, "memory:", durable.WithContextPropagators(failingPropagator{}))
	require.NoError(t, err)
	defer e2.Close()
	e2.RegisterWorkflow(PropWorkflow)
	run, err := e2.Start(ctx, durable.StartOptions{}, PropWorkflow, 1)
	require.NoError(t, err)
	err = run.Get(ctx, nil)
	require.ErrorContains(t, err, "extract: bad header")
}
