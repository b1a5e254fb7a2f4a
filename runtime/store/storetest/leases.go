package storetest

import (
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseLeases covers ClaimRuns, ReleaseRun, RenewLeases and ReleaseLeases.
func exerciseLeases(t *testing.T, open OpenFunc) {
	t.Helper()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return newBundle(t, open)
	}

	t.Run("ClaimRunsTakesOnlyRunsThatWantAttention", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		mk := func(wake time.Time, mail bool) *store.Run {
			t.Helper()
			r := newRun()
			r.WakeAt = wake
			b.createRun(t, &store.CreateRunParams{Run: r})
			if mail {
				_, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: r.RunID, Kind: "signal", Name: "s"})
				require.NoError(t, err)
			}
			return r
		}
		due := mk(past(), false)
		dueNow := mk(time.Now(), false)
		notYet := mk(future(), false)
		idle := mk(time.Time{}, false)
		idleWithMail := mk(time.Time{}, true)
		notYetWithMail := mk(future(), true)
		stuck := mk(past(), true)
		require.NoError(t, b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{RunID: stuck.RunID, Status: store.StatusStuck}))
		closed := b.ownedRun(t, "w0")
		closeRun(t, b, closed, "w0", store.StatusCompleted)
		leased := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w0", Lease: longLease})

		before := time.Now()
		got, err := b.store.ClaimRuns(b.ctx, &store.ClaimRunsParams{
			Owner: "w1", Queues: []string{""}, Limit: 100, Lease: longLease,
		})
		require.NoError(t, err)
		var ids []string
		for _, r := range got {
			ids = append(ids, r.RunID)
			require.Equal(t, "w1", r.Owner)
			requireTimeNear(t, before.Add(longLease), r.LeaseUntil, time.Second)
			require.Equal(t, store.StatusRunning, r.Status)
		}
		require.ElementsMatch(t, []string{due.RunID, dueNow.RunID, idleWithMail.RunID, notYetWithMail.RunID}, ids)
		for _, r := range []*store.Run{notYet, idle, stuck, closed, leased} {
			require.NotContains(t, ids, r.RunID)
		}
		require.Equal(t, "w1", b.getRun(t, due.RunID).Owner, "the claim is stored")
		require.Empty(t, b.claimRunIDs(t, "w2", longLease), "claimed runs are leased")
	})

	t.Run("ClaimRunsRespectsQueuesAndLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		byQueue := map[string][]string{}
		for _, q := range []string{"a", "a", "a", "b", "c", ""} {
			r := newRun()
			r.Queue = q
			b.createRun(t, &store.CreateRunParams{Run: r})
			byQueue[q] = append(byQueue[q], r.RunID)
		}

		claim := func(limit int, queues ...string) []*store.Run {
			t.Helper()
			got, err := b.store.ClaimRuns(b.ctx, &store.ClaimRunsParams{
				Owner: "w1", Queues: queues, Limit: limit, Lease: longLease,
			})
			require.NoError(t, err)
			return got
		}
		got := claim(2, "a")
		require.Len(t, got, 2)
		for _, r := range got {
			require.Equal(t, "a", r.Queue)
		}
		got = claim(10, "a", "b")
		require.Len(t, got, 2)
		require.Empty(t, claim(10, "a", "b"))
		got = claim(10, "")
		require.Len(t, got, 1)
		require.Equal(t, byQueue[""][0], got[0].RunID)
		got = claim(10, "c", "z")
		require.Len(t, got, 1)
		require.Equal(t, byQueue["c"][0], got[0].RunID)
	})

	t.Run("ExpiredRunLeaseCanBeClaimedByAnother", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun()})
		require.Equal(t, []string{run.RunID}, b.claimRunIDs(t, "w1", mediumLease))
		require.Empty(t, b.claimRunIDs(t, "w2", longLease), "still leased")

		eventually(t, "the lease to expire", func() bool {
			return len(b.claimRunIDs(t, "w2", longLease)) == 1
		})
		require.Equal(t, "w2", b.getRun(t, run.RunID).Owner)
	})

	t.Run("ClaimRunsReclaimsOwnLeasedRunsWithInbox", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		// The owner has both runs loaded; another process delivers a signal
		// to one of them through the store.
		mail := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w1", Lease: mediumLease})
		quiet := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w1", Lease: mediumLease})
		require.Empty(t, b.claimRunIDs(t, "w1", longLease), "own leased runs without inbox items are not re-claimed")
		_, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: mail.RunID, Kind: "signal", Name: "s"})
		require.NoError(t, err)

		require.Empty(t, b.claimRunIDs(t, "w2", longLease), "another owner still cannot claim a leased run")
		before := time.Now()
		runs, err := b.store.ClaimRuns(b.ctx, &store.ClaimRunsParams{
			Owner: "w1", Queues: []string{""}, Limit: 100, Lease: longLease,
		})
		require.NoError(t, err)
		require.Len(t, runs, 1, "the owner re-claims its leased run with inbox items")
		require.Equal(t, mail.RunID, runs[0].RunID)
		require.Equal(t, "w1", runs[0].Owner)
		requireTimeNear(t, before.Add(longLease), runs[0].LeaseUntil, time.Second)
		requireTimeNear(t, before.Add(longLease), b.getRun(t, mail.RunID).LeaseUntil, time.Second)
		require.Equal(t, "w1", b.getRun(t, quiet.RunID).Owner)

		// Until the inbox is consumed, every claim by the owner returns it.
		require.Equal(t, []string{mail.RunID}, b.claimRunIDs(t, "w1", longLease))
		items, err := b.store.ListInbox(b.ctx, mail.RunID)
		require.NoError(t, err)
		require.Len(t, items, 1)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: mail.RunID, Owner: "w1", ExpectLen: 0,
			Events:       []store.Event{{Kind: "signal", Data: []byte("{}")}},
			ConsumeInbox: []int64{items[0].ID},
		}))
		require.Empty(t, b.claimRunIDs(t, "w1", longLease), "nothing left to re-claim")
	})

	t.Run("ConcurrentClaimRunsNeverHandARunTwice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		const n = 60
		for range n {
			b.createRun(t, &store.CreateRunParams{Run: newRun()})
		}

		const workers = 6
		var (
			mu    sync.Mutex
			owner = map[string]string{}
			dups  []string
			errs  []error
			wg    sync.WaitGroup
		)
		for w := range workers {
			name := string(rune('A' + w))
			wg.Go(func() {
				for range 2 * n {
					got, err := b.store.ClaimRuns(b.ctx, &store.ClaimRunsParams{
						Owner: name, Queues: []string{""}, Limit: 3, Lease: longLease,
					})
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					for _, r := range got {
						if prev, ok := owner[r.RunID]; ok {
							dups = append(dups, r.RunID+" to "+prev+" and "+name)
						}
						owner[r.RunID] = name
					}
					done := len(owner) == n
					mu.Unlock()
					if done || err != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		require.Empty(t, dups, "runs handed to two owners")
		require.Len(t, owner, n)
	})

	t.Run("ReleaseRunSetsWakeAtAndFreesTheRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.ownedRun(t, "w1")
		err := b.store.ReleaseRun(b.ctx, &store.ReleaseRunParams{RunID: run.RunID, Owner: "w2", WakeAt: past()})
		require.ErrorIs(t, err, store.ErrLeaseLost)

		wake := future()
		require.NoError(t, b.store.ReleaseRun(b.ctx, &store.ReleaseRunParams{RunID: run.RunID, Owner: "w1", WakeAt: wake}))
		got := b.getRun(t, run.RunID)
		require.Empty(t, got.Owner)
		requireTimeEqual(t, wake, got.WakeAt)
		require.Empty(t, b.claimRunIDs(t, "w2", longLease), "not due")
		err = b.store.Commit(b.ctx, &store.CommitParams{RunID: run.RunID, Owner: "w1", ExpectLen: run.JournalLen})
		require.ErrorIs(t, err, store.ErrLeaseLost, "released means released")

		soon := time.Now().Add(100 * time.Millisecond)
		require.NoError(t, b.store.SetRunStatus(b.ctx, &store.SetRunStatusParams{
			RunID: run.RunID, Status: store.StatusRunning, WakeAt: soon,
		}))
		var claimed []*store.Run
		eventually(t, "the run to come due", func() bool {
			var err error
			claimed, err = b.store.ClaimRuns(b.ctx, &store.ClaimRunsParams{
				Owner: "w2", Queues: queuesOrDefault(nil), Limit: 100, Lease: longLease,
			})
			require.NoError(t, err)
			return len(claimed) == 1
		})
		requireClaimedNotBefore(t, soon, claimed[0].LeaseUntil, longLease, "claimed before WakeAt")
	})

	t.Run("ReleaseRunByFormerOwnerIsLeaseLost", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		run := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w1", Lease: shortLease})
		eventually(t, "the lease to expire", func() bool {
			return len(b.claimRunIDs(t, "w2", longLease)) == 1
		})
		err := b.store.ReleaseRun(b.ctx, &store.ReleaseRunParams{RunID: run.RunID, Owner: "w1", WakeAt: future()})
		require.ErrorIs(t, err, store.ErrLeaseLost)
		got := b.getRun(t, run.RunID)
		require.Equal(t, "w2", got.Owner)
		requireTimeEqual(t, run.WakeAt, got.WakeAt, "WakeAt unchanged")

		err = b.store.ReleaseRun(b.ctx, &store.ReleaseRunParams{RunID: "missing", Owner: "w1"})
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("RenewLeasesExtendsHeldLeasesAndReportsLostOnes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		held := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w1", Lease: longLease})
		stolen := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w1", Lease: shortLease})
		closed := b.ownedRun(t, "w1")
		closeRun(t, b, closed, "w1", store.StatusCompleted)
		heldTask, stolenTask := newTask(held.RunID), newTask(held.RunID)
		stolenTask.Queue = "other"
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: held.RunID, Owner: "w1", ExpectLen: 0, CreateTasks: []*store.Task{heldTask, stolenTask},
		}))
		claimTask := func(owner, queue string, lease time.Duration) []*store.Task {
			t.Helper()
			got, err := b.store.ClaimTasks(b.ctx, &store.ClaimTasksParams{
				Owner: owner, Kinds: []string{store.TaskKindActivity}, Queues: []string{queue}, Limit: 10, Lease: lease,
			})
			require.NoError(t, err)
			return got
		}
		require.Len(t, claimTask("w1", "", longLease), 1)
		require.Len(t, claimTask("w1", "other", shortLease), 1)

		// "stolen" and its task expire and move on to w2.
		eventually(t, "the run lease to expire", func() bool {
			return len(b.claimRunIDs(t, "w2", longLease)) == 1
		})
		eventually(t, "the task lease to expire", func() bool {
			return len(claimTask("w2", "other", longLease)) == 1
		})

		before := time.Now()
		res, err := b.store.RenewLeases(b.ctx, &store.RenewLeasesParams{
			Owner:   "w1",
			RunIDs:  []string{held.RunID, stolen.RunID, closed.RunID, "missing"},
			TaskIDs: []string{heldTask.ID, stolenTask.ID, "missing"},
			Lease:   longLease,
		})
		require.NoError(t, err)
		sort.Strings(res.LostRuns)
		sort.Strings(res.LostTasks)
		wantRuns := []string{stolen.RunID, closed.RunID, "missing"}
		sort.Strings(wantRuns)
		wantTasks := []string{stolenTask.ID, "missing"}
		sort.Strings(wantTasks)
		require.Equal(t, wantRuns, res.LostRuns)
		require.Equal(t, wantTasks, res.LostTasks)

		got := b.getRun(t, held.RunID)
		require.Equal(t, "w1", got.Owner)
		requireTimeNear(t, before.Add(longLease), got.LeaseUntil, time.Second)
		require.Equal(t, "w2", b.getRun(t, stolen.RunID).Owner, "renewal does not steal back")
	})

	t.Run("RenewalOfLapsedLeaseIsEitherLostOrValid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		// A lease that lapsed without anyone claiming the run may be
		// reported lost or renewed, but the answer must hold: a renewed
		// lease lets its owner commit, a lost one does not.
		run := b.createRun(t, &store.CreateRunParams{Run: newRun(), Owner: "w1", Lease: shortLease})
		waitPast(t, run.LeaseUntil)
		res, err := b.store.RenewLeases(b.ctx, &store.RenewLeasesParams{
			Owner: "w1", RunIDs: []string{run.RunID}, Lease: longLease,
		})
		require.NoError(t, err)
		err = b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "w1", ExpectLen: 0, Events: []store.Event{{Seq: 1, Kind: "x"}},
		})
		if len(res.LostRuns) == 1 {
			t.Logf("lapsed lease reported lost")
			require.ErrorIs(t, err, store.ErrLeaseLost)
		} else {
			t.Logf("lapsed lease renewed")
			require.Empty(t, res.LostRuns)
			require.NoError(t, err)
		}
	})

	t.Run("ReleaseLeasesOfOneOwner", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		mine := b.ownedRun(t, "w1")
		theirs := b.ownedRun(t, "w2")
		task := newTask(mine.RunID)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: mine.RunID, Owner: "w1", ExpectLen: mine.JournalLen, CreateTasks: []*store.Task{task},
		}))
		require.Len(t, b.claimTasks(t, "w1", longLease), 1)

		require.NoError(t, b.store.ReleaseLeases(b.ctx, "w1"))
		require.Empty(t, b.getRun(t, mine.RunID).Owner)
		require.Equal(t, "w2", b.getRun(t, theirs.RunID).Owner)
		require.Equal(t, []string{mine.RunID}, b.claimRunIDs(t, "w3", longLease))
		require.Equal(t, []string{task.ID}, taskIDs(b.claimTasks(t, "w3", longLease)))

		err := b.store.Commit(b.ctx, &store.CommitParams{RunID: mine.RunID, Owner: "w1", ExpectLen: mine.JournalLen})
		require.ErrorIs(t, err, store.ErrLeaseLost)
	})

	t.Run("ReleaseLeasesOfEveryoneForRecovery", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		r1 := b.ownedRun(t, "w1")
		r2 := b.ownedRun(t, "w2")
		task := newTask(r1.RunID)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: r1.RunID, Owner: "w1", ExpectLen: r1.JournalLen, CreateTasks: []*store.Task{task},
		}))
		require.Len(t, b.claimTasks(t, "w2", longLease), 1)

		require.NoError(t, b.store.ReleaseLeases(b.ctx, ""))
		require.ElementsMatch(t, []string{r1.RunID, r2.RunID}, b.claimRunIDs(t, "w3", longLease))
		require.Equal(t, []string{task.ID}, taskIDs(b.claimTasks(t, "w3", longLease)))
		for _, owner := range []string{"w1", "w2"} {
			err := b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: owner, Details: []byte("x")})
			require.True(t, errors.Is(err, store.ErrLeaseLost), "owner %s: %v", owner, err)
		}
	})
}
