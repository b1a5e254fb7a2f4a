package postgres

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of the options.
const (
	// SchemaDefault is the schema that holds the store's tables unless
	// WithSchema names another.
	SchemaDefault = "durable"
	// MaxConnsDefault is the pool size unless WithMaxConns or the DSN's
	// pool_max_conns sets one.
	MaxConnsDefault = 16
	// ConnectTimeoutDefault bounds each connection attempt unless the DSN
	// sets connect_timeout.
	ConnectTimeoutDefault = 10 * time.Second
	// CommitConcurrencyDefault is the number of group-commit statements of
	// each kind (commits, run creations, task completions) that a process
	// has in flight at once unless WithCommitConcurrency sets it. One
	// statement at a time makes the groups as large as the load, and keeps
	// the server's backends from contending for the same pages: steps3 with
	// two worker processes on the 2-core test machine did 1,390-1,830
	// workflows/s with 1 and 970 with 4 (docs/store-postgres.md). Raise it
	// for a server with many cores far from the workers.
	CommitConcurrencyDefault = 1
	// LeaseDefault is the lease taken when a call asks for a zero lease.
	LeaseDefault = 30 * time.Second
)

// Option configures Open. Options are sealed: only this package makes them.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	schema      string
	maxConns    int32
	minConns    int32
	migrate     bool
	notify      bool
	syncCommit  string
	logger      *slog.Logger
	commitConns int32
	poolConfigs []func(*pgxpool.Config)
}

func newConfig(opts []Option) *config {
	c := &config{schema: SchemaDefault, migrate: true, notify: true}
	for _, o := range opts {
		o.apply(c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// WithSchema puts the store's tables in the named schema (SchemaDefault
// otherwise). Several stores can share a database under different schemas;
// notifications are scoped to the schema too.
func WithSchema(name string) Option {
	return optionFunc(func(c *config) { c.schema = name })
}

// WithMaxConns sets the pool's maximum number of connections
// (MaxConnsDefault, or pool_max_conns from the DSN). One more connection is
// opened for LISTEN while a Subscribe is active.
func WithMaxConns(n int32) Option {
	return optionFunc(func(c *config) { c.maxConns = n })
}

// WithMinConns keeps at least n connections open in the pool.
func WithMinConns(n int32) Option {
	return optionFunc(func(c *config) { c.minConns = n })
}

// WithMigrate controls whether Open creates or upgrades the schema (the
// default). With false, Open only checks that the schema is at the version
// this binary expects, for operators who migrate in a separate step
// (see Migrate).
func WithMigrate(migrate bool) Option {
	return optionFunc(func(c *config) { c.migrate = migrate })
}

// WithNotify controls whether writes send NOTIFY wake-ups (the default).
// NOTIFY serializes the commits that send it on a server-wide lock; a
// deployment whose workers poll often enough may turn it off. Subscribe
// still works but receives only what other processes send.
func WithNotify(notify bool) Option {
	return optionFunc(func(c *config) { c.notify = notify })
}

// WithSynchronousCommit sets synchronous_commit for the store's sessions:
// "on" (PostgreSQL's default) makes every commit survive a power loss of the
// database server; "off" lets the server acknowledge a commit before its WAL
// reaches disk: a commit still survives a crash of any worker process and
// the transaction is still atomic, but a crash of the database server may
// lose the last few hundred milliseconds of commits. "" leaves the server's
// setting.
func WithSynchronousCommit(mode string) Option {
	return optionFunc(func(c *config) { c.syncCommit = mode })
}

// WithCommitConcurrency sets how many group-commit statements may run at
// once (CommitConcurrencyDefault; keep it below the pool size).
// Concurrent Commit calls beyond that wait and go out together in the next
// statement, which is what makes commits cheap under load.
func WithCommitConcurrency(n int32) Option {
	return optionFunc(func(c *config) { c.commitConns = n })
}

func (c *config) commitConcurrency() int {
	if c.commitConns > 0 {
		return int(c.commitConns)
	}
	return CommitConcurrencyDefault
}

// WithLogger receives the store's background events (listener reconnects).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithPoolConfig lets fn adjust the pgxpool configuration after the DSN and
// the other options are applied (TLS, tracers, connection hooks, ...).
// The store relies on search_path naming its schema; fn must keep it.
func WithPoolConfig(fn func(*pgxpool.Config)) Option {
	return optionFunc(func(c *config) { c.poolConfigs = append(c.poolConfigs, fn) })
}
