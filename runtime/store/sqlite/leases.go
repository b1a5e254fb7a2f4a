package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// jsonList encodes a filter list for json_each; nil (no filter) when empty.
func jsonList(list []string) any {
	if len(list) == 0 {
		return nil
	}
	b, _ := json.Marshal(list) // []string always encodes
	return string(b)
}

// claimLimit is the number of rows a claim with limit takes: at least one.
func claimLimit(limit int) int64 { return int64(max(limit, 1)) }

// ClaimRuns implements store.Store. Empty Queues claims from every queue; a
// Limit below 1 claims at most one run.
func (s *Store) ClaimRuns(ctx context.Context, p *store.ClaimRunsParams) ([]*store.Run, error) {
	if s.clientOnly {
		return nil, fmt.Errorf("claim runs: %w", ErrClientOnly)
	}
	queues := jsonList(p.Queues)
	var runs []*store.Run
	err := s.write(ctx, func(tx *wtx) error {
		runs = runs[:0]
		return tx.scanRows(tx.claimRuns, []any{p.Owner, tx.now + int64(p.Lease), tx.now, queues, claimLimit(p.Limit)},
			func(rows scanner) error {
				r, err := scanRun(rows)
				if err == nil {
					runs = append(runs, r)
				}
				return err
			})
	})
	if err != nil {
		return nil, fmt.Errorf("claim runs: %w", err)
	}
	return runs, nil
}

// ReleaseRun implements store.Store.
func (s *Store) ReleaseRun(ctx context.Context, p *store.ReleaseRunParams) error {
	return s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(tx.releaseRun, p.RunID, p.Owner, toNanos(p.WakeAt), tx.now)
		if err := leaseOutcome(res, err, tx.runExists(p.RunID)); err != nil {
			return fmt.Errorf("release run %s by %q: %w", p.RunID, p.Owner, err)
		}
		if toNanos(p.WakeAt) <= tx.now {
			tx.announceRun(p.RunID)
		}
		return nil
	})
}

// runExists returns a function reporting whether runID exists, for
// leaseOutcome.
func (tx *wtx) runExists(runID string) func() (bool, error) {
	return func() (bool, error) {
		var owner string
		var lease, length int64
		err := tx.scanRow(tx.runLease, false, []any{runID}, &owner, &lease, &length)
		if err == sql.ErrNoRows {
			return false, nil
		}
		return err == nil, err
	}
}

func (tx *wtx) taskExists(id string) func() (bool, error) {
	return func() (bool, error) {
		var n int
		err := tx.scanRow(tx.countTask, false, []any{id}, &n)
		return n > 0, err
	}
}

// leaseOutcome interprets an update guarded by owner and lease: no row
// changed means ErrLeaseLost if the row exists, else ErrNotFound.
func leaseOutcome(res sql.Result, err error, exists func() (bool, error)) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	ok, err := exists()
	switch {
	case err != nil:
		return err
	case ok:
		return store.ErrLeaseLost
	default:
		return store.ErrNotFound
	}
}

// RenewLeases implements store.Store. A lease that lapsed counts as lost even
// if nobody claimed it since: its owner must not commit on it.
func (s *Store) RenewLeases(ctx context.Context, p *store.RenewLeasesParams) (*store.RenewLeasesResult, error) {
	var out store.RenewLeasesResult
	err := s.write(ctx, func(tx *wtx) error {
		out = store.RenewLeasesResult{}
		until := tx.now + int64(p.Lease)
		for _, id := range p.RunIDs {
			res, err := tx.exec(tx.renewRun, id, p.Owner, until, tx.now)
			if lost, err := renewed(res, err); err != nil {
				return err
			} else if lost {
				out.LostRuns = append(out.LostRuns, id)
			}
		}
		for _, id := range p.TaskIDs {
			res, err := tx.exec(tx.renewTask, id, p.Owner, until, tx.now)
			if lost, err := renewed(res, err); err != nil {
				return err
			} else if lost {
				out.LostTasks = append(out.LostTasks, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("renew leases of %q: %w", p.Owner, err)
	}
	return &out, nil
}

func renewed(res sql.Result, err error) (lost bool, _ error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 0, err
}

// ReleaseLeases implements store.Store.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) error {
	if s.clientOnly && owner == "" {
		// The working process holds leases this store cannot see die.
		return fmt.Errorf("release every lease: %w", ErrClientOnly)
	}
	return s.write(ctx, func(tx *wtx) error {
		var err error
		if owner == "" {
			if _, err = tx.exec(tx.releaseRunsAll); err == nil {
				_, err = tx.exec(tx.releaseTasksAll)
			}
		} else {
			if _, err = tx.exec(tx.releaseRunsOf, owner); err == nil {
				_, err = tx.exec(tx.releaseTasksOf, owner)
			}
		}
		tx.announce("run", "")
		tx.announce("task", "")
		return err
	})
}
