package durable

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTaskWire(t *testing.T) {
	t.Parallel()
	at := &activityTask{
		RunID: "r", WorkflowID: "w", Workflow: "W", ID: 3, Activity: "A", Args: json.RawMessage(`["x",1]`),
		ScheduledAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Options: CallOptions{
			StartToCloseTimeout: time.Minute, HeartbeatTimeout: time.Second, Queue: "q", WaitForCancellation: true, ActivityID: "a",
			RetryPolicy: &RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5, NonRetryableErrorTypes: []string{"PermanentError"}},
		},
	}
	t.Run("RoundTrips", func(t *testing.T) {
		t.Parallel()
		got, err := decodeTask(encodeTask(at))
		require.NoError(t, err)
		require.Equal(t, *at, got)
	})
	t.Run("ReadsPayloadsWithoutVersion", func(t *testing.T) {
		t.Parallel()
		// What engines wrote before the payload had a version: the Go
		// field names of CallOptions and RetryPolicy.
		legacy := `{"runId":"r","workflowId":"w","workflow":"W","id":3,"activity":"A","args":["x",1],` +
			`"options":{"StartToCloseTimeout":60000000000,"ScheduleToCloseTimeout":0,"ScheduleToStartTimeout":0,"HeartbeatTimeout":1000000000,` +
			`"RetryPolicy":{"InitialInterval":1000000000,"BackoffCoefficient":2,"MaximumInterval":0,"MaximumAttempts":5,"NonRetryableErrorTypes":["PermanentError"]},` +
			`"Queue":"q","WaitForCancellation":true,"ActivityID":"a"},"scheduledAt":"2026-03-01T12:00:00Z"}`
		got, err := decodeTask([]byte(legacy))
		require.NoError(t, err)
		require.Equal(t, *at, got)
		var enc, old map[string]any
		require.NoError(t, json.Unmarshal(encodeTask(at), &enc))
		require.NoError(t, json.Unmarshal([]byte(legacy), &old))
		require.Equal(t, float64(taskWireVersion), enc["v"])
		delete(enc, "v")
		require.Equal(t, old, enc, "the stored names stay the same")
	})
	t.Run("RejectsNewerVersion", func(t *testing.T) {
		t.Parallel()
		_, err := decodeTask([]byte(`{"v":2,"runId":"r"}`))
		require.ErrorContains(t, err, "version 2 is newer")
	})
	t.Run("TaskIDNamesTheCall", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, int64(12), taskCallID(taskID("0190-run", 12)))
		require.Equal(t, int64(0), taskCallID("no-call"))
	})
}
