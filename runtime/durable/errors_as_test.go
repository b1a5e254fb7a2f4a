package durable_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

func Idle(ctx context.Context) error { return durable.Await(ctx, func() bool { return false }) }

// TestErrorsAsTypes checks that ErrNotFound and ErrAlreadyStarted are found
// by errors.As as well as errors.Is, as Temporal's serviceerror types are.
func TestErrorsAsTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	e.RegisterWorkflow(Idle)

	err = e.Signal(ctx, "nobody", "poke", 1)
	require.ErrorIs(t, err, durable.ErrNotFound)
	var nf *durable.NotFoundError
	require.ErrorAs(t, err, &nf)

	_, err = e.Start(ctx, durable.StartOptions{ID: "idle"}, Idle)
	require.NoError(t, err)
	_, err = e.Start(ctx, durable.StartOptions{ID: "idle"}, Idle)
	require.ErrorIs(t, err, durable.ErrAlreadyStarted)
	var as *durable.AlreadyStartedError
	require.ErrorAs(t, err, &as)
	require.False(t, errors.As(err, &nf))
}
