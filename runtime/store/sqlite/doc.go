// Package sqlite is the embedded store.Store: one SQLite file, no server,
// no cgo (modernc.org/sqlite).
//
//	s, err := sqlite.Open(ctx, "/var/lib/app/durable.db")
//	...
//	defer s.Close()
//
// OpenMemory gives a store in memory for tests; each call is a separate
// store.
//
// # Durability
//
// A call that returned without error is committed. What a commit survives
// depends on one option:
//
//   - By default (PRAGMA synchronous=NORMAL in WAL mode) a commit survives a
//     crash or SIGKILL of the process: it is in the operating system's page
//     cache when the call returns. A power loss or kernel crash may lose the
//     last commits (never corrupt the file).
//   - WithFsync(true) (synchronous=FULL) fsyncs the WAL before every commit
//     returns, so commits also survive power loss. Group commit shares each
//     fsync among all calls of a group, so the cost under load is small; a
//     lone caller pays one fsync per call.
//
// OpenMemory stores keep nothing once closed or once the process ends.
//
// # Design
//
// The database runs in WAL mode, so readers never block the writer nor the
// writer them. All writes go through one connection owned by a committer
// goroutine: calls that arrive while it works queue up, and it runs the whole
// queue as one transaction (group commit), committing once. Calls that may
// fail after they have written (a commit creating a child run that collides
// with an open one) run inside their own SAVEPOINT; every other call writes
// nothing before the statement that may reject it (the fenced update of a
// commit checks owner, lease and journal length at once), so its failure
// leaves nothing to undo. Should a call fail after writing anyway, or SQLite
// report an error that may end the transaction, the group is rolled back and
// run again call by call. Either way one failing call never takes others
// with it, and every call is atomic. Reads (GetRun, LoadJournal, ListInbox,
// ...) use a separate pool of read-only connections. Statements are prepared
// once. WAL checkpoints run in the background on a connection of their own
// instead of inside a commit.
//
// Times are stored as integer Unix nanoseconds (0 for the zero time); the
// store's clock is the local clock.
//
// # One working process, any number of clients
//
// Open takes an exclusive lock (flock; LockFileEx on Windows) on PATH.lock
// for as long as the store is open and writes its process ID into that
// file, so a second Open of the same file, in this process or another,
// fails with ErrLocked naming the holder:
//
//	sqlite: database in use by another store: /srv/durable.db.lock is locked by pid 4242 (worker) on host1 since 2026-12-03T11:41:27Z; only one process may work an SQLite store: ...
//
// The kernel drops the lock when the process dies, so a crash leaves no
// stale lock. Store therefore implements store.Exclusive: an engine on a
// freshly opened store may release every lease at once (ReleaseLeases(""))
// instead of waiting for its dead predecessor's leases to expire.
//
// Open(..., WithClientOnly(true)) opens the file beside the process that
// works it: it takes no lock, so any number of client-only stores (a
// starter, an HTTP API, a CLI) open the file whether or not a worker has it
// open. A client-only store creates runs, delivers to inboxes, sets run
// statuses and reads everything, with the same transactions as the worker;
// it refuses (ErrClientOnly) to claim runs or tasks, to create a leased run
// and to release every lease. It is not Exclusive.
//
// The working process hears of the clients' commits within 2 ms while it
// is busy and 32 ms when idle: Store implements store.Notifier, and while
// someone is subscribed the writer reads PRAGMA data_version on its
// connection, a number SQLite changes only when another connection
// committed, backing off from every 2 to every 32 ms while nothing happens. The
// store's own calls announce the work they make claimable to its
// subscribers as well, as PostgreSQL's NOTIFY does.
//
// Each process has its own writer connection; SQLite serializes their
// transactions. A call that finds the file's write lock held by another
// process (the worker, a client, a backup, the sqlite3 shell) waits
// (busy_timeout, then retries with back-off) rather than fails.
//
// # Schema and incompatible files
//
// The file is marked as a durable store by PRAGMA application_id, and its
// schema version is PRAGMA user_version; Open migrates older schemas in one
// transaction. Open refuses, with an error wrapping store.ErrIncompatible
// that names the path, and without modifying the file: a file that is not
// SQLite (a text file), a corrupt file, an SQLite database of another
// application (tables but not our application_id), and a store whose schema
// is newer than this binary knows. Damage found later, inside pages Open did
// not read, surfaces as store.ErrIncompatible from the call that met it.
//
// # Errors
//
// Driver errors are translated in one place (errors.go): unique-constraint
// violations become store.ErrAlreadyExists, a corrupt file
// store.ErrIncompatible; callers never see the driver's error types.
package sqlite
