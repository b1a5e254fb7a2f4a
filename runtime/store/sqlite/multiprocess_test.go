package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// clientHelper is the "client" helper process: a client-only store on path
// that runs the commands it reads from stdin, one a line, and answers each
// with "ok UNIXNANO" (when the call returned) or "err MESSAGE".
//
//	create ID     CreateRun of an unowned run ID in queue q
//	deliver ID    Deliver a signal to run ID
//	claim         ClaimRuns (refused: client-only)
func clientHelper(path string) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.WithClientOnly(true))
	if err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	defer s.Close()
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		switch cmd {
		case "create":
			err = s.CreateRun(ctx, &store.CreateRunParams{
				Run:    &store.Run{RunID: arg, WorkflowID: arg, Workflow: "W", Queue: "q", WakeAt: time.Now()},
				Events: []store.Event{{Kind: "started"}},
			})
		case "deliver":
			_, err = s.Deliver(ctx, &store.DeliverParams{RunID: arg, Kind: "signal", Name: "s", Data: []byte(`1`)})
		case "claim":
			_, err = s.ClaimRuns(ctx, &store.ClaimRunsParams{Owner: "c", Limit: 1, Lease: time.Minute})
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			fmt.Println("err", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Println("ok", time.Now().UnixNano())
		}
	}
}

// clientProcess is a running "client" helper.
type clientProcess struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startClient(t *testing.T, path string) *clientProcess {
	t.Helper()
	cmd := helperCommand(t, "client", path)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	c := &clientProcess{in: in, out: bufio.NewScanner(out)}
	require.True(t, c.out.Scan(), "client helper: %v", c.out.Err())
	require.Equal(t, "ready", c.out.Text())
	return c
}

// do runs one command in the client process and returns when its call
// returned there.
func (c *clientProcess) do(t *testing.T, command string) (time.Time, error) {
	t.Helper()
	_, err := fmt.Fprintln(c.in, command)
	require.NoError(t, err)
	require.True(t, c.out.Scan(), "client helper: %v", c.out.Err())
	status, rest, _ := strings.Cut(c.out.Text(), " ")
	if status != "ok" {
		return time.Time{}, errors.New(rest)
	}
	ns, err := strconv.ParseInt(rest, 10, 64)
	require.NoError(t, err)
	return time.Unix(0, ns), nil
}

// nextNotification waits (boundedly) for a notification and returns when
// it came.
func nextNotification(t *testing.T, ch <-chan store.Notification) (store.Notification, time.Time) {
	t.Helper()
	select {
	case n, ok := <-ch:
		require.True(t, ok, "subscription closed")
		return n, time.Now()
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5s")
		return store.Notification{}, time.Time{}
	}
}

