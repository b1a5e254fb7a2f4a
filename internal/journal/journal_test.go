package journal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind Kind
		v    any
	}{
		{Started, &StartedData{Workflow: "W", Args: []byte(`[1,"a"]`)}},
		{ActivityScheduled, &ActivityScheduledData{ID: 3, Activity: "A", ArgTypes: []string{"int"}, Args: []byte(`[1]`)}},
		{ActivityFailed, &ResultData{ID: 3, Error: &Failure{Message: "boom", Type: "PermanentError"}}},
		{TimerStarted, &TimerData{ID: 4}},
		{VersionMarker, &VersionData{ChangeID: "c", Version: 2}},
	} {
		got, err := Decode(tc.kind, Encode(tc.v))
		require.NoError(t, err)
		require.Equal(t, tc.v, got)
	}
}

func TestDecodeRejectsUnknownKind(t *testing.T) {
	t.Parallel()
	_, err := Decode("Nope", []byte(`{}`))
	require.ErrorContains(t, err, `unknown event kind "Nope"`)
}

func FuzzDecode(f *testing.F) {
	f.Add(Started, []byte(`{"workflow":"W","args":[1]}`))
	f.Add(ActivityCompleted, []byte(`{"id":1,"result":"x"}`))
	f.Add(TimerStarted, []byte(`{"id":1,"fireAt":"2026-01-01T00:00:00Z"}`))
	f.Add(ActivityFailed, []byte(`{"id":1,"error":{"message":"m","cause":{"message":"c"}}}`))
	f.Add("garbage", []byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		v, err := Decode(kind, data)
		if err == nil && v == nil {
			t.Fatal("nil value without error")
		}
	})
}
