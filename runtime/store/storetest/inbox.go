package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseInbox covers Deliver and ListInbox.
func exerciseInbox(t *testing.T, open OpenFunc) {
	t.Helper()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return newBundle(t, open)
	}

	t.Run("DeliverPersistsTheItem", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		before := time.Now()
		item, err := b.store.Deliver(b.ctx, &store.DeliverParams{
			WorkflowID: run.WorkflowID, Kind: "signal", Name: "approve", Data: []byte(`{"by":"ann"}`),
		})
		require.NoError(t, err)
		require.NotZero(t, item.ID)
		require.Equal(t, run.RunID, item.RunID)
		require.Equal(t, "signal", item.Kind)
		require.Equal(t, "approve", item.Name)
		require.Equal(t, []byte(`{"by":"ann"}`), item.Data)
		requireTimeNear(t, before, item.At, time.Second)

		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		require.Equal(t, item.ID, inbox[0].ID)
		require.Equal(t, item.RunID, inbox[0].RunID)
		require.Equal(t, item.Kind, inbox[0].Kind)
		require.Equal(t, item.Name, inbox[0].Name)
		require.Equal(t, item.Data, inbox[0].Data)
		requireTimeEqual(t, item.At, inbox[0].At)
	})

	t.Run("DeliverByWorkflowIDGoesToTheOpenRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		first := b.ownedRun(t, "w1")
		next := newRun()
		next.WorkflowID = first.WorkflowID
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: first.RunID, Owner: "w1", ExpectLen: first.JournalLen,
			Update:     &store.RunUpdate{Status: store.StatusContinued, NextRunID: next.RunID},
			CreateRuns: []*store.CreateRunParams{{Run: next}},
		}))

		item, err := b.store.Deliver(b.ctx, &store.DeliverParams{WorkflowID: first.WorkflowID, Kind: "signal", Name: "s"})
		require.NoError(t, err)
		require.Equal(t, next.RunID, item.RunID)
		inbox, err := b.store.ListInbox(b.ctx, first.RunID)
		require.NoError(t, err)
		require.Empty(t, inbox)
	})

	t.Run("DeliverByRunID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		item, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: run.RunID, Kind: "cancel"})
		require.NoError(t, err)
		require.Equal(t, run.RunID, item.RunID)
	})

	t.Run("DeliverToStuckRunIsKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		require.NoError(t, b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{RunID: run.RunID, Status: store.StatusStuck}))
		_, err := b.store.Deliver(b.ctx, &store.DeliverParams{WorkflowID: run.WorkflowID, Kind: "signal", Name: "s"})
		require.NoError(t, err, "a stuck run is open and keeps its mail for later")
	})

	t.Run("DeliverWithoutOpenRunIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		closed := b.ownedRun(t, "w1")
		closeRun(t, b, closed, "w1", store.StatusCompleted)

		for name, p := range map[string]*store.DeliverParams{
			"MissingWorkflow": {WorkflowID: "nobody", Kind: "signal"},
			"MissingRun":      {RunID: "nothing", Kind: "signal"},
			"ClosedWorkflow":  {WorkflowID: closed.WorkflowID, Kind: "signal"},
			"ClosedRun":       {RunID: closed.RunID, Kind: "signal"},
		} {
			_, err := b.store.Deliver(b.ctx, p)
			require.ErrorIs(t, err, store.ErrNotFound, name)
		}
		inbox, err := b.store.ListInbox(b.ctx, closed.RunID)
		require.NoError(t, err)
		require.Empty(t, inbox)
	})

	t.Run("InboxComesBackInIDOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		other := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		var ids []int64
		for i := range 10 {
			target := run
			if i%3 == 0 {
				target = other
			}
			item, err := b.store.Deliver(b.ctx, &store.DeliverParams{
				RunID: target.RunID, Kind: "signal", Name: "n", Data: fmt.Appendf(nil, "%d", i),
			})
			require.NoError(t, err)
			if target == run {
				ids = append(ids, item.ID)
			}
		}

		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, len(ids))
		var prev []byte
		for i, item := range inbox {
			require.Equal(t, ids[i], item.ID)
			require.Equal(t, run.RunID, item.RunID)
			if i > 0 {
				require.Greater(t, item.ID, inbox[i-1].ID)
				require.NotEqual(t, prev, item.Data)
			}
			prev = item.Data
		}
	})

	t.Run("ListInboxOfEmptyOrMissingRunIsEmpty", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Empty(t, inbox)
		inbox, err = b.store.ListInbox(b.ctx, "missing")
		require.NoError(t, err)
		require.Empty(t, inbox)
	})

	t.Run("ConcurrentDeliveriesAreAllKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = b.store.Deliver(b.ctx, &store.DeliverParams{
					WorkflowID: run.WorkflowID, Kind: "signal", Name: "n", Data: fmt.Appendf(nil, "%d", i),
				})
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, n)
		seen := map[string]bool{}
		for _, item := range inbox {
			seen[string(item.Data)] = true
		}
		require.Len(t, seen, n)
	})
}
