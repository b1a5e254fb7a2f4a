//go:build durable_nosqlite

package durable

import (
	"context"
	"errors"

	"github.com/durablego/toolkit/runtime/store"
)

// openSQLite refuses: the program was built with the tag durable_nosqlite,
// which leaves SQLite out of the binary (open_sqlite.go has the real one).
func openSQLite(context.Context, string, config) (store.Store, error) {
	return nil, errors.New("no SQLite backend in this build (tag durable_nosqlite)")
}
