package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/durablego/toolkit/runtime/store"
)

// ClaimTasks leases up to p.Limit due tasks of the given kinds and queues
// (empty: any) whose lease is free or expired, skipping rows other
// claimers hold locked. Free tasks come first, earliest due first, then
// tasks whose lease expired; those (and tasks whose lease ReleaseLeases
// cleared) come back with Abandoned set.
func (s *Store) ClaimTasks(ctx context.Context, p *store.ClaimTasksParams) ([]*store.Task, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	args := []any{p.Limit, p.Owner, micros(p.Lease)}
	filter := ""
	if len(p.Kinds) > 0 {
		args = append(args, p.Kinds)
		filter += fmt.Sprintf(" AND kind = ANY($%d)", len(args))
	}
	if len(p.Queues) > 0 {
		args = append(args, p.Queues)
		filter += fmt.Sprintf(" AND queue = ANY($%d)", len(args))
	}
	rows, err := s.pool.Query(ctx, `WITH free AS (
		SELECT id, abandoned FROM tasks
		WHERE owner = '' AND due_at <= now()`+filter+`
		ORDER BY due_at
		LIMIT $1
		FOR UPDATE SKIP LOCKED
	), expired AS (
		SELECT id, true AS abandoned FROM tasks
		WHERE owner <> '' AND lease_until <= now() AND due_at <= now()`+filter+`
		ORDER BY lease_until
		LIMIT $1
		FOR UPDATE SKIP LOCKED
	), c AS (
		SELECT * FROM (SELECT * FROM free UNION ALL SELECT * FROM expired) u LIMIT $1
	)
	UPDATE tasks t SET owner = $2, lease_until = now() + $3::bigint * interval '1 microsecond', abandoned = false
	FROM c WHERE t.id = c.id
	RETURNING `+taskColumns+`, c.abandoned`, args...)
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

// ListTasks returns a run's tasks in ID order (none for an unknown run).
func (s *Store) ListTasks(ctx context.Context, runID string) ([]*store.Task, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+taskColumns+` FROM tasks t WHERE t.run_id = $1 ORDER BY t.id`, runID)
	if err != nil {
		return nil, interpretError("list tasks", err)
	}
	defer rows.Close()
	tasks := []*store.Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, interpretError("list tasks", err)
		}
		tasks = append(tasks, t)
	}
	return tasks, interpretError("list tasks", rows.Err())
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

