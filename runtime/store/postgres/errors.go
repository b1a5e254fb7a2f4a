package postgres

import (
	"context"
	"errors"
	"fmt"

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
		return fmt.Errorf("postgres: %s: %s (SQLSTATE %s)", op, pgErr.Message, pgErr.Code)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("postgres: %s: %w", op, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("postgres: %s: %w", op, context.DeadlineExceeded)
	}
	return fmt.Errorf("postgres: %s: %v", op, err)
}
