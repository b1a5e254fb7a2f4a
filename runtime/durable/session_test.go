package durable_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// sessionChildEnv names the schema a session worker child works on; its
// presence makes TestMain run the child instead of the tests.
const sessionChildEnv = "DURABLE_SESSION_CHILD"

// sessionWhere registers, on e, the activities the session workflows
// call: "Where" answers tag (which worker ran it) after saying "where"
// and its workflow ID, "Block" says "blocking" and waits until its
// context ends (say may be nil).
func sessionWhere(e *durable.Engine, tag string, say func(string)) {
	e.RegisterActivity(func(ctx context.Context) (string, error) {
		if say != nil {
			say("where " + durable.GetActivityInfo(ctx).WorkflowID)
		}
		return tag, nil
	}, durable.WithName("Where"))
	e.RegisterActivity(func(ctx context.Context) error {
		if say != nil {
			say("blocking")
		}
		<-ctx.Done()
		return ctx.Err()
	}, durable.WithName("Block"))
}

// SessionPinned creates a session, calls "Where" n times in it, waits
// for signal "done" when hold is set, and completes the session. It
// returns the workers that ran each call and the session's states.
func SessionPinned(ctx context.Context, n int, hold bool) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{Queue: "files", StartToCloseTimeout: time.Minute})
	sctx, err := durable.CreateSession(ctx, &durable.SessionOptions{CreationTimeout: 20 * time.Second, ExecutionTimeout: time.Hour})
	if err != nil {
		return "", err
	}
	var wheres []string
	for range n {
		w, err := durable.Call[string](sctx, "Where")
		if err != nil {
			return "", err
		}
		wheres = append(wheres, w)
	}
	if hold {
		if _, err := durable.Receive[string](ctx, "done"); err != nil {
			return "", err
		}
	}
	info := durable.GetSessionInfo(sctx)
	open := info.SessionState
	durable.CompleteSession(sctx)
	if info.HostName == "" || info.SessionID == "" {
		return "", errors.New("session info without host or ID")
	}
	return fmt.Sprintf("%s %s %s", strings.Join(wheres, ","), open, info.SessionState), nil
}

// SessionExpires creates a session that outlives its ExecutionTimeout:
// the session fails, and a call in it returns ErrSessionFailed.
func SessionExpires(ctx context.Context) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{Queue: "files", StartToCloseTimeout: time.Minute})
	sctx, err := durable.CreateSession(ctx, &durable.SessionOptions{CreationTimeout: 20 * time.Second, ExecutionTimeout: 200 * time.Millisecond})
	if err != nil {
		return "", err
	}
	if _, err := durable.Call[string](sctx, "Where"); err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, time.Second); err != nil {
		return "", err
	}
	_, err = durable.Call[string](sctx, "Where")
	state := durable.GetSessionInfo(sctx).SessionState
	return fmt.Sprintf("%v %s %v", errors.Is(err, durable.ErrSessionFailed), state, sctx.Err() != nil), nil
}

// SessionBusy tries to create a session within wait.
func SessionBusy(ctx context.Context, wait time.Duration) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{Queue: "files"})
	sctx, err := durable.CreateSession(ctx, &durable.SessionOptions{CreationTimeout: wait})
	var te *durable.TimeoutError
	if errors.As(err, &te) && durable.IsTimeoutError(fmt.Errorf("wrapped: %w", err)) {
		return "timeout " + te.Kind, nil
	}
	if err != nil {
		return "", err
	}
	durable.CompleteSession(sctx)
	return "created", nil
}

// SessionRecover holds a session with a blocking activity; when the
// session's worker dies it notes what the workflow saw and creates a new
// session.
func SessionRecover(ctx context.Context) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{Queue: "files", StartToCloseTimeout: time.Hour})
	so := &durable.SessionOptions{CreationTimeout: time.Minute, ExecutionTimeout: time.Hour}
	sctx, err := durable.CreateSession(ctx, so)
	if err != nil {
		return "", err
	}
	first, err := durable.Call[string](sctx, "Where")
	if err != nil {
		return "", err
	}
	blockErr := durable.Exec(sctx, "Block")
	var canceled *durable.CanceledError
	state := durable.GetSessionInfo(sctx).SessionState
	_, afterErr := durable.Call[string](sctx, "Where")
	durable.CompleteSession(sctx)
	sctx, err = durable.CreateSession(ctx, so)
	if err != nil {
		return "", err
	}
	defer durable.CompleteSession(sctx)
	second, err := durable.Call[string](sctx, "Where")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s canceled=%v %s failed=%v %s", first, errors.As(blockErr, &canceled), state,
		errors.Is(afterErr, durable.ErrSessionFailed), second), nil
}

