package durable_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// The crash test runs the workload in a child process (this test binary,
// re-executed) and kills it with SIGKILL at random moments. The parent
// sends signals through the child's stdin; a signal counts as sent once
// the child acknowledges that Signal returned.

const crashRuns = 120

func CrashStep(ctx context.Context, n int, tag string) (string, error) {
	return fmt.Sprintf("%s%d", tag, n), nil
}

func CrashWorkflow(ctx context.Context, n int) (string, error) {
	a, err := durable.Call[string](ctx, CrashStep, n, "a")
	if err != nil {
		return "", err
	}
	fb := durable.Async[string](ctx, CrashStep, n, "b")
	if err := durable.Sleep(ctx, 150*time.Millisecond); err != nil {
		return "", err
	}
	b, err := fb.Get(ctx)
	if err != nil {
		return "", err
	}
	sig, err := durable.Receive[string](ctx, "go")
	if err != nil {
		return "", err
	}
	c, err := durable.Call[string](ctx, CrashStep, n, "c")
	if err != nil {
		return "", err
	}
	return strings.Join([]string{a, b, sig, c}, "-"), nil
}

// CrashSelect waits in a select over a timer, a signal channel and a
// child's future, so kills land while it is blocked there.
func CrashSelect(ctx context.Context, n int) (string, error) {
	child := durable.ChildAsync[string](ctx, CrashChild, n)
	sig := durable.SignalChannel[string](ctx, "go")
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := durable.NewTimer(tctx, 200*time.Millisecond)
	var got []string
	sel := durable.NewSelector(ctx).
		AddFuture(timer, func(durable.Waiter) { got = append(got, "timer") }).
		AddReceive(sig, func(durable.Receiver, bool) {
			v, _ := sig.Receive(ctx)
			got = append(got, "sig:"+v)
		}).
		AddFuture(child, func(durable.Waiter) {
			v, err := child.Get(ctx)
			if err != nil {
				v = err.Error()
			}
			got = append(got, "child:"+v)
		})
	for len(got) < 3 {
		sel.Select(ctx)
	}
	slices.Sort(got)
	return strings.Join(got, ","), nil
}

// CrashChild is CrashSelect's child.
func CrashChild(ctx context.Context, n int) (string, error) {
	if err := durable.Sleep(ctx, 100*time.Millisecond); err != nil {
		return "", err
	}
	return durable.Call[string](ctx, CrashStep, n, "child")
}

// crashWorkflow picks the workflow of run n: every third one selects.
func crashWorkflow(n int) any {
	if n%3 == 0 {
		return CrashSelect
	}
	return CrashWorkflow
}

func crashWant(n int) string {
	if n%3 == 0 {
		return fmt.Sprintf("child:child%d,sig:s%d,timer", n, n)
	}
	return fmt.Sprintf("a%d-b%d-s%d-c%d", n, n, n, n)
}

func TestMain(m *testing.M) {
	if schema := os.Getenv(failoverChildEnv); schema != "" {
		failoverChild(schema)
		return
	}
	if schema := os.Getenv(sessionChildEnv); schema != "" {
		sessionChild(schema)
		return
	}
	if arg := os.Getenv(restartChildEnv); arg != "" {
		restartChild(arg)
		return
	}
	if path := os.Getenv(scheduleChildEnv); path != "" {
		scheduleChild(path, os.Getenv(scheduleChildCreateEnv) != "") // schedule_crash_test.go
		return
	}
	if os.Getenv("DURABLE_CRASH_CHILD") != "" {
		crashChild(os.Getenv("DURABLE_CRASH_CHILD"), os.Getenv("DURABLE_CRASH_FINAL") != "")
		return
	}
	os.Exit(m.Run())
}

