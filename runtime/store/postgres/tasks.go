package postgres

import (
	"context"

	"github.com/durablego/toolkit/runtime/store"
)

// ClaimTasks leases up to p.Limit due tasks of the given kinds and queues
// (empty: any) whose lease is free or expired, earliest due first, skipping
// rows other claimers hold locked. A task whose previous lease expired (or
// was cleared by ReleaseLeases) comes back with Abandoned set.
func (s *Store) ClaimTasks(ctx context.Context, p *store.ClaimTasksParams) ([]*store.Task, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	allKinds, kinds := anyOf(p.Kinds)
	allQueues, queues := anyOf(p.Queues)
	rows, err := s.pool.Query(ctx, `WITH c AS (
		SELECT id, (owner <> '' OR abandoned) AS abandoned FROM tasks
		WHERE due_at <= now() AND ($1 OR kind = ANY($2)) AND ($3 OR queue = ANY($4))
		  AND (lease_until IS NULL OR lease_until <= now())
		ORDER BY due_at
		LIMIT $5
		FOR UPDATE SKIP LOCKED
	)
	UPDATE tasks t SET owner = $6, lease_until = now() + $7::bigint * interval '1 microsecond', abandoned = false
	FROM c WHERE t.id = c.id
	RETURNING `+taskColumns+`, c.abandoned`, allKinds, kinds, allQueues, queues, p.Limit, p.Owner, micros(p.Lease))
	if err != nil {
		return nil, interpretError("claim tasks", err)
	}
	defer rows.Close()
	var tasks []*store.Task
	for rows.Next() {
		var abandoned bool
		t, err := scanTask(rows, &abandoned)
		if err != nil {
			return nil, interpretError("claim tasks", err)
		}
		t.Abandoned = abandoned
		tasks = append(tasks, t)
	}
	return tasks, interpretError("claim tasks", rows.Err())
}

// UpdateTask records a heartbeat, extends the lease or releases the task
// for a retry, if p.Owner holds an unexpired lease on it.
func (s *Store) UpdateTask(ctx context.Context, p *store.UpdateTaskParams) error {
	var lease int64 // 0: keep
	if p.Lease > 0 {
		lease = p.Lease.Microseconds()
	}
	var done, exists bool
	err := s.pool.QueryRow(ctx, `WITH u AS (
		UPDATE tasks SET
			details     = coalesce($3, details),
			owner       = CASE WHEN $4 THEN '' ELSE owner END,
			lease_until = CASE WHEN $4 THEN NULL
				WHEN $5::bigint > 0 THEN now() + $5::bigint * interval '1 microsecond' ELSE lease_until END,
			due_at      = CASE WHEN $4 THEN coalesce($6, now()) ELSE due_at END,
			attempt     = CASE WHEN $4 THEN $7 ELSE attempt END
		WHERE id = $1 AND owner = $2 AND $2 <> '' AND lease_until > now()
		RETURNING queue
	)
	SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM tasks WHERE id = $1),
		(SELECT count(pg_notify($8, 'task:' || queue)) FROM u WHERE $4 AND $9)`,
		p.ID, p.Owner, p.Details, p.Release, lease, nullTime(p.DueAt), int32(p.Attempt), s.channel, s.cfg.notify,
	).Scan(&done, &exists, nil)
	if err != nil {
		return interpretError("update task", err)
	}
	return leaseResult("update task", done, exists)
}

// CompleteTask deletes a task p.Owner holds and, in the same statement,
// delivers p.Result to the task's run when it is still open.
func (s *Store) CompleteTask(ctx context.Context, p *store.CompleteTaskParams) error {
	var kind, name string
	var data []byte
	deliver := p.Result != nil
	if deliver {
		kind, name, data = p.Result.Kind, p.Result.Name, p.Result.Data
	}
	var (
		runID  *string
		exists bool
	)
	err := s.pool.QueryRow(ctx, `WITH d AS (
		DELETE FROM tasks WHERE id = $1 AND owner = $2 AND $2 <> '' AND lease_until > now()
		RETURNING run_id
	), target AS (
		SELECT r.run_id, r.queue, r.status FROM runs r JOIN d ON r.run_id = d.run_id
		WHERE r.status IN ('running', 'stuck') AND $3
	), i AS (
		INSERT INTO inbox (run_id, kind, name, data) SELECT run_id, $4, $5, $6 FROM target
	)
	SELECT (SELECT run_id FROM d), EXISTS (SELECT 1 FROM tasks WHERE id = $1),
		(SELECT count(pg_notify($7, 'run:' || queue)) FROM target WHERE $8 AND status = 'running')`,
		p.ID, p.Owner, deliver, kind, name, data, s.channel, s.cfg.notify).Scan(&runID, &exists, nil)
	if err != nil {
		return interpretError("complete task", err)
	}
	if runID != nil && deliver {
		p.Result.RunID = *runID // filled in, as store.CompleteTaskParams documents
	}
	return leaseResult("complete task", runID != nil, exists)
}
