package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// TestTerminatedConnections terminates the store's sessions on the server,
// as a restart or failover does: the next call fails with
// store.ErrUnavailable and was certainly not applied, and the store
// reconnects for the calls after it.
func TestTerminatedConnections(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	app := "durable-terminate-" + hex.EncodeToString(b[:])
	s := openStore(t, postgres.WithPoolConfig(func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["application_name"] = app
		c.MinConns = 2
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r1", WorkflowID: "w1", Workflow: "W"}}))

	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer admin.Close(ctx)
	var killed int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed))
	require.Positive(t, killed)

	// Every pooled connection is dead now; the first calls find out.
	var failures int
	for range 10 {
		_, err = s.Deliver(ctx, &store.DeliverParams{WorkflowID: "w1", Kind: "signal", Name: "s"})
		if err == nil {
			break
		}
		failures++
		require.ErrorIs(t, err, store.ErrUnavailable)
		require.False(t, store.MaybeApplied(err), "%v", err)
		require.Contains(t, err.Error(), "57P01", "the server says why")
	}
	require.NoError(t, err, "the store reconnects")
	items, err := s.ListInbox(ctx, "r1")
	require.NoError(t, err)
	require.Len(t, items, 1, "exactly the delivery that succeeded landed")
	t.Logf("%d calls failed as unavailable before the pool reconnected", failures)
}
