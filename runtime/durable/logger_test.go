package durable_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLoggerIsSilentDuringReplay logs before and after a signal; the run is
// replayed in a second engine, and each line still appears once.
func TestLoggerIsSilentDuringReplay(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "log.db")
	wf := func(ctx context.Context) (string, error) {
		durable.Logger(ctx).Info("before signal")
		start := durable.Now(ctx)
		v, err := durable.Receive[string](ctx, "go")
		if err != nil {
			return "", err
		}
		durable.Logger(ctx).Info("after signal", "replaying", durable.IsReplaying(ctx))
		if durable.Now(ctx).Before(start) {
			return "", nil
		}
		return v, nil
	}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	e1, err := durable.Open(ctx, dsn, durable.WithLogger(logger))
	require.NoError(t, err)
	e1.RegisterWorkflow(wf, durable.WithName("Logs"))
	_, err = e1.Start(ctx, durable.StartOptions{ID: "log"}, "Logs")
	require.NoError(t, err)
	require.NoError(t, e1.Close())

	e2 := openEngine(t, dsn, durable.WithLogger(logger))
	e2.RegisterWorkflow(wf, durable.WithName("Logs"))
	require.NoError(t, e2.Signal(ctx, "log", "go", "x"))
	var out string
	require.NoError(t, e2.Run("log").Get(ctx, &out))
	require.Equal(t, "x", out)
	require.Equal(t, 1, strings.Count(logs.String(), "before signal"), logs.String())
	require.Equal(t, 1, strings.Count(logs.String(), "after signal"), logs.String())
	require.Contains(t, logs.String(), "replaying=false")
	require.Contains(t, logs.String(), "workflow_id=log")
}
