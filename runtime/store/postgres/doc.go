// Package postgres is a store.Store in PostgreSQL, for engines in several
// worker processes (on several machines) that share the work.
//
//	s, err := postgres.Open(ctx, "postgres://app@db:5432/app?sslmode=verify-full",
//		postgres.WithSchema("durable"), postgres.WithMaxConns(32))
//
// # Schema and migrations
//
// The store keeps its tables (runs, events, tasks, inbox, schema_version)
// in one schema, SchemaDefault unless WithSchema names another, and sets
// search_path to it on its own connections. Open creates and upgrades the
// schema from the versioned migrations embedded in the binary
// (migrations/NNN_name.sql), each in its own transaction, under a session
// advisory lock, so processes that start together migrate once. A schema
// newer than the binary, or a schema with foreign tables, is refused with
// store.ErrIncompatible. Operators who migrate as a separate step run
// Migrate and open the workers with WithMigrate(false).
//
// # Work distribution and fencing
//
// ClaimRuns and ClaimTasks lock candidates with FOR UPDATE SKIP LOCKED and
// lease them until now() + lease by the database's clock, so claimers never
// block each other, never claim the same row, and worker clocks do not
// matter. A dead worker's leases expire and its runs and tasks move on;
// ClaimTasks reports such a task as Abandoned. Every write on behalf of an
// owner is fenced: a commit applies only while its owner holds an
// unexpired lease and the journal has exactly ExpectLen events, else it
// changes nothing and returns store.ErrLeaseLost or store.ErrConflict. The
// primary key (run_id, seq) of events is the last line of defence. A
// partial unique index keeps at most one open run per workflow ID; a
// continue-as-new commit closes the run before it creates the next one.
//
// # Group commit
//
// Commit, CreateRun and CompleteTask calls that arrive while earlier ones
// are in flight are applied together by one statement in one transaction
// (at most WithCommitConcurrency statements of each kind at a time). Each
// call is still fenced and answered on its own; a call that fails the
// statement as a whole (a duplicate key) sends the others of its group
// through again one by one. At low load a call goes out at once: grouping
// never waits for a timer. A commit costs one round trip either way.
//
// # Notifications
//
// Store implements store.Notifier with LISTEN/NOTIFY on one channel per
// schema. Writers notify inside their transaction, so a notification
// arrives after the work it announces is visible: "run" on CreateRun,
// Deliver, CompleteTask, ReleaseRun of a due run and SetRunStatus to
// running; "task" when tasks are created or released. The listener uses a
// dedicated connection and reconnects with backoff; after a reconnect it
// sends one "run" and one "task" notification with an empty Queue, since
// some may have been missed.
//
// # Durability
//
// A commit is durable when PostgreSQL says so: with synchronous_commit on
// (PostgreSQL's default) it survives a power loss of the database server;
// WithSynchronousCommit("off") trades the last few hundred milliseconds of
// commits on a database crash for throughput (a commit still survives the
// crash of any worker). See docs/store-postgres.md.
//
// # Operations
//
// The store needs a session-mode connection (LISTEN, prepared statements
// and search_path do not survive PgBouncer's transaction pooling). Size the
// pool with WithMaxConns (MaxConnsDefault); the listener takes one more
// connection.
//
// Tests run against the database named by DURABLE_TEST_POSTGRES, each in a
// fresh schema; they skip when it is unset and fail when it is set but the
// server cannot be reached.
package postgres
