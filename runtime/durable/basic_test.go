package durable_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

func Dot(ctx context.Context, s string) (string, error) { return s + ".", nil }

func Steps3(ctx context.Context, s string) (string, error) {
	for range 3 {
		var err error
		if s, err = durable.Call[string](ctx, Dot, s); err != nil {
			return "", err
		}
	}
	return s, nil
}

func TestSteps3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:")
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(Steps3)
	e.RegisterActivity(Dot)
	run, err := e.Start(ctx, durable.StartOptions{ID: "w1"}, Steps3, "x")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "x...", out)
}
