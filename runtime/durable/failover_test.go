package durable_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// The PostgreSQL tests of the engine: failover between worker processes,
// concurrent clients, queues. Each test works in a fresh schema of the
// database named by DURABLE_TEST_POSTGRES; they skip when it is unset and
// fail when it is set but the server cannot be reached.

const pgDSNEnv = "DURABLE_TEST_POSTGRES"

// failoverChildEnv names the schema a failover worker child works on; its
// presence makes TestMain run the child instead of the tests.
const failoverChildEnv = "DURABLE_FAILOVER_CHILD"

// pgLease is the lease of every engine in these tests: short, so that a
// killed worker's runs move on within a second.
const pgLease = time.Second

func pgDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(pgDSNEnv)
	if dsn == "" {
		t.Skipf("%s is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", pgDSNEnv)
	}
	return dsn
}

// pgSchema returns a fresh schema, created and migrated, and drops it in
// cleanup (after the stores opened on it are closed: cleanups run last
// in, first out).
func pgSchema(t *testing.T) (dsn, schema string) {
	t.Helper()
	dsn = pgDSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = "durable_engine_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, postgres.Migrate(ctx, dsn, postgres.WithSchema(schema)), "%s is set, so the server must be reachable", pgDSNEnv)
	return dsn, schema
}

