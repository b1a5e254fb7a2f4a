package durabletest

import (
	"cmp"
	"context"
	"encoding/json"
	"sync"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// heartbeatStore wraps the Env's store to seed heartbeat details into new
// activity tasks (ActivityEnv.SetHeartbeatDetails) and to report the
// details the engine records (a store field, not the engine's task
// payload). Due times need no help: the store reads the test clock
// (sqlite.WithClock).
type heartbeatStore struct {
	store.Store

	mu   sync.Mutex
	seed json.RawMessage // heartbeat details for new activity tasks

	// onHeartbeat is told of heartbeat details the engine records.
	onHeartbeat func(taskID string, details []byte)
}

func newHeartbeatStore(st store.Store) *heartbeatStore {
	return &heartbeatStore{Store: st}
}

func (s *heartbeatStore) setSeed(details json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seed = details
}

// seedTasks gives new activity tasks the seeded heartbeat details.
func (s *heartbeatStore) seedTasks(tasks []*store.Task) {
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

func (s *heartbeatStore) CreateRun(ctx context.Context, p *store.CreateRunParams) error {
	s.seedTasks(p.Tasks)
	return s.Store.CreateRun(ctx, p)
}

func (s *heartbeatStore) Commit(ctx context.Context, p *store.CommitParams) error {
	s.seedTasks(p.CreateTasks)
	for _, c := range p.CreateRuns {
		s.seedTasks(c.Tasks)
	}
	return s.Store.Commit(ctx, p)
}

func (s *heartbeatStore) UpdateTask(ctx context.Context, p *store.UpdateTaskParams) error {
	err := s.Store.UpdateTask(ctx, p)
	if err == nil && !p.Release && p.Details != nil && s.onHeartbeat != nil {
		s.onHeartbeat(p.ID, p.Details)
	}
	return err
}
