package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/durablego/toolkit/runtime/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one schema change, from migrations/NNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// advisoryLockKey is the first key of the advisory lock taken around
// migrating; the second is hashtext(schema), so schemas migrate
// independently.
const advisoryLockKey = 0x64757261 // "dura"

func loadMigrations() ([]migration, error) {
	entries, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		base := strings.TrimSuffix(path.Base(e), ".sql")
		num, name, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("postgres: migration %s: name must start with a version number", e)
		}
		b, err := migrationFS.ReadFile(e)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migrations must be numbered 1, 2, ...; found %d at position %d", m.version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this binary creates and expects.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		panic(err)
	}
	return len(ms)
}

// prepareSchema migrates the schema, or with WithMigrate(false) checks its
// version. Migrating holds a session advisory lock, so processes that start
// together migrate one after the other and the later ones find nothing to do.
func (s *Store) prepareSchema(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.connectError(err)
	}
	defer conn.Release()
	c := conn.Conn()
	schema := s.cfg.schema

	if !s.cfg.migrate {
		v, err := schemaVersion(ctx, c, schema)
		if err != nil {
			return err
		}
		if v != len(ms) {
			if v > len(ms) {
				return fmt.Errorf("postgres: schema %q has version %d, newer than this binary's %d: %w", schema, v, len(ms), store.ErrIncompatible)
			}
			return fmt.Errorf("postgres: schema %q has version %d, want %d: run postgres.Migrate or open with migrations on", schema, v, len(ms))
		}
		return nil
	}

	if _, err := c.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", advisoryLockKey, schema); err != nil {
		return interpretError("migrate: lock", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx is done. If the
		// unlock fails the connection is closed, which releases it too.
		if _, err := c.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, hashtext($2))", advisoryLockKey, schema); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()

	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident); err != nil {
		return interpretError("migrate: create schema", err)
	}
	var foreign bool
	if err := c.QueryRow(ctx, `SELECT to_regclass($1) IS NULL AND to_regclass($2) IS NOT NULL`,
		ident+".schema_version", ident+".runs").Scan(&foreign); err != nil {
		return interpretError("migrate: inspect schema", err)
	}
	if foreign {
		return fmt.Errorf("postgres: schema %q has a runs table but no schema_version: %w", schema, store.ErrIncompatible)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+ident+`.schema_version (
		version    integer     NOT NULL PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return interpretError("migrate: create schema_version", err)
	}
	v, err := schemaVersion(ctx, c, schema)
	if err != nil {
		return err
	}
	if v > len(ms) {
		return fmt.Errorf("postgres: schema %q has version %d, newer than this binary's %d: %w", schema, v, len(ms), store.ErrIncompatible)
	}
	for _, m := range ms[v:] {
		if err := applyMigration(ctx, c, ident, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, c *pgx.Conn, ident string, m migration) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return interpretError("migrate: begin", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident); err != nil {
		return interpretError("migrate: set search_path", err)
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return interpretError(fmt.Sprintf("migrate: apply %03d_%s", m.version, m.name), err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+ident+".schema_version (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
		return interpretError("migrate: record version", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return interpretError("migrate: commit", err)
	}
	return nil
}

// schemaVersion returns the schema's version: 0 when it has no
// schema_version table.
func schemaVersion(ctx context.Context, c *pgx.Conn, schema string) (int, error) {
	ident := pgx.Identifier{schema}.Sanitize()
	var exists bool
	if err := c.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", ident+".schema_version").Scan(&exists); err != nil {
		return 0, interpretError("read schema version", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := c.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+ident+".schema_version").Scan(&v); err != nil {
		return 0, interpretError("read schema version", err)
	}
	return v, nil
}

// connectError explains a failure to reach the server, naming it (but not
// the password). A server that cannot be reached or refuses connections
// for now (starting up, shutting down, out of connections) gives an error
// that also matches store.ErrUnavailable.
func (s *Store) connectError(err error) error {
	cc := s.pool.Config().ConnConfig
	msg := fmt.Sprintf("postgres: cannot connect to %s:%d (database %q, user %q)", cc.Host, cc.Port, cc.Database, cc.User)
	var u *store.UnavailableError
	if errors.As(interpretError("connect", err), &u) {
		return &store.UnavailableError{Op: msg, Cause: u.Cause}
	}
	return fmt.Errorf("%s: %v", msg, err)
}
