package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/durablego/toolkit/runtime/store"
)

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// Store is a store.Store in a PostgreSQL schema, shared by any number of
// worker processes. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	cfg     *config
	channel string // NOTIFY channel of the schema

	commits     *grouper[*store.CommitParams]
	params      sync.Pool // *groupParams
	completions *grouper[*store.CompleteTaskParams]
	creations   *grouper[*store.CreateRunParams]

	mu       sync.Mutex
	listener *listener // started by the first Subscribe
	closed   bool
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as pgx accepts), creates or upgrades the store's schema
// unless WithMigrate(false), and returns the store. It fails with an error
// naming the server when the server cannot be reached, and with
// store.ErrIncompatible when the schema is newer than this binary or holds
// foreign tables.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg := newConfig(opts)
	if cfg.schema == "" {
		return nil, errors.New("postgres: open: empty schema name")
	}
	pcfg, err := poolConfig(dsn, cfg)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %v", err)
	}
	s := &Store{pool: pool, cfg: cfg, channel: channelName(cfg.schema)}
	n := cfg.commitConcurrency()
	s.commits = &grouper[*store.CommitParams]{op: "commit", maxFlushers: n, flush: s.commitGroup}
	s.completions = &grouper[*store.CompleteTaskParams]{op: "complete task", maxFlushers: n, flush: s.completeTaskGroup}
	s.creations = &grouper[*store.CreateRunParams]{op: "create run", maxFlushers: n, flush: s.createRunGroup}
	if err := s.prepareSchema(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Migrate creates or upgrades the store's schema in the database named by
// dsn and returns, for operators who run migrations apart from the workers
// (which then open with WithMigrate(false)).
func Migrate(ctx context.Context, dsn string, opts ...Option) error {
	opts = append(opts[:len(opts):len(opts)], WithMigrate(true))
	s, err := Open(ctx, dsn, opts...)
	if err != nil {
		return err
	}
	return s.Close()
}

func poolConfig(dsn string, cfg *config) (*pgxpool.Config, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may echo the DSN, password included.
		return nil, errors.New("postgres: open: cannot parse DSN (want postgres://user@host:port/db?... or key=value pairs)")
	}
	if cfg.maxConns > 0 {
		pcfg.MaxConns = cfg.maxConns
	} else if !dsnSetsMaxConns(dsn) {
		pcfg.MaxConns = MaxConnsDefault
	}
	if cfg.minConns > 0 {
		pcfg.MinConns = cfg.minConns
	}
	cc := pcfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = ConnectTimeoutDefault
	}
	cc.RuntimeParams["search_path"] = pgx.Identifier{cfg.schema}.Sanitize()
	if cfg.syncCommit != "" {
		cc.RuntimeParams["synchronous_commit"] = cfg.syncCommit
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "durable"
	}
	// Every statement of the store reads rows by key or by a short index
	// range, and the tables churn faster than statistics follow: a plan
	// chosen while a table was small (a new schema, or autovacuum off) is
	// cached per connection and keeps scanning the whole table as it
	// grows, and a bitmap scan never marks dead index entries, so they are
	// read again by every claim until VACUUM. The store's own sessions
	// therefore plan with index scans. A DSN parameter overrides either.
	for _, p := range []string{"enable_seqscan", "enable_bitmapscan"} {
		if _, ok := cc.RuntimeParams[p]; !ok {
			cc.RuntimeParams[p] = "off"
		}
	}
	for _, fn := range cfg.poolConfigs {
		fn(pcfg)
	}
	return pcfg, nil
}

// channelName is the NOTIFY channel of a schema. Channel names are
// identifiers (at most 63 bytes), so long schema names are hashed.
func channelName(schema string) string {
	name := "durable." + schema
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(schema))
	return "durable." + hex.EncodeToString(sum[:16])
}

// Close stops the listener, closes subscriptions and the pool. It waits for
// connections in use to be returned.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	l := s.listener
	s.mu.Unlock()
	if l != nil {
		l.close()
	}
	s.pool.Close()
	return nil
}

// Schema returns the name of the store's schema.
func (s *Store) Schema() string { return s.cfg.schema }

// Pool returns the store's connection pool, for health checks and metrics
// (pool.Stat()). Don't change the store's tables through it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func dsnSetsMaxConns(dsn string) bool {
	return strings.Contains(dsn, "pool_max_conns")
}
