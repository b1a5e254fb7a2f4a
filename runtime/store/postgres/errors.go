package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/durablego/toolkit/runtime/store"
)

// SQLSTATEs raised by the store's own functions (migrations/*.sql).
const (
	codeNotFound  = "DGNF1"
	codeLeaseLost = "DGLL1"
	codeConflict  = "DGCF1"

	codeUniqueViolation = "23505"
	// eventsPrimaryKey is the constraint that keeps a journal gap-free.
	eventsPrimaryKey = "events_pkey"
)

// interpretError translates driver errors to the store's sentinels, so that
// callers never see pgx or pgconn error types. Other errors are returned
// with op as context and without wrapping the driver's type, except for
// context cancellation, which callers may test with errors.Is.
func interpretError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeNotFound:
			return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrNotFound, pgErr.Message)
		case codeLeaseLost:
			return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrLeaseLost, pgErr.Message)
		case codeConflict:
			return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrConflict, pgErr.Message)
		case codeUniqueViolation:
			if pgErr.ConstraintName == eventsPrimaryKey {
				return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrConflict, pgErr.Detail)
			}
			return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrAlreadyExists, pgErr.Detail)
		}
		if transientCode(pgErr.Code) {
			// The server refused the statement: its implicit transaction
			// was rolled back, so the call was not applied.
			return &store.UnavailableError{Op: "postgres: " + op, Cause: fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)}
		}
		if pgErr.Code == codeDiskFull {
			return fmt.Errorf("postgres: %s: %w: %s (SQLSTATE %s)", op, store.ErrStorageFull, pgErr.Message, pgErr.Code)
		}
		return fmt.Errorf("postgres: %s: %s (SQLSTATE %s)", op, pgErr.Message, pgErr.Code)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("postgres: %s: %w", op, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("postgres: %s: %w", op, context.DeadlineExceeded)
	}
	if notSent, ok := connectionLost(err); ok {
		return &store.UnavailableError{Op: "postgres: " + op, Cause: oneLine(err.Error()), MaybeApplied: !notSent}
	}
	return fmt.Errorf("postgres: %s: %v", op, err)
}

// SQLSTATEs of passing conditions, after which a call may be made again.
const (
	codeAdminShutdown    = "57P01" // the server is shutting down (restart, failover)
	codeCrashShutdown    = "57P02" // another backend crashed; the server restarts
	codeCannotConnectNow = "57P03" // the server is starting up or in recovery
	codeSerialization    = "40001"
	codeDeadlock         = "40P01"
	codeTooManyConns     = "53300"
	codeOutOfMemory      = "53200"
	codeReadOnlySQLTx    = "25006" // a standby not promoted yet
	codeDiskFull         = "53100"
)

// transientCode reports whether a server error means a passing condition:
// a shutdown or restart, a standby not yet promoted, a serialization
// failure or deadlock victim, a connection exception (class 08), or a
// server out of connections or memory.
func transientCode(code string) bool {
	switch code {
	case codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeSerialization, codeDeadlock,
		codeTooManyConns, codeOutOfMemory, codeReadOnlySQLTx:
		return true
	}
	return strings.HasPrefix(code, "08")
}

// connectionLost reports whether err means that the connection to the
// server could not be made or broke (ok), and whether the request
// certainly never reached the server (notSent), as pgx tells: connection
// attempts that failed and errors pgconn.SafeToRetry vouches for were
// never sent; a connection that broke while a statement was under way
// (reset, unexpected EOF) leaves its outcome unknown.
func connectionLost(err error) (notSent, ok bool) {
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr), pgconn.SafeToRetry(err):
		return true, true
	case errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, net.ErrClosed):
		return false, true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return false, true
	}
	return false, false
}

// oneLine folds a multi-line driver message (pgx lists each address it
// tried on its own line) into one line for logs.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