// openPGEngine opens a store of its own on schema and an engine on it,
// both closed in cleanup.
func openPGEngine(t *testing.T, dsn, schema string, opts ...durable.Option) *durable.Engine {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), postgres.WithMaxConns(6))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	opts = append([]durable.Option{
		durable.WithLeaseTimeout(pgLease),
		durable.WithPollInterval(50 * time.Millisecond),
		durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, opts...)
	e, err := durable.New(context.Background(), st, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

// pgConn is a plain connection to the test database with search_path set
// to schema, for checks that read the tables directly.
func pgConn(t *testing.T, dsn, schema string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// checkJournals asserts, reading the tables directly, that every run of the
// schema has a gap-free journal of journal_len events with exactly one
// terminal event, which is its last, and that workflow IDs have one run
// each.
func checkJournals(t *testing.T, conn *pgx.Conn, wantRuns int) {
	t.Helper()
	ctx := context.Background()
	var runs, workflows int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT workflow_id) FROM runs`).Scan(&runs, &workflows))
	require.Equal(t, wantRuns, runs, "runs in the store")
	require.Equal(t, wantRuns, workflows, "one run per workflow ID")

	rows, err := conn.Query(ctx, `SELECT r.run_id, r.journal_len, count(e.seq), coalesce(min(e.seq), 0), coalesce(max(e.seq), 0),
			count(*) FILTER (WHERE e.kind IN ('Completed', 'Failed', 'Canceled', 'ContinuedAsNew')),
			coalesce(max(e.seq) FILTER (WHERE e.kind IN ('Completed', 'Failed', 'Canceled', 'ContinuedAsNew')), 0)
		FROM runs r LEFT JOIN events e ON e.run_id = r.run_id
		GROUP BY r.run_id, r.journal_len`)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			runID                           string
			jlen, count, lo, hi, terms, end int64
		)
		require.NoError(t, rows.Scan(&runID, &jlen, &count, &lo, &hi, &terms, &end))
		require.Equal(t, jlen, count, "run %s: journal_len and events", runID)
		require.Equal(t, int64(1), lo, "run %s: journal starts at 1", runID)
		require.Equal(t, count, hi, "run %s: journal has no gaps", runID)
		require.Equal(t, int64(1), terms, "run %s: exactly one terminal event", runID)
		require.Equal(t, hi, end, "run %s: the terminal event is the last", runID)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, wantRuns, n)
}

// failoverOut is where a failover child reports activity attempts.
var failoverOut struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func failoverSay(s string) {
	failoverOut.mu.Lock()
	defer failoverOut.mu.Unlock()
	if failoverOut.w == nil {
		return
	}
	failoverOut.w.WriteString(s + "\n")
	failoverOut.w.Flush()
}

// FailoverStep is the failover workload's activity. It takes a few
// milliseconds, so that kills land in the middle of attempts too.
func FailoverStep(ctx context.Context, n int, tag string) (string, error) {
	failoverSay(fmt.Sprintf("attempt %d %s", n, tag))
	select {
	case <-time.After(time.Duration(mrand.IntN(10)) * time.Millisecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return fmt.Sprintf("%s%d", tag, n), nil
}

// FailoverWorkflow calls activities (one in parallel with a durable sleep),
// waits for a signal and calls one more activity.
func FailoverWorkflow(ctx context.Context, n int) (string, error) {
	a, err := durable.Call[string](ctx, FailoverStep, n, "a")
	if err != nil {
		return "", err
	}
	fb := durable.Async[string](ctx, FailoverStep, n, "b")
	if err := durable.Sleep(ctx, 300*time.Millisecond); err != nil {
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
	c, err := durable.Call[string](ctx, FailoverStep, n, "c")
	if err != nil {
		return "", err
	}
	return strings.Join([]string{a, b, sig, c}, "-"), nil
}

func failoverWant(n int) string { return fmt.Sprintf("a%d-b%d-s%d-c%d", n, n, n, n) }

// failoverChild is a worker process: it works the schema until killed, or
// until its stdin closes, when it closes its engine and exits.
func failoverChild(schema string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(3)
	}
	st, err := postgres.Open(ctx, os.Getenv(pgDSNEnv), postgres.WithSchema(schema), postgres.WithMaxConns(8))
	if err != nil {
		fail(err)
	}
	e, err := durable.New(ctx, st,
		durable.WithLeaseTimeout(pgLease),
		durable.WithPollInterval(100*time.Millisecond),
		durable.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		fail(err)
	}
	failoverOut.w = bufio.NewWriter(os.Stdout)
	e.RegisterWorkflow(FailoverWorkflow)
	e.RegisterActivity(FailoverStep)
	failoverSay("ready " + e.WorkerID())
	_, _ = io.Copy(io.Discard, os.Stdin)
	e.Close()
	st.Close()
	failoverSay("closed")
}

type failoverProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when stdout is drained
}

// startFailoverChild starts a worker process; attempts reports each
// activity attempt line it prints.
func startFailoverChild(t *testing.T, schema, logPath string, attempts func(string)) *failoverProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), failoverChildEnv+"="+schema)
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

func (p *failoverProc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_ = p.cmd.Wait()
	<-p.done
}

// stop closes the child's stdin and waits for it to exit, killing it after
// a bound.
func (p *failoverProc) stop() {
	p.stdin.Close()
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-exited
	}
}

func TestFailover(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the failover test runs worker processes")
	}
	dsn, schema := pgSchema(t)

	const (
		runs    = 300
		workers = 3
		kills   = 5
	)
	logPath := filepath.Join(t.TempDir(), "workers.log")
	if p := os.Getenv("FAILOVER_LOG"); p != "" {
		logPath = p // keep the workers' log for a look
	}
	var (
		attemptsMu sync.Mutex
		attempts   = map[string]int{}
	)
	countAttempt := func(s string) {
		attemptsMu.Lock()
		attempts[s]++
		attemptsMu.Unlock()
	}
	procs := make([]*failoverProc, workers)
	for i := range procs {
		procs[i] = startFailoverChild(t, schema, logPath, countAttempt)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.stop()
		}
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("worker logs:\n%s", b)
			}
		}
	})

	client := openPGEngine(t, dsn, schema, durable.WithClientOnly())
	client.RegisterWorkflow(FailoverWorkflow) // for Verify
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Start the runs from the client while the workers take them.
	ids := make([]string, runs)
	var wg sync.WaitGroup
	startErrs := make(chan error, runs)
	for g := range 10 {
		wg.Go(func() {
			for i := g; i < runs; i += 10 {
				ids[i] = "failover-" + strconv.Itoa(i)
				if _, err := client.Start(ctx, durable.StartOptions{ID: ids[i]}, FailoverWorkflow, i); err != nil {
					startErrs <- err
				}
			}
		})
	}
	wg.Wait()
	close(startErrs)
	for err := range startErrs {
		require.NoError(t, err)
	}

	// Signal every run once, in random order, spread over the kill phase.
	// A signal counts as sent when Signal returned nil.
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 4))
	order := rng.Perm(runs)
	sent := make([]bool, runs)
	var signalErrs []error
	signalsDone := make(chan struct{})
	go func() {
		defer close(signalsDone)
		srng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 5))
		for _, i := range order {
			select {
			case <-time.After(time.Duration(srng.IntN(16)) * time.Millisecond):
			case <-ctx.Done():
				return
			}
			if err := client.Signal(ctx, ids[i], "go", "s"+strconv.Itoa(i)); err != nil {
				signalErrs = append(signalErrs, fmt.Errorf("signal %s: %w", ids[i], err))
				continue
			}
			sent[i] = true
		}
	}()

	// Kill worker 0 at random moments and restart it.
	for k := range kills {
		select {
		case <-time.After(time.Duration(200+rng.IntN(600)) * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("timed out in the kill phase")
		}
		procs[0].kill(t)
		procs[0] = startFailoverChild(t, schema, logPath, countAttempt)
		t.Logf("kill %d done", k+1)
	}
	select {
	case <-signalsDone:
	case <-ctx.Done():
		t.Fatal("timed out sending signals")
	}
	require.Empty(t, signalErrs)
	for i := range runs {
		require.True(t, sent[i], "signal to %s", ids[i])
	}

	// Every run completes; each waited for its signal, so a lost signal
	// shows up as a run that never does.
	results := make([]string, runs)
	errs := make([]error, runs)
	for g := range 10 {
		wg.Go(func() {
			for i := g; i < runs; i += 10 {
				errs[i] = client.Run(ids[i]).Get(ctx, &results[i])
			}
		})
	}
	wg.Wait()
	for i := range runs {
		require.NoError(t, errs[i], "run %s", ids[i])
		require.Equal(t, failoverWant(i), results[i], "run %s", ids[i])
	}

	// Exactly once: one run per workflow ID, completed, with a gap-free
	// journal that has exactly one terminal event and one signal, and
	// replays with the code.
	conn := pgConn(t, dsn, schema)
	checkJournals(t, conn, runs)
	var signals, completed int
	require.NoError(t, conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM events WHERE kind = 'SignalReceived'),
		(SELECT count(*) FROM runs WHERE status = 'completed')`).Scan(&signals, &completed))
	require.Equal(t, runs, signals, "each run received its one signal once")
	require.Equal(t, runs, completed)
	var leftovers int
	require.NoError(t, conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM inbox) + (SELECT count(*) FROM tasks)`).Scan(&leftovers))
	require.Zero(t, leftovers, "inbox items or tasks left over")
	all, err := client.Store().ListRuns(ctx, &store.ListRunsParams{})
	require.NoError(t, err)
	for _, r := range all {
		require.NoError(t, client.Verify(ctx, r.RunID), "run %s", r.WorkflowID)
	}

	attemptsMu.Lock()
	repeated := 0
	for _, n := range attempts {
		repeated += n - 1
	}
	distinct := len(attempts)
	attemptsMu.Unlock()
	require.Equal(t, 3*runs, distinct, "every activity ran")
	t.Logf("%d runs completed exactly once across %d workers with %d SIGKILLs; %d of %d activities ran more than once (at-least-once after a kill)",
		runs, workers, kills, repeated, distinct)
	if b, err := os.ReadFile(logPath); err == nil {
		t.Logf("worker log lines by message: %v", logSummary(string(b)))
	}
}

// logSummary counts the slog text lines of a log by their msg.
func logSummary(log string) map[string]int {
	counts := map[string]int{}
	for _, l := range strings.Split(log, "\n") {
		_, rest, ok := strings.Cut(l, " msg=")
		if !ok {
			continue
		}
		msg := rest
		if strings.HasPrefix(rest, `"`) {
			if q, err := strconv.QuotedPrefix(rest); err == nil {
				msg, _ = strconv.Unquote(q)
			}
		} else if i := strings.IndexByte(rest, ' '); i >= 0 {
			msg = rest[:i]
		}
		counts[msg]++
	}
	return counts
}
