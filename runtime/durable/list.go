package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// ListPageSizeDefault is the page size of List when ListOptions.PageSize is 0.
const ListPageSizeDefault = 50

// ListOptions filter Engine.List and Engine.Count. Zero fields do not
// filter. They serve operators' tools (the durable CLI, the web UI) and
// code that looks for runs the way Temporal's ListWorkflow does.
type ListOptions struct {
	// Statuses keeps runs in these statuses (running, stuck, completed,
	// failed, canceled, terminated, continued).
	Statuses []string
	// Workflows keeps runs of these workflow names, Queues runs on these
	// queues.
	Workflows, Queues []string
	// WorkflowID keeps the runs of one workflow ID, IDPrefix those whose
	// workflow ID starts with it.
	WorkflowID, IDPrefix string
	// CreatedAfter and CreatedBefore keep runs created at or after, and
	// before, these times.
	CreatedAfter, CreatedBefore time.Time
	// SearchAttributes keeps runs whose current search attributes have
	// these values (compared as JSON). The store does not index search
	// attributes: List reads the journal of each run the other filters
	// keep, so combine this with them on a large store.
	SearchAttributes map[string]any
	// PageSize is the most runs a page holds; 0: ListPageSizeDefault.
	PageSize int
	// PageToken continues a listing where the page that returned it as
	// NextPageToken ended.
	PageToken string
	// Oldest lists oldest first; by default List shows the newest first.
	Oldest bool
}

// RunPage is one page of List.
type RunPage struct {
	Runs []*RunInfo
	// NextPageToken continues the listing (ListOptions.PageToken); "" on
	// the last page.
	NextPageToken string
}

// List returns the runs that o's filters keep, a page at a time, newest
// first unless o.Oldest. It reads the store only, so a client-only engine
// (the CLI, an API server) lists every run whatever the workers run.
func (e *Engine) List(ctx context.Context, o ListOptions) (*RunPage, error) {
	p, want, err := o.params()
	if err != nil {
		return nil, fmt.Errorf("durable: List: %w", err)
	}
	size := o.PageSize
	if size <= 0 {
		size = ListPageSizeDefault
	}
	page := &RunPage{}
	p.AfterRunID = o.PageToken
	for {
		p.Limit = size - len(page.Runs)
		if want != nil {
			p.Limit = max(p.Limit, 100) // most runs may not match
		}
		runs, err := e.store.ListRuns(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("durable: List: %w", err)
		}
		for i, r := range runs {
			if want != nil {
				ok, err := e.hasAttributes(ctx, r.RunID, want)
				if err != nil {
					return nil, fmt.Errorf("durable: List: %w", err)
				}
				if !ok {
					p.AfterRunID = r.RunID
					continue
				}
			}
			page.Runs = append(page.Runs, e.runInfo(r))
			p.AfterRunID = r.RunID
			if len(page.Runs) == size {
				if i < len(runs)-1 || len(runs) == p.Limit {
					page.NextPageToken = r.RunID
				}
				return page, nil
			}
		}
		if len(runs) < p.Limit {
			return page, nil
		}
	}
}

// Count counts the runs that o's filters keep, by status; o.Statuses and
// the paging fields are ignored.
func (e *Engine) Count(ctx context.Context, o ListOptions) (map[string]int64, error) {
	o.Statuses = nil
	p, want, err := o.params()
	if err != nil {
		return nil, fmt.Errorf("durable: Count: %w", err)
	}
	out := map[string]int64{}
	if c, ok := e.store.(store.RunCounter); ok && want == nil {
		counts, err := c.CountRuns(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("durable: Count: %w", err)
		}
		for st, n := range counts {
			out[string(st)] = n
		}
		return out, nil
	}
	o.PageToken, o.PageSize = "", 500
	for {
		page, err := e.List(ctx, o)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Runs {
			out[r.Status]++
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		o.PageToken = page.NextPageToken
	}
}

// params translates o for the store; want are the search attributes to
// match, JSON-encoded (nil: none).
func (o *ListOptions) params() (*store.ListRunsParams, map[string]json.RawMessage, error) {
	p := &store.ListRunsParams{
		WorkflowID: o.WorkflowID, WorkflowIDPrefix: o.IDPrefix, Workflows: o.Workflows, Queues: o.Queues,
		CreatedAfter: o.CreatedAfter, CreatedBefore: o.CreatedBefore, Newest: !o.Oldest,
	}
	for _, s := range o.Statuses {
		st := store.RunStatus(s)
		switch st {
		case store.StatusRunning, store.StatusStuck, store.StatusCompleted, store.StatusFailed,
			store.StatusCanceled, store.StatusTerminated, store.StatusContinued:
		default:
			return nil, nil, fmt.Errorf("unknown status %q (want running, stuck, completed, failed, canceled, terminated or continued)", s)
		}
		p.Statuses = append(p.Statuses, st)
	}
	want, err := encodeAttributes(o.SearchAttributes)
	if err != nil {
		return nil, nil, fmt.Errorf("search attributes: %w", err)
	}
	return p, want, nil
}

// hasAttributes reports whether the current search attributes of a run
// include want.
func (e *Engine) hasAttributes(ctx context.Context, runID string, want map[string]json.RawMessage) (bool, error) {
	a, err := e.RunAttributes(ctx, runID)
	if err != nil {
		return false, err
	}
	for k, v := range want {
		got, ok := a.SearchAttributes[k]
		if !ok || !jsonEqual(got, v) {
			return false, nil
		}
	}
	return true, nil
}

// runInfo is what a store record says of a run.
func (e *Engine) runInfo(r *store.Run) *RunInfo {
	now := e.cfg.clock.Now()
	info := &RunInfo{
		WorkflowID: r.WorkflowID, RunID: r.RunID, Workflow: r.Workflow, Queue: r.Queue, Status: string(r.Status),
		JournalLen: r.JournalLen, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ParentRunID: r.ParentRunID, PrevRunID: r.PrevRunID, NextRunID: r.NextRunID,
		Unclaimed: unclaimed(r, now) && now.Sub(r.WakeAt) > e.cfg.poll,
		Input:     json.RawMessage(r.Input), Result: json.RawMessage(r.Result),
	}
	if len(r.Error) > 0 {
		var f journal.Failure
		if jsonUnmarshal(r.Error, &f) == nil {
			info.Error = fromFailure(&f)
		}
	}
	var m resetMeta
	if jsonUnmarshal(r.Meta, &m) == nil {
		info.ResetFrom, info.ResetEvent = m.ResetFrom, m.ResetEvent
	}
	return info
}

// DescribeRun is Describe for run runID of workflow ID id ("": the newest
// run), with the run's current memo and search attributes.
func (e *Engine) DescribeRun(ctx context.Context, id, runID string) (*RunInfo, error) {
	r, err := e.runOf(ctx, id, runID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("durable: Describe %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("durable: Describe %s: %w", id, err)
	}
	info := e.runInfo(r)
	a, err := e.RunAttributes(ctx, r.RunID)
	if err != nil {
		return nil, fmt.Errorf("durable: Describe %s: %w", id, err)
	}
	info.Memo, info.SearchAttributes = a.Memo, a.SearchAttributes
	return info, nil
}
