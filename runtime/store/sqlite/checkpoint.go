package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointInterval is how often the checkpointer copies committed pages
// from the WAL into the database file.
const checkpointInterval = 100 * time.Millisecond

// checkpointer runs passive WAL checkpoints on a connection of its own.
// SQLite's automatic checkpoint would run inside the commit that crosses the
// threshold, stalling the whole group behind a burst of writes and an
// fsync; a passive checkpoint from another connection runs alongside the
// writer and the readers without blocking either.
type checkpointer struct {
	db     *sql.DB
	quit   chan struct{}
	exited chan struct{}
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, quit: make(chan struct{}), exited: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.exited)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
			// Errors (a busy database) only delay the checkpoint.
			_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

func (c *checkpointer) close() {
	close(c.quit)
	<-c.exited
}
