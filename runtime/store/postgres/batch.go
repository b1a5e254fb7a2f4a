package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/durablego/toolkit/runtime/store"
)

// A write is a pgx.Batch: pgx pipelines its statements to the server in one
// round trip, and PostgreSQL runs the statements between two Syncs in one
// implicit transaction, so a batch is atomic and an error (for example the
// fence_run check of a Commit) aborts every statement after it. The
// statements are prepared and cached per connection, so a warm batch costs
// one round trip and one WAL flush. Only commits that create runs or
// deliver to other runs use batches; the frequent calls go through
// group.go.

// sendBatch runs b and returns its first error, translated.
func (s *Store) sendBatch(ctx context.Context, op string, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	err := s.pool.SendBatch(ctx, b).Close()
	return interpretError(op, err)
}

const sqlInsertRun = `INSERT INTO runs (run_id, workflow_id, workflow, queue, status, input, result, error, meta,
	parent_run_id, prev_run_id, next_run_id, journal_len, wake_at, owner, lease_until)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
	CASE WHEN $15 = '' THEN NULL ELSE now() + $16::bigint * interval '1 microsecond' END)`

const sqlInsertEvents = `INSERT INTO events (run_id, seq, kind, data, at)
SELECT $1, $2 + e.o, e.kind, e.data, coalesce(e.at, now())
FROM unnest($3::text[], $4::bytea[], $5::timestamptz[]) WITH ORDINALITY AS e(kind, data, at, o)`

const sqlInsertTasks = `INSERT INTO tasks (id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until)
SELECT t.id, t.run_id, t.kind, t.queue, coalesce(t.due_at, now()), t.attempt, t.data, t.details, t.owner,
	CASE WHEN t.owner = '' THEN NULL ELSE coalesce(t.lease_until, now() + $11::bigint * interval '1 microsecond') END
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::bytea[],
	$8::bytea[], $9::text[], $10::timestamptz[]) AS t(id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until)`

// sqlNotify sends one notification per distinct payload.
const sqlNotify = `SELECT pg_notify($1, p) FROM (SELECT DISTINCT unnest($2::text[]) AS p) n`

// notifier collects the notifications of one write, sent by its last
// statement so that they go out when (and only if) it commits.
type notifier struct {
	payloads []string
}

func (n *notifier) add(kind, queue string) {
	p := kind + ":" + queue
	for _, q := range n.payloads {
		if q == p {
			return
		}
	}
	n.payloads = append(n.payloads, p)
}

func (n *notifier) queue(s *Store, b *pgx.Batch) {
	if len(n.payloads) > 0 && s.cfg.notify {
		b.Queue(sqlNotify, s.channel, n.payloads)
	}
}

// queueCreateRun queues the statements of a CreateRun.
func queueCreateRun(b *pgx.Batch, n *notifier, p *store.CreateRunParams) {
	r := p.Run
	status := r.Status
	if status == "" {
		status = store.StatusRunning
	}
	b.Queue(sqlInsertRun, r.RunID, r.WorkflowID, r.Workflow, r.Queue, string(status), r.Input, r.Result, r.Error,
		r.Meta, r.ParentRunID, r.PrevRunID, r.NextRunID, int64(len(p.Events)), nullTime(r.WakeAt), p.Owner,
		micros(p.Lease))
	queueEvents(b, r.RunID, 0, p.Events)
	queueTasks(b, n, r.RunID, p.Tasks)
	if status == store.StatusRunning && p.Owner == "" {
		n.add("run", r.Queue) // a leased run is its creator's to work
	}
}

func queueEvents(b *pgx.Batch, runID string, after int64, events []store.Event) {
	if len(events) == 0 {
		return
	}
	kinds := make([]string, len(events))
	data := make([][]byte, len(events))
	ats := make([]pgtype.Timestamptz, len(events))
	for i, e := range events {
		kinds[i], data[i], ats[i] = e.Kind, e.Data, nullTime(e.At)
	}
	b.Queue(sqlInsertEvents, runID, after, kinds, data, ats)
}

// queueTasks queues the insertion of tasks (see taskArrays.add).
func queueTasks(b *pgx.Batch, n *notifier, runID string, tasks []*store.Task) {
	if len(tasks) == 0 {
		return
	}
	var a taskArrays
	a.add(0, runID, tasks)
	for _, t := range tasks {
		if t.Owner == "" {
			n.add("task", t.Queue)
		}
	}
	b.Queue(sqlInsertTasks, a.id, a.run, a.kind, a.queue, a.due, a.attempt, a.data, a.details, a.owner, a.lease,
		micros(LeaseDefault))
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// taskArrays are the columns of tasks to insert, one array per column,
// each task tagged with the position (idx) of the call it belongs to.
type taskArrays struct {
	idx                         []int64
	id, run, kind, queue, owner []string
	due, lease                  []pgtype.Timestamptz
	attempt                     []int32
	data, details               [][]byte
}

// add appends tasks of call idx; a task without RunID takes runID, and one
// without ID gets a random one (both written back to the task).
func (a *taskArrays) add(idx int64, runID string, tasks []*store.Task) {
	for _, t := range tasks {
		if t.ID == "" {
			t.ID = newID()
		}
		if t.RunID == "" {
			t.RunID = runID
		}
		a.idx = append(a.idx, idx)
		a.id, a.run, a.kind, a.queue, a.owner = append(a.id, t.ID), append(a.run, t.RunID), append(a.kind, t.Kind),
			append(a.queue, t.Queue), append(a.owner, t.Owner)
		a.due, a.lease = append(a.due, nullTime(t.DueAt)), append(a.lease, nullTime(t.LeaseUntil))
		a.attempt = append(a.attempt, int32(t.Attempt))
		a.data, a.details = append(a.data, t.Data), append(a.details, t.Details)
	}
}