// ExpireTask implements store.Store: one statement deletes the task when
// no worker holds it and it waited long enough, and delivers the result;
// when it did not, a second reads the task as it is.
func (s *Store) ExpireTask(ctx context.Context, p *store.ExpireTaskParams) (bool, *store.Task, error) {
	deliver := p.Result != nil
	var kind, name string
	var data []byte
	if deliver {
		kind, name, data = p.Result.Kind, p.Result.Name, p.Result.Data
	}
	var expired bool
	err := s.pool.QueryRow(ctx, `WITH d AS (
		DELETE FROM tasks WHERE id = $1 AND owner = '' AND due_at <= now() - $2::bigint * interval '1 microsecond'
		RETURNING run_id
	), target AS (
		SELECT r.run_id, r.queue, r.status FROM d JOIN runs r ON r.run_id = d.run_id
		WHERE r.status IN ('running', 'stuck')
	), i AS (
		INSERT INTO inbox (run_id, kind, name, data) SELECT run_id, $3, $4, $5 FROM target WHERE $6
	)
	SELECT EXISTS (SELECT 1 FROM d),
		(SELECT count(pg_notify($7, 'run:' || queue)) FROM target WHERE $6 AND status = 'running' AND $8)`,
		p.ID, p.After.Microseconds(), kind, name, data, deliver, s.channel, s.cfg.notify,
	).Scan(&expired, nil)
	if err != nil {
		return false, nil, interpretError("expire task", err)
	}
	if expired {
		return true, nil, nil
	}
	t, err := scanTask(s.pool.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks t WHERE t.id = $1`, p.ID))
	if err != nil {
		return false, nil, interpretError("expire task", err)
	}
	return false, t, nil
}

// CompleteTask deletes a task p.Owner holds and, in the same
// transaction, delivers p.Result to the task's run when it is still open.
// Concurrent calls are applied together by one statement (see group.go).
func (s *Store) CompleteTask(ctx context.Context, p *store.CompleteTaskParams) error {
	return s.completions.do(ctx, p)
}

// sqlCompleteTasks completes a group of tasks: it deletes those whose
// owner holds an unexpired lease, delivers their results to their runs
// when open (in group order), and returns the positions and runs of the
// deleted tasks.
const sqlCompleteTasks = `WITH c AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::text[], $6::bytea[])
		WITH ORDINALITY AS c(id, owner, deliver, kind, name, data, idx)
), d AS (
	DELETE FROM tasks t USING c
	WHERE t.id = c.id AND t.owner = c.owner AND c.owner <> '' AND t.lease_until > now()
	RETURNING c.idx, t.run_id
), target AS (
	SELECT d.idx, r.run_id, r.queue, r.status FROM d JOIN runs r ON r.run_id = d.run_id
	WHERE r.status IN ('running', 'stuck')
), i AS (
	INSERT INTO inbox (run_id, kind, name, data)
	SELECT target.run_id, c.kind, c.name, c.data FROM target JOIN c ON c.idx = target.idx
	WHERE c.deliver ORDER BY target.idx
)
SELECT array(SELECT idx FROM d), array(SELECT run_id FROM d),
	(SELECT count(pg_notify($7, p)) FROM (
		SELECT DISTINCT 'run:' || target.queue AS p FROM target JOIN c ON c.idx = target.idx
		WHERE c.deliver AND target.status = 'running') n
	 WHERE $8)`

type completeReq = groupReq[*store.CompleteTaskParams]

// completeTaskGroup applies a group of CompleteTask calls in one statement.
func (s *Store) completeTaskGroup(ctx context.Context, group []*completeReq) {
	slices.SortStableFunc(group, func(a, b *completeReq) int { return strings.Compare(a.p.ID, b.p.ID) })
	k := len(group)
	ids, owners, kinds, names := make([]string, k), make([]string, k), make([]string, k), make([]string, k)
	delivers := make([]bool, k)
	data := make([][]byte, k)
	for i, r := range group {
		ids[i], owners[i] = r.p.ID, r.p.Owner
		if res := r.p.Result; res != nil {
			delivers[i], kinds[i], names[i], data[i] = true, res.Kind, res.Name, res.Data
		}
	}
	var (
		done   []int64
		runIDs []string
	)
	err := s.pool.QueryRow(ctx, sqlCompleteTasks, ids, owners, delivers, kinds, names, data, s.channel, s.cfg.notify).
		Scan(&done, &runIDs, nil)
	if err != nil {
		if k == 1 || failAllIfUnavailable(group, "complete task", err) {
			group[0].err = interpretError("complete task", err)
			return
		}
		for _, r := range group {
			s.completeTaskGroup(ctx, []*completeReq{r})
		}
		return
	}
	ok := make([]bool, k)
	for j, idx := range done {
		r := group[idx-1]
		ok[idx-1] = true
		if r.p.Result != nil {
			r.p.Result.RunID = runIDs[j] // filled in, as store.CompleteTaskParams documents
		}
	}
	var failed []string
	for i, r := range group {
		if !ok[i] {
			failed = append(failed, r.p.ID)
		}
	}
	if len(failed) == 0 {
		return
	}
	var existing []string
	err = s.pool.QueryRow(ctx, `SELECT array(SELECT id FROM tasks WHERE id = ANY($1))`, failed).Scan(&existing)
	for i, r := range group {
		switch {
		case ok[i]:
		case err != nil:
			r.err = interpretError("complete task", err)
		default:
			r.err = leaseResult("complete task", false, slices.Contains(existing, r.p.ID))
		}
	}
}
