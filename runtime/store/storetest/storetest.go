// Package storetest is the conformance suite every store.Store backend runs.
//
// A backend's test calls Run with a function that opens a fresh, empty store
// for one subtest and arranges (with t.Cleanup) for it to be closed:
//
//	func TestStore(t *testing.T) {
//		t.Parallel()
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
//			require.NoError(t, err)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite pins down the guarantees documented in package store: gap-free
// journals, lease fencing, atomic commits, one open run per workflow ID,
// claiming rules, task leases and heartbeats, and the signal inbox. It uses
// the store's own clock through short leases (tens to hundreds of
// milliseconds) and bounded polling, so it assumes that the store's clock and
// the test's agree within a few milliseconds. Optional capabilities
// (store.Notifier, store.Exclusive) are type-asserted and skipped with a log
// line when absent.
package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// OpenFunc opens a fresh, empty store for one (sub)test and closes it in
// t.Cleanup.
type OpenFunc = func(t *testing.T) store.Store

// Run runs the whole conformance suite against the stores that open returns.
// Every subtest calls open once and runs in parallel with the others.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()

	t.Run("Runs", func(t *testing.T) { t.Parallel(); exerciseRuns(t, open) })
	t.Run("List", func(t *testing.T) { t.Parallel(); exerciseList(t, open) })
	t.Run("Journal", func(t *testing.T) { t.Parallel(); exerciseJournal(t, open) })
	t.Run("Tasks", func(t *testing.T) { t.Parallel(); exerciseTasks(t, open) })
	t.Run("Inbox", func(t *testing.T) { t.Parallel(); exerciseInbox(t, open) })
	t.Run("Leases", func(t *testing.T) { t.Parallel(); exerciseLeases(t, open) })
	t.Run("Capabilities", func(t *testing.T) { t.Parallel(); exerciseCapabilities(t, open) })
	t.Run("Queues", func(t *testing.T) { t.Parallel(); exerciseQueues(t, open) })
}

// Durations used throughout the suite. Short leases expire within a test;
// long ones never do.
const (
	shortLease = 100 * time.Millisecond
	// mediumLease must outlast the few store calls a test makes right
	// after taking it, even on a loaded machine, and still expire soon.
	mediumLease = 500 * time.Millisecond
	longLease   = time.Minute
	// waitTimeout bounds every poll for something that must happen.
	waitTimeout = 5 * time.Second
	// pollInterval is the pause between two polls.
	pollInterval = 5 * time.Millisecond
	// clockSlack is how far the store's clock may be from the test's.
	clockSlack = 20 * time.Millisecond
	// storePrecision is the coarsest resolution a backend keeps times in.
	storePrecision = time.Microsecond
)

// testBundle is the state each subtest starts from.
type testBundle struct {
	ctx   context.Context
	store store.Store
}

func newBundle(t *testing.T, open OpenFunc) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	s := open(t)
	require.NotNil(t, s, "open returned a nil store")
	return &testBundle{ctx: ctx, store: s}
}

var idSeq atomic.Int64

// newID returns an identifier unique within the test binary, so that a
// backend that (wrongly) shares state between stores shows up as a failure
// rather than as a collision.
func newID(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, idSeq.Add(1))
}

// past is a moment that has certainly passed on the store's clock.
func past() time.Time { return time.Now().Add(-time.Second).Truncate(time.Microsecond) }

// future is a moment that will not come during a test.
func future() time.Time { return time.Now().Add(time.Hour).Truncate(time.Microsecond) }

// newRun returns a running run of a fresh workflow ID that wants attention now.
func newRun() *store.Run {
	wf := newID("wf")
	return &store.Run{
		RunID:      newID("run"),
		WorkflowID: wf,
		Workflow:   "Greet",
		Input:      []byte(`["world"]`),
		WakeAt:     past(),
	}
}

// createRun inserts r (with no events) and returns it as stored.
func (b *testBundle) createRun(t *testing.T, p *store.CreateRunParams) *store.Run {
	t.Helper()
	require.NoError(t, b.store.CreateRun(b.ctx, p))
	got, err := b.store.GetRun(b.ctx, p.Run.RunID)
	require.NoError(t, err)
	return got
}

// ownedRun creates a fresh run leased by owner for longLease, with one event.
func (b *testBundle) ownedRun(t *testing.T, owner string) *store.Run {
	t.Helper()
	return b.createRun(t, &store.CreateRunParams{
		Run:    newRun(),
		Events: []store.Event{{Seq: 1, Kind: "started", Data: []byte("{}")}},
		Owner:  owner,
		Lease:  longLease,
	})
}

