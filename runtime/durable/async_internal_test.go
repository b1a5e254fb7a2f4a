package durable

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTaskToken(t *testing.T) {
	t.Parallel()
	tok := taskToken{RunID: "0193-run", WorkflowID: "expense/7", ActivityID: 3, Attempt: 2}
	enc := tok.encode()
	require.True(t, IsTaskToken(enc))
	got, err := parseTaskToken(enc)
	require.NoError(t, err)
	require.Equal(t, tok, got)

	for _, tc := range []struct {
		name, token, text string
	}{
		{"Empty", "", "empty task token"},
		{"Temporal", "CiQ0YjE3ZmI0Zi1jZDg4LTQ3", `does not start with "durable1."`},
		{"NotBase64", "durable1.%%%", "illegal base64"},
		{"NotJSON", "durable1.bm90IGpzb24", "task token"},
		{"NoAttempt", "durable1.eyJydW4iOiJyIiwiYWN0aXZpdHkiOjF9", "names no run, activity or attempt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseTaskToken([]byte(tc.token))
			require.ErrorIs(t, err, ErrInvalidTaskToken)
			require.ErrorContains(t, err, tc.text)
		})
	}
}

func TestPendingRowID(t *testing.T) {
	t.Parallel()
	id := pendingRowID("0193-run/4", 2, 7)
	require.Equal(t, "0193-run", runIDOfTask(id))
	tid, attempt, ok := parsePendingRowID(id)
	require.True(t, ok)
	require.Equal(t, "0193-run/4", tid)
	require.Equal(t, 2, attempt)
	_, _, ok = parsePendingRowID("0193-run/4")
	require.False(t, ok)
}

func FuzzParseTaskToken(f *testing.F) {
	f.Add(taskToken{RunID: "r", WorkflowID: "w", ActivityID: 1, Attempt: 1}.encode())
	f.Add([]byte("durable1."))
	f.Add([]byte("CiQ0YjE3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := parseTaskToken(b)
		if err == nil {
			require.Equal(t, tok, must(parseTaskToken(tok.encode())))
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
