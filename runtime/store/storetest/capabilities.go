package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseCapabilities covers the optional interfaces a store may implement.
func exerciseCapabilities(t *testing.T, open OpenFunc) {
	t.Helper()

	t.Run("NotifierReportsNewWork", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, open)
		n, ok := b.store.(store.Notifier)
		if !ok {
			t.Skipf("%T does not implement store.Notifier", b.store)
		}

		ctx, cancel := context.WithCancel(b.ctx)
		defer cancel()
		ch, err := n.Subscribe(ctx)
		require.NoError(t, err)

		expect := func(kind, queue string, act func()) {
			t.Helper()
			act()
			timeout := time.After(waitTimeout)
			for {
				select {
				case got, ok := <-ch:
					require.True(t, ok, "the channel closed while ctx is live")
					if got.Kind == kind && got.Queue == queue {
						return
					}
				case <-timeout:
					require.FailNow(t, "no notification", "kind %q queue %q", kind, queue)
				}
			}
		}

		r := newRun()
		r.Queue = "q1"
		expect("run", "q1", func() {
			require.NoError(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{Run: r}))
		})
		require.Equal(t, []string{r.RunID}, b.claimRunIDs(t, "w1", longLease, "q1"))
		expect("run", "q1", func() {
			_, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: r.RunID, Kind: "signal"})
			require.NoError(t, err)
		})
		task := newTask(r.RunID)
		task.Queue = "q2"
		expect("task", "q2", func() {
			require.NoError(t, b.store.Commit(b.ctx, &store.CommitParams{
				RunID: r.RunID, Owner: "w1", CreateTasks: []*store.Task{task},
			}))
		})

		cancel()
		eventually(t, "the channel to close after ctx is done", func() bool {
			select {
			case _, ok := <-ch:
				return !ok
			default:
				return false
			}
		})
	})

	t.Run("RunLoaderReadsWhatClaimRunsLoadJournalAndListInboxWould", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, open)
		l, ok := b.store.(store.RunLoader)
		if !ok {
			t.Skipf("%T does not implement store.RunLoader", b.store)
		}
		queue := newID("q") // claims below see only this test's runs

		// A run with a journal and three inbox items.
		full := newRun()
		full.Queue = queue
		fullTasks := []*store.Task{newTask(full.RunID), newTask(full.RunID)}
		fullTasks[1].DueAt = future()
		b.createRun(t, &store.CreateRunParams{Run: full, Events: []store.Event{
			{Seq: 1, Kind: "started", Data: []byte(`{"a":1}`)},
			{Seq: 2, Kind: "scheduled", Data: nil},
		}, Tasks: fullTasks})
		var items []*store.InboxItem
		for _, name := range []string{"first", "second", "third"} {
			it, err := b.store.Deliver(b.ctx, &store.DeliverParams{RunID: full.RunID, Kind: "signal", Name: name, Data: []byte(name)})
			require.NoError(t, err)
			items = append(items, it)
		}
		// A bare run: no events, no inbox.
		bare := newRun()
		bare.Queue = queue
		b.createRun(t, &store.CreateRunParams{Run: bare})
		// Not due and no mail: not claimed.
		later := newRun()
		later.Queue, later.WakeAt = queue, future()
		b.createRun(t, &store.CreateRunParams{Run: later})

		got, err := l.ClaimAndLoadRuns(b.ctx, &store.ClaimRunsParams{Owner: "w1", Queues: []string{queue}, Limit: 10, Lease: longLease})
		require.NoError(t, err)
		byID := map[string]*store.LoadedRun{}
		for _, lr := range got {
			byID[lr.Run.RunID] = lr
		}
		require.Len(t, byID, 2, "claimed %v", byID)
		for _, id := range []string{full.RunID, bare.RunID} {
			lr := byID[id]
			require.NotNil(t, lr, "run %s not claimed", id)
			require.Equal(t, "w1", lr.Run.Owner)
			require.Equal(t, b.getRun(t, id), lr.Run, "the run as GetRun reads it")
			journal, err := b.store.LoadJournal(b.ctx, id, 0)
			require.NoError(t, err)
			require.Equal(t, len(journal), len(lr.Journal))
			for i := range journal {
				require.Equal(t, journal[i].Seq, lr.Journal[i].Seq)
				require.Equal(t, journal[i].Kind, lr.Journal[i].Kind)
				require.Equal(t, journal[i].Data, lr.Journal[i].Data)
				require.True(t, journal[i].At.Equal(lr.Journal[i].At))
			}
			require.EqualValues(t, len(journal), lr.Run.JournalLen)
			inbox, err := b.store.ListInbox(b.ctx, id)
			require.NoError(t, err)
			require.Equal(t, len(inbox), len(lr.Inbox))
			for i := range inbox {
				require.Equal(t, inbox[i].ID, lr.Inbox[i].ID)
				require.Equal(t, inbox[i].RunID, lr.Inbox[i].RunID)
				require.Equal(t, inbox[i].Name, lr.Inbox[i].Name)
				require.Equal(t, inbox[i].Data, lr.Inbox[i].Data)
				require.True(t, inbox[i].At.Equal(lr.Inbox[i].At))
			}
			tasks, err := b.store.ListTasks(b.ctx, id)
			require.NoError(t, err)
			require.Equal(t, len(tasks), len(lr.TaskIDs))
			for i := range tasks {
				require.Equal(t, tasks[i].ID, lr.TaskIDs[i])
			}
		}
		require.Len(t, byID[full.RunID].TaskIDs, 2, "waiting and due tasks alike")
		require.Len(t, byID[full.RunID].Journal, 2)
		require.Len(t, byID[full.RunID].Inbox, 3)
		require.Equal(t, items[0].ID, byID[full.RunID].Inbox[0].ID)

		// Leased now: claimed again only by its owner, for its inbox.
		got, err = l.ClaimAndLoadRuns(b.ctx, &store.ClaimRunsParams{Owner: "w2", Queues: []string{queue}, Limit: 10, Lease: longLease})
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = l.ClaimAndLoadRuns(b.ctx, &store.ClaimRunsParams{Owner: "w1", Queues: []string{queue}, Limit: 10, Lease: longLease})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, full.RunID, got[0].Run.RunID)
		require.Len(t, got[0].Inbox, 3)
	})

	t.Run("ExclusiveIsReported", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, open)
		x, ok := b.store.(store.Exclusive)
		if !ok {
			t.Skipf("%T does not implement store.Exclusive", b.store)
		}
		t.Logf("%T.Exclusive() = %v", b.store, x.Exclusive())
		if x.Exclusive() {
			// An exclusive store's engine releases every lease at start-up.
			run := b.ownedRun(t, "dead-predecessor")
			require.NoError(t, b.store.ReleaseLeases(b.ctx, ""))
			require.Equal(t, []string{run.RunID}, b.claimRunIDs(t, "successor", longLease))
		}
	})
}
