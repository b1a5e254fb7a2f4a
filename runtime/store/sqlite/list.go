package sqlite

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// searching reports whether p uses the filters of operators' tools, which
// ListRuns serves with a query built for them rather than a prepared one.
func searching(p *store.ListRunsParams) bool {
	return p.WorkflowIDPrefix != "" || len(p.Workflows) > 0 || len(p.Queues) > 0 ||
		!p.CreatedAfter.IsZero() || !p.CreatedBefore.IsZero() || p.Newest || p.AfterRunID != ""
}

// runFilter is the WHERE clause (without the keyword) and arguments that
// keep the runs p's filters keep; withStatus adds p.Statuses.
func runFilter(p *store.ListRunsParams, withStatus bool) (string, []any) {
	var (
		conds []string
		args  []any
	)
	in := func(col string, vals []string) {
		marks := make([]string, len(vals))
		for i, v := range vals {
			marks[i] = "?"
			args = append(args, v)
		}
		conds = append(conds, col+" IN ("+strings.Join(marks, ", ")+")")
	}
	if p.WorkflowID != "" {
		conds = append(conds, "workflow_id = ?")
		args = append(args, p.WorkflowID)
	}
	if p.WorkflowIDPrefix != "" {
		// substr, not LIKE: IDs may hold % and _.
		conds = append(conds, "substr(workflow_id, 1, ?) = ?")
		args = append(args, len([]rune(p.WorkflowIDPrefix)), p.WorkflowIDPrefix)
	}
	if len(p.Workflows) > 0 {
		in("workflow", p.Workflows)
	}
	if len(p.Queues) > 0 {
		in("queue", p.Queues)
	}
	if withStatus && len(p.Statuses) > 0 {
		st := make([]string, len(p.Statuses))
		for i, s := range p.Statuses {
			st[i] = string(s)
		}
		in("status", st)
	}
	if !p.CreatedAfter.IsZero() {
		conds = append(conds, "created_at >= ?")
		args = append(args, boundNanos(p.CreatedAfter))
	}
	if !p.CreatedBefore.IsZero() {
		conds = append(conds, "created_at < ?")
		args = append(args, boundNanos(p.CreatedBefore))
	}
	if len(conds) == 0 {
		return "1", args
	}
	return strings.Join(conds, " AND "), args
}

// boundNanos is t in Unix nanoseconds, clamped to what an int64 holds
// (years 1678 to 2262), so that a far bound in a filter stays a bound.
func boundNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// searchRuns is ListRuns for operators' filters and paging.
func (s *Store) searchRuns(ctx context.Context, p *store.ListRunsParams) ([]*store.Run, error) {
	where, args := runFilter(p, true)
	order, cmp := "ASC", ">"
	if p.Newest {
		order, cmp = "DESC", "<"
	}
	if p.AfterRunID != "" {
		where += " AND id " + cmp + " (SELECT id FROM runs WHERE run_id = ?)"
		args = append(args, p.AfterRunID)
	}
	q := `SELECT ` + runColumns + ` FROM runs WHERE ` + where + ` ORDER BY id ` + order
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	var runs []*store.Run
	err := s.read(ctx, func() error {
		runs = runs[:0]
		rows, err := s.rdb.QueryContext(ctx, q, args...)
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

// CountRuns implements store.RunCounter.
func (s *Store) CountRuns(ctx context.Context, p *store.ListRunsParams) (map[store.RunStatus]int64, error) {
	if p == nil {
		p = &store.ListRunsParams{}
	}
	where, args := runFilter(p, false)
	counts := map[store.RunStatus]int64{}
	err := s.read(ctx, func() error {
		clear(counts)
		rows, err := s.rdb.QueryContext(ctx, `SELECT status, count(*) FROM runs WHERE `+where+` GROUP BY status`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				st string
				n  int64
			)
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			counts[store.RunStatus(st)] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	return counts, nil
}

var _ store.RunCounter = (*Store)(nil)
