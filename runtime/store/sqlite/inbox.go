package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// Deliver implements store.Store.
func (s *Store) Deliver(ctx context.Context, p *store.DeliverParams) (*store.InboxItem, error) {
	var item *store.InboxItem
	err := s.write(ctx, func(tx *wtx) (err error) {
		item, err = tx.deliver(p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return item, nil
}

// deliver adds an inbox item to the open run p names, or returns
// store.ErrNotFound.
func (tx *wtx) deliver(p *store.DeliverParams) (*store.InboxItem, error) {
	st, target := tx.deliverWorkflow, p.WorkflowID
	if p.RunID != "" {
		st, target = tx.deliverRun, p.RunID
	}
	item := &store.InboxItem{Kind: p.Kind, Name: p.Name, Data: p.Data, At: fromNanos(tx.now)}
	err := tx.scanRow(st, true, []any{target, p.Kind, p.Name, p.Data, tx.now}, &item.ID, &item.RunID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("deliver to %s: no open run: %w", target, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	tx.announceRun(item.RunID)
	return item, nil
}

// ListInbox implements store.Store.
func (s *Store) ListInbox(ctx context.Context, runID string) ([]store.InboxItem, error) {
	var items []store.InboxItem
	err := s.read(ctx, func() error {
		items = items[:0]
		rows, err := s.rst.listInbox.QueryContext(ctx, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				it store.InboxItem
				at int64
			)
			if err := rows.Scan(&it.ID, &it.RunID, &it.Kind, &it.Name, &it.Data, &at); err != nil {
				return err
			}
			it.At = fromNanos(at)
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list inbox of run %s: %w", runID, err)
	}
	return items, nil
}
