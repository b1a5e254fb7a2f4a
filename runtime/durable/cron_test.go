package durable_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// cronLog records what each run of a cron workflow saw, by run ID (a
// replay may run the code again).
type cronLog struct {
	mu   sync.Mutex
	seen map[string]string
	runs []string
	next chan string
}

func newCronLog() *cronLog { return &cronLog{seen: map[string]string{}, next: make(chan string, 64)} }

func (l *cronLog) record(runID, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[runID]; ok {
		return
	}
	l.seen[runID] = s
	l.runs = append(l.runs, s)
	l.next <- s
}

func (l *cronLog) wait(t *testing.T, ctx context.Context) string {
	t.Helper()
	select {
	case s := <-l.next:
		return s
	case <-ctx.Done():
		t.Fatal("timed out waiting for a cron run")
		return ""
	}
}

// cronWorkflow counts its successful runs through the last completion
// result; the run after the first success fails once.
func cronWorkflow(l *cronLog) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		n := -1
		if durable.HasLastCompletionResult(ctx) {
			if err := durable.GetLastCompletionResult(ctx, &n); err != nil {
				return 0, err
			}
		}
		lastErr := durable.GetLastError(ctx)
		l.record(durable.GetInfo(ctx).RunID, fmt.Sprintf("last=%d err=%v", n, lastErr))
		if n == 1 && lastErr == nil {
			return 0, errors.New("boom")
		}
		return max(n, 0) + 1, nil
	}
}

// TestCronRunsInSequence runs "@every 1s" on the memory store: the first
// run waits for the schedule; each run reads the last successful result
// and the last failure; Cancel ends the schedule and Run.Get.
func TestCronRunsInSequence(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	eng := openEngine(t, "memory:")
	l := newCronLog()
	eng.RegisterWorkflow(cronWorkflow(l), durable.WithName("CronCount"))
	begin := time.Now()
	run, err := eng.Start(ctx, durable.StartOptions{ID: "cron-seq", CronSchedule: "@every 1s"}, "CronCount")
	require.NoError(t, err)
	require.Equal(t, "last=-1 err=<nil>", l.wait(t, ctx))
	// "@every 1s" counts from whole seconds (robfig/cron's constant delay
	// drops the start's fraction of a second): the first run is due at the
	// next whole second after the start.
	due := begin.Truncate(time.Second).Add(time.Second)
	require.GreaterOrEqual(t, time.Since(begin), due.Sub(begin)-5*time.Millisecond, "the first run waits for the schedule")
	require.Equal(t, "last=1 err=<nil>", l.wait(t, ctx))
	require.Equal(t, "last=1 err=boom", l.wait(t, ctx))
	require.Equal(t, "last=2 err=<nil>", l.wait(t, ctx))
	require.NoError(t, eng.Cancel(ctx, "cron-seq"))
	var res int
	err = run.Get(ctx, &res)
	// The run that reads the cancel returns without yielding, so it
	// completes; either way the schedule ends and Get returns.
	if err != nil {
		var ce *durable.CanceledError
		require.ErrorAs(t, err, &ce, "Get follows the schedule to its last run")
	}
	time.Sleep(1200 * time.Millisecond) // a scheduled run would start by now
	l.mu.Lock()
	defer l.mu.Unlock()
	require.LessOrEqual(t, len(l.runs), 5, "no run after the cancelled one: %v", l.runs)
}

// TestCronSurvivesRestart closes the engine between two runs of a
// schedule on an SQLite file; the next engine starts the next run on time
// with the last completion result, and Terminate ends the schedule.
func TestCronSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "cron.db")
	l := newCronLog()
	eng := openEngine(t, dsn)
	eng.RegisterWorkflow(cronWorkflow(l), durable.WithName("CronCount"))
	_, err := eng.Start(ctx, durable.StartOptions{ID: "cron-restart", CronSchedule: "@every 1s"}, "CronCount")
	require.NoError(t, err)
	require.Equal(t, "last=-1 err=<nil>", l.wait(t, ctx))
	require.NoError(t, eng.Close())

	eng2 := openEngine(t, dsn)
	eng2.RegisterWorkflow(cronWorkflow(l), durable.WithName("CronCount"))
	require.Equal(t, "last=1 err=<nil>", l.wait(t, ctx))
	require.Equal(t, "last=1 err=boom", l.wait(t, ctx))
	require.NoError(t, eng2.Terminate(ctx, "cron-restart", "enough"))
	err = eng2.Run("cron-restart").Get(ctx, nil)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		runs, _ := eng2.Store().ListRuns(context.Background(), &store.ListRunsParams{})
		for _, r := range runs {
			t.Logf("%s %s next=%s prev=%s wake=%s", r.RunID, r.Status, r.NextRunID, r.PrevRunID, r.WakeAt)
		}
	}
	if err != nil {
		var te *durable.TerminatedError
		require.ErrorAs(t, err, &te)
	}
}

// TestCronScheduleInvalid: a bad spec, or one with StartDelay, is refused.
func TestCronScheduleInvalid(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	eng := openEngine(t, "memory:")
	eng.RegisterWorkflow(cronWorkflow(newCronLog()), durable.WithName("CronCount"))
	_, err := eng.Start(ctx, durable.StartOptions{CronSchedule: "every hour"}, "CronCount")
	require.ErrorContains(t, err, "invalid CronSchedule")
	_, err = eng.Start(ctx, durable.StartOptions{CronSchedule: "@hourly", StartDelay: time.Minute}, "CronCount")
	require.ErrorContains(t, err, "StartDelay")
}
