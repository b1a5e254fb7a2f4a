package durable_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// twoProcessWorker is set in the environment of the worker process
// TestTwoProcessesOneSQLiteFile starts: the test binary then serves queue
// "hello" of the store it names until killed.
const twoProcessWorker = "DURABLE_TEST_WORKER_DSN"

// twoProcessPoll is the worker's poll interval: long, so that a run a
// client starts is picked up promptly only if the store tells the worker
// of the client's commit.
const twoProcessPoll = time.Minute

func init() {
	if dsn := os.Getenv(twoProcessWorker); dsn != "" {
		// What a converted worker main does.
		e, err := durable.Open(context.Background(), dsn, durable.WithPollInterval(twoProcessPoll))
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		w := e.Serve("hello")
		w.RegisterWorkflow(Greeting)
		w.RegisterActivity(Greet)
		w.RegisterWorkflow(ClientsWorkflow)
		w.RegisterActivity(ClientsAdd)
		fmt.Println("ready")
		select {}
	}
}

// startWorkerProcess starts the test binary as a worker process on dsn and
// returns once it has opened the store.
func startWorkerProcess(t *testing.T, ctx context.Context, dsn string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), twoProcessWorker+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- nil
				for sc.Scan() { // keep draining
				}
				return
			}
		}
		ready <- fmt.Errorf("worker process exited before it was ready: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("worker process not ready in time")
	}
	return cmd
}

