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
