package durable_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// The PostgreSQL restart test: worker processes and a client ride through
// restarts of a private server (pgserver_test.go) under load.

// restartChildEnv carries "DSN schema" to a restart worker child; its
// presence makes TestMain run the child instead of the tests.
const restartChildEnv = "DURABLE_RESTART_CHILD"

const (
	restartSteps = 5 // activity steps per run
	// restartBound is what each restart may add to the time the workload
	// takes undisturbed.
	restartBound = 4 * time.Second
)

// RestartStep is the restart workload's activity.
func RestartStep(ctx context.Context, n, step int) (int, error) {
	failoverSay(fmt.Sprintf("attempt %d/%d", n, step))
	return n*10 + step, nil
}

// RestartWorkflow calls restartSteps activities one after the other, then
// waits for a signal.
func RestartWorkflow(ctx context.Context, n int) (string, error) {
	sum := 0
	for step := 1; step <= restartSteps; step++ {
		v, err := durable.Call[int](ctx, RestartStep, n, step)
		if err != nil {
			return "", err
		}
		sum += v
	}
	sig, err := durable.Receive[string](ctx, "go")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%d:%s", n, sum, sig), nil
}

func restartWant(n int) string {
	sum := 0
	for step := 1; step <= restartSteps; step++ {
		sum += n*10 + step
	}
	return fmt.Sprintf("%d:%d:s%d", n, sum, n)
}

// restartChild is a worker process with the engine's default lease and
// poll interval: it must ride through restarts without waiting for a
// lease to expire. It logs at Info level to stderr.
func restartChild(arg string) {
	dsn, schema, _ := strings.Cut(arg, " ")
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMaxConns(8), postgres.WithLogger(logger))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	e, err := durable.New(ctx, st, durable.WithLogger(logger))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	failoverOut.w = bufio.NewWriter(os.Stdout)
	e.RegisterWorkflow(RestartWorkflow)
	e.RegisterActivity(RestartStep)
	failoverSay("ready " + e.WorkerID())
	_, _ = io.Copy(io.Discard, os.Stdin)
	e.Close()
	st.Close()
}

// startRestartChild starts a worker process on schema of the server at
// dsn; its log goes to logPath.
func startRestartChild(t *testing.T, dsn, schema, logPath string, attempts func(string)) *failoverProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), restartChildEnv+"="+dsn+" "+schema)
	return startChildProc(t, cmd, logPath, attempts)
}

// startChildProc starts cmd as a worker child that prints "ready ..." when
// it works, and "attempt ..." for each activity attempt.
func startChildProc(t *testing.T, cmd *exec.Cmd, logPath string, attempts func(string)) *failoverProc {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer logf.Close()
	cmd.Stderr = logf
	require.NoError(t, cmd.Start())
	p := &failoverProc{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			l := sc.Text()
			switch {
			case strings.HasPrefix(l, "attempt "):
				attempts(strings.TrimPrefix(l, "attempt "))
			case strings.HasPrefix(l, "ready "), strings.HasPrefix(l, "error "):
				ready <- l
			}
		}
	}()
	select {
	case l := <-ready:
		require.True(t, strings.HasPrefix(l, "ready "), "child: %s", l)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("worker child did not get ready")
	}
	return p
}

// restartPhase is the outcome of one run of the workload.
type restartPhase struct {
	elapsed  time.Duration // from the first start to the last run's completion
	log      string        // the workers' log
	attempts map[string]int
}

// disruption is something done to the database at an offset from the
// first start of a workload: a restart, a failover.
type disruption struct {
	at time.Duration
	do func(t *testing.T)
}

// runRestartPhase runs the workload on a fresh schema of the server at dsn:
// workers processes, and a client that starts runs at a steady rate and
// signals each, while the disruptions happen.
func runRestartPhase(t *testing.T, dsn, name string, runs, workers int, rate time.Duration, disruptions []disruption) restartPhase {
	t.Helper()
	schema := "restart_" + name
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, postgres.Migrate(ctx, dsn, postgres.WithSchema(schema)))

	var (
		mu       sync.Mutex
		attempts = map[string]int{}
	)
	count := func(s string) {
		mu.Lock()
		attempts[s]++
		mu.Unlock()
	}
	logPath := filepath.Join(t.TempDir(), name+"-workers.log")
	procs := make([]*failoverProc, workers)
	for i := range procs {
		procs[i] = startRestartChild(t, dsn, schema, logPath, count)
	}
	stopped := false
	stopAll := func() {
		if !stopped {
			stopped = true
			for _, p := range procs {
				p.stop()
			}
		}
	}
	defer stopAll()

	clientLog := &lockedBuffer{}
	st, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMaxConns(8))
	require.NoError(t, err)
	defer st.Close()
	client, err := durable.New(ctx, st, durable.WithClientOnly(),
		durable.WithLogger(slog.New(slog.NewTextHandler(clientLog, nil))))
	require.NoError(t, err)
	defer client.Close()

	// The client: starters take run numbers in order, each no earlier than
	// its slot, start it, signal it and wait for its result.
	begin := time.Now()
	results := make([]string, runs)
	errs := make([]error, runs)
	doneAt := make([]time.Duration, runs)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range runs {
			if d := time.Until(begin.Add(time.Duration(i) * rate)); d > 0 {
				time.Sleep(d)
			}
			next <- i
		}
	}()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				id := fmt.Sprintf("restart-%d", i)
				if _, err := client.Start(ctx, durable.StartOptions{ID: id}, RestartWorkflow, i); err != nil {
					errs[i] = fmt.Errorf("start %s: %w", id, err)
					continue
				}
				if err := client.Signal(ctx, id, "go", "s"+strconv.Itoa(i)); err != nil {
					errs[i] = fmt.Errorf("signal %s: %w", id, err)
					continue
				}
				wg.Go(func() {
					errs[i] = client.Run(id).Get(ctx, &results[i])
					doneAt[i] = time.Since(begin)
				})
			}
		})
	}

	for _, d := range disruptions {
		time.Sleep(time.Until(begin.Add(d.at)))
		d.do(t)
	}
	wg.Wait()

	var elapsed time.Duration
	for i := range runs {
		require.NoError(t, errs[i], "run %d", i)
		require.Equal(t, restartWant(i), results[i], "run %d", i)
		elapsed = max(elapsed, doneAt[i])
	}

	// One run per workflow ID, each with a gap-free journal ending in one
	// terminal event; every activity step ran.
	conn := pgConn(t, dsn, schema)
	checkJournals(t, conn, runs)
	stopAll()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, attempts, runs*restartSteps, "every activity step ran")
	log, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.NotContains(t, clientLog.String(), "level=ERROR", "client log")
	return restartPhase{elapsed: elapsed, log: string(log), attempts: attempts}
}