// TestTwoProcessesOneSQLiteFile runs a worker (another process) and a
// starter (a client-only engine here) with a named queue on one SQLite file.
func TestTwoProcessesOneSQLiteFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	ctx := waitCtx(t)
	path := filepath.Join(t.TempDir(), "shared.db")
	dsn := "sqlite:" + path
	// Create the store first, so that both processes open an existing file.
	e0, err := durable.Open(ctx, dsn, durable.WithClientOnly())
	require.NoError(t, err)
	require.NoError(t, e0.Close())

	worker := startWorkerProcess(t, ctx, dsn)

	// A second process that would work the file is refused, naming the
	// first.
	_, err = durable.Open(ctx, dsn)
	require.ErrorContains(t, err, "in use by another store")
	require.ErrorContains(t, err, fmt.Sprintf("pid %d", worker.Process.Pid))
	require.ErrorContains(t, err, "WithClientOnly")

	// What a converted starter does.
	c, err := durable.Open(ctx, dsn, durable.WithClientOnly()) // default poll interval (500 ms)
	require.NoError(t, err, "a second process opens the SQLite file of a running worker")
	defer c.Close()

	began := time.Now()
	run, err := c.Start(ctx, durable.StartOptions{ID: "greet-1", Queue: "hello"}, "Greeting", "world")
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	took := time.Since(began)
	require.Equal(t, "hello world", got)
	t.Logf("Start to Get in the client, the worker polling every %v: %v", twoProcessPoll, took)
	require.Less(t, took, twoProcessPoll/4, "the worker heard of the client's run from the store, not from its poll")

	// Again with the worker idle for a while (the sleep makes it idle; it
	// waits for nothing): its store watches the file less often then.
	time.Sleep(300 * time.Millisecond)
	began = time.Now()
	run, err = c.Start(ctx, durable.StartOptions{ID: "greet-2", Queue: "hello"}, "Greeting", "again")
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, &got))
	took = time.Since(began)
	require.Equal(t, "hello again", got)
	t.Logf("the same with the worker idle: %v", took)
	require.Less(t, took, twoProcessPoll/4)

	info, err := c.Describe(ctx, "greet-1")
	require.NoError(t, err)
	require.Equal(t, "completed", info.Status)
	runs, err := c.Store().ListRuns(ctx, &store.ListRunsParams{WorkflowID: "greet-1"})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, store.StatusCompleted, runs[0].Status)

	t.Run("SignalQueryUpdateCancelTerminate", func(t *testing.T) {
		// Queries and update validators run by replay in the client: it
		// registers the workflow (but works nothing).
		c.RegisterWorkflow(ClientsWorkflow)
		sum, err := c.Start(ctx, durable.StartOptions{ID: "sum-1", Queue: "hello"}, ClientsWorkflow)
		require.NoError(t, err)
		require.NoError(t, c.Signal(ctx, "sum-1", "add", 2))
		v, err := c.Update(ctx, "sum-1", "add", 3)
		require.NoError(t, err)
		var total int
		require.NoError(t, v.Get(&total))
		require.GreaterOrEqual(t, total, 3)

		_, err = c.Update(ctx, "sum-1", "add", -1)
		require.ErrorIs(t, err, durable.ErrUpdateRejected)

		// The signal's activity result lands in the journal a moment
		// after the update: query until it shows (bounded by ctx).
		for {
			q, err := c.Query(ctx, "sum-1", "total")
			require.NoError(t, err)
			require.NoError(t, q.Get(&total))
			if total == 5 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("total stayed %d, want 5", total)
			case <-time.After(5 * time.Millisecond):
			}
		}
		require.NoError(t, c.Signal(ctx, "sum-1", "add", -1))
		require.NoError(t, sum.Get(ctx, &total))
		require.Equal(t, 5, total)

		r2, err := c.SignalWithStart(ctx, durable.StartOptions{ID: "sum-2", Queue: "hello"}, ClientsWorkflow, "add", 7)
		require.NoError(t, err)
		require.NoError(t, c.Cancel(ctx, "sum-2"))
		var canceled *durable.CanceledError
		require.ErrorAs(t, r2.Get(ctx, nil), &canceled)

		r3, err := c.Start(ctx, durable.StartOptions{ID: "sum-3", Queue: "hello"}, ClientsWorkflow)
		require.NoError(t, err)
		require.NoError(t, c.Terminate(ctx, "sum-3", "enough"))
		var terminated *durable.TerminatedError
		require.ErrorAs(t, r3.Get(ctx, nil), &terminated)
		require.Equal(t, "enough", terminated.Reason)

		// Run(id) follows the workflow ID from any process.
		require.NoError(t, c.Run("sum-1").Get(ctx, &total))
		require.Equal(t, 5, total)
	})

	t.Run("GetHearsOfTheWorkersCommits", func(t *testing.T) {
		// A Get that has waited long enough for the client's close
		// watcher to back off to the poll interval (500 ms) still returns
		// within milliseconds of the worker closing the run: the client's
		// store tells it when the worker commits.
		r, err := c.Start(ctx, durable.StartOptions{ID: "sum-5", Queue: "hello"}, "ClientsWorkflow")
		require.NoError(t, err)
		type outcome struct {
			at  time.Time
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			var total int
			err := r.Get(ctx, &total)
			done <- outcome{time.Now(), err}
		}()
		time.Sleep(time.Second) // lets the close watcher back off; waits for nothing
		signaled := time.Now()
		require.NoError(t, c.Signal(ctx, "sum-5", "add", -1))
		o := <-done
		require.NoError(t, o.err)
		took := o.at.Sub(signaled)
		t.Logf("Signal to Get returning, Get waiting for 1s before: %v", took)
		require.Less(t, took, 250*time.Millisecond)
	})

	t.Run("QueryNeedsTheWorkflowInTheClient", func(t *testing.T) {
		// A client that does not register the workflow cannot answer a
		// query: queries replay the journal in the asking process, they
		// do not travel to the worker. Updates do travel: the worker
		// validates and runs them.
		bare, err := durable.Open(ctx, dsn, durable.WithClientOnly())
		require.NoError(t, err)
		defer bare.Close()
		_, err = bare.Start(ctx, durable.StartOptions{ID: "sum-4", Queue: "hello"}, "ClientsWorkflow")
		require.NoError(t, err)
		_, err = bare.Query(ctx, "sum-4", "total")
		require.ErrorContains(t, err, "is not registered on this engine")
		v, err := bare.Update(ctx, "sum-4", "add", 1)
		require.NoError(t, err)
		var after int
		require.NoError(t, v.Get(&after))
		require.Equal(t, 1, after)
		_, err = bare.Update(ctx, "sum-4", "add", -5)
		require.ErrorIs(t, err, durable.ErrUpdateRejected, "the worker's validator rejects it")
		require.ErrorContains(t, err, "want a positive number")
		require.NoError(t, bare.Signal(ctx, "sum-4", "add", -1))
		var total int
		require.NoError(t, bare.Run("sum-4").Get(ctx, &total))
		require.Equal(t, 1, total)
	})
}
