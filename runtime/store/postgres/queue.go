package postgres

import (
	"context"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// describeQueueSQL reads a queue's backlog and lease owners in one
// statement, so that the three parts describe the same instant (now() is
// the transaction's). The run backlog is ClaimRuns' two sets (due, or with
// inbox items) without a lease; the queue's open runs are found through
// runs_claim (queue, wake_at) WHERE status = 'running'.
const describeQueueSQL = `
WITH waiting AS (
	SELECT r.run_id, r.wake_at AS since FROM runs r
	WHERE r.status = 'running' AND r.queue = $1 AND r.wake_at <= now()
	  AND (r.lease_until IS NULL OR r.lease_until <= now())
	UNION ALL
	SELECT r.run_id, min(i.at) FROM inbox i JOIN runs r ON r.run_id = i.run_id
	WHERE r.status = 'running' AND r.queue = $1
	  AND (r.lease_until IS NULL OR r.lease_until <= now())
	GROUP BY r.run_id
), runs_waiting AS (
	SELECT run_id, min(since) AS since FROM waiting GROUP BY run_id
), owners AS (
	SELECT owner, 1 AS runs, 0 AS tasks, lease_until FROM runs
	WHERE status IN ('running', 'stuck') AND queue = $1 AND owner <> '' AND lease_until > now()
	UNION ALL
	SELECT owner, 0, 1, lease_until FROM tasks
	WHERE queue = $1 AND owner <> '' AND lease_until > now()
)
SELECT 'runs', '', count(*), min(since), 0::bigint FROM runs_waiting
UNION ALL
SELECT 'tasks', '', count(*), min(due_at), 0::bigint FROM tasks
WHERE queue = $1 AND due_at <= now() AND (owner = '' OR lease_until <= now())
UNION ALL
SELECT 'owner', owner, sum(runs)::bigint, max(lease_until), sum(tasks)::bigint FROM owners GROUP BY owner
ORDER BY 1, 2`

// DescribeQueue implements store.QueueDescriber.
func (s *Store) DescribeQueue(ctx context.Context, p *store.DescribeQueueParams) (*store.QueueDescription, error) {
	rows, err := s.pool.Query(ctx, describeQueueSQL, p.Queue)
	if err != nil {
		return nil, interpretError("describe queue "+p.Queue, err)
	}
	defer rows.Close()
	d := &store.QueueDescription{}
	for rows.Next() {
		var (
			part, owner string
			n, m        int64
			at          *time.Time
		)
		if err := rows.Scan(&part, &owner, &n, &at, &m); err != nil {
			return nil, interpretError("describe queue "+p.Queue, err)
		}
		var t time.Time
		if at != nil {
			t = *at
		}
		switch part {
		case "runs":
			d.Runs = store.Backlog{Count: n, Oldest: t}
		case "tasks":
			d.Tasks = store.Backlog{Count: n, Oldest: t}
		case "owner":
			d.Owners = append(d.Owners, store.QueueOwner{Owner: owner, Runs: n, Tasks: m, LeaseUntil: t})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError("describe queue "+p.Queue, err)
	}
	return d, nil
}

var _ store.QueueDescriber = (*Store)(nil)
