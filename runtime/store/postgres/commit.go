package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/durablego/toolkit/runtime/store"
)

const sqlFenceRun = `SELECT fence_run($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

const sqlConsumeInbox = `DELETE FROM inbox WHERE run_id = $1 AND id = ANY($2)`

const sqlDeleteTasks = `DELETE FROM tasks WHERE id = ANY($1)`

// sqlDeliverMany inserts inbox items for the open runs of several targets
// (a RunID, or else a WorkflowID), in the order given; targets without an
// open run are skipped.
const sqlDeliverMany = `INSERT INTO inbox (run_id, kind, name, data)
SELECT r.run_id, d.kind, d.name, d.data
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY
	AS d(workflow_id, run_id, kind, name, data, o)
JOIN runs r ON ((d.run_id <> '' AND r.run_id = d.run_id) OR (d.run_id = '' AND r.workflow_id = d.workflow_id))
	AND r.status IN ('running', 'stuck')
ORDER BY d.o`

// sqlNotifyDeliverMany wakes the workers of the targets of sqlDeliverMany.
const sqlNotifyDeliverMany = `SELECT pg_notify($1, 'run:' || r.queue)
FROM (SELECT DISTINCT r.queue
	FROM unnest($2::text[], $3::text[]) AS d(workflow_id, run_id)
	JOIN runs r ON ((d.run_id <> '' AND r.run_id = d.run_id) OR (d.run_id = '' AND r.workflow_id = d.workflow_id))
		AND r.status = 'running') r`

// Commit applies p atomically. Most commits go through group commit
// (group.go): one statement for all the commits in flight. Commits that
// create runs or deliver to other runs are sent alone by commitBatch.
func (s *Store) Commit(ctx context.Context, p *store.CommitParams) error {
	if p.Update != nil && !validStatus(p.Update.Status) {
		return fmt.Errorf("postgres: commit to run %s: invalid status %q", p.RunID, p.Update.Status)
	}
	for _, c := range p.CreateRuns {
		if c.Run.Status != "" && !validStatus(c.Run.Status) {
			return fmt.Errorf("postgres: commit to run %s: create run %s: invalid status %q", p.RunID, c.Run.RunID, c.Run.Status)
		}
	}
	if len(p.CreateRuns) > 0 || len(p.Deliver) > 0 {
		return s.commitBatch(ctx, p)
	}
	return s.commits.do(ctx, p)
}

// commitBatch applies p in one round trip: a pipelined batch whose first
// statement, fence_run, checks the lease and the journal length and
// applies the run's update, and aborts the batch when either check fails.
func (s *Store) commitBatch(ctx context.Context, p *store.CommitParams) error {
	var b pgx.Batch
	var n notifier

	u := p.Update
	var (
		update         = u != nil
		closed         bool
		status, next   string
		result, errorB []byte
		wake           pgtype.Timestamptz
	)
	if update {
		status, result, errorB, next = string(u.Status), u.Result, u.Error, u.NextRunID
		wake = nullTime(u.WakeAt)
		closed = !u.Status.Open()
	}
	b.Queue(sqlFenceRun, p.RunID, p.Owner, p.ExpectLen, p.ExpectLen+int64(len(p.Events)),
		update, status, result, errorB, wake, next, closed)
	queueEvents(&b, p.RunID, p.ExpectLen, p.Events)
	if len(p.ConsumeInbox) > 0 {
		b.Queue(sqlConsumeInbox, p.RunID, p.ConsumeInbox)
	}
	if len(p.DeleteTasks) > 0 {
		b.Queue(sqlDeleteTasks, p.DeleteTasks)
	}
	queueTasks(&b, &n, p.RunID, p.CreateTasks)
	for _, c := range p.CreateRuns {
		queueCreateRun(&b, &n, c)
	}
	if len(p.Deliver) > 0 {
		queueDeliverMany(s, &b, p.Deliver)
	}
	n.queue(s, &b)
	return s.sendBatch(ctx, "commit", &b)
}

func queueDeliverMany(s *Store, b *pgx.Batch, ds []*store.DeliverParams) {
	k := len(ds)
	wfs, runs, kinds, names := make([]string, k), make([]string, k), make([]string, k), make([]string, k)
	data := make([][]byte, k)
	for i, d := range ds {
		wfs[i], runs[i], kinds[i], names[i], data[i] = d.WorkflowID, d.RunID, d.Kind, d.Name, d.Data
	}
	b.Queue(sqlDeliverMany, wfs, runs, kinds, names, data)
	if s.cfg.notify {
		b.Queue(sqlNotifyDeliverMany, s.channel, wfs, runs)
	}
}

// LoadJournal returns the events of a run with Seq > afterSeq, in order
// (none for an unknown run).
func (s *Store) LoadJournal(ctx context.Context, runID string, afterSeq int64) ([]store.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, kind, data, at FROM events
		WHERE run_id = $1 AND seq > $2 ORDER BY seq`, runID, afterSeq)
	if err != nil {
		return nil, interpretError("load journal", err)
	}
	defer rows.Close()
	events := []store.Event{}
	for rows.Next() {
		var e store.Event
		if err := rows.Scan(&e.Seq, &e.Kind, &e.Data, &e.At); err != nil {
			return nil, interpretError("load journal", err)
		}
		events = append(events, e)
	}
	return events, interpretError("load journal", rows.Err())
}

// validStatus reports whether s is one of the store's run statuses.
func validStatus(s store.RunStatus) bool { return s.Valid() }
