package durable

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/durablego/toolkit/runtime/store"
)

// ActivityTestHooks let a test environment (runtime/durabletest, the
// counterpart of Temporal's test suite) stand where an earlier attempt
// would stand: seed the heartbeat details an activity's attempt starts
// with, and watch the details attempts record. Production code has no use
// for them: heartbeat details come from earlier attempts, and recorded
// details are read back by the next attempt (HeartbeatDetails).
type ActivityTestHooks struct {
	// HeartbeatDetails, when set, is asked for the details of each new
	// activity task (an attempt with a task row; see WithActivityTaskRows)
	// that has none: a JSON array of values, as RecordHeartbeat records
	// them, or nil for none. They are stored as recorded details are,
	// through the payload codec, and the attempt finds them with
	// HasHeartbeatDetails and HeartbeatDetails.
	HeartbeatDetails func() json.RawMessage
	// OnHeartbeat, when set, is told of the details an attempt recorded
	// (a JSON array of values), once the store has them, with the ID of
	// the attempt's task.
	OnHeartbeat func(taskID string, details json.RawMessage)
}

// WithActivityTestHooks installs hooks for test environments (see
// ActivityTestHooks). runtime/durabletest uses it for
// TestActivityEnvironment's SetHeartbeatDetails and the heartbeat
// listener, so that it needs no store wrapper of its own.
func WithActivityTestHooks(h ActivityTestHooks) Option {
	return optionFunc(func(c *config) {
		if h.HeartbeatDetails == nil && h.OnHeartbeat == nil {
			c.testHooks = nil
			return
		}
		c.testHooks = &h
	})
}

// withTestHooks puts the hooks of WithActivityTestHooks between the engine
// and st: the points they serve (a task's creation, a heartbeat recorded)
// are where the engine hands tasks and details to its store. The hooks see
// values as the engine does, above the payload codec.
func withTestHooks(st store.Store, h *ActivityTestHooks) store.Store {
	hs := &hookStore{Store: st, hooks: h}
	if _, ok := st.(store.RunLoader); ok {
		return &hookLoaderStore{hs}
	}
	return hs
}

// hookStore is the store wrapper of withTestHooks. It forwards the
// optional interfaces the engine uses, answering as their absence would
// where st lacks them (as codecStore does, which it may wrap).
type hookStore struct {
	store.Store
	hooks *ActivityTestHooks
}

// hookLoaderStore is a hookStore over a store.RunLoader.
type hookLoaderStore struct{ *hookStore }

// seed gives the seeded heartbeat details to the activity tasks that
// have none. It sets them on the engine's tasks themselves, not on copies:
// the engine may run an attempt from the task it created (one it created
// leased to itself) without reading the row back.
func (s *hookStore) seed(tasks []*store.Task) {
	if s.hooks.HeartbeatDetails == nil {
		return
	}
	for _, t := range tasks {
		if t.Kind == taskActivity && t.Details == nil {
			t.Details = s.hooks.HeartbeatDetails()
		}
	}
}

// CreateRun seeds the run's first tasks.
func (s *hookStore) CreateRun(ctx context.Context, p *store.CreateRunParams) error {
	s.seed(p.Tasks)
	return s.Store.CreateRun(ctx, p)
}

// Commit seeds the tasks the commit creates, its created runs' too.
func (s *hookStore) Commit(ctx context.Context, p *store.CommitParams) error {
	s.seed(p.CreateTasks)
	for _, cr := range p.CreateRuns {
		s.seed(cr.Tasks)
	}
	return s.Store.Commit(ctx, p)
}

// UpdateTask tells OnHeartbeat of the details recorded.
func (s *hookStore) UpdateTask(ctx context.Context, p *store.UpdateTaskParams) error {
	err := s.Store.UpdateTask(ctx, p)
	if err == nil && !p.Release && p.Details != nil && s.hooks.OnHeartbeat != nil {
		s.hooks.OnHeartbeat(p.ID, p.Details)
	}
	return err
}

// Subscribe forwards store.Notifier; without it, the channel stays silent.
func (s *hookStore) Subscribe(ctx context.Context) (<-chan store.Notification, error) {
	if n, ok := s.Store.(store.Notifier); ok {
		return n.Subscribe(ctx)
	}
	ch := make(chan store.Notification)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

// ClaimAndLoadRuns forwards store.RunLoader.
func (s *hookLoaderStore) ClaimAndLoadRuns(ctx context.Context, p *store.ClaimRunsParams) ([]*store.LoadedRun, error) {
	return s.Store.(store.RunLoader).ClaimAndLoadRuns(ctx, p)
}

// CountRuns forwards store.RunCounter; without it, runs are counted by
// listing them.
func (s *hookStore) CountRuns(ctx context.Context, p *store.ListRunsParams) (map[store.RunStatus]int64, error) {
	if c, ok := s.Store.(store.RunCounter); ok {
		return c.CountRuns(ctx, p)
	}
	q := *p
	q.Statuses, q.Limit, q.Newest, q.AfterRunID = nil, 0, false, ""
	runs, err := s.Store.ListRuns(ctx, &q)
	if err != nil {
		return nil, err
	}
	out := map[store.RunStatus]int64{}
	for _, r := range runs {
		out[r.Status]++
	}
	return out, nil
}

// Exclusive forwards store.Exclusive.
func (s *hookStore) Exclusive() bool {
	ex, ok := s.Store.(store.Exclusive)
	return ok && ex.Exclusive()
}

// SettledRuns forwards runStatuser; without it, it reads the runs one by
// one.
func (s *hookStore) SettledRuns(ctx context.Context, runIDs []string) ([]*store.Run, error) {
	if rs, ok := s.Store.(runStatuser); ok {
		return rs.SettledRuns(ctx, runIDs)
	}
	var out []*store.Run
	for _, id := range runIDs {
		r, err := s.GetRun(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.Status != store.StatusRunning {
			out = append(out, r)
		}
	}
	return out, nil
}

// WatchCommits forwards commitWatcher; a store without it says so.
func (s *hookStore) WatchCommits(ctx context.Context) (<-chan struct{}, error) {
	if cw, ok := s.Store.(commitWatcher); ok {
		return cw.WatchCommits(ctx)
	}
	return nil, errors.New("durable: store does not watch commits")
}

// Unwrap returns the store beneath the hooks.
func (s *hookStore) Unwrap() store.Store { return s.Store }

// DescribeQueue forwards store.QueueDescriber.
func (s *hookStore) DescribeQueue(ctx context.Context, p *store.DescribeQueueParams) (*store.QueueDescription, error) {
	return describeQueue(ctx, s.Store, p)
}
