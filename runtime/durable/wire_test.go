package durable

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTaskWire(t *testing.T) {
	t.Parallel()
	at := &activityTask{
		RunID: "r", WorkflowID: "w", Workflow: "W", ID: 3, Activity: "A", Args: json.RawMessage(`["x",1]`),
		ScheduledAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Header: Header{"tenant": []byte("acme")},
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
			`"Queue":"q","WaitForCancellation":true,"ActivityID":"a"},"scheduledAt":"2026-03-01T12:00:00Z",` +
			`"trace":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}`
		noHeader := *at
		noHeader.Header = nil
		got, err := decodeTask([]byte(legacy))
		require.NoError(t, err)
		require.Equal(t, noHeader, got)
		var enc, old map[string]any
		require.NoError(t, json.Unmarshal(encodeTask(&noHeader), &enc))
		require.NoError(t, json.Unmarshal([]byte(legacy), &old))
		require.Equal(t, float64(1), enc["v"], "a task without a header stays readable by version-1 engines")
		delete(enc, "v")
		require.Equal(t, old, enc, "the stored names stay the same")
	})
	t.Run("HeaderNeedsVersion2", func(t *testing.T) {
		t.Parallel()
		withHeader := *at
		var enc map[string]any
		require.NoError(t, json.Unmarshal(encodeTask(&withHeader), &enc))
		require.Equal(t, float64(2), enc["v"], "an engine that drops headers must refuse the task")
		got, err := decodeTask(encodeTask(&withHeader))
		require.NoError(t, err)
		require.Equal(t, withHeader, got)
	})
	t.Run("EveryFieldIsStored", func(t *testing.T) {
		t.Parallel()
		// A field added to activityTask, CallOptions or RetryPolicy must be
		// added to its wire struct too, or it is lost when a task is stored.
		for _, tc := range []struct{ typ, wire reflect.Type }{
			{reflect.TypeFor[activityTask](), reflect.TypeFor[activityTaskWire]()},
			{reflect.TypeFor[CallOptions](), reflect.TypeFor[callOptionsWire]()},
			{reflect.TypeFor[RetryPolicy](), reflect.TypeFor[retryPolicyWire]()},
		} {
			for f := range tc.typ.Fields() {
				_, ok := tc.wire.FieldByName(f.Name)
				require.True(t, ok, "%s.%s has no counterpart in %s", tc.typ.Name(), f.Name, tc.wire.Name())
			}
		}
		v := reflect.ValueOf(*at)
		for i := range v.NumField() {
			require.False(t, v.Field(i).IsZero(), "the round-trip case sets activityTask.%s", v.Type().Field(i).Name)
		}
	})
	t.Run("RejectsNewerVersion", func(t *testing.T) {
		t.Parallel()
		_, err := decodeTask([]byte(`{"v":3,"runId":"r"}`))
		require.ErrorContains(t, err, "version 3 is newer")
	})
	t.Run("TaskIDNamesTheCall", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, int64(12), taskCallID(taskID("0190-run", 12)))
		require.Equal(t, int64(0), taskCallID("no-call"))
	})
}