// TestClientBesideWorker: client-only stores in other processes open the
// file a worker store has open, their writes reach it, and the worker
// hears of each within milliseconds.
func TestClientBesideWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.open(t)
	require.True(t, w.Exclusive())
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	ch, err := w.Subscribe(ctx)
	require.NoError(t, err)

	// The worker's own writes of leased work announce nothing, and its
	// commits do not look like another process's.
	require.NoError(t, w.CreateRun(b.ctx, runParams("own")))
	for n := int64(1); n <= 20; n++ {
		require.NoError(t, w.Commit(b.ctx, &store.CommitParams{RunID: "own", Owner: "w1", ExpectLen: n,
			Events: []store.Event{{Kind: "e"}}}))
	}

	c1, c2 := startClient(t, b.path), startClient(t, b.path)
	_, err = c1.do(t, "claim")
	require.ErrorContains(t, err, "client-only")

	var lat []time.Duration
	for i, c := range []*clientProcess{c1, c2, c1, c2} {
		id := fmt.Sprintf("c%d", i)
		committed, err := c.do(t, "create "+id)
		require.NoError(t, err)
		n, heard := nextNotification(t, ch)
		require.Equal(t, store.Notification{Kind: "run"}, n, "another process's commit, queue unknown")
		require.False(t, heard.Before(committed.Add(-time.Millisecond)), "heard before the client committed: the worker's own commits woke it")
		lat = append(lat, heard.Sub(committed))

		runs, err := w.ClaimRuns(b.ctx, &store.ClaimRunsParams{Owner: "w1", Queues: []string{"q"}, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		require.Contains(t, runIDs(runs), id)

		committed, err = c.do(t, "deliver "+id)
		require.NoError(t, err)
		_, heard = nextNotification(t, ch)
		lat = append(lat, heard.Sub(committed))
		inbox, err := w.ListInbox(b.ctx, id)
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		// The owner's claim returns its run again: it has mail.
		runs, err = w.ClaimRuns(b.ctx, &store.ClaimRunsParams{Owner: "w1", Queues: []string{"q"}, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		require.Contains(t, runIDs(runs), id)
	}
	// An idle worker (its watch backed off to the longest interval) hears
	// within about 32 ms. The sleep makes the worker idle; it waits for
	// nothing.
	time.Sleep(200 * time.Millisecond)
	committed, err := c1.do(t, "create idle")
	require.NoError(t, err)
	_, heard := nextNotification(t, ch)
	lat = append(lat, heard.Sub(committed))
	t.Logf("client commit to worker notification: %v (the last with the worker idle)", lat)
	for _, d := range lat {
		require.Less(t, d, 500*time.Millisecond, "well under the engine's default poll interval")
	}
	require.GreaterOrEqual(t, w.Wakeups(), int64(len(lat)))
}

// TestSecondWorkerNamesTheFirst: a second process that would work the file
// gets ErrLocked naming the first; client-only opens are not refused.
func TestSecondWorkerNamesTheFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cmd := helperCommand(t, "work", b.path)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	require.True(t, sc.Scan())
	require.Equal(t, "opened", sc.Text())

	_, err = sqlite.Open(b.ctx, b.path)
	require.ErrorIs(t, err, sqlite.ErrLocked)
	require.ErrorContains(t, err, b.path+".lock is locked by pid "+strconv.Itoa(cmd.Process.Pid))
	require.ErrorContains(t, err, "WithClientOnly")
	t.Logf("the error: %v", err)

	c, err := sqlite.Open(b.ctx, b.path, sqlite.WithClientOnly(true))
	require.NoError(t, err)
	defer c.Close()
	require.False(t, c.Exclusive())
	require.NoError(t, c.CreateRun(b.ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r", WorkflowID: "r", Workflow: "W"}}))

	// The worker goes: its lock goes with it, and a worker opens.
	in.Close()
	require.NoError(t, cmd.Wait())
	w := b.open(t)
	r, err := w.GetRun(b.ctx, "r")
	require.NoError(t, err)
	require.Equal(t, store.StatusRunning, r.Status)
}

// TestClientOnlyWorksNothing: a client-only store refuses the calls that
// work runs.
func TestClientOnlyWorksNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := sqlite.Open(b.ctx, b.path, sqlite.WithClientOnly(true))
	require.NoError(t, err)
	defer c.Close()
	require.True(t, c.ClientOnly())
	require.False(t, c.Exclusive())
	_, err = c.ClaimRuns(b.ctx, &store.ClaimRunsParams{Owner: "c", Limit: 1, Lease: time.Minute})
	require.ErrorIs(t, err, sqlite.ErrClientOnly)
	_, err = c.ClaimTasks(b.ctx, &store.ClaimTasksParams{Owner: "c", Limit: 1, Lease: time.Minute})
	require.ErrorIs(t, err, sqlite.ErrClientOnly)
	require.ErrorIs(t, c.CreateRun(b.ctx, runParams("leased")), sqlite.ErrClientOnly)
	require.ErrorIs(t, c.ReleaseLeases(b.ctx, ""), sqlite.ErrClientOnly)
	// Several client-only stores open one file, with or without a worker.
	c2, err := sqlite.Open(b.ctx, b.path, sqlite.WithClientOnly(true))
	require.NoError(t, err)
	defer c2.Close()
	w := b.open(t)
	_, err = c2.Deliver(b.ctx, &store.DeliverParams{WorkflowID: "none", Kind: "signal"})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, w.CreateRun(b.ctx, runParams("r1")))
	_, err = c2.Deliver(b.ctx, &store.DeliverParams{WorkflowID: "r1", Kind: "signal"})
	require.NoError(t, err)
}

// TestClientWaitsOutTheWorkersLock: a client's calls wait while another
// process holds SQLite's write lock, instead of failing with SQLITE_BUSY.
func TestClientWaitsOutTheWorkersLock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.open(t)
	require.NoError(t, w.CreateRun(b.ctx, runParams("r1")))
	c, err := sqlite.Open(b.ctx, b.path, sqlite.WithClientOnly(true), sqlite.WithBusyTimeout(50*time.Millisecond))
	require.NoError(t, err)
	defer c.Close()

	hold := helperCommand(t, "hold", b.path, "400ms")
	out, err := hold.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, hold.Start())
	sc := bufio.NewScanner(out)
	require.True(t, sc.Scan())
	require.Equal(t, "locked", sc.Text())
	began := time.Now()
	_, err = c.Deliver(b.ctx, &store.DeliverParams{WorkflowID: "r1", Kind: "signal"})
	require.NoError(t, err, "busy past the busy timeout: the store retries")
	require.NoError(t, c.CreateRun(b.ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r2", WorkflowID: "r2", Workflow: "W"}}))
	t.Logf("waited %v for the lock", time.Since(began))
	require.NoError(t, hold.Wait())
}

func runIDs(runs []*store.Run) []string {
	ids := make([]string, 0, len(runs))
	for _, r := range runs {
		ids = append(ids, r.RunID)
	}
	return ids
}
