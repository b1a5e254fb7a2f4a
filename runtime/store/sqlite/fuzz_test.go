package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// FuzzPayloadRoundTrip checks that event and inbox payloads and names come
// back byte for byte, whatever they hold.
func FuzzPayloadRoundTrip(f *testing.F) {
	f.Add("started", []byte(`{"a":1}`))
	f.Add("", []byte{})
	f.Add("kind\x00nul", []byte{0, 0, 0xFF})
	f.Add("\xff\xfe invalid utf-8", bytes.Repeat([]byte("x"), 70000))
	f.Add("'; DROP TABLE events; --", []byte("\u2028"))

	ctx := context.Background()
	s, err := sqlite.OpenMemory(ctx)
	require.NoError(f, err)
	f.Cleanup(func() { s.Close() })
	var n atomic.Int64

	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		id := fmt.Sprintf("run-%d", n.Add(1))
		require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{
			Run:    &store.Run{RunID: id, WorkflowID: id, Workflow: kind, Input: data},
			Events: []store.Event{{Kind: kind, Data: data}},
			Owner:  "w", Lease: time.Hour,
		}))
		events, err := s.LoadJournal(ctx, id, 0)
		require.NoError(t, err)
		require.Len(t, events, 1)
		require.Equal(t, kind, events[0].Kind)
		require.True(t, bytes.Equal(data, events[0].Data), "event data differs")

		r, err := s.GetRun(ctx, id)
		require.NoError(t, err)
		require.Equal(t, kind, r.Workflow)
		require.True(t, bytes.Equal(data, r.Input), "run input differs")

		_, err = s.Deliver(ctx, &store.DeliverParams{RunID: id, Kind: kind, Name: kind, Data: data})
		require.NoError(t, err)
		inbox, err := s.ListInbox(ctx, id)
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		require.Equal(t, kind, inbox[0].Name)
		require.True(t, bytes.Equal(data, inbox[0].Data), "inbox data differs")
	})
}

// FuzzOpenDamagedFile checks that Open never panics on a damaged file and
// refuses what it cannot use with store.ErrIncompatible.
func FuzzOpenDamagedFile(f *testing.F) {
	ctx := context.Background()
	good := filepath.Join(f.TempDir(), "good.db")
	s, err := sqlite.Open(ctx, good)
	require.NoError(f, err)
	for i := range 20 {
		require.NoError(f, s.CreateRun(ctx, runParams(fmt.Sprintf("r%d", i))))
	}
	require.NoError(f, s.Close())
	image, err := os.ReadFile(good)
	require.NoError(f, err)

	f.Add([]byte("not a database"), 0, byte(0))
	f.Add(image, 100, byte(0xFF))        // the header
	f.Add(image, 4096+8, byte(0x00))     // a page header
	f.Add(image, len(image)-10, byte(7)) // deep inside
	f.Add(image[:len(image)/2], 0, byte(0))

	f.Fuzz(func(t *testing.T, file []byte, at int, b byte) {
		file = bytes.Clone(file)
		if len(file) > 0 {
			file[((at%len(file))+len(file))%len(file)] = b
		}
		path := filepath.Join(t.TempDir(), "fuzz.db")
		require.NoError(t, os.WriteFile(path, file, 0o644))

		s, err := sqlite.Open(ctx, path)
		if err != nil {
			require.True(t, errors.Is(err, store.ErrIncompatible) || !bytes.HasPrefix(file, []byte("SQLite format 3\x00")),
				"unexpected error class: %v", err)
			return
		}
		defer s.Close()
		// Whatever opened must answer without panicking; damage may
		// surface as errors.
		_, _ = s.ListRuns(ctx, &store.ListRunsParams{})
		_ = s.CreateRun(ctx, runParams("fresh"))
		_, _ = s.ClaimRuns(ctx, &store.ClaimRunsParams{Owner: "w", Limit: 10, Lease: time.Minute})
	})
}
