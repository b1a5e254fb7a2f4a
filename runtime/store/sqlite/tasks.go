package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// ClaimTasks implements store.Store. Empty Kinds or Queues do not filter; a
// Limit below 1 claims at most one task. Tasks come out by due time.
func (s *Store) ClaimTasks(ctx context.Context, p *store.ClaimTasksParams) ([]*store.Task, error) {
	if s.clientOnly {
		return nil, fmt.Errorf("claim tasks: %w", ErrClientOnly)
	}
	kinds, queues := jsonList(p.Kinds), jsonList(p.Queues)
	var tasks []*store.Task
	err := s.write(ctx, func(tx *wtx) error {
		tasks = tasks[:0]
		return tx.scanRows(tx.claimTasks, []any{p.Owner, tx.now + int64(p.Lease), tx.now, kinds, queues, claimLimit(p.Limit)},
			func(rows scanner) error {
				t, err := scanTask(rows)
				if err == nil {
					tasks = append(tasks, t)
				}
				return err
			})
	})
	if err != nil {
		return nil, fmt.Errorf("claim tasks: %w", err)
	}
	return tasks, nil
}

// UpdateTask implements store.Store.
func (s *Store) UpdateTask(ctx context.Context, p *store.UpdateTaskParams) error {
	return s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(tx.updateTask, p.ID, p.Owner, tx.now, p.Details, p.Release, int64(p.Lease),
			toNanos(p.DueAt), int64(p.Attempt))
		if err := leaseOutcome(res, err, tx.taskExists(p.ID)); err != nil {
			return fmt.Errorf("update task %s by %q: %w", p.ID, p.Owner, err)
		}
		if p.Release {
			tx.announceTask(p.ID)
		}
		return nil
	})
}

// CompleteTask implements store.Store.
func (s *Store) CompleteTask(ctx context.Context, p *store.CompleteTaskParams) error {
	return s.write(ctx, func(tx *wtx) error {
		var runID string
		err := tx.scanRow(tx.completeTask, true, []any{p.ID, p.Owner, tx.now}, &runID)
		if errors.Is(err, sql.ErrNoRows) {
			ok, err := tx.taskExists(p.ID)()
			switch {
			case err != nil:
				return err
			case ok:
				return fmt.Errorf("complete task %s by %q: %w", p.ID, p.Owner, store.ErrLeaseLost)
			default:
				return fmt.Errorf("complete task %s: %w", p.ID, store.ErrNotFound)
			}
		}
		if err != nil {
			return err
		}
		if p.Result == nil {
			return nil
		}
		d := *p.Result
		d.RunID, d.WorkflowID = runID, ""
		if _, err := tx.deliver(&d); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
}

// ExpireTask implements store.Store.
func (s *Store) ExpireTask(ctx context.Context, p *store.ExpireTaskParams) (expired bool, task *store.Task, err error) {
	err = s.write(ctx, func(tx *wtx) error {
		expired, task = false, nil
		var runID string
		err := tx.scanRow(tx.expireTask, true, []any{p.ID, tx.now - int64(p.After)}, &runID)
		if errors.Is(err, sql.ErrNoRows) {
			err := tx.scanRows(tx.getTask, []any{p.ID}, func(rows scanner) error {
				t, err := scanTask(rows)
				task = t
				return err
			})
			if err == nil && task == nil {
				err = store.ErrNotFound
			}
			return err
		}
		if err != nil {
			return err
		}
		expired = true
		if p.Result == nil {
			return nil
		}
		d := *p.Result
		d.RunID, d.WorkflowID = runID, ""
		if _, err := tx.deliver(&d); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return false, nil, fmt.Errorf("expire task %s: %w", p.ID, err)
	}
	return expired, task, nil
}

// ListTasks implements store.Store.
func (s *Store) ListTasks(ctx context.Context, runID string) ([]*store.Task, error) {
	tasks := []*store.Task{}
	err := s.read(ctx, func() error {
		tasks = tasks[:0]
		rows, err := s.rst.listTasks.QueryContext(ctx, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s: %w", runID, err)
	}
	return tasks, nil
}
