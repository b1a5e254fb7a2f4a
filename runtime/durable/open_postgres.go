//go:build !durable_nopostgres

package durable

import (
	"context"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// openPostgres opens the PostgreSQL store of a "postgres://..." DSN for
// Open, with the backend's default options. The tag durable_nopostgres
// leaves PostgreSQL's driver out of the build (open_nopostgres.go).
func openPostgres(ctx context.Context, dsn string) (store.Store, error) {
	return postgres.Open(ctx, dsn)
}
