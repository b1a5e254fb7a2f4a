package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// validStatus reports whether s is one of the store's run statuses.
func validStatus(s store.RunStatus) bool { return s.Valid() }

// CreateRun implements store.Store.
func (s *Store) CreateRun(ctx context.Context, p *store.CreateRunParams) error {
	if err := checkCreate(p); err != nil {
		return err
	}
	if s.clientOnly && p.Owner != "" {
		return fmt.Errorf("create run %s leased by %q: %w", p.Run.RunID, p.Owner, ErrClientOnly)
	}
	return s.write(ctx, func(tx *wtx) error { return tx.createRun(p) })
}

// SettledRuns returns those of runIDs whose run is no longer running
// (closed or stuck), in one read. A client-only engine's Run.Get calls
// wait on it (runtime/durable's close watcher).
func (s *Store) SettledRuns(ctx context.Context, runIDs []string) ([]*store.Run, error) {
	ids := jsonList(runIDs)
	if ids == nil {
		return nil, nil
	}
	var runs []*store.Run
	err := s.read(ctx, func() error {
		runs = runs[:0]
		rows, err := s.rst.settledRuns.QueryContext(ctx, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("settled runs: %w", err)
	}
	return runs, nil
}

func checkCreate(p *store.CreateRunParams) error {
	switch {
	case p == nil || p.Run == nil:
		return errors.New("sqlite: create run: no run")
	case p.Run.RunID == "" || p.Run.WorkflowID == "":
		return errors.New("sqlite: create run: RunID and WorkflowID are required")
	case p.Run.Status != "" && !validStatus(p.Run.Status):
		return fmt.Errorf("sqlite: create run %s: invalid status %q", p.Run.RunID, p.Run.Status)
	}
	return nil
}

func (tx *wtx) createRun(p *store.CreateRunParams) error {
	r := p.Run
	status := r.Status
	if status == "" {
		status = store.StatusRunning
	}
	var leaseUntil int64
	owner := p.Owner
	if owner != "" {
		leaseUntil = tx.now + int64(p.Lease)
	}
	res, err := tx.exec(tx.insertRun, r.RunID, r.WorkflowID, r.Workflow, r.Queue, string(status),
		r.Input, r.Result, r.Error, r.Meta, r.ParentRunID, r.PrevRunID, r.NextRunID,
		int64(len(p.Events)), toNanos(r.WakeAt), owner, leaseUntil, tx.now)
	if err != nil {
		return fmt.Errorf("create run %s of workflow %s: %w", r.RunID, r.WorkflowID, translate(err))
	}
	row, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if err := tx.appendEvents(row, r.RunID, 0, p.Events); err != nil {
		return err
	}
	if owner == "" && status == store.StatusRunning {
		tx.announce("run", r.Queue)
	}
	return tx.createTasks(r.RunID, p.Tasks)
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, runID string) (*store.Run, error) {
	var r *store.Run
	err := s.read(ctx, func() (err error) {
		r, err = scanRun(s.rst.getRun.QueryRowContext(ctx, runID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", runID, err)
	}
	return r, nil
}

// CurrentRun implements store.Store.
func (s *Store) CurrentRun(ctx context.Context, workflowID string) (*store.Run, error) {
	var r *store.Run
	err := s.read(ctx, func() (err error) {
		r, err = scanRun(s.rst.currentRun.QueryRowContext(ctx, workflowID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("current run of workflow %s: %w", workflowID, err)
	}
	return r, nil
}

// ListRuns implements store.Store.
func (s *Store) ListRuns(ctx context.Context, p *store.ListRunsParams) ([]*store.Run, error) {
	if p == nil {
		p = &store.ListRunsParams{}
	}
	if searching(p) {
		return s.searchRuns(ctx, p)
	}
	var statuses any
	if len(p.Statuses) > 0 {
		b, err := json.Marshal(p.Statuses)
		if err != nil {
			return nil, err
		}
		statuses = string(b)
	}
	limit := int64(p.Limit)
	if limit <= 0 {
		limit = -1 // no limit
	}
	var runs []*store.Run
	err := s.read(ctx, func() error {
		runs = runs[:0]
		var (
			rows *sql.Rows
			err  error
		)
		if p.WorkflowID != "" {
			rows, err = s.rst.listRunsOfWorkflow.QueryContext(ctx, statuses, limit, p.WorkflowID)
		} else {
			rows, err = s.rst.listRuns.QueryContext(ctx, statuses, limit)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// SetRunStatus implements store.Store.
func (s *Store) SetRunStatus(ctx context.Context, p *store.SetRunStatusParams) error {
	if !validStatus(p.Status) {
		return fmt.Errorf("sqlite: set status of run %s: invalid status %q", p.RunID, p.Status)
	}
	return s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(tx.setRunStatus, p.RunID, string(p.Status), p.Error, toNanos(p.WakeAt), tx.now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("set status of run %s: no open run: %w", p.RunID, store.ErrNotFound)
		}
		if p.Status == store.StatusRunning {
			tx.announceRun(p.RunID)
		}
		return nil
	})
}
