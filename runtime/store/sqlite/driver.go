package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// The writer talks to the driver directly (inside sql.Conn.Raw), not
// through database/sql: its connection is never shared, and skipping
// database/sql's locking, argument conversion and row bookkeeping saves
// about a sixth of the CPU a write costs. Only the writer goroutine uses
// these types.

// wstmt is a statement prepared on the writer's driver connection.
type wstmt struct {
	stmt  driver.Stmt
	exec  driver.StmtExecContext
	query driver.StmtQueryContext
	args  []driver.NamedValue // reused between calls
}

func prepareWriter(ctx context.Context, conn any, defs []wdef) error {
	p, ok := conn.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("sqlite: driver connection %T cannot prepare with a context", conn)
	}
	for _, d := range defs {
		st, err := p.PrepareContext(ctx, d.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", d.query, err)
		}
		ex, ok1 := st.(driver.StmtExecContext)
		q, ok2 := st.(driver.StmtQueryContext)
		if !ok1 || !ok2 {
			st.Close()
			return fmt.Errorf("sqlite: driver statement %T lacks context methods", st)
		}
		*d.stmt = &wstmt{stmt: st, exec: ex, query: q}
	}
	return nil
}

func closeWriterStmts(defs []wdef) error {
	var errs []error
	for _, d := range defs {
		if *d.stmt != nil {
			errs = append(errs, (*d.stmt).stmt.Close())
			*d.stmt = nil
		}
	}
	return errors.Join(errs...)
}

// bind converts args to the driver's values.
func (st *wstmt) bind(args []any) ([]driver.NamedValue, error) {
	st.args = st.args[:0]
	for i, a := range args {
		var v driver.Value
		switch x := a.(type) {
		case nil, int64, string, []byte, bool, float64:
			v = x
		case int:
			v = int64(x)
		default:
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
		}
		st.args = append(st.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return st.args, nil
}

// Exec runs the statement.
func (st *wstmt) Exec(args ...any) (driver.Result, error) {
	nv, err := st.bind(args)
	if err != nil {
		return nil, err
	}
	return st.exec.ExecContext(context.Background(), nv)
}

// Query runs the statement and returns its rows.
func (st *wstmt) Query(args ...any) (*drows, error) {
	nv, err := st.bind(args)
	if err != nil {
		return nil, err
	}
	rows, err := st.query.QueryContext(context.Background(), nv)
	if err != nil {
		return nil, err
	}
	return &drows{rows: rows, vals: make([]driver.Value, len(rows.Columns()))}, nil
}

// drows iterates driver rows and implements scanner.
type drows struct {
	rows driver.Rows
	vals []driver.Value
	err  error
}

func (r *drows) Next() bool {
	if r.err != nil {
		return false
	}
	if err := r.rows.Next(r.vals); err != nil {
		if err != io.EOF {
			r.err = err
		}
		return false
	}
	return true
}

func (r *drows) Err() error   { return r.err }
func (r *drows) Close() error { return r.rows.Close() }

// Scan copies the current row into dest: *string, *int64, *int, *bool or
// *[]byte. NULL becomes the zero value.
func (r *drows) Scan(dest ...any) error {
	if len(dest) != len(r.vals) {
		return fmt.Errorf("sqlite: scan: %d destinations for %d columns", len(dest), len(r.vals))
	}
	for i, v := range r.vals {
		if err := assign(dest[i], v); err != nil {
			return fmt.Errorf("sqlite: scan column %d: %w", i, err)
		}
	}
	return nil
}

func assign(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *string:
		switch x := v.(type) {
		case string:
			*d = x
		case []byte:
			*d = string(x)
		case nil:
			*d = ""
		default:
			return fmt.Errorf("cannot store %T in *string", v)
		}
	case *int64:
		switch x := v.(type) {
		case int64:
			*d = x
		case nil:
			*d = 0
		default:
			return fmt.Errorf("cannot store %T in *int64", v)
		}
	case *int:
		switch x := v.(type) {
		case int64:
			*d = int(x)
		case nil:
			*d = 0
		default:
			return fmt.Errorf("cannot store %T in *int", v)
		}
	case *bool:
		switch x := v.(type) {
		case int64:
			*d = x != 0
		case bool:
			*d = x
		case nil:
			*d = false
		default:
			return fmt.Errorf("cannot store %T in *bool", v)
		}
	case *[]byte:
		switch x := v.(type) {
		case []byte:
			*d = x // the driver hands out a fresh copy
		case string:
			*d = []byte(x)
		case nil:
			*d = nil
		default:
			return fmt.Errorf("cannot store %T in *[]byte", v)
		}
	default:
		return fmt.Errorf("unsupported destination %T", dest)
	}
	return nil
}

// queryRow runs st and scans its first row; sql.ErrNoRows when there is
// none.
func (st *wstmt) queryRow(args []any, dest ...any) error {
	rows, err := st.Query(args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if rows.Err() != nil {
			return rows.Err()
		}
		return sql.ErrNoRows
	}
	return rows.Scan(dest...)
}