func TestSessionOneEngine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, dsn string }{
		{"Memory", "memory:"},
		{"SQLite", "sqlite:" + filepath.Join(t.TempDir(), "s.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e, err := durable.Open(ctx, tc.dsn, durable.WithQueues("default", "files"), durable.WithSessionWorker(1),
				durable.WithPollInterval(20*time.Millisecond))
			require.NoError(t, err)
			defer e.Close()
			e.RegisterWorkflow(SessionPinned)
			e.RegisterWorkflow(SessionExpires)
			e.RegisterWorkflow(SessionBusy)
			wheres := make(chan string, 16)
			sessionWhere(e, "here", func(s string) { wheres <- s })

			var out string
			run, err := e.Start(ctx, durable.StartOptions{ID: "pinned"}, SessionPinned, 3, false)
			require.NoError(t, err)
			require.NoError(t, run.Get(ctx, &out))
			require.Equal(t, "here,here,here open closed", out)

			run, err = e.Start(ctx, durable.StartOptions{ID: "expires"}, SessionExpires)
			require.NoError(t, err)
			require.NoError(t, run.Get(ctx, &out))
			require.Equal(t, "true failed true", out, "ErrSessionFailed, state, session context cancelled")

			// One slot: while "holder" holds it, a session cannot be created.
			holder, err := e.Start(ctx, durable.StartOptions{ID: "holder"}, SessionPinned, 1, true)
			require.NoError(t, err)
			for w := ""; w != "where holder"; {
				select {
				case w = <-wheres:
				case <-ctx.Done():
					t.Fatal("holder's session did not open")
				}
			}
			run, err = e.Start(ctx, durable.StartOptions{ID: "busy"}, SessionBusy, 300*time.Millisecond)
			require.NoError(t, err)
			require.NoError(t, run.Get(ctx, &out))
			require.Equal(t, "timeout ScheduleToStart", out)
			require.NoError(t, e.Signal(ctx, "holder", "done", "x"))
			require.NoError(t, holder.Get(ctx, &out))
			require.Equal(t, "here open closed", out)
			// Completing the session frees the slot (once the cancelled
			// creation attempt has returned; a retry then succeeds).
			run, err = e.Start(ctx, durable.StartOptions{ID: "after"}, SessionBusy, 10*time.Second)
			require.NoError(t, err)
			require.NoError(t, run.Get(ctx, &out))
			require.Equal(t, "created", out)
		})
	}
}

// TestSessionPinsToOneOfTwoWorkers runs two engines on one PostgreSQL
// schema, each with one session slot: two sessions held at once land on
// different workers, and every call of a session runs on its worker.
func TestSessionPinsToOneOfTwoWorkers(t *testing.T) {
	t.Parallel()
	dsn, schema := pgSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var runs []durable.Run
	wheres := make(chan string, 32)
	for _, tag := range []string{"A", "B"} {
		e := openPGEngine(t, dsn, schema, durable.WithQueues("default", "files"), durable.WithSessionWorker(1))
		e.RegisterWorkflow(SessionPinned)
		sessionWhere(e, tag, func(s string) { wheres <- s })
	}
	client := openPGEngine(t, dsn, schema, durable.WithClientOnly())
	for i := range 2 {
		run, err := client.Start(ctx, durable.StartOptions{ID: fmt.Sprint("pin-", i)}, SessionPinned, 5, true)
		require.NoError(t, err)
		runs = append(runs, run)
	}
	// Both sessions are open (each holds its worker's only slot) once
	// both have run a call; signal then.
	for said := map[string]bool{}; len(said) < 2; {
		select {
		case w := <-wheres:
			said[w] = true
		case <-ctx.Done():
			t.Fatal("the sessions did not open")
		}
	}
	for i := range 2 {
		require.NoError(t, client.Signal(ctx, fmt.Sprint("pin-", i), "done", "x"))
	}
	seen := map[string]bool{}
	for _, run := range runs {
		var out string
		require.NoError(t, run.Get(ctx, &out))
		wheres, rest, _ := strings.Cut(out, " ")
		require.Equal(t, "open closed", rest)
		w := strings.Split(wheres, ",")
		require.Len(t, w, 5)
		for _, x := range w {
			require.Equal(t, w[0], x, "every call of a session runs on its worker: %s", out)
		}
		seen[w[0]] = true
	}
	require.Len(t, seen, 2, "two sessions at once, one slot per worker: one session on each worker")
}

// sessionChild is a session worker process on schema that serves queue
// "files" until killed.
func sessionChild(schema string) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv(pgDSNEnv), postgres.WithSchema(schema), postgres.WithMaxConns(4))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	e, err := durable.New(ctx, st, durable.WithQueues("files"), durable.WithLeaseTimeout(pgLease),
		durable.WithPollInterval(50*time.Millisecond),
		durable.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	sessionWhere(e, "child", func(s string) { fmt.Println(s) })
	fmt.Println("ready")
	select {}
}

// TestSessionWorkerKilled kills (SIGKILL) the process that holds a
// session: the workflow sees its blocked activity cancelled, the session
// failed and later calls in it fail with ErrSessionFailed, and the
// session it creates next runs on the surviving worker.
func TestSessionWorkerKilled(t *testing.T) {
	t.Parallel()
	dsn, schema := pgSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sessionChildEnv+"="+schema)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	wait := func(want string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "child exited before %q", want)
				require.False(t, strings.HasPrefix(l, "error"), l)
				if l == want {
					return
				}
			case <-ctx.Done():
				t.Fatalf("child did not print %q in time", want)
			}
		}
	}
	wait("ready")

	// This engine works the run and takes no sessions: the child, the
	// only session worker, takes the first.
	e := openPGEngine(t, dsn, schema, durable.WithoutSessionWorker())
	e.RegisterWorkflow(SessionRecover)
	run, err := e.Start(ctx, durable.StartOptions{ID: "recover"}, SessionRecover)
	require.NoError(t, err)
	wait("blocking")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	// A session worker that survives: it takes the dead worker's
	// session task over once its lease expired, fails it, and holds the
	// next session.
	survivor := openPGEngine(t, dsn, schema, durable.WithQueues("files"))
	sessionWhere(survivor, "survivor", nil)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, "child canceled=true failed failed=true survivor", got)
}