// getRun reads a run that must exist.
func (b *testBundle) getRun(t *testing.T, runID string) *store.Run {
	t.Helper()
	r, err := b.store.GetRun(b.ctx, runID)
	require.NoError(t, err)
	return r
}

// claimRunIDs claims runs for owner and returns their IDs.
func (b *testBundle) claimRunIDs(t *testing.T, owner string, lease time.Duration, queues ...string) []string {
	t.Helper()
	runs, err := b.store.ClaimRuns(b.ctx, &store.ClaimRunsParams{
		Owner: owner, Queues: queuesOrDefault(queues), Limit: 100, Lease: lease,
	})
	require.NoError(t, err)
	ids := make([]string, 0, len(runs))
	for _, r := range runs {
		require.Equal(t, owner, r.Owner, "claimed run %s", r.RunID)
		ids = append(ids, r.RunID)
	}
	return ids
}

// claimTasks claims activity tasks (store.TaskKindActivity) in the default queue for owner.
func (b *testBundle) claimTasks(t *testing.T, owner string, lease time.Duration) []*store.Task {
	t.Helper()
	tasks, err := b.store.ClaimTasks(b.ctx, &store.ClaimTasksParams{
		Owner: owner, Kinds: []string{store.TaskKindActivity}, Queues: []string{""}, Limit: 100, Lease: lease,
	})
	require.NoError(t, err)
	for _, task := range tasks {
		require.Equal(t, owner, task.Owner, "claimed task %s", task.ID)
	}
	return tasks
}

func taskIDs(tasks []*store.Task) []string {
	ids := make([]string, 0, len(tasks))
	for _, task := range tasks {
		ids = append(ids, task.ID)
	}
	return ids
}

func queuesOrDefault(queues []string) []string {
	if len(queues) == 0 {
		return []string{""}
	}
	return queues
}

// newTask returns an activity task of runID, due now, in the default queue.
func newTask(runID string) *store.Task {
	return &store.Task{
		ID:      newID("task"),
		RunID:   runID,
		Kind:    store.TaskKindActivity,
		DueAt:   past(),
		Attempt: 1,
		Data:    []byte(`{"activity":"Send"}`),
	}
}

// eventually polls cond until it returns true, failing after waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting: "+what)
		}
		time.Sleep(pollInterval)
	}
}

// waitPast blocks until tm has passed on the store's clock (give or take
// clockSlack). It waits for a known instant, never for an effect.
func waitPast(t *testing.T, tm time.Time) {
	t.Helper()
	d := time.Until(tm.Add(clockSlack))
	require.Less(t, d, waitTimeout, "waiting for a lease far in the future")
	if d > 0 {
		time.Sleep(d)
	}
}

// requireClaimedNotBefore checks that the store claimed something no
// earlier than tm by its own clock: a claim sets LeaseUntil to the store's
// time plus the lease. The test's clock is no judge here: the store reads
// the wall clock (or the database's), which the system may step or slew
// apart from the monotonic reading time.Now carries. storePrecision allows
// for a backend that keeps times in microseconds.
func requireClaimedNotBefore(t *testing.T, tm, leaseUntil time.Time, lease time.Duration, msgAndArgs ...any) {
	t.Helper()
	claimedAt := leaseUntil.Add(-lease)
	require.False(t, claimedAt.Before(tm.Add(-storePrecision)), msgAndArgs...)
}

// requireTimeNear checks that got is within tolerance of want.
func requireTimeNear(t *testing.T, want, got time.Time, tolerance time.Duration, msgAndArgs ...any) {
	t.Helper()
	require.False(t, got.IsZero(), msgAndArgs...)
	require.WithinDuration(t, want, got, tolerance, msgAndArgs...)
}

// requireTimeEqual checks that a time survived the store at microsecond
// precision (the coarsest precision among our backends).
func requireTimeEqual(t *testing.T, want, got time.Time, msgAndArgs ...any) {
	t.Helper()
	if want.IsZero() {
		require.True(t, got.IsZero(), msgAndArgs...)
		return
	}
	require.WithinDuration(t, want, got, time.Microsecond, msgAndArgs...)
}

// requireBytes compares payloads, treating nil and empty alike.
func requireBytes(t *testing.T, want, got []byte, msgAndArgs ...any) {
	t.Helper()
	if len(want) == 0 {
		require.Empty(t, got, msgAndArgs...)
		return
	}
	require.Equal(t, want, got, msgAndArgs...)
}
