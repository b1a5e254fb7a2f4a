package durabletest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// Resume processes items from total down, resuming after the last item an
// earlier attempt recorded in its heartbeat.
func Resume(ctx context.Context, total int) (string, error) {
	next := 0
	if durable.HasHeartbeatDetails(ctx) {
		var done int
		if err := durable.HeartbeatDetails(ctx, &done); err != nil {
			return "", err
		}
		next = done + 1
	}
	for i := next; i < total; i++ {
		durable.RecordHeartbeat(ctx, i)
	}
	info := durable.GetActivityInfo(ctx)
	return info.Activity + " attempt " + itoa(info.Attempt) + " processed " + itoa(total-next), nil
}

func Broken(ctx context.Context) error {
	return durable.NewApplicationError("disk full", "DiskFull")
}

func TestActivityEnv(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		details []any
		want    string
	}{
		{name: "WithoutHeartbeatDetails", want: "Resume attempt 1 processed 10"},
		{name: "WithHeartbeatDetailsResumes", details: []any{6}, want: "Resume attempt 1 processed 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := durabletest.NewActivityEnv(t)
			if tt.details != nil {
				env.SetHeartbeatDetails(tt.details...)
			}

			v, err := env.ExecuteActivity(Resume, 10)

			require.NoError(t, err)
			var got string
			require.NoError(t, v.Get(&got))
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("ErrorIsReturnedWithoutRetries", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewActivityEnv(t)
		calls := 0
		env.RegisterActivity(func(ctx context.Context) error {
			calls++
			return Broken(ctx)
		}, durable.WithName("Broken"))

		_, err := env.ExecuteActivity("Broken")

		var appErr *durable.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, "DiskFull", appErr.Type())
		require.Equal(t, 1, calls)
	})

	t.Run("InfoAndSeveralExecutions", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewActivityEnv(t)
		start := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
		env.SetStartTime(start)
		var infos []durable.ActivityInfo
		env.RegisterActivity(func(ctx context.Context, n int) (int, error) {
			infos = append(infos, durable.GetActivityInfo(ctx))
			return n * 2, nil
		}, durable.WithName("Double"))

		for i := 1; i <= 2; i++ {
			v, err := env.ExecuteActivity("Double", i)
			require.NoError(t, err)
			var got int
			require.NoError(t, v.Get(&got))
			require.Equal(t, 2*i, got)
		}
		require.Len(t, infos, 2)
		for _, info := range infos {
			require.Equal(t, "Double", info.Activity)
			require.Equal(t, 1, info.Attempt)
			require.Equal(t, durabletest.WorkflowIDDefault, info.WorkflowID)
			require.True(t, info.StartedTime.Equal(start))
		}
	})

	t.Run("HeartbeatTimeoutFiresInRealTime", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewActivityEnv(t)
		env.SetCallOptions(durable.CallOptions{HeartbeatTimeout: 30 * time.Millisecond})

		_, err := env.ExecuteActivity(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})

		var te *durable.TimeoutError
		require.ErrorAs(t, err, &te)
		require.Equal(t, "Heartbeat", te.Kind)
	})

	t.Run("HeartbeatListenerSeesRecordedDetails", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewActivityEnv(t)
		var seen []string
		env.SetOnActivityHeartbeatListener(func(info *durable.ActivityInfo, details durabletest.Values) {
			var s string
			var n int
			require.NoError(t, details.Get(&s, &n))
			seen = append(seen, fmt.Sprintf("%s %s %d", info.Activity, s, n))
		})
		_, err := env.ExecuteActivity(Beat, 3)
		require.NoError(t, err)
		// The engine records one heartbeat per second of test time, which
		// stands still while the activity runs.
		require.Equal(t, []string{"Beat beat 0"}, seen)
	})

	t.Run("BackgroundActivityContextCancels", func(t *testing.T) {
		t.Parallel()
		env := durabletest.NewActivityEnv(t)
		bg, cancel := context.WithCancel(context.Background())
		env.SetWorkerOptions(durabletest.WorkerOptions{BackgroundActivityContext: bg})
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := env.ExecuteActivity(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		require.Error(t, err)
	})
}

func Beat(ctx context.Context, n int) error {
	for i := range n {
		durable.RecordHeartbeat(ctx, "beat", i)
	}
	return nil
}
