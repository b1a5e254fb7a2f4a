package durabletest

import (
	"cmp"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// clockStore adapts a store to the test clock. The SQLite store compares
// due times with the wall clock, while the engine computes them with its
// clock, which an Env moves ahead of the wall clock. So a released activity
// attempt (a retry) is made due at once in the store, and held back here
// until the test clock reaches the time the engine asked for; the engine
// pokes its poller at that time on its own.
//
// It also seeds heartbeat details into new activity tasks (ActivityEnv):
// a store field, not the engine's task payload.
type clockStore struct {
	store.Store
	clk *Clock

	mu   sync.Mutex
	due  map[string]time.Time // task ID -> due time on the test clock
	seed json.RawMessage      // heartbeat details for new activity tasks

	// onHeartbeat is told of heartbeat details the engine records.
	onHeartbeat func(taskID string, details []byte)
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

// seedTasks gives new activity tasks the seeded heartbeat details.
func (s *clockStore) seedTasks(tasks []*store.Task) {
	s.mu.Lock()
	seed := s.seed
	s.mu.Unlock()
	for _, t := range tasks {
		if t.Kind != "activity" {
			continue
		}
		if seed != nil && t.Details == nil {
			t.Details = seed
		}
	}
}

// MaximumAttemptsDefault is the attempt limit an Env gives activities whose
// retry policy has none (unlimited), as Temporal's test environment does:
// unlimited retries in skipped time would spin until the test timeout.
const MaximumAttemptsDefault = 10

// testRetryDefaults applies Temporal's test-environment retry defaults to
// an activity call's policy: at most MaximumAttemptsDefault attempts unless
// the policy sets a limit, and a MaximumInterval of InitialInterval unless
// set. The engine calls it for every activity call (an Env passes it with
// durable.WithActivityRetryDefaults).
func testRetryDefaults(p *durable.RetryPolicy) *durable.RetryPolicy {
	if p == nil {
		p = &durable.RetryPolicy{}
	}
	if p.MaximumAttempts == 0 {
		p.MaximumAttempts = MaximumAttemptsDefault
	}
	if p.MaximumInterval == 0 {
		p.MaximumInterval = cmp.Or(p.InitialInterval, durable.RetryInitialIntervalDefault)
	}
	return p
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
		err := s.Store.UpdateTask(ctx, p)
		if err == nil && p.Details != nil && s.onHeartbeat != nil {
			s.onHeartbeat(p.ID, p.Details)
		}
		return err
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
