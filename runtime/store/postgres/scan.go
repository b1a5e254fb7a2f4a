package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/durablego/toolkit/runtime/store"
)

// runColumns are the columns scanRun reads, in order.
const runColumns = `run_id, workflow_id, workflow, queue, status, input, result, error, meta,
	parent_run_id, prev_run_id, next_run_id, journal_len, wake_at, owner, lease_until,
	created_at, updated_at`

// runColumnsQ are runColumns qualified with the table alias r.
const runColumnsQ = `r.run_id, r.workflow_id, r.workflow, r.queue, r.status, r.input, r.result, r.error, r.meta,
	r.parent_run_id, r.prev_run_id, r.next_run_id, r.journal_len, r.wake_at, r.owner, r.lease_until,
	r.created_at, r.updated_at`

// scanRun scans runColumns, then extra columns into extra.
func scanRun(row pgx.Row, extra ...any) (*store.Run, error) {
	var (
		r           store.Run
		status      string
		wake, lease pgtype.Timestamptz
	)
	dest := []any{&r.RunID, &r.WorkflowID, &r.Workflow, &r.Queue, &status, &r.Input, &r.Result, &r.Error, &r.Meta,
		&r.ParentRunID, &r.PrevRunID, &r.NextRunID, &r.JournalLen, &wake, &r.Owner, &lease,
		&r.CreatedAt, &r.UpdatedAt}
	err := row.Scan(append(dest, extra...)...)
	if err != nil {
		return nil, err
	}
	r.Status = store.RunStatus(status)
	r.WakeAt = fromTimestamptz(wake)
	r.LeaseUntil = fromTimestamptz(lease)
	return &r, nil
}

func scanRuns(rows pgx.Rows) ([]*store.Run, error) {
	defer rows.Close()
	var runs []*store.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// taskColumns are the columns scanTask reads, in order, qualified with the
// table alias t.
const taskColumns = `t.id, t.run_id, t.kind, t.queue, t.due_at, t.attempt, t.data, t.details, t.owner,
	t.lease_until, t.created_at`

func scanTask(row pgx.Row, extra ...any) (*store.Task, error) {
	var (
		t     store.Task
		lease pgtype.Timestamptz
	)
	dest := []any{&t.ID, &t.RunID, &t.Kind, &t.Queue, &t.DueAt, &t.Attempt, &t.Data, &t.Details, &t.Owner,
		&lease, &t.CreatedAt}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	t.LeaseUntil = fromTimestamptz(lease)
	return &t, nil
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

func fromTimestamptz(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}

// micros is a duration in microseconds, the resolution of PostgreSQL's
// intervals; queries multiply it by interval '1 microsecond'.
func micros(d time.Duration) int64 {
	if d <= 0 {
		d = LeaseDefault
	}
	return d.Microseconds()
}