// TestPostgresRestart restarts the PostgreSQL server twice while worker
// processes work and a client keeps starting and signalling runs: every
// run completes once with its result, nothing is logged as an error, and
// each restart costs at most restartBound more than the same workload
// undisturbed (measured first, on the same server).
//
// It is not parallel: it compares two timings, so it runs before the
// package's parallel tests start, alone in its process.
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("the restart test runs a PostgreSQL server and worker processes")
	}
	pgDSN(t) // PostgreSQL tests run where DURABLE_TEST_POSTGRES is set
	srv := startPrivatePG(t)

	const (
		runs     = 300
		workers  = 3
		rate     = 20 * time.Millisecond // 50 starts per second: 6 s of starts
		downtime = 2 * time.Second
	)
	restartAt := []time.Duration{1 * time.Second, 4 * time.Second}
	var (
		restarts  []disruption
		downtimes []time.Duration
	)
	for _, at := range restartAt {
		restarts = append(restarts, disruption{at: at, do: func(t *testing.T) {
			down := time.Now()
			srv.stop(t)
			time.Sleep(downtime)
			srv.start(t)
			downtimes = append(downtimes, time.Since(down))
			t.Logf("server restarted at %s, down %s", at, downtimes[len(downtimes)-1].Round(time.Millisecond))
		}})
	}

	calm := runRestartPhase(t, srv.DSN(), "calm", runs, workers, rate, nil)
	t.Logf("undisturbed: %d runs in %s", runs, calm.elapsed.Round(time.Millisecond))

	rough := runRestartPhase(t, srv.DSN(), "restarts", runs, workers, rate, restarts)
	repeated := 0
	for _, n := range rough.attempts {
		repeated += n - 1
	}
	lines := logSummary(rough.log)
	t.Logf("with %d restarts (down %v): %d runs in %s (+%s); %d of %d activity steps ran more than once; worker log lines: %v",
		len(restartAt), downtimes, runs, rough.elapsed.Round(time.Millisecond),
		(rough.elapsed - calm.elapsed).Round(time.Millisecond), repeated, len(rough.attempts), lines)

	// Riding through is quiet: no error lines, and an outage is one line
	// per process when it begins (a second may come from the listener).
	require.NotContains(t, rough.log, "level=ERROR", "worker log:\n%s", rough.log)
	require.LessOrEqual(t, lines["durable: store unavailable; retrying until it answers"], 2*workers*len(restartAt), "worker log:\n%s", rough.log)
	require.Positive(t, lines["durable: store available again"], "the workers noticed the restarts")
	// LISTEN connections come back (those of the first restart surely
	// before the workload ends).
	require.GreaterOrEqual(t, lines["postgres: listener reconnected"], workers, "worker log:\n%s", rough.log)

	bound := calm.elapsed + time.Duration(len(restartAt))*restartBound
	require.LessOrEqual(t, rough.elapsed, bound,
		"with %d restarts the workload took %s, undisturbed %s: more than %s per restart", len(restartAt), rough.elapsed, calm.elapsed, restartBound)
}

// TestPostgresFailoverToStandby fails the database over to a streaming
// standby under load: the primary is shut down and the standby promoted,
// and workers and the client, given both servers in their DSN
// (target_session_attrs=read-write), move to the new primary. Every run
// completes once with its result, and nothing is logged as an error.
func TestPostgresFailoverToStandby(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the standby test runs two PostgreSQL servers and worker processes")
	}
	pgDSN(t) // PostgreSQL tests run where DURABLE_TEST_POSTGRES is set
	primary := startPrivatePG(t)
	standby := primary.startStandby(t)
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write",
		primary.port, standby.port)

	const runs, workers = 150, 2
	var took time.Duration
	failover := disruption{at: 1500 * time.Millisecond, do: func(t *testing.T) {
		began := time.Now()
		primary.stop(t)
		standby.promote(t)
		took = time.Since(began)
	}}
	phase := runRestartPhase(t, dsn, "standby", runs, workers, 20*time.Millisecond, []disruption{failover})
	t.Logf("failover took %s; %d runs in %s; worker log lines: %v", took.Round(time.Millisecond), runs,
		phase.elapsed.Round(time.Millisecond), logSummary(phase.log))
	require.NotContains(t, phase.log, "level=ERROR", "worker log:\n%s", phase.log)
	require.Contains(t, phase.log, "durable: store available again", "the workers noticed the failover")
}

// lockedBuffer is an io.Writer safe for concurrent use, for logs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
