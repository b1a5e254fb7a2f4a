package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
	"github.com/durablego/toolkit/runtime/store/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name  string
		fsync bool
	}{
		{"FsyncOff", false},
		{"FsyncOn", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) store.Store {
				t.Helper()
				s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "durable.db"), sqlite.WithFsync(tc.fsync))
				require.NoError(t, err)
				t.Cleanup(func() { require.NoError(t, s.Close()) })
				return s
			})
		})
	}

	t.Run("Memory", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) store.Store {
			t.Helper()
			s, err := sqlite.OpenMemory(context.Background())
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			return s
		})
	})
}
