package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseRuns covers creating, reading, listing and closing runs, and the
// rule that at most one run per workflow ID is open.
func exerciseRuns(t *testing.T, open OpenFunc) {
	t.Helper()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return newBundle(t, open)
	}

	t.Run("CreateRunStoresEveryField", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		parent := b.ownedRun(t, "w1")
		wake := time.Now().Add(time.Hour).Truncate(time.Microsecond)
		run := &store.Run{
			RunID:       newID("run"),
			WorkflowID:  newID("wf"),
			Workflow:    "Greet",
			Queue:       "emails",
			Input:       []byte(`["world"]`),
			Meta:        []byte(`{"timeout":"1h"}`),
			ParentRunID: parent.RunID,
			PrevRunID:   "previous",
			WakeAt:      wake,
		}
		before := time.Now()
		require.NoError(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{
			Run: run,
			Events: []store.Event{
				{Seq: 1, Kind: "started", Data: []byte("a"), At: before.Truncate(time.Microsecond)},
				{Seq: 2, Kind: "scheduled", Data: []byte("b"), At: before.Truncate(time.Microsecond)},
			},
		}))

		got := b.getRun(t, run.RunID)
		require.Equal(t, run.RunID, got.RunID)
		require.Equal(t, run.WorkflowID, got.WorkflowID)
		require.Equal(t, "Greet", got.Workflow)
		require.Equal(t, "emails", got.Queue)
		require.Equal(t, store.StatusRunning, got.Status, "status defaults to running")
		require.Equal(t, run.Input, got.Input)
		require.Equal(t, run.Meta, got.Meta)
		require.Empty(t, got.Result)
		require.Empty(t, got.Error)
		require.Equal(t, parent.RunID, got.ParentRunID)
		require.Equal(t, "previous", got.PrevRunID)
		require.Empty(t, got.NextRunID)
		require.EqualValues(t, 2, got.JournalLen)
		requireTimeEqual(t, wake, got.WakeAt)
		require.Empty(t, got.Owner)
		require.True(t, got.LeaseUntil.IsZero() || !got.LeaseUntil.After(time.Now()), "unowned run has no live lease")
		requireTimeNear(t, before, got.CreatedAt, time.Second)
		requireTimeNear(t, before, got.UpdatedAt, time.Second)

		events, err := b.store.LoadJournal(b.ctx, run.RunID, 0)
		require.NoError(t, err)
		require.Len(t, events, 2)
		require.EqualValues(t, 1, events[0].Seq)
		require.Equal(t, "started", events[0].Kind)
		require.Equal(t, []byte("a"), events[0].Data)
		requireTimeEqual(t, before.Truncate(time.Microsecond), events[0].At)
		require.EqualValues(t, 2, events[1].Seq)
		require.Equal(t, "scheduled", events[1].Kind)
	})

	t.Run("CreateRunWithTasksMakesThemClaimable", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := newRun()
		task := newTask(run.RunID)
		b.createRun(t, &store.CreateRunParams{Run: run, Tasks: []*store.Task{task}})

		claimed := b.claimTasks(t, "w1", longLease)
		require.Equal(t, []string{task.ID}, taskIDs(claimed))
		require.Equal(t, run.RunID, claimed[0].RunID)
	})

	t.Run("CreateRunWithOwnerTakesTheLease", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		before := time.Now()
		run := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w1", Lease: longLease})
		require.Equal(t, "w1", run.Owner)
		requireTimeNear(t, before.Add(longLease), run.LeaseUntil, time.Second)

		require.Empty(t, b.claimRunIDs(t, "w2", longLease), "a leased run is not claimable")
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 0,
			Events: []store.Event{{Seq: 1, Kind: "started"}},
		}))
	})

	t.Run("GetRunAndCurrentRunReturnNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		_, err := b.store.GetRun(b.ctx, "missing")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.store.CurrentRun(b.ctx, "missing")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("CreateRunRejectsSecondOpenRunOfWorkflowID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		first := newRun()
		b.createRun(t, &store.CreateRunParams{Run: first})

		second := newRun()
		second.WorkflowID = first.WorkflowID
		err := b.store.CreateRun(b.ctx, &store.CreateRunParams{Run: second})
		require.ErrorIs(t, err, store.ErrAlreadyExists)
		_, err = b.store.GetRun(b.ctx, second.RunID)
		require.ErrorIs(t, err, store.ErrNotFound, "the rejected run left nothing")

		cur, err := b.store.CurrentRun(b.ctx, first.WorkflowID)
		require.NoError(t, err)
		require.Equal(t, first.RunID, cur.RunID)
	})

	t.Run("StuckRunStillHoldsItsWorkflowID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		first := newRun()
		b.createRun(t, &store.CreateRunParams{Run: first})
		require.NoError(t, b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{
			RunID: first.RunID, Status: store.StatusStuck, Error: []byte("diverged"),
		}))

		second := newRun()
		second.WorkflowID = first.WorkflowID
		require.ErrorIs(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{Run: second}), store.ErrAlreadyExists)
	})

	t.Run("CreateRunRejectsDuplicateRunID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		first := b.ownedRun(t, "w1")
		closeRun(t, b, first, "w1", store.StatusCompleted)

		again := newRun()
		again.RunID = first.RunID
		require.ErrorIs(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{Run: again}), store.ErrAlreadyExists)
	})

	t.Run("NewRunMayReuseWorkflowIDAfterTheOldOneClosed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		for _, status := range []store.RunStatus{store.StatusCompleted, store.StatusFailed, store.StatusCanceled} {
			first := b.ownedRun(t, "w1")
			closeRun(t, b, first, "w1", status)

			second := newRun()
			second.WorkflowID = first.WorkflowID
			require.NoError(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{Run: second}), "after %s", status)

			cur, err := b.store.CurrentRun(b.ctx, first.WorkflowID)
			require.NoError(t, err)
			require.Equal(t, second.RunID, cur.RunID, "the newest run is current after %s", status)
		}
	})

	t.Run("ContinueAsNewClosesAndCreatesInOneCommit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		first := b.ownedRun(t, "w1")
		next := newRun()
		next.WorkflowID = first.WorkflowID
		next.PrevRunID = first.RunID
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: first.RunID, Owner: "w1", ExpectLen: first.JournalLen,
			Events: []store.Event{{Seq: first.JournalLen + 1, Kind: "continued"}},
			Update: &store.RunUpdate{Status: store.StatusContinued, NextRunID: next.RunID},
			CreateRuns: []*store.CreateRunParams{{
				Run:    next,
				Events: []store.Event{{Seq: 1, Kind: "started"}},
				Owner:  "w1", Lease: longLease,
			}},
		}))

		old := b.getRun(t, first.RunID)
		require.Equal(t, store.StatusContinued, old.Status)
		require.Equal(t, next.RunID, old.NextRunID)
		require.Empty(t, old.Owner, "a closed run releases its lease")

		cur, err := b.store.CurrentRun(b.ctx, first.WorkflowID)
		require.NoError(t, err)
		require.Equal(t, next.RunID, cur.RunID)
		require.Equal(t, first.RunID, cur.PrevRunID)
		require.Equal(t, store.StatusRunning, cur.Status)
		require.EqualValues(t, 1, cur.JournalLen, "a fresh journal")
		require.Equal(t, "w1", cur.Owner, "CreateRuns with Owner takes the lease")

		// The new run's owner can commit to it straight away.
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: next.RunID, Owner: "w1", ExpectLen: 1,
			Events: []store.Event{{Seq: 2, Kind: "scheduled"}},
		}))
	})

	t.Run("CommitCreatesChildRuns", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		parent := b.ownedRun(t, "w1")
		child := newRun()
		child.ParentRunID = parent.RunID
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: parent.RunID, Owner: "w1", ExpectLen: parent.JournalLen,
			Events:     []store.Event{{Seq: parent.JournalLen + 1, Kind: "child"}},
			CreateRuns: []*store.CreateRunParams{{Run: child, Tasks: []*store.Task{newTask(child.RunID)}}},
		}))

		got := b.getRun(t, child.RunID)
		require.Equal(t, parent.RunID, got.ParentRunID)
		require.Equal(t, store.StatusRunning, got.Status)
		require.Empty(t, got.Owner)
		require.Len(t, b.claimTasks(t, "w2", longLease), 1)
		require.Contains(t, b.claimRunIDs(t, "w2", longLease), child.RunID)
	})

	t.Run("ListRunsFiltersOldestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		a := b.ownedRun(t, "w1")
		closeRun(t, b, a, "w1", store.StatusCompleted)
		a2 := newRun()
		a2.WorkflowID = a.WorkflowID
		b.createRun(t, &store.CreateRunParams{Run: a2})
		c := b.ownedRun(t, "w1")
		closeRun(t, b, c, "w1", store.StatusFailed)
		d := b.createRun(t, &store.CreateRunParams{Run: newRun()})

		list := func(p *store.ListRunsParams) []string {
			t.Helper()
			runs, err := b.store.ListRuns(b.ctx, p)
			require.NoError(t, err)
			ids := make([]string, 0, len(runs))
			for _, r := range runs {
				ids = append(ids, r.RunID)
			}
			return ids
		}

		require.Equal(t, []string{a.RunID, a2.RunID, c.RunID, d.RunID}, list(&store.ListRunsParams{}))
		require.Equal(t, []string{a.RunID, a2.RunID}, list(&store.ListRunsParams{WorkflowID: a.WorkflowID}))
		require.Equal(t, []string{a2.RunID, d.RunID}, list(&store.ListRunsParams{Statuses: []store.RunStatus{store.StatusRunning}}))
		require.Equal(t, []string{a.RunID, c.RunID}, list(&store.ListRunsParams{
			Statuses: []store.RunStatus{store.StatusCompleted, store.StatusFailed},
		}))
		require.Equal(t, []string{a.RunID}, list(&store.ListRunsParams{
			WorkflowID: a.WorkflowID, Statuses: []store.RunStatus{store.StatusCompleted},
		}))
		require.Equal(t, []string{a.RunID, a2.RunID}, list(&store.ListRunsParams{Limit: 2}))
		require.Empty(t, list(&store.ListRunsParams{WorkflowID: "missing"}))
	})

	t.Run("SetRunStatusResumesStuckRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: run.JournalLen,
			Update: &store.RunUpdate{Status: store.StatusStuck, Error: []byte("nondeterminism"), WakeAt: past()},
		}))
		got := b.getRun(t, run.RunID)
		require.Equal(t, store.StatusStuck, got.Status)
		require.Equal(t, []byte("nondeterminism"), got.Error)
		require.True(t, got.Status.Open())

		// A stuck run is not claimed, even when it is due and has mail.
		_, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: run.RunID, Kind: "signal", Name: "go"})
		require.NoError(t, err)
		require.NoError(t, b.store.ReleaseLeases(b.ctx, ""))
		require.NotContains(t, b.claimRunIDs(t, "w2", longLease), run.RunID)

		require.NoError(t, b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{
			RunID: run.RunID, Status: store.StatusRunning, WakeAt: past(),
		}))
		got = b.getRun(t, run.RunID)
		require.Equal(t, store.StatusRunning, got.Status)
		require.Empty(t, got.Error)
		require.Equal(t, []string{run.RunID}, b.claimRunIDs(t, "w2", longLease))
	})

	t.Run("SetRunStatusClearsTheLease", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		require.NoError(t, b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{
			RunID: run.RunID, Status: store.StatusStuck, Error: []byte("x"),
		}))
		got := b.getRun(t, run.RunID)
		require.Empty(t, got.Owner)
		err := b.store.Commit(b.ctx, &store.CommitParams{RunID: run.RunID, Owner: "w1", ExpectLen: run.JournalLen})
		require.ErrorIs(t, err, store.ErrLeaseLost, "the former owner is fenced off")
	})

	t.Run("SetRunStatusTerminatesRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		require.NoError(t, b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{
			RunID: run.RunID, Status: store.StatusTerminated, Error: []byte("by operator"),
		}))
		got := b.getRun(t, run.RunID)
		require.Equal(t, store.StatusTerminated, got.Status)
		require.Equal(t, []byte("by operator"), got.Error)
		require.Empty(t, got.Owner)

		_, err := b.store.Deliver(b.ctx, &store.DeliverParams{WorkflowID: run.WorkflowID, Kind: "signal"})
		require.ErrorIs(t, err, store.ErrNotFound, "a terminated run takes no mail")

		// A closed run cannot be changed again.
		err = b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{RunID: run.RunID, Status: store.StatusRunning})
		require.Error(t, err)
		require.Equal(t, store.StatusTerminated, b.getRun(t, run.RunID).Status)

		next := newRun()
		next.WorkflowID = run.WorkflowID
		require.NoError(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{Run: next}))
	})

	t.Run("SetRunStatusOfMissingRunIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		err := b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{RunID: "missing", Status: store.StatusRunning})
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// closeRun closes a run that owner holds with status.
func closeRun(t *testing.T, b *testBundle, run *store.Run, owner string, status store.RunStatus) {
	t.Helper()
	cur := b.getRun(t, run.RunID)
	require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
		RunID: run.RunID, Owner: owner, ExpectLen: cur.JournalLen,
		Events: []store.Event{{Seq: cur.JournalLen + 1, Kind: "closed"}},
		Update: &store.RunUpdate{Status: status, Result: []byte(`"done"`)},
	}))
}
