package durable_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// The schedule crash test runs a worker with a one-second schedule in a
// child process and kills it with SIGKILL at random moments, mostly while
// the scheduler sleeps, then restarts it. Every schedule time from the
// first to the last must have started exactly one workflow: the times
// that passed while no process ran are caught up, and none starts twice.

const (
	scheduleChildEnv       = "DURABLE_SCHEDULE_CHILD"
	scheduleChildCreateEnv = "DURABLE_SCHEDULE_CHILD_CREATE"
)

// scheduleChild works the store until killed; it creates the schedule
// first when asked to.
func scheduleChild(path string, create bool) {
	ctx := context.Background()
	e, err := durable.Open(ctx, "sqlite:"+path, durable.WithPollInterval(20*time.Millisecond), durable.WithLeaseTimeout(2*time.Second))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	e.RegisterWorkflow(ScheduledReport)
	if create {
		_, err := e.ScheduleClient().Create(ctx, durable.ScheduleOptions{
			ID:      "crash",
			Spec:    durable.ScheduleSpec{Intervals: []durable.ScheduleIntervalSpec{{Every: time.Second}}},
			Action:  durable.ScheduleWorkflowAction{ID: "job", Workflow: ScheduledReport, Args: []any{"crash"}},
			Overlap: durable.ScheduleOverlapAllowAll,
		})
		if err != nil {
			fmt.Println("create:", err)
			os.Exit(2)
		}
	}
	fmt.Println("ready")
	select {}
}

func startScheduleChild(t *testing.T, path string, create bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), scheduleChildEnv+"="+path)
	if create {
		cmd.Env = append(cmd.Env, scheduleChildCreateEnv+"=1")
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-ready:
		require.Equal(t, "ready", l)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child did not get ready")
	}
	return cmd
}

func TestScheduleCrashRecovery(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "schedule.db")
	kill := func(cmd *exec.Cmd, after time.Duration) {
		time.Sleep(after)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
	}
	kill(startScheduleChild(t, path, true), time.Duration(300+rand.IntN(1200))*time.Millisecond)
	for range 4 {
		// Down for a while, so schedule times pass with no process.
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
		kill(startScheduleChild(t, path, false), time.Duration(100+rand.IntN(1500))*time.Millisecond)
	}
	kill(startScheduleChild(t, path, false), 2500*time.Millisecond)

	e := openEngine(t, "sqlite:"+path, durable.WithClientOnly())
	runs := scheduledRuns(t, e)
	perID := map[string]int{}
	var times []time.Time
	for _, r := range runs {
		perID[r.WorkflowID]++
		require.Regexp(t, scheduledID, r.WorkflowID)
		at, err := time.Parse(time.RFC3339, strings.TrimPrefix(r.WorkflowID, "job-"))
		require.NoError(t, err)
		if perID[r.WorkflowID] == 1 {
			times = append(times, at)
		}
	}
	for id, n := range perID {
		require.Equal(t, 1, n, "workflow %s started %d times", id, n)
	}
	require.GreaterOrEqual(t, len(times), 4, "the schedule fired across the restarts")
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(times); i++ {
		require.Equal(t, time.Second, times[i].Sub(times[i-1]), "no schedule time between %v and %v was missed", times[i-1], times[i])
	}
}
