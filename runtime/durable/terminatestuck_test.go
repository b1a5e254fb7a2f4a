package durable_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// Terminate closes a stuck run at once: no worker works a stuck run, so a
// termination left in its inbox would wait for a Resume.
func TestTerminateClosesAStuckRun(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "stuck.db")
	A := func(ctx context.Context, n int) (int, error) { return n, nil }
	B := func(ctx context.Context, s string) (string, error) { return s, nil }
	v1 := func(ctx context.Context) error {
		if _, err := durable.Call[int](ctx, "A", 1); err != nil {
			return err
		}
		_, err := durable.Receive[string](ctx, "go")
		return err
	}
	v2 := func(ctx context.Context) error { // changed code: B where the journal has A
		_, err := durable.Call[string](ctx, "B", "x")
		return err
	}
	e1, err := durable.Open(ctx, dsn)
	require.NoError(t, err)
	e1.RegisterWorkflow(v1, durable.WithName("W"))
	e1.RegisterActivity(A, durable.WithName("A"))
	_, err = e1.Start(ctx, durable.StartOptions{ID: "st"}, "W")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r, err := e1.Store().CurrentRun(ctx, "st")
		return err == nil && r.JournalLen >= 3
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, e1.Close())

	e2 := openEngine(t, dsn)
	e2.RegisterWorkflow(v2, durable.WithName("W"))
	e2.RegisterActivity(A, durable.WithName("A"))
	e2.RegisterActivity(B, durable.WithName("B"))
	require.NoError(t, e2.Signal(ctx, "st", "go", "now"))
	var nd *durable.NonDeterminismError
	require.ErrorAs(t, e2.Run("st").Get(ctx, nil), &nd)

	require.NoError(t, e2.Terminate(ctx, "st", "abandoned"))
	r, err := e2.Store().CurrentRun(ctx, "st")
	require.NoError(t, err)
	require.Equal(t, store.StatusTerminated, r.Status, "a stuck run is terminated at once")
	var te *durable.TerminatedError
	require.ErrorAs(t, e2.Run("st").Get(ctx, nil), &te)
	require.Equal(t, "abandoned", te.Reason)
}
