package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// applicationID marks a database file as a durable store ("DRBL") in the
// SQLite header (PRAGMA application_id), so that Open can tell its own files
// from foreign ones.
const applicationID = 0x4452424c

// migrations[i] takes the schema from version i to version i+1. The version
// is kept in PRAGMA user_version. Append only; never edit a released entry.
var migrations = []string{
	// 1: runs, journal events, tasks and the inbox.
	`
CREATE TABLE runs (
	id            INTEGER PRIMARY KEY,
	run_id        TEXT    NOT NULL UNIQUE,
	workflow_id   TEXT    NOT NULL,
	workflow      TEXT    NOT NULL,
	queue         TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	input         BLOB,
	result        BLOB,
	error         BLOB,
	meta          BLOB,
	parent_run_id TEXT    NOT NULL,
	prev_run_id   TEXT    NOT NULL,
	next_run_id   TEXT    NOT NULL,
	journal_len   INTEGER NOT NULL,
	wake_at       INTEGER NOT NULL, -- unix ns; 0: only the inbox wakes the run
	owner         TEXT    NOT NULL, -- '' when unleased
	lease_until   INTEGER NOT NULL, -- unix ns; 0 when unleased
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
-- At most one open run per workflow ID.
CREATE UNIQUE INDEX runs_open_workflow ON runs (workflow_id) WHERE status IN ('running', 'stuck');
CREATE INDEX runs_workflow ON runs (workflow_id, id);
CREATE INDEX runs_wake ON runs (wake_at) WHERE status = 'running' AND wake_at > 0;
CREATE INDEX runs_owner ON runs (owner) WHERE owner <> '';

-- Events are keyed by the run's row id, not its RunID: runs created about
-- the same time sit side by side, so a group commit touches few pages even
-- when RunIDs are random.
CREATE TABLE events (
	run  INTEGER NOT NULL, -- runs.id
	seq  INTEGER NOT NULL,
	kind TEXT    NOT NULL,
	data BLOB,
	at   INTEGER NOT NULL,
	PRIMARY KEY (run, seq)
) WITHOUT ROWID;

CREATE TABLE tasks (
	id          TEXT    NOT NULL PRIMARY KEY,
	run_id      TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	queue       TEXT    NOT NULL,
	due_at      INTEGER NOT NULL,
	attempt     INTEGER NOT NULL,
	data        BLOB,
	details     BLOB,
	owner       TEXT    NOT NULL,
	lease_until INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	abandoned   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX tasks_due ON tasks (due_at);
CREATE INDEX tasks_owner ON tasks (owner) WHERE owner <> '';

CREATE TABLE inbox (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id TEXT    NOT NULL,
	kind   TEXT    NOT NULL,
	name   TEXT    NOT NULL,
	data   BLOB,
	at     INTEGER NOT NULL
);
CREATE INDEX inbox_run ON inbox (run_id, id);
`,
	// 2: no index on owner. Every run gets an owner when created and loses
	// it when closed, and every activity attempt's task row is inserted
	// with one and deleted: an index on owner cost two B-tree writes per
	// commit for the sake of ReleaseLeases, which runs when an engine
	// closes and finds the leased runs among the open ones (the tasks
	// table holds only pending attempts).
	`
DROP INDEX runs_owner;
DROP INDEX tasks_owner;
`,
	// 3: a run's tasks by run. An engine runs the attempts of its own runs
	// without a task row; one that loads a run reads its tasks to tell
	// which pending activities ran in the memory of a previous owner.
	`
CREATE INDEX tasks_run ON tasks (run_id);
`,
}

// migrate checks that the database behind conn is a durable store (or
// empty) with a schema no newer than ours, and brings it up to date. It runs
// before anything else touches the file, so a foreign database is left as it
// was.
func migrate(ctx context.Context, conn *sql.Conn, path string) error {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()

	var appID, version, objects int
	if err := conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&objects); err != nil {
		return err
	}

	switch {
	case appID == applicationID && version > len(migrations):
		return fmt.Errorf("%w: %s has schema version %d, newer than the %d this binary knows; upgrade the binary",
			store.ErrIncompatible, path, version, len(migrations))
	case appID == applicationID:
		// Ours: migrate from version.
	case appID == 0 && version == 0 && objects == 0:
		// A new, empty database: make it ours.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: %s is an SQLite database of another application (application_id %#x, user_version %d, %d schema objects)",
			store.ErrIncompatible, path, appID, version, objects)
	}

	for v := version; v < len(migrations); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate %s to schema version %d: %w", path, v+1, err)
		}
	}
	if version != len(migrations) {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}
