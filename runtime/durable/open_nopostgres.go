//go:build durable_nopostgres

package durable

import (
	"context"
	"errors"

	"github.com/durablego/toolkit/runtime/store"
)

// openPostgres refuses: the program was built with the tag
// durable_nopostgres, which leaves PostgreSQL's driver out of the binary
// (open_postgres.go has the real one).
func openPostgres(context.Context, string) (store.Store, error) {
	return nil, errors.New("no PostgreSQL backend in this build (tag durable_nopostgres)")
}
