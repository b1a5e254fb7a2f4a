package durabletest

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// clockStore adapts a store to the test clock. The SQLite store compares
// due times with the wall clock, while the engine computes them with its
// clock, which an Env moves ahead of the wall clock. So a released activity
// attempt (a retry) is made due at once in the store, and held back here
// until the test clock reaches the time the engine asked for; the engine
// pokes its poller at that time on its own.
//
// It also seeds heartbeat details into new activity tasks (ActivityEnv).
type clockStore struct {
	store.Store
	clk *Clock

	mu   sync.Mutex
	due  map[string]time.Time // task ID -> due time on the test clock
	seed json.RawMessage      // heartbeat details for new activity tasks
}

func newClockStore(st store.Store, clk *Clock) *clockStore {
	return &clockStore{Store: st, clk: clk, due: map[string]time.Time{}}
}

// longAgo is a due time any store sees as past.
var longAgo = time.Unix(0, 0).UTC()

func (s *clockStore) setSeed(details json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seed = details
}

func (s *clockStore) seedTasks(tasks []*store.Task) {
	s.mu.Lock()
	seed := s.seed
	s.mu.Unlock()
	if seed == nil {
		return
	}
	for _, t := range tasks {
		if t.Kind == "activity" && t.Details == nil {
			t.Details = seed
		}
	}
}

func (s *clockStore) CreateRun(ctx context.Context, p *store.CreateRunParams) error {
	s.seedTasks(p.Tasks)
	return s.Store.CreateRun(ctx, p)
}

func (s *clockStore) Commit(ctx context.Context, p *store.CommitParams) error {
	s.seedTasks(p.CreateTasks)
	for _, c := range p.CreateRuns {
		s.seedTasks(c.Tasks)
	}
	return s.Store.Commit(ctx, p)
}

func (s *clockStore) UpdateTask(ctx context.Context, p *store.UpdateTaskParams) error {
	if !p.Release {
		return s.Store.UpdateTask(ctx, p)
	}
	s.mu.Lock()
	s.due[p.ID] = p.DueAt
	s.mu.Unlock()
	q := *p
	q.DueAt = longAgo
	return s.Store.UpdateTask(ctx, &q)
}

func (s *clockStore) ClaimTasks(ctx context.Context, p *store.ClaimTasksParams) ([]*store.Task, error) {
	tasks, err := s.Store.ClaimTasks(ctx, p)
	if err != nil || len(tasks) == 0 {
		return tasks, err
	}
	now := s.clk.Now()
	kept := tasks[:0]
	for _, t := range tasks {
		s.mu.Lock()
		due, held := s.due[t.ID]
		if held && !now.Before(due) {
			delete(s.due, t.ID)
		}
		s.mu.Unlock()
		if held && now.Before(due) {
			// Not due on the test clock yet: give it back untouched.
			rerr := s.Store.UpdateTask(ctx, &store.UpdateTaskParams{
				ID: t.ID, Owner: p.Owner, Release: true, DueAt: longAgo, Attempt: t.Attempt,
			})
			if rerr != nil {
				return nil, rerr
			}
			continue
		}
		if held {
			t.DueAt = due
		}
		kept = append(kept, t)
	}
	return kept, nil
}
