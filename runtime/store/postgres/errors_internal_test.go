package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

func TestInterpretError(t *testing.T) {
	t.Parallel()

	// A real connection failure, as pgx reports it.
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, refused := pgx.Connect(cctx, "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	require.Error(t, refused)

	for _, tc := range []struct {
		name         string
		err          error
		want         error // sentinel the result matches; nil: none of ours
		maybeApplied bool
	}{
		{"AdminShutdown", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, store.ErrUnavailable, false},
		{"CannotConnectNow", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, store.ErrUnavailable, false},
		{"SerializationFailure", &pgconn.PgError{Code: "40001"}, store.ErrUnavailable, false},
		{"Deadlock", &pgconn.PgError{Code: "40P01"}, store.ErrUnavailable, false},
		{"ConnectionException", &pgconn.PgError{Code: "08006"}, store.ErrUnavailable, false},
		{"StandbyNotPromoted", &pgconn.PgError{Code: "25006"}, store.ErrUnavailable, false},
		{"DiskFull", &pgconn.PgError{Code: "53100", Message: "could not extend file"}, store.ErrStorageFull, false},
		{"UniqueViolation", &pgconn.PgError{Code: "23505", ConstraintName: "runs_open_workflow"}, store.ErrAlreadyExists, false},
		{"SyntaxError", &pgconn.PgError{Code: "42601"}, nil, false},
		{"ConnectionRefused", refused, store.ErrUnavailable, false},
		{"ConnectionReset", fmt.Errorf("read: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), store.ErrUnavailable, true},
		{"UnexpectedEOF", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), store.ErrUnavailable, true},
		{"ConnClosed", pgconn.ErrConnClosed, store.ErrUnavailable, true},
		{"Canceled", context.Canceled, context.Canceled, false},
		{"Other", errors.New("something else"), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := interpretError("op", tc.err)
			for _, s := range []error{store.ErrUnavailable, store.ErrStorageFull, store.ErrAlreadyExists, store.ErrNotFound, context.Canceled} {
				require.Equal(t, s == tc.want, errors.Is(got, s), "%v: errors.Is %v", got, s)
			}
			require.Equal(t, tc.maybeApplied, store.MaybeApplied(got), "%v", got)
			var pgErr *pgconn.PgError
			require.False(t, errors.As(got, &pgErr), "driver types do not leak")
		})
	}
}
