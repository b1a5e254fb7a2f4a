package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"syscall"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/durablego/toolkit/runtime/store"
)

var (
	// ErrLocked is returned by Open when another Store, in this process or
	// another, has the database open.
	ErrLocked = errors.New("sqlite: database in use by another store")
	// ErrClosed is returned by calls on a closed Store.
	ErrClosed = errors.New("sqlite: store closed")
	// ErrClientOnly is returned by the calls that work runs (claims,
	// creating a leased run, releasing every lease) on a store opened
	// WithClientOnly: only the process holding the file's lock works it.
	ErrClientOnly = errors.New("sqlite: store opened client-only works no runs")
)

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isBusy reports whether err means that another connection holds a lock
// we need; the operation may succeed if retried.
func isBusy(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// isIncompatible reports whether err means that the file is not a usable
// SQLite database.
func isIncompatible(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return true
	}
	return false
}

// readOnlyFile reports whether an error opening a file means that it
// cannot be written: a read-only file system, or a file or directory the
// process may not write.
func readOnlyFile(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission)
}

// translate maps a driver error to the store's sentinels. It is the one
// place where driver errors are interpreted: constraint violations become
// store.ErrAlreadyExists, a corrupt or foreign file store.ErrIncompatible,
// and other driver errors plain errors that keep the driver's message but
// not its type. Errors that already are ours pass through.
func translate(err error) error {
	if err == nil {
		return nil
	}
	for _, sentinel := range []error{
		store.ErrNotFound, store.ErrAlreadyExists, store.ErrLeaseLost, store.ErrConflict,
		store.ErrIncompatible, store.ErrStorageFull, store.ErrReadOnly,
		ErrLocked, ErrClosed, ErrClientOnly, context.Canceled, context.DeadlineExceeded,
	} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	code := sqliteCode(err)
	switch {
	case code == 0:
		return err
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w (%s)", store.ErrAlreadyExists, err.Error())
	case isIncompatible(err):
		return fmt.Errorf("%w (%s)", store.ErrIncompatible, err.Error())
	case code&0xff == sqlite3.SQLITE_FULL:
		// The disk (or the file system's quota) is full: the transaction
		// was rolled back, and the same call succeeds once space is freed.
		return fmt.Errorf("%w (%s)", store.ErrStorageFull, err.Error())
	case code&0xff == sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%w (%s)", store.ErrReadOnly, err.Error())
	default:
		return fmt.Errorf("sqlite: %s", err.Error())
	}
}
