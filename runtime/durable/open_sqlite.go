//go:build !durable_nosqlite

package durable

import (
	"context"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// openSQLite opens the SQLite store of a "sqlite:PATH" DSN for Open, or a
// fresh in-memory one when path is "" ("memory:"). Open's options that
// configure the store (WithFsync, WithClientOnly) become the backend's.
// The tag durable_nosqlite leaves SQLite out of the build (open_nosqlite.go).
func openSQLite(ctx context.Context, path string, cfg config) (store.Store, error) {
	if path == "" {
		return sqlite.OpenMemory(ctx)
	}
	return sqlite.Open(ctx, path, sqlite.WithFsync(cfg.fsync), sqlite.WithClientOnly(cfg.clientOnly))
}
