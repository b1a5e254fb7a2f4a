package durable_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// TestStoreOwnership checks who closes a store given to New: the caller,
// or the engine with WithStoreOwnership (at Close, or when New fails).
func TestStoreOwnership(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       []durable.Option
		newFails   bool
		wantClosed bool // after the engine's Close (or New's failure)
	}{
		{name: "CallerKeepsTheStore", wantClosed: false},
		{name: "EngineClosesAnOwnedStore", opts: []durable.Option{durable.WithStoreOwnership()}, wantClosed: true},
		{name: "FailedNewClosesAnOwnedStore", opts: []durable.Option{durable.WithStoreOwnership(), durable.WithFsync(true)}, newFails: true, wantClosed: true},
		{name: "FailedNewLeavesTheCallersStore", opts: []durable.Option{durable.WithFsync(true)}, newFails: true, wantClosed: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := sqlite.OpenMemory(ctx)
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			e, err := durable.New(ctx, st, tc.opts...)
			if tc.newFails {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				require.NoError(t, e.Close())
			}
			_, err = st.ListRuns(ctx, nil)
			if tc.wantClosed {
				require.Error(t, err, "the store is closed")
			} else {
				require.NoError(t, err, "the store is open")
			}
		})
	}
}
