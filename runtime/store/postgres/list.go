package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/durablego/toolkit/runtime/store"
)

// runFilter is the WHERE clause (without the keyword) and arguments that
// keep the runs p's filters keep; withStatus adds p.Statuses.
func runFilter(p *store.ListRunsParams, withStatus bool) (string, []any) {
	var (
		conds []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if p.WorkflowID != "" {
		conds = append(conds, "workflow_id = "+arg(p.WorkflowID))
	}
	if p.WorkflowIDPrefix != "" {
		// left(), not LIKE: IDs may hold % and _.
		conds = append(conds, fmt.Sprintf("left(workflow_id, %s) = %s", arg(len([]rune(p.WorkflowIDPrefix))), arg(p.WorkflowIDPrefix)))
	}
	if len(p.Workflows) > 0 {
		conds = append(conds, "workflow = ANY("+arg(p.Workflows)+")")
	}
	if len(p.Queues) > 0 {
		conds = append(conds, "queue = ANY("+arg(p.Queues)+")")
	}
	if withStatus && len(p.Statuses) > 0 {
		st := make([]string, len(p.Statuses))
		for i, s := range p.Statuses {
			st[i] = string(s)
		}
		conds = append(conds, "status = ANY("+arg(st)+")")
	}
	if !p.CreatedAfter.IsZero() {
		conds = append(conds, "created_at >= "+arg(p.CreatedAfter))
	}
	if !p.CreatedBefore.IsZero() {
		conds = append(conds, "created_at < "+arg(p.CreatedBefore))
	}
	if len(conds) == 0 {
		return "true", args
	}
	return strings.Join(conds, " AND "), args
}

// ListRuns returns runs matching p, oldest first (newest first with
// p.Newest), after p.AfterRunID when set.
func (s *Store) ListRuns(ctx context.Context, p *store.ListRunsParams) ([]*store.Run, error) {
	if p == nil {
		p = &store.ListRunsParams{}
	}
	where, args := runFilter(p, true)
	order, cmp := "ASC", ">"
	if p.Newest {
		order, cmp = "DESC", "<"
	}
	if p.AfterRunID != "" {
		args = append(args, p.AfterRunID)
		where += fmt.Sprintf(" AND n %s (SELECT n FROM runs WHERE run_id = $%d)", cmp, len(args))
	}
	q := `SELECT ` + runColumns + ` FROM runs WHERE ` + where + ` ORDER BY n ` + order
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, interpretError("list runs", err)
	}
	runs, err := scanRuns(rows)
	return runs, interpretError("list runs", err)
}

// CountRuns implements store.RunCounter.
func (s *Store) CountRuns(ctx context.Context, p *store.ListRunsParams) (map[store.RunStatus]int64, error) {
	if p == nil {
		p = &store.ListRunsParams{}
	}
	where, args := runFilter(p, false)
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM runs WHERE `+where+` GROUP BY status`, args...)
	if err != nil {
		return nil, interpretError("count runs", err)
	}
	defer rows.Close()
	counts := map[store.RunStatus]int64{}
	for rows.Next() {
		var (
			st string
			n  int64
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, interpretError("count runs", err)
		}
		counts[store.RunStatus(st)] = n
	}
	return counts, interpretError("count runs", rows.Err())
}

var _ store.RunCounter = (*Store)(nil)
