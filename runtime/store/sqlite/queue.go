package sqlite

import (
	"context"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// describeQueueSQL reads a queue's backlog and lease owners in one
// statement, so that the three parts describe the same instant. ?1 is the
// queue, ?2 the store's time. The run backlog is ClaimRuns' two sets
// (due, or with inbox items) without a lease; the tasks table holds only
// pending attempts, so it is small.
const describeQueueSQL = `
WITH waiting AS (
	SELECT r.id, r.wake_at AS since FROM runs r
	WHERE r.status = 'running' AND r.queue = ?1 AND r.wake_at > 0 AND r.wake_at <= ?2 AND r.lease_until <= ?2
	UNION ALL
	SELECT r.id, min(i.at) AS since FROM inbox i JOIN runs r ON r.run_id = i.run_id
	WHERE r.status = 'running' AND r.queue = ?1 AND r.lease_until <= ?2
	GROUP BY r.id
), runs_waiting AS (
	SELECT id, min(since) AS since FROM waiting GROUP BY id
), owners AS (
	SELECT owner, 1 AS runs, 0 AS tasks, lease_until FROM runs
	WHERE status IN ('running', 'stuck') AND queue = ?1 AND owner <> '' AND lease_until > ?2
	UNION ALL
	SELECT owner, 0, 1, lease_until FROM tasks
	WHERE queue = ?1 AND owner <> '' AND lease_until > ?2
)
SELECT 'runs', '', count(*), coalesce(min(since), 0), 0 FROM runs_waiting
UNION ALL
SELECT 'tasks', '', count(*), coalesce(min(due_at), 0), 0 FROM tasks
WHERE queue = ?1 AND due_at <= ?2 AND (owner = '' OR lease_until <= ?2)
UNION ALL
SELECT 'owner', owner, sum(runs), max(lease_until), sum(tasks) FROM owners GROUP BY owner
ORDER BY 1, 2`

// DescribeQueue implements store.QueueDescriber.
func (s *Store) DescribeQueue(ctx context.Context, p *store.DescribeQueueParams) (*store.QueueDescription, error) {
	var d *store.QueueDescription
	err := s.read(ctx, func() error {
		d = &store.QueueDescription{}
		rows, err := s.rdb.QueryContext(ctx, describeQueueSQL, p.Queue, s.w.now().UnixNano())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				part, owner string
				n, at, m    int64
			)
			if err := rows.Scan(&part, &owner, &n, &at, &m); err != nil {
				return err
			}
			switch part {
			case "runs":
				d.Runs = store.Backlog{Count: n, Oldest: fromNanos(at)}
			case "tasks":
				d.Tasks = store.Backlog{Count: n, Oldest: fromNanos(at)}
			case "owner":
				d.Owners = append(d.Owners, store.QueueOwner{Owner: owner, Runs: n, Tasks: m, LeaseUntil: fromNanos(at)})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("describe queue %q: %w", p.Queue, err)
	}
	return d, nil
}

var _ store.QueueDescriber = (*Store)(nil)
