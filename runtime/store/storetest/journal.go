package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseJournal covers Commit: gap-free appends, fencing and atomicity.
func exerciseJournal(t *testing.T, open OpenFunc) {
	t.Helper()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return newBundle(t, open)
	}

	t.Run("CommitAppendsGapFree", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		at := time.Now().Truncate(time.Microsecond)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Events: []store.Event{
				{Seq: 2, Kind: "scheduled", Data: []byte("two"), At: at},
				{Seq: 3, Kind: "completed", Data: []byte("three"), At: at},
			},
		}))
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 3,
			Events: []store.Event{{Seq: 4, Kind: "timer"}},
		}))
		require.EqualValues(t, 4, b.getRun(t, run.RunID).JournalLen)

		events, err := b.store.LoadJournal(b.ctx, run.RunID, 0)
		require.NoError(t, err)
		require.Len(t, events, 4)
		for i, e := range events {
			require.EqualValues(t, i+1, e.Seq)
		}
		require.Equal(t, "scheduled", events[1].Kind)
		require.Equal(t, []byte("two"), events[1].Data)
		requireTimeEqual(t, at, events[1].At)
		require.Equal(t, "timer", events[3].Kind)
		require.False(t, events[3].At.IsZero(), "the store stamps an event without At")

		tail, err := b.store.LoadJournal(b.ctx, run.RunID, 2)
		require.NoError(t, err)
		require.Len(t, tail, 2)
		require.EqualValues(t, 3, tail[0].Seq)
		require.Equal(t, []byte("three"), tail[0].Data)

		none, err := b.store.LoadJournal(b.ctx, run.RunID, 4)
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("CommitWithWrongExpectLenConflicts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		for _, expect := range []int64{0, 2, 7} {
			err := b.store.Commit(b.ctx, &store.CommitParams{
				RunID: run.RunID, Owner: "w1", ExpectLen: expect,
				Events: []store.Event{{Seq: expect + 1, Kind: "x"}},
			})
			require.ErrorIs(t, err, store.ErrConflict, "ExpectLen %d", expect)
		}
		events, err := b.store.LoadJournal(b.ctx, run.RunID, 0)
		require.NoError(t, err)
		require.Len(t, events, 1)
		require.EqualValues(t, 1, b.getRun(t, run.RunID).JournalLen)
	})

	t.Run("ConcurrentCommitsAtSameLengthHaveOneWinner", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = b.store.Commit(b.ctx, &store.CommitParams{
					RunID: run.RunID, Owner: "w1", ExpectLen: 1,
					Events: []store.Event{{Seq: 2, Kind: "racer", Data: []byte{byte(i)}}},
				})
			})
		}
		wg.Wait()

		winners := 0
		for _, err := range errs {
			if err == nil {
				winners++
				continue
			}
			require.ErrorIs(t, err, store.ErrConflict)
		}
		require.Equal(t, 1, winners)
		events, err := b.store.LoadJournal(b.ctx, run.RunID, 0)
		require.NoError(t, err)
		require.Len(t, events, 2)
	})

	t.Run("CommitRequiresTheLease", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		err := b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w2", ExpectLen: 1,
			Events: []store.Event{{Seq: 2, Kind: "intruder"}},
		})
		require.ErrorIs(t, err, store.ErrLeaseLost)

		unowned := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		err = b.store.Commit(b.ctx, &store.CommitParams{
			RunID: unowned.RunID, Owner: "w1", ExpectLen: 0,
			Events: []store.Event{{Seq: 1, Kind: "intruder"}},
		})
		require.ErrorIs(t, err, store.ErrLeaseLost)

		// Fencing comes before the length check: a stranger learns nothing.
		err = b.store.Commit(b.ctx, &store.CommitParams{RunID: run.RunID, Owner: "w2", ExpectLen: 9})
		require.ErrorIs(t, err, store.ErrLeaseLost)

		events, err := b.store.LoadJournal(b.ctx, run.RunID, 0)
		require.NoError(t, err)
		require.Len(t, events, 1)
	})

	t.Run("CommitToMissingRunFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		err := b.store.Commit(b.ctx, &store.CommitParams{RunID: "missing", Owner: "w1"})
		require.True(t, errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrLeaseLost),
			"want ErrNotFound or ErrLeaseLost, got %v", err)
	})

	t.Run("OwnerWhoseLeaseExpiredCannotCommit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		b.createRun(t, &store.CreateRunParams{Run: newRun()})
		claimed, err := b.store.ClaimRuns(b.ctx, &store.ClaimRunsParams{
			Owner: "w1", Queues: []string{""}, Limit: 1, Lease: shortLease,
		})
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		run := claimed[0]

		waitPast(t, run.LeaseUntil)
		err = b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 0,
			Events: []store.Event{{Seq: 1, Kind: "late"}},
		})
		require.ErrorIs(t, err, store.ErrLeaseLost, "expired, even though nobody claimed it yet")

		require.Equal(t, []string{run.RunID}, b.claimRunIDs(t, "w2", longLease), "another owner claims after expiry")
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w2", ExpectLen: 0,
			Events: []store.Event{{Seq: 1, Kind: "started"}},
		}))
		err = b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Events: []store.Event{{Seq: 2, Kind: "late"}},
		})
		require.ErrorIs(t, err, store.ErrLeaseLost)

		events, err := b.store.LoadJournal(b.ctx, run.RunID, 0)
		require.NoError(t, err)
		require.Len(t, events, 1)
		require.Equal(t, "started", events[0].Kind)
	})

	t.Run("FailedCommitLeavesNothingBehind", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		oldTask := newTask(run.RunID)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1, CreateTasks: []*store.Task{oldTask},
		}))
		item, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: run.RunID, Kind: "signal", Name: "s"})
		require.NoError(t, err)
		other := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w9", Lease: longLease})
		taken := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w9", Lease: longLease})
		before := b.getRun(t, run.RunID)

		dup := newRun()
		dup.WorkflowID = taken.WorkflowID // fails late: an open run holds this ID
		err = b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Events:       []store.Event{{Seq: 2, Kind: "a"}, {Seq: 3, Kind: "b"}},
			ConsumeInbox: []int64{item.ID},
			CreateTasks:  []*store.Task{newTask(run.RunID)},
			DeleteTasks:  []string{oldTask.ID},
			Update:       &store.RunUpdate{Status: store.StatusCompleted, Result: []byte("r"), WakeAt: future()},
			Deliver:      []*store.DeliverParams{{WorkflowID: other.WorkflowID, Kind: "signal", Name: "x"}},
			CreateRuns:   []*store.CreateRunParams{{Run: newRun()}, {Run: dup}},
		})
		require.ErrorIs(t, err, store.ErrAlreadyExists)

		after := b.getRun(t, run.RunID)
		require.Equal(t, store.StatusRunning, after.Status)
		require.Empty(t, after.Result)
		require.Equal(t, before.JournalLen, after.JournalLen)
		requireTimeEqual(t, before.WakeAt, after.WakeAt)
		require.Equal(t, "w1", after.Owner)
		events, err := b.store.LoadJournal(b.ctx, run.RunID, 0)
		require.NoError(t, err)
		require.Len(t, events, 1, "no events")
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, 1, "no inbox consumption")
		otherInbox, err := b.store.ListInbox(b.ctx, other.RunID)
		require.NoError(t, err)
		require.Empty(t, otherInbox, "no deliveries")
		runs, err := b.store.ListRuns(b.ctx, &store.ListRunsParams{})
		require.NoError(t, err)
		require.Len(t, runs, 3, "no runs created")
		require.Equal(t, []string{oldTask.ID}, taskIDs(b.claimTasks(t, "w2", longLease)), "no task created or deleted")

		// The same commit without the duplicate goes through.
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Events:       []store.Event{{Seq: 2, Kind: "a"}},
			ConsumeInbox: []int64{item.ID},
		}))
	})

	t.Run("CommitWithExistingTaskIDLeavesNothingBehind", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		task := newTask(run.RunID)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1, CreateTasks: []*store.Task{task},
		}))
		again := *task
		again.Data = []byte("other")
		err := b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Events:      []store.Event{{Seq: 2, Kind: "scheduled"}},
			CreateTasks: []*store.Task{newTask(run.RunID), &again},
			Update:      &store.RunUpdate{Status: store.StatusCompleted},
		})
		require.Error(t, err, "a task ID is unique")

		got := b.getRun(t, run.RunID)
		require.EqualValues(t, 1, got.JournalLen)
		require.Equal(t, store.StatusRunning, got.Status)
		claimed := b.claimTasks(t, "w2", longLease)
		require.Equal(t, []string{task.ID}, taskIDs(claimed))
		require.Equal(t, task.Data, claimed[0].Data)
	})

	t.Run("CommitUpdateReplacesRunStateAndClosingReleasesLease", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		wake := future()
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Update: &store.RunUpdate{Status: store.StatusRunning, WakeAt: wake},
		}))
		got := b.getRun(t, run.RunID)
		requireTimeEqual(t, wake, got.WakeAt)
		require.Equal(t, "w1", got.Owner, "an open status keeps the lease")
		require.False(t, got.UpdatedAt.Before(run.UpdatedAt))

		// A commit without Update leaves the run's state alone.
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Events: []store.Event{{Seq: 2, Kind: "x"}},
		}))
		got = b.getRun(t, run.RunID)
		requireTimeEqual(t, wake, got.WakeAt)
		require.Equal(t, store.StatusRunning, got.Status)

		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 2,
			Events: []store.Event{{Seq: 3, Kind: "failed"}},
			Update: &store.RunUpdate{Status: store.StatusFailed, Error: []byte("boom")},
		}))
		got = b.getRun(t, run.RunID)
		require.Equal(t, store.StatusFailed, got.Status)
		require.Equal(t, []byte("boom"), got.Error)
		require.Empty(t, got.Owner)
		require.EqualValues(t, 3, got.JournalLen)

		err := b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 3,
			Events: []store.Event{{Seq: 4, Kind: "after"}},
		})
		require.ErrorIs(t, err, store.ErrLeaseLost, "nobody commits to a closed run")
		require.Empty(t, b.claimRunIDs(t, "w2", longLease), "a closed run is never claimed")
	})

	t.Run("CommitConsumesInboxAndManagesTasks", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		i1, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: run.RunID, Kind: "signal", Name: "a"})
		require.NoError(t, err)
		i2, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: run.RunID, Kind: "signal", Name: "b"})
		require.NoError(t, err)

		leased := newTask(run.RunID)
		kept := newTask(run.RunID)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1,
			Events:       []store.Event{{Seq: 2, Kind: "signaled"}},
			ConsumeInbox: []int64{i1.ID},
			CreateTasks:  []*store.Task{leased, kept},
		}))
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		require.Equal(t, i2.ID, inbox[0].ID)

		tasks, err := b.store.ClaimTasks(b.ctx, &store.ClaimTasksParams{
			Owner: "w2", Kinds: []string{store.TaskKindActivity}, Queues: []string{""}, Limit: 1, Lease: longLease,
		})
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		// DeleteTasks deletes a task whatever its lease.
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 2,
			ConsumeInbox: []int64{i2.ID},
			DeleteTasks:  []string{tasks[0].ID},
		}))
		err = b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: tasks[0].ID, Owner: "w2", Details: []byte("hb")})
		require.ErrorIs(t, err, store.ErrNotFound)
		remaining := b.claimTasks(t, "w3", longLease)
		require.Len(t, remaining, 1)
		require.NotEqual(t, tasks[0].ID, remaining[0].ID)

		inbox, err = b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Empty(t, inbox)
	})

	t.Run("CommitConsumesOnlyItsOwnInbox", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		other := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		theirs, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: other.RunID, Kind: "signal", Name: "s"})
		require.NoError(t, err)

		_ = b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1, ConsumeInbox: []int64{theirs.ID},
		})
		inbox, err := b.store.ListInbox(b.ctx, other.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, 1, "another run's item is not consumed")
	})

	t.Run("CommitDeliverSkipsTargetsWithoutOpenRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		sender := b.ownedRun(t, "w1")
		target := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		closed := b.ownedRun(t, "w1")
		closeRun(t, b, closed, "w1", store.StatusCompleted)

		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: sender.RunID, Owner: "w1", ExpectLen: 1,
			Events: []store.Event{{Seq: 2, Kind: "signal-sent"}},
			Deliver: []*store.DeliverParams{
				{WorkflowID: "nobody", Kind: "signal", Name: "lost"},
				{WorkflowID: closed.WorkflowID, Kind: "signal", Name: "late"},
				{RunID: closed.RunID, Kind: "cancel"},
				{WorkflowID: target.WorkflowID, Kind: "signal", Name: "hello", Data: []byte("hi")},
			},
		}))
		require.EqualValues(t, 2, b.getRun(t, sender.RunID).JournalLen)

		inbox, err := b.store.ListInbox(b.ctx, target.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		require.Equal(t, target.RunID, inbox[0].RunID)
		require.Equal(t, "hello", inbox[0].Name)
		require.Equal(t, []byte("hi"), inbox[0].Data)
		closedInbox, err := b.store.ListInbox(b.ctx, closed.RunID)
		require.NoError(t, err)
		require.Empty(t, closedInbox)
	})

	t.Run("EventPayloadsRoundTripExactly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		payloads := [][]byte{
			{0, 1, 2, 0, 255, 254},
			[]byte("\x00leading nul"),
			[]byte("unicode: héllo 世界 \u2028"),
			[]byte("'); DROP TABLE runs; --"),
			bytes.Repeat([]byte{0xAB}, 1<<20),
		}
		events := make([]store.Event, len(payloads))
		for i, p := range payloads {
			events[i] = store.Event{Seq: int64(i + 2), Kind: "kind-" + string(rune('a'+i)), Data: p}
		}
		events[0].Kind = "plain"
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 1, Events: events,
		}))
		got, err := b.store.LoadJournal(b.ctx, run.RunID, 1)
		require.NoError(t, err)
		require.Len(t, got, len(payloads))
		for i := range payloads {
			require.Equal(t, events[i].Kind, got[i].Kind)
			require.True(t, bytes.Equal(payloads[i], got[i].Data), "payload %d differs", i)
		}
	})
}
