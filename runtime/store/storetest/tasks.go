package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseTasks covers due tasks: claiming, leases, heartbeats, retries and
// completion.
func exerciseTasks(t *testing.T, open OpenFunc) {
	t.Helper()

	setup := func(t *testing.T) (*testBundle, *store.Run) {
		t.Helper()
		b := newBundle(t, open)
		return b, b.ownedRun(t, "engine")
	}

	// addTasks commits tasks to run (held by "engine").
	addTasks := func(t *testing.T, b *testBundle, run *store.Run, tasks ...*store.Task) {
		t.Helper()
		cur := b.getRun(t, run.RunID)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "engine", ExpectLen: cur.JournalLen, CreateTasks: tasks,
		}))
	}

	t.Run("ListTasksReturnsARunsTasksWhateverTheirState", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)
		other := b.ownedRun(t, "engine")

		due, later, done := newTask(run.RunID), newTask(run.RunID), newTask(run.RunID)
		later.DueAt = future()
		later.Details = []byte("progress")
		addTasks(t, b, run, due, later, done)
		addTasks(t, b, other, newTask(other.RunID))
		cur := b.getRun(t, run.RunID)
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "engine", ExpectLen: cur.JournalLen, DeleteTasks: []string{done.ID},
		}))

		got, err := b.store.ListTasks(b.ctx, run.RunID)
		require.NoError(t, err)
		want := []string{due.ID, later.ID}
		if want[0] > want[1] {
			want[0], want[1] = want[1], want[0]
		}
		require.Len(t, got, 2, "the completed task is gone, the other run's is not listed")
		for i, task := range got {
			require.Equal(t, want[i], task.ID, "in ID order")
			require.Equal(t, run.RunID, task.RunID)
			if task.ID == later.ID {
				require.Equal(t, []byte("progress"), task.Details)
				require.Empty(t, task.Owner)
			}
		}

		none, err := b.store.ListTasks(b.ctx, "no-such-run")
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("ClaimTasksReturnsDueTasksWithTheirFields", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		due := newTask(run.RunID)
		due.Attempt = 3
		due.Details = []byte("progress")
		later := newTask(run.RunID)
		later.DueAt = future()
		addTasks(t, b, run, due, later)

		before := time.Now()
		claimed := b.claimTasks(t, "w1", longLease)
		require.Len(t, claimed, 1)
		got := claimed[0]
		require.Equal(t, due.ID, got.ID)
		require.Equal(t, run.RunID, got.RunID)
		require.Equal(t, store.TaskKindActivity, got.Kind)
		require.Empty(t, got.Queue)
		requireTimeEqual(t, due.DueAt, got.DueAt)
		require.Equal(t, 3, got.Attempt)
		require.Equal(t, due.Data, got.Data)
		require.Equal(t, []byte("progress"), got.Details)
		require.Equal(t, "w1", got.Owner)
		requireTimeNear(t, before.Add(longLease), got.LeaseUntil, time.Second)
		require.False(t, got.CreatedAt.IsZero())
		require.False(t, got.Abandoned, "a first claim is not abandoned")

		require.Empty(t, b.claimTasks(t, "w2", longLease), "a leased task is not claimed again")
	})

	t.Run("ClaimTasksRespectsKindsQueuesAndLimit", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		var tasks []*store.Task
		for _, kq := range [][2]string{{store.TaskKindActivity, "a"}, {store.TaskKindActivity, "a"}, {store.TaskKindActivity, "a"}, {store.TaskKindActivity, "b"}, {"timer", "a"}} {
			task := newTask(run.RunID)
			task.Kind, task.Queue = kq[0], kq[1]
			tasks = append(tasks, task)
		}
		addTasks(t, b, run, tasks...)

		claim := func(kinds, queues []string, limit int) []*store.Task {
			t.Helper()
			got, err := b.store.ClaimTasks(b.ctx, &store.ClaimTasksParams{
				Owner: "w1", Kinds: kinds, Queues: queues, Limit: limit, Lease: longLease,
			})
			require.NoError(t, err)
			return got
		}

		require.Empty(t, claim([]string{store.TaskKindActivity}, []string{""}, 10), "no task in the default queue")
		got := claim([]string{store.TaskKindActivity}, []string{"a"}, 2)
		require.Len(t, got, 2)
		for _, task := range got {
			require.Equal(t, store.TaskKindActivity, task.Kind)
			require.Equal(t, "a", task.Queue)
		}
		got = claim([]string{store.TaskKindActivity}, []string{"a", "b"}, 10)
		require.Len(t, got, 2, "the third of queue a and the one of queue b")
		got = claim([]string{"timer"}, []string{"a"}, 10)
		require.Equal(t, []string{tasks[4].ID}, taskIDs(got))
		require.Empty(t, claim([]string{store.TaskKindActivity, "timer"}, []string{"a", "b"}, 10))
	})

	t.Run("ExpiredTaskLeaseIsReclaimedAsAbandoned", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		first := b.claimTasks(t, "w1", shortLease)
		require.Len(t, first, 1)
		require.False(t, first[0].Abandoned)

		var second []*store.Task
		eventually(t, "the expired task to be claimed", func() bool {
			second = b.claimTasks(t, "w2", longLease)
			return len(second) > 0
		})
		require.Equal(t, task.ID, second[0].ID)
		require.True(t, second[0].Abandoned, "w1's attempt died with its lease")
		require.Equal(t, "w2", second[0].Owner)
		require.Equal(t, 1, second[0].Attempt, "claiming does not count attempts")

		err := b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w1", Details: []byte("late")})
		require.ErrorIs(t, err, store.ErrLeaseLost)
		err = b.store.CompleteTask(b.ctx, &store.CompleteTaskParams{ID: task.ID, Owner: "w1"})
		require.ErrorIs(t, err, store.ErrLeaseLost)
	})

	t.Run("HeartbeatDetailsSurviveRetry", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		require.Len(t, b.claimTasks(t, "w1", longLease), 1)

		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{
			ID: task.ID, Owner: "w1", Details: []byte("page 7"),
		}))
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{
			ID: task.ID, Owner: "w1", Release: true, DueAt: past(), Attempt: 2,
		}))

		claimed := b.claimTasks(t, "w2", longLease)
		require.Len(t, claimed, 1)
		require.Equal(t, []byte("page 7"), claimed[0].Details)
		require.Equal(t, 2, claimed[0].Attempt)
		require.False(t, claimed[0].Abandoned, "a released task was not abandoned")

		// Details also survive an abandoned attempt.
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{
			ID: task.ID, Owner: "w2", Details: []byte("page 9"), Lease: shortLease,
		}))
		var third []*store.Task
		eventually(t, "the expired task to be claimed", func() bool {
			third = b.claimTasks(t, "w3", longLease)
			return len(third) > 0
		})
		require.Equal(t, []byte("page 9"), third[0].Details)
		require.True(t, third[0].Abandoned)
	})

	t.Run("ReleasedTaskWaitsForItsDueTime", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		require.Len(t, b.claimTasks(t, "w1", longLease), 1)

		due := time.Now().Add(mediumLease)
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{
			ID: task.ID, Owner: "w1", Release: true, DueAt: due, Attempt: 2,
		}))
		require.Empty(t, b.claimTasks(t, "w2", longLease), "not due yet")
		err := b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w1", Details: []byte("x")})
		require.ErrorIs(t, err, store.ErrLeaseLost, "the releaser no longer holds it")

		var claimed []*store.Task
		eventually(t, "the retry to come due", func() bool {
			claimed = b.claimTasks(t, "w2", longLease)
			return len(claimed) > 0
		})
		requireClaimedNotBefore(t, due, claimed[0].LeaseUntil, longLease, "claimed before its due time")
		requireTimeNear(t, due, claimed[0].DueAt, time.Millisecond)
		require.Equal(t, 2, claimed[0].Attempt)
	})

	t.Run("ExpireTaskDeletesAnUnclaimedTaskAndDelivers", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		// Due a second ago (past), never claimed.
		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		result := &store.DeliverParams{Kind: "result", Name: task.ID, Data: []byte(`"timeout"`)}

		expired, got, err := b.store.ExpireTask(b.ctx, &store.ExpireTaskParams{ID: task.ID, After: longLease, Result: result})
		require.NoError(t, err)
		require.False(t, expired, "due for less than After")
		require.NotNil(t, got, "the task as it is")
		require.Equal(t, task.ID, got.ID)
		require.Empty(t, got.Owner)

		expired, got, err = b.store.ExpireTask(b.ctx, &store.ExpireTaskParams{ID: task.ID, After: shortLease, Result: result})
		require.NoError(t, err)
		require.True(t, expired)
		require.Nil(t, got)
		require.Empty(t, b.claimTasks(t, "w1", longLease), "the task is gone")
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, 1, "the result is delivered with the deletion")
		require.Equal(t, run.RunID, inbox[0].RunID, "RunID is filled in")
		require.Equal(t, []byte(`"timeout"`), inbox[0].Data)

		_, _, err = b.store.ExpireTask(b.ctx, &store.ExpireTaskParams{ID: task.ID, After: shortLease, Result: result})
		require.ErrorIs(t, err, store.ErrNotFound, "expiring twice")
	})

	t.Run("ExpireTaskLeavesAClaimedTask", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		require.Len(t, b.claimTasks(t, "w1", shortLease), 1)

		result := &store.DeliverParams{Kind: "result", Name: task.ID, Data: []byte(`"timeout"`)}
		expired, got, err := b.store.ExpireTask(b.ctx, &store.ExpireTaskParams{ID: task.ID, After: 0, Result: result})
		require.NoError(t, err)
		require.False(t, expired, "a worker took it: it started")
		require.Equal(t, "w1", got.Owner)
		// Its lease expiring does not make it unclaimed: the attempt
		// started, and a new claim takes it over as abandoned.
		waitPast(t, got.LeaseUntil)
		expired, _, err = b.store.ExpireTask(b.ctx, &store.ExpireTaskParams{ID: task.ID, After: 0, Result: result})
		require.NoError(t, err)
		require.False(t, expired, "an expired lease is not unclaimed")
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Empty(t, inbox, "nothing delivered")

		// Released for a retry, it is unclaimed again from its new due time.
		claimed := b.claimTasks(t, "w2", longLease)
		require.Len(t, claimed, 1)
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{
			ID: task.ID, Owner: "w2", Release: true, DueAt: past(), Attempt: 2,
		}))
		expired, _, err = b.store.ExpireTask(b.ctx, &store.ExpireTaskParams{ID: task.ID, After: shortLease, Result: result})
		require.NoError(t, err)
		require.True(t, expired, "released and due for longer than After")
	})

	t.Run("UpdateTaskExtendsTheLease", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		claimed := b.claimTasks(t, "w1", mediumLease)
		require.Len(t, claimed, 1)
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w1", Lease: longLease}))

		waitPast(t, claimed[0].LeaseUntil)
		require.Empty(t, b.claimTasks(t, "w2", longLease), "the extended lease still holds")
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w1", Details: []byte("hb")}))
	})

	t.Run("UpdateTaskEnforcesTheOwner", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)

		err := b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w1", Details: []byte("x")})
		require.ErrorIs(t, err, store.ErrLeaseLost, "nobody holds it")
		require.Len(t, b.claimTasks(t, "w1", longLease), 1)
		err = b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w2", Release: true, DueAt: past()})
		require.ErrorIs(t, err, store.ErrLeaseLost)
		err = b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: "missing", Owner: "w1", Details: []byte("x")})
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, b.claimTasks(t, "w2", longLease), "the failed release changed nothing")
	})

	t.Run("CompleteTaskDeletesAndDeliversAtomically", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		require.Len(t, b.claimTasks(t, "w1", longLease), 1)

		require.NoError(t, b.store.CompleteTask(b.ctx, &store.CompleteTaskParams{
			ID: task.ID, Owner: "w1",
			Result: &store.DeliverParams{Kind: "result", Name: task.ID, Data: []byte(`"ok"`)},
		}))
		err := b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w1", Details: []byte("x")})
		require.ErrorIs(t, err, store.ErrNotFound, "the task is gone")

		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		require.Equal(t, run.RunID, inbox[0].RunID, "RunID is filled in")
		require.Equal(t, "result", inbox[0].Kind)
		require.Equal(t, task.ID, inbox[0].Name)
		require.Equal(t, []byte(`"ok"`), inbox[0].Data)

		err = b.store.CompleteTask(b.ctx, &store.CompleteTaskParams{ID: task.ID, Owner: "w1"})
		require.ErrorIs(t, err, store.ErrNotFound, "completing twice")
	})

	t.Run("CompleteTaskEnforcesTheOwner", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		require.Len(t, b.claimTasks(t, "w1", longLease), 1)

		err := b.store.CompleteTask(b.ctx, &store.CompleteTaskParams{
			ID: task.ID, Owner: "w2",
			Result: &store.DeliverParams{Kind: "result", Name: task.ID, Data: []byte(`"forged"`)},
		})
		require.ErrorIs(t, err, store.ErrLeaseLost)
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Empty(t, inbox, "nothing delivered")
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: task.ID, Owner: "w1", Details: []byte("x")}),
			"the task is still w1's")
	})

	t.Run("CompleteTaskOfClosedRunDeliversNothing", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		addTasks(t, b, run, task)
		require.Len(t, b.claimTasks(t, "w1", longLease), 1)
		closeRun(t, b, run, "engine", store.StatusCanceled)

		require.NoError(t, b.store.CompleteTask(b.ctx, &store.CompleteTaskParams{
			ID: task.ID, Owner: "w1",
			Result: &store.DeliverParams{Kind: "result", Name: task.ID},
		}))
		inbox, err := b.store.ListInbox(b.ctx, run.RunID)
		require.NoError(t, err)
		require.Empty(t, inbox)
		require.Empty(t, b.claimTasks(t, "w2", longLease))
	})

	t.Run("CompletedTaskWakesItsRun", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		task := newTask(run.RunID)
		cur := b.getRun(t, run.RunID)
		// The run parks with no timer: only its inbox can wake it.
		require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
			RunID: run.RunID, Owner: "engine", ExpectLen: cur.JournalLen,
			CreateTasks: []*store.Task{task},
		}))
		require.NoError(t, b.store.ReleaseRun(b.ctx, &store.ReleaseRunParams{RunID: run.RunID, Owner: "engine"}))
		require.Empty(t, b.claimRunIDs(t, "engine", longLease))

		require.Len(t, b.claimTasks(t, "w1", longLease), 1)
		require.NoError(t, b.store.CompleteTask(b.ctx, &store.CompleteTaskParams{
			ID: task.ID, Owner: "w1", Result: &store.DeliverParams{Kind: "result", Name: task.ID},
		}))
		require.Equal(t, []string{run.RunID}, b.claimRunIDs(t, "engine", longLease))
	})

	t.Run("ConcurrentClaimTasksNeverHandATaskTwice", func(t *testing.T) {
		t.Parallel()
		b, run := setup(t)

		const n = 60
		tasks := make([]*store.Task, n)
		for i := range tasks {
			tasks[i] = newTask(run.RunID)
		}
		addTasks(t, b, run, tasks...)

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
					got, err := b.store.ClaimTasks(b.ctx, &store.ClaimTasksParams{
						Owner: name, Kinds: []string{store.TaskKindActivity}, Queues: []string{""}, Limit: 3, Lease: longLease,
					})
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					for _, task := range got {
						if prev, ok := owner[task.ID]; ok {
							dups = append(dups, task.ID+" to "+prev+" and "+name)
						}
						owner[task.ID] = name
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
		require.Empty(t, dups, "tasks handed to two owners")
		require.Len(t, owner, n)
	})
}
