package sqlite_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestWithClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A day ahead of the wall clock, as a test clock that skipped time is.
	clk := &fakeClock{now: time.Now().Add(24 * time.Hour).Truncate(time.Microsecond)}
	s, err := sqlite.OpenMemory(ctx, sqlite.WithClock(clk.Now))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	due := clk.Now().Add(time.Hour)
	require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{
		Run:    &store.Run{RunID: "r1", WorkflowID: "w1", Workflow: "W", Status: store.StatusRunning, WakeAt: due},
		Events: []store.Event{{Kind: "Started", Data: []byte("{}"), At: clk.Now()}},
		Tasks:  []*store.Task{{ID: "r1/1", RunID: "r1", Kind: store.TaskKindActivity, DueAt: due, Attempt: 1}},
	}))
	claimTasks := func() []*store.Task {
		tasks, err := s.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: "o", Kinds: []string{store.TaskKindActivity}, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		return tasks
	}
	claimRuns := func() []*store.Run {
		runs, err := s.ClaimRuns(ctx, &store.ClaimRunsParams{Owner: "o", Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		return runs
	}
	require.Empty(t, claimTasks(), "due in an hour on the store's clock, though long past on the wall clock")
	require.Empty(t, claimRuns())

	clk.add(time.Hour)
	tasks := claimTasks()
	require.Len(t, tasks, 1)
	require.True(t, clk.Now().Add(time.Minute).Equal(tasks[0].LeaseUntil), "leases run on the store's clock: %s", tasks[0].LeaseUntil)
	require.Len(t, claimRuns(), 1)

	clk.add(30 * time.Second)
	require.Empty(t, claimTasks(), "the lease holds until the store's clock passes it")
	clk.add(31 * time.Second)
	require.Len(t, claimTasks(), 1, "an expired lease lets the task be claimed again")
}
