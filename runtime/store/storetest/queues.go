package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseQueues covers store.QueueDescriber: a queue's backlog is what
// ClaimRuns and ClaimTasks would take now, and its owners are the workers
// holding leases on its open runs and pending tasks.
func exerciseQueues(t *testing.T, open OpenFunc) {
	t.Run("BacklogAndOwners", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, open)
		d, ok := b.store.(store.QueueDescriber)
		if !ok {
			t.Log("store does not implement store.QueueDescriber")
			return
		}
		queue := newID("queue")
		run := func(wake time.Time) *store.Run {
			r := newRun()
			r.Queue, r.WakeAt = queue, wake
			return r
		}

		due := b.createRun(t, &store.CreateRunParams{Run: run(past())})
		mailed := b.createRun(t, &store.CreateRunParams{Run: run(time.Time{})})
		_, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: mailed.RunID, Kind: "signal", Name: "go"})
		require.NoError(t, err)
		b.createRun(t, &store.CreateRunParams{Run: run(future())}) // not due, no mail

		other := newRun() // due, on another queue
		other.Queue = newID("queue")
		b.createRun(t, &store.CreateRunParams{Run: other})

		dueTask, laterTask, heldTask := newTask(""), newTask(""), newTask("")
		laterTask.DueAt = future()
		for _, task := range []*store.Task{dueTask, laterTask, heldTask} {
			task.Queue = queue
		}
		owned := run(past())
		for _, task := range []*store.Task{dueTask, laterTask, heldTask} {
			task.RunID = owned.RunID
		}
		b.createRun(t, &store.CreateRunParams{Run: owned, Owner: "w1", Lease: longLease, Tasks: []*store.Task{dueTask, laterTask, heldTask}})
		// w2 takes the due tasks; dueTask goes back to wait, as a released
		// attempt does.
		claimed, err := b.store.ClaimTasks(b.ctx, &store.ClaimTasksParams{
			Owner: "w2", Kinds: []string{store.TaskKindActivity}, Queues: []string{queue}, Limit: 100, Lease: longLease,
		})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{dueTask.ID, heldTask.ID}, taskIDs(claimed))
		retryAt := past()
		require.NoError(t, b.store.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: dueTask.ID, Owner: "w2", Release: true, DueAt: retryAt, Attempt: 2}))

		got, err := d.DescribeQueue(b.ctx, &store.DescribeQueueParams{Queue: queue})
		require.NoError(t, err)
		require.Equal(t, int64(2), got.Runs.Count, "the due run and the one with mail")
		require.False(t, got.Runs.Oldest.IsZero())
		require.False(t, got.Runs.Oldest.After(due.WakeAt.Add(storePrecision)), "the oldest is the due run's wake time (or earlier mail)")
		require.Equal(t, int64(1), got.Tasks.Count, "the released task; the later one is not due, the held one is leased")
		requireTimeNear(t, retryAt, got.Tasks.Oldest, time.Millisecond)

		require.Len(t, got.Owners, 2)
		require.Equal(t, "w1", got.Owners[0].Owner)
		require.Equal(t, int64(1), got.Owners[0].Runs)
		require.Equal(t, int64(0), got.Owners[0].Tasks)
		require.Equal(t, "w2", got.Owners[1].Owner)
		require.Equal(t, int64(0), got.Owners[1].Runs)
		require.Equal(t, int64(1), got.Owners[1].Tasks)
		require.True(t, got.Owners[1].LeaseUntil.After(time.Now()), "a live lease")

		// w1 claims the waiting runs: no backlog left, w1 holds three.
		require.ElementsMatch(t, []string{due.RunID, mailed.RunID}, b.claimRunIDs(t, "w1", longLease, queue))
		got, err = d.DescribeQueue(b.ctx, &store.DescribeQueueParams{Queue: queue})
		require.NoError(t, err)
		require.Zero(t, got.Runs.Count)
		require.True(t, got.Runs.Oldest.IsZero())
		require.Equal(t, int64(3), got.Owners[0].Runs)
	})

	t.Run("UnknownQueueIsEmpty", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, open)
		d, ok := b.store.(store.QueueDescriber)
		if !ok {
			t.Log("store does not implement store.QueueDescriber")
			return
		}
		got, err := d.DescribeQueue(b.ctx, &store.DescribeQueueParams{Queue: newID("nobody")})
		require.NoError(t, err)
		require.Equal(t, &store.QueueDescription{}, got)
	})
}
