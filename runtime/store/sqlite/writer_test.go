package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// TestGroupCommit drives the committer directly: it parks the writer, queues
// calls so that they land in one group, and checks that each gets its own
// answer.
func TestGroupCommit(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ctx   context.Context
		store *Store
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		s, err := OpenMemory(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return &testBundle{ctx: ctx, store: s}
	}
	create := func(t *testing.T, b *testBundle, id string) {
		t.Helper()
		require.NoError(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{
			Run:   &store.Run{RunID: id, WorkflowID: id, Workflow: "W"},
			Owner: "w1", Lease: time.Hour,
		}))
	}
	// group runs calls concurrently while the writer is parked, so that
	// they form one batch, and returns their errors in order.
	group := func(t *testing.T, b *testBundle, calls ...func() error) []error {
		t.Helper()
		parked, release := make(chan struct{}), make(chan struct{})
		go b.store.w.do(b.ctx, false, func(*wtx) error { close(parked); <-release; return nil })
		<-parked
		errs := make([]error, len(calls))
		var wg sync.WaitGroup
		for i, call := range calls {
			wg.Go(func() { errs[i] = call() })
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(b.store.w.reqs) < len(calls) {
			require.True(t, time.Now().Before(deadline), "calls did not queue")
			time.Sleep(time.Millisecond)
		}
		before := b.store.Stats()
		close(release)
		wg.Wait()
		t.Logf("transactions: %d", b.store.Stats().Transactions-before.Transactions)
		return errs
	}
	commit := func(b *testBundle, p *store.CommitParams) func() error {
		return func() error { return b.store.Commit(b.ctx, p) }
	}
	event := []store.Event{{Kind: "e"}}

	t.Run("FailingCallsDoNotAbortTheOthers", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, id := range []string{"ok1", "ok2", "child-clash", "task-clash", "stale", "taken"} {
			create(t, b, id)
		}
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: "task-clash", Owner: "w1", CreateTasks: []*store.Task{{ID: "t1", Kind: "activity"}},
		}))

		errs := group(t, b,
			commit(b, &store.CommitParams{RunID: "ok1", Owner: "w1", Events: event}),
			// Fails after its fenced update, inside its savepoint.
			commit(b, &store.CommitParams{
				RunID: "child-clash", Owner: "w1", Events: event,
				CreateRuns: []*store.CreateRunParams{{Run: &store.Run{RunID: "c", WorkflowID: "taken", Workflow: "W"}}},
			}),
			// Fails after its fenced update, without a savepoint: the
			// group is rerun call by call.
			commit(b, &store.CommitParams{
				RunID: "task-clash", Owner: "w1", Events: event,
				CreateTasks: []*store.Task{{ID: "t1", Kind: "activity"}},
			}),
			// Fails before writing anything.
			commit(b, &store.CommitParams{RunID: "stale", Owner: "w1", ExpectLen: 5, Events: event}),
			commit(b, &store.CommitParams{RunID: "stale", Owner: "intruder", Events: event}),
			commit(b, &store.CommitParams{RunID: "ok2", Owner: "w1", Events: event}),
			func() error {
				_, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: "ok2", Kind: "signal"})
				return err
			},
		)
		require.NoError(t, errs[0])
		require.ErrorIs(t, errs[1], store.ErrAlreadyExists)
		require.ErrorIs(t, errs[2], store.ErrAlreadyExists)
		require.ErrorIs(t, errs[3], store.ErrConflict)
		require.ErrorIs(t, errs[4], store.ErrLeaseLost)
		require.NoError(t, errs[5])
		require.NoError(t, errs[6])

		for id, want := range map[string]int64{"ok1": 1, "ok2": 1, "child-clash": 0, "task-clash": 0, "stale": 0} {
			r, err := b.store.GetRun(b.ctx, id)
			require.NoError(t, err)
			require.Equal(t, want, r.JournalLen, id)
		}
		_, err := b.store.GetRun(b.ctx, "c")
		require.ErrorIs(t, err, store.ErrNotFound)
		inbox, err := b.store.ListInbox(b.ctx, "ok2")
		require.NoError(t, err)
		require.Len(t, inbox, 1)
	})

	t.Run("ManyCallsShareATransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 50
		calls := make([]func() error, n)
		for i := range n {
			id := fmt.Sprintf("r%d", i)
			create(t, b, id)
			calls[i] = commit(b, &store.CommitParams{RunID: id, Owner: "w1", Events: event})
		}
		before := b.store.Stats()
		for _, err := range group(t, b, calls...) {
			require.NoError(t, err)
		}
		after := b.store.Stats()
		require.EqualValues(t, n+1, after.Calls-before.Calls, "the parked call and the group")
		require.LessOrEqual(t, after.Transactions-before.Transactions, int64(2))
	})

	t.Run("CanceledCallIsDropped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, "r1")
		parked, release := make(chan struct{}), make(chan struct{})
		go b.store.w.do(b.ctx, false, func(*wtx) error { close(parked); <-release; return nil })
		<-parked

		ctx, cancel := context.WithCancel(b.ctx)
		errc := make(chan error, 1)
		go func() { errc <- b.store.Commit(ctx, &store.CommitParams{RunID: "r1", Owner: "w1", Events: event}) }()
		for len(b.store.w.reqs) < 1 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)
		close(release)

		// The dropped commit never lands, so the next one at 0 succeeds.
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{RunID: "r1", Owner: "w1", Events: event}))
	})
}
