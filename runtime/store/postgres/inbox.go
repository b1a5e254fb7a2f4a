package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/durablego/toolkit/runtime/store"
)

// Deliver persists an inbox item for the open run of p.WorkflowID (or
// exactly p.RunID when set) and wakes the run's workers, in one round trip.
// It returns store.ErrNotFound when there is no open run.
func (s *Store) Deliver(ctx context.Context, p *store.DeliverParams) (*store.InboxItem, error) {
	target := `workflow_id = $1`
	key := p.WorkflowID
	if p.RunID != "" {
		target, key = `run_id = $1`, p.RunID
	}
	var b pgx.Batch
	item := &store.InboxItem{Kind: p.Kind, Name: p.Name, Data: p.Data}
	found := false
	b.Queue(`INSERT INTO inbox (run_id, kind, name, data)
		SELECT run_id, $2, $3, $4 FROM runs WHERE `+target+` AND status IN ('running', 'stuck')
		RETURNING id, run_id, at`, key, p.Kind, p.Name, p.Data).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(&item.ID, &item.RunID, &item.At); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if s.cfg.notify {
		b.Queue(`SELECT pg_notify($2, 'run:' || queue) FROM runs WHERE `+target+` AND status = 'running'`,
			key, s.channel)
	}
	if err := s.sendBatch(ctx, "deliver", &b); err != nil {
		return nil, err
	}
	if !found {
		return nil, interpretError("deliver", pgx.ErrNoRows)
	}
	return item, nil
}

// ListInbox returns a run's unconsumed inbox items in ID order (none for
// an unknown run).
func (s *Store) ListInbox(ctx context.Context, runID string) ([]store.InboxItem, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, name, data, at FROM inbox WHERE run_id = $1 ORDER BY id`, runID)
	if err != nil {
		return nil, interpretError("list inbox", err)
	}
	defer rows.Close()
	items := []store.InboxItem{}
	for rows.Next() {
		it := store.InboxItem{RunID: runID}
		if err := rows.Scan(&it.ID, &it.Kind, &it.Name, &it.Data, &it.At); err != nil {
			return nil, interpretError("list inbox", err)
		}
		items = append(items, it)
	}
	return items, interpretError("list inbox", rows.Err())
}
