package durable_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// Resumable reports the heartbeat details it starts with and records its
// progress.
func Resumable(ctx context.Context) (int, error) {
	from := 0
	if durable.HasHeartbeatDetails(ctx) {
		if err := durable.HeartbeatDetails(ctx, &from); err != nil {
			return 0, err
		}
	}
	durable.RecordHeartbeat(ctx, from+1)
	return from, nil
}

func ResumableWorkflow(ctx context.Context) (int, error) {
	return durable.Call[int](ctx, Resumable)
}

func TestActivityTestHooks(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		seed json.RawMessage
		want int
	}{
		{name: "SeededDetailsReachTheFirstAttempt", seed: json.RawMessage(`[41]`), want: 41},
		{name: "NoSeedNoDetails", seed: nil, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var (
				mu       sync.Mutex
				recorded []string
			)
			e, err := durable.Open(ctx, "memory:",
				durable.WithLogger(slog.New(slog.DiscardHandler)),
				durable.WithActivityTaskRows(true),
				durable.WithActivityTestHooks(durable.ActivityTestHooks{
					HeartbeatDetails: func() json.RawMessage { return tc.seed },
					OnHeartbeat: func(taskID string, details json.RawMessage) {
						mu.Lock()
						defer mu.Unlock()
						recorded = append(recorded, string(details))
					},
				}))
			require.NoError(t, err)
			t.Cleanup(func() { e.Close() })
			e.RegisterWorkflow(ResumableWorkflow)
			e.RegisterActivity(Resumable)

			run, err := e.Start(ctx, durable.StartOptions{ID: "resume-" + tc.name}, ResumableWorkflow)
			require.NoError(t, err)
			var got int
			require.NoError(t, run.Get(ctx, &got))
			require.Equal(t, tc.want, got)
			mu.Lock()
			defer mu.Unlock()
			want, err := json.Marshal([]int{tc.want + 1})
			require.NoError(t, err)
			require.Equal(t, []string{string(want)}, recorded, "OnHeartbeat hears the details the attempt recorded")
		})
	}
}
