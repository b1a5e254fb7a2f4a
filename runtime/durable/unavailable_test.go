package durable_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// flakyStore is a store whose calls fail as unavailable on demand: a
// planned failure either happens before the call reaches the store (not
// applied) or after the store applied it (outcome unknown, as when a
// connection breaks before the reply).
type flakyStore struct {
	store.Store

	mu    sync.Mutex
	plans map[string][]flakyPlan // by operation, consumed in order
	down  bool                   // every call fails, not applied
	calls map[string]int         // failures injected, by operation
}

type flakyPlan struct{ applied bool }

func newFlakyStore(t *testing.T) *flakyStore {
	t.Helper()
	st, err := sqlite.OpenMemory(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return &flakyStore{Store: st, plans: map[string][]flakyPlan{}, calls: map[string]int{}}
}

// plan makes the next calls of op fail, one per entry.
func (f *flakyStore) plan(op string, plans ...flakyPlan) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plans[op] = append(f.plans[op], plans...)
}

func (f *flakyStore) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *flakyStore) injected(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// do runs call unless a failure is planned for op, and returns what the
// plan says.
func (f *flakyStore) do(op string, call func() error) error {
	f.mu.Lock()
	down := f.down
	var p *flakyPlan
	if !down && len(f.plans[op]) > 0 {
		p = &f.plans[op][0]
		f.plans[op] = f.plans[op][1:]
	}
	if down || p != nil {
		f.calls[op]++
	}
	f.mu.Unlock()
	switch {
	case down || p != nil && !p.applied:
		return &store.UnavailableError{Op: "flaky: " + op, Cause: "connection refused"}
	case p != nil:
		if err := call(); err != nil {
			return err
		}
		return &store.UnavailableError{Op: "flaky: " + op, Cause: "unexpected EOF", MaybeApplied: true}
	}
	return call()
}

func (f *flakyStore) CreateRun(ctx context.Context, p *store.CreateRunParams) error {
	return f.do("CreateRun", func() error { return f.Store.CreateRun(ctx, p) })
}

func (f *flakyStore) Commit(ctx context.Context, p *store.CommitParams) error {
	return f.do("Commit", func() error { return f.Store.Commit(ctx, p) })
}

func (f *flakyStore) Deliver(ctx context.Context, p *store.DeliverParams) (item *store.InboxItem, err error) {
	err = f.do("Deliver", func() (err error) {
		item, err = f.Store.Deliver(ctx, p)
		return err
	})
	return item, err
}

func (f *flakyStore) GetRun(ctx context.Context, runID string) (r *store.Run, err error) {
	err = f.do("GetRun", func() (err error) {
		r, err = f.Store.GetRun(ctx, runID)
		return err
	})
	return r, err
}

func (f *flakyStore) CurrentRun(ctx context.Context, id string) (r *store.Run, err error) {
	err = f.do("CurrentRun", func() (err error) {
		r, err = f.Store.CurrentRun(ctx, id)
		return err
	})
	return r, err
}

func (f *flakyStore) ClaimRuns(ctx context.Context, p *store.ClaimRunsParams) (runs []*store.Run, err error) {
	err = f.do("ClaimRuns", func() (err error) {
		runs, err = f.Store.ClaimRuns(ctx, p)
		return err
	})
	return runs, err
}

func (f *flakyStore) ClaimTasks(ctx context.Context, p *store.ClaimTasksParams) (tasks []*store.Task, err error) {
	err = f.do("ClaimTasks", func() (err error) {
		tasks, err = f.Store.ClaimTasks(ctx, p)
		return err
	})
	return tasks, err
}

func (f *flakyStore) RenewLeases(ctx context.Context, p *store.RenewLeasesParams) (res *store.RenewLeasesResult, err error) {
	err = f.do("RenewLeases", func() (err error) {
		res, err = f.Store.RenewLeases(ctx, p)
		return err
	})
	return res, err
}

// WaitForGo waits for a "go" signal and returns it after one step.
func WaitForGo(ctx context.Context, s string) (string, error) {
	got, err := durable.Receive[string](ctx, "go")
	if err != nil {
		return "", err
	}
	return durable.Call[string](ctx, Dot, s+got)
}

type flakyBundle struct {
	st  *flakyStore
	e   *durable.Engine
	log *lockedBuffer
}

func setupFlaky(t *testing.T, opts ...durable.Option) *flakyBundle {
	t.Helper()
	b := &flakyBundle{st: newFlakyStore(t), log: &lockedBuffer{}}
	opts = append([]durable.Option{
		durable.WithPollInterval(20 * time.Millisecond),
		durable.WithLogger(slog.New(slog.NewTextHandler(b.log, nil))),
	}, opts...)
	e, err := durable.New(context.Background(), b.st, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	e.RegisterWorkflow(Steps3)
	e.RegisterWorkflow(WaitForGo)
	e.RegisterActivity(Dot)
	b.e = e
	return b
}

func runCount(t *testing.T, st store.Store, workflowID string) int {
	t.Helper()
	runs, err := st.ListRuns(context.Background(), &store.ListRunsParams{WorkflowID: workflowID})
	require.NoError(t, err)
	return len(runs)
}

func TestUnavailable(t *testing.T) {
	t.Parallel()

	t.Run("StartRetriesUntilTheStoreAnswers", func(t *testing.T) {
		t.Parallel()
		b := setupFlaky(t)
		b.st.plan("CreateRun", flakyPlan{}, flakyPlan{}, flakyPlan{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		run, err := b.e.Start(ctx, durable.StartOptions{ID: "s1"}, Steps3, "x")
		require.NoError(t, err)
		var out string
		require.NoError(t, run.Get(ctx, &out))
		require.Equal(t, "x...", out)
		require.Equal(t, 3, b.st.injected("CreateRun"))
		require.Equal(t, 1, runCount(t, b.st, "s1"))
	})

	t.Run("StartAfterAnUnknownOutcomeFindsItsOwnRun", func(t *testing.T) {
		t.Parallel()
		for _, clientOnly := range []bool{false, true} {
			b := setupFlaky(t)
			starter := b.e
			if clientOnly {
				c, err := durable.New(context.Background(), b.st, durable.WithClientOnly(),
					durable.WithLogger(slog.New(slog.NewTextHandler(b.log, nil))))
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				starter = c
			}
			// The run is created, but the reply is lost; the next attempt
			// finds it rather than a conflict, and it is worked at once
			// (not when its lease expires).
			b.st.plan("CreateRun", flakyPlan{applied: true})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run, err := starter.Start(ctx, durable.StartOptions{ID: "s2"}, Steps3, "y")
			require.NoError(t, err, "client only: %v", clientOnly)
			var out string
			require.NoError(t, run.Get(ctx, &out))
			require.Equal(t, "y...", out)
			require.Equal(t, 1, runCount(t, b.st, "s2"), "one run")
		}
	})

	t.Run("SignalRetriesWhatDidNotArrive", func(t *testing.T) {
		t.Parallel()
		b := setupFlaky(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		run, err := b.e.Start(ctx, durable.StartOptions{ID: "g1"}, WaitForGo, "a")
		require.NoError(t, err)
		b.st.plan("Deliver", flakyPlan{}, flakyPlan{})
		require.NoError(t, b.e.Signal(ctx, "g1", "go", "b"))
		var out string
		require.NoError(t, run.Get(ctx, &out))
		require.Equal(t, "ab.", out)
	})

	t.Run("SignalWithUnknownOutcomeIsNotSentTwice", func(t *testing.T) {
		t.Parallel()
		b := setupFlaky(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		run, err := b.e.Start(ctx, durable.StartOptions{ID: "g2"}, WaitForGo, "a")
		require.NoError(t, err)
		b.st.plan("Deliver", flakyPlan{applied: true})
		err = b.e.Signal(ctx, "g2", "go", "b")
		require.ErrorIs(t, err, durable.ErrUnavailable)
		require.ErrorIs(t, err, store.ErrUnavailable)
		var ue *durable.UnavailableError
		require.ErrorAs(t, err, &ue)
		require.True(t, ue.MaybeApplied)
		require.Equal(t, 1, ue.Attempts)
		require.Contains(t, err.Error(), `Signal g2 "go"`)
		require.Contains(t, err.Error(), "may or may not have taken effect")
		var out string
		require.NoError(t, run.Get(ctx, &out))
		require.Equal(t, "ab.", out, "the signal arrived once")
	})

	t.Run("ClientCallsGiveUpAtTheDeadline", func(t *testing.T) {
		t.Parallel()
		b := setupFlaky(t)
		ctx := context.Background()
		_, err := b.e.Start(ctx, durable.StartOptions{ID: "d0"}, WaitForGo, "a")
		require.NoError(t, err)
		b.st.setDown(true)
		calls := []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"Start", func(ctx context.Context) error {
				_, err := b.e.Start(ctx, durable.StartOptions{ID: "d1"}, Steps3, "x")
				return err
			}},
			{"Signal", func(ctx context.Context) error { return b.e.Signal(ctx, "d0", "go", "x") }},
			{"SignalWithStart", func(ctx context.Context) error {
				_, err := b.e.SignalWithStart(ctx, durable.StartOptions{ID: "d2"}, WaitForGo, "go", "x", "a")
				return err
			}},
			{"Cancel", func(ctx context.Context) error { return b.e.Cancel(ctx, "d0") }},
			{"Query", func(ctx context.Context) error {
				_, err := b.e.Query(ctx, "d0", "q")
				return err
			}},
			{"Update", func(ctx context.Context) error {
				_, err := b.e.Update(ctx, "d0", "u")
				return err
			}},
			{"Get", func(ctx context.Context) error { return b.e.Run("d0").Get(ctx, nil) }},
		}
		for _, c := range calls {
			cctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
			began := time.Now()
			err := c.call(cctx)
			cancel()
			require.ErrorIs(t, err, durable.ErrUnavailable, c.name)
			var ue *durable.UnavailableError
			require.ErrorAs(t, err, &ue, c.name)
			require.Greater(t, ue.Attempts, 1, c.name)
			require.Less(t, time.Since(began), 2*time.Second, c.name)
			require.True(t, strings.HasPrefix(err.Error(), "durable: "+c.name), "%s: %v", c.name, err)
		}
		b.st.setDown(false)
	})

	t.Run("WithoutADeadlineRetriesAreBounded", func(t *testing.T) {
		t.Parallel()
		b := setupFlaky(t, durable.WithUnavailableRetry(200*time.Millisecond))
		b.st.setDown(true)
		began := time.Now()
		_, err := b.e.Start(context.Background(), durable.StartOptions{ID: "b1"}, Steps3, "x")
		var ue *durable.UnavailableError
		require.ErrorAs(t, err, &ue)
		require.GreaterOrEqual(t, time.Since(began), 200*time.Millisecond)
		require.Less(t, time.Since(began), 2*time.Second)
		require.Greater(t, ue.Attempts, 2)
	})

	t.Run("WithoutRetriesTheFirstFailureReturns", func(t *testing.T) {
		t.Parallel()
		b := setupFlaky(t, durable.WithUnavailableRetry(0))
		b.st.plan("CreateRun", flakyPlan{})
		_, err := b.e.Start(context.Background(), durable.StartOptions{ID: "n1"}, Steps3, "x")
		var ue *durable.UnavailableError
		require.ErrorAs(t, err, &ue)
		require.Equal(t, 1, ue.Attempts)
	})

	t.Run("WorkerCommitsAgainWhenTheStoreAnswers", func(t *testing.T) {
		t.Parallel()
		for _, applied := range []bool{false, true} {
			b := setupFlaky(t, durable.WithLeaseTimeout(time.Minute))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run, err := b.e.Start(ctx, durable.StartOptions{ID: "c1"}, Steps3, "x")
			require.NoError(t, err)
			// The next commits fail (an activity result's): the run must
			// go on long before its one-minute lease could expire.
			b.st.plan("Commit", flakyPlan{applied: applied}, flakyPlan{}, flakyPlan{})
			var out string
			require.NoError(t, run.Get(ctx, &out), "applied: %v", applied)
			require.Equal(t, "x...", out)
			require.Equal(t, 3, b.st.injected("Commit"))
			log := b.log.String()
			require.NotContains(t, log, "level=ERROR", log)
			require.Contains(t, log, "store unavailable; retrying", log)
		}
	})

	t.Run("AnOutageIsLoggedOnceEachWay", func(t *testing.T) {
		t.Parallel()
		b := setupFlaky(t)
		b.st.setDown(true)
		require.Eventually(t, func() bool { return b.st.injected("ClaimRuns") >= 5 }, 5*time.Second, 5*time.Millisecond)
		b.st.setDown(false)
		require.Eventually(t, func() bool { return strings.Contains(b.log.String(), "store available again") }, 5*time.Second, 5*time.Millisecond)
		log := b.log.String()
		require.Equal(t, 1, strings.Count(log, "store unavailable; retrying"), log)
		require.Equal(t, 1, strings.Count(log, "store available again"), log)
		require.NotContains(t, log, "level=ERROR", log)
	})
}