// crashChild works the store until killed; in the final phase it waits for
// every run and prints the results.
func crashChild(path string, final bool) {
	ctx := context.Background()
	e, err := durable.Open(ctx, "sqlite:"+path, durable.WithPollInterval(20*time.Millisecond), durable.WithLeaseTimeout(2*time.Second))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	e.RegisterWorkflow(CrashWorkflow)
	e.RegisterWorkflow(CrashSelect)
	e.RegisterWorkflow(CrashChild)
	e.RegisterActivity(CrashStep)
	for i := range crashRuns {
		id := "crash-" + strconv.Itoa(i)
		if _, err := e.Store().CurrentRun(ctx, id); err == nil {
			continue // started before a kill; an ID may be reused once closed
		}
		_, err := e.Start(ctx, durable.StartOptions{ID: id}, crashWorkflow(i), i)
		if err != nil && !errors.Is(err, durable.ErrAlreadyStarted) {
			fmt.Println("error", err)
			os.Exit(3)
		}
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		out.WriteString(s + "\n")
		out.Flush()
	}
	say("ready")
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			id := strings.TrimPrefix(in.Text(), "signal ")
			n := strings.TrimPrefix(id, "crash-")
			if err := e.Signal(ctx, id, "go", "s"+n); err != nil {
				if errors.Is(err, durable.ErrNotFound) {
					// Completed already: an earlier, unacknowledged send
					// was persisted before a kill.
					say("closed " + id)
					continue
				}
				say("error " + err.Error())
				continue
			}
			say("acked " + id)
		}
	}()
	if !final {
		select {}
	}
	for i := range crashRuns {
		id := "crash-" + strconv.Itoa(i)
		var res string
		gctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err := e.Run(id).Get(gctx, &res)
		cancel()
		if err != nil {
			say("error " + id + " " + err.Error())
			continue
		}
		say("result " + id + " " + res)
	}
	say("finished")
	e.Close()
}

type crashChildProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startCrashChild(t *testing.T, path string, final bool) *crashChildProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DURABLE_CRASH_CHILD="+path)
	if final {
		cmd.Env = append(cmd.Env, "DURABLE_CRASH_FINAL=1")
	}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	c := &crashChildProc{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	select {
	case l := <-c.lines:
		require.Equal(t, "ready", l)
	case <-time.After(30 * time.Second):
		t.Fatal("child did not get ready")
	}
	return c
}

func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test runs child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	if p := os.Getenv("CRASH_DB"); p != "" {
		path = p
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	acked := map[string]bool{}
	const kills = 4
	for k := range kills {
		c := startCrashChild(t, path, false)
		// Signal a random share of the runs not yet acknowledged.
		for i := range crashRuns {
			id := "crash-" + strconv.Itoa(i)
			if !acked[id] && rng.IntN(kills-k+1) == 0 {
				fmt.Fprintf(c.stdin, "signal %s\n", id)
			}
		}
		deadline := time.After(time.Duration(50+rng.IntN(400)) * time.Millisecond)
	collect:
		for {
			select {
			case l, ok := <-c.lines:
				if !ok {
					break collect
				}
				if id, ok := strings.CutPrefix(l, "acked "); ok {
					acked[id] = true
				}
			case <-deadline:
				break collect
			}
		}
		require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
		_ = c.cmd.Wait()
		for l := range c.lines { // acks printed just before the kill
			if id, ok := strings.CutPrefix(l, "acked "); ok {
				acked[id] = true
			}
		}
		t.Logf("kill %d: %d signals acknowledged so far", k+1, len(acked))
	}
	require.NotEmpty(t, acked, "no signal was acknowledged before a kill")
	ackedBeforeKills := len(acked)

	// Final phase: signal only runs whose signal was never acknowledged, so a
	// lost acknowledged signal shows up as a run that never completes.
	c := startCrashChild(t, path, true)
	for i := range crashRuns {
		id := "crash-" + strconv.Itoa(i)
		if !acked[id] {
			fmt.Fprintf(c.stdin, "signal %s\n", id)
		}
	}
	results := map[string]string{}
	timeout := time.After(90 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-c.lines:
			if !ok || l == "finished" {
				done = true
				break
			}
			if rest, ok := strings.CutPrefix(l, "result "); ok {
				id, res, _ := strings.Cut(rest, " ")
				results[id] = res
			} else if strings.HasPrefix(l, "error") {
				t.Errorf("child: %s", l)
			}
		case <-timeout:
			t.Fatal("final phase did not finish")
		}
	}
	c.stdin.Close()
	_ = c.cmd.Wait()
	for i := range crashRuns {
		id := "crash-" + strconv.Itoa(i)
		require.Equal(t, crashWant(i), results[id], "run %s", id)
	}
	t.Logf("%d runs completed correctly after %d SIGKILLs; %d signals were acknowledged before a kill", crashRuns, kills, ackedBeforeKills)

	// Every journal replays to the same result in a fresh engine.
	e := openEngine(t, "sqlite:"+path)
	e.RegisterWorkflow(CrashWorkflow)
	e.RegisterWorkflow(CrashSelect)
	e.RegisterWorkflow(CrashChild)
	e.RegisterActivity(CrashStep)
	runs, err := e.Store().ListRuns(context.Background(), &store.ListRunsParams{Statuses: []store.RunStatus{store.StatusCompleted}})
	require.NoError(t, err)
	require.Len(t, runs, crashRuns+crashRuns/3, "every run and every child completed once")
	for _, r := range runs {
		require.NoError(t, e.Verify(context.Background(), r.RunID))
	}
}
