package durablecli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/cmd/durable/durablecli"
	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testBundle is a worker engine on a store and the CLI's arguments that
// open the same store.
type testBundle struct {
	ctx    context.Context
	worker *durable.Engine
	global []string // --dsn (and --schema)
	dsn    string
	// panics makes the Flaky workflow panic while it is set.
	panics atomic.Bool
	// reserved holds the items Reserve was called for: the first attempt
	// for each fails.
	reserved sync.Map
}

// register registers the test's workflows and activities.
func (b *testBundle) register(e *durable.Engine) {
	e.RegisterWorkflow(Order)
	e.RegisterWorkflow(func(ctx context.Context) (string, error) {
		if b.panics.Load() {
			panic("flaky code")
		}
		return "fixed", nil
	}, durable.WithName("Flaky"))
}

// Order reserves its item (the first attempt fails), answers "status"
// queries, adds "add" updates to its total and ends on an "approve" signal.
func Order(ctx context.Context, item string) (string, error) {
	status, total := "reserving", 0
	if err := durable.SetQueryHandler(ctx, "status", func() (string, error) { return status, nil }); err != nil {
		return "", err
	}
	if err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, n int) (int, error) {
		total += n
		return total, nil
	}, durable.UpdateOptions{Validator: func(ctx context.Context, n int) error {
		if n < 0 {
			return errors.New("cannot add a negative amount")
		}
		return nil
	}}); err != nil {
		return "", err
	}
	if err := durable.UpsertSearchAttributes(ctx, map[string]any{"Item": item}); err != nil {
		return "", err
	}
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{RetryPolicy: &durable.RetryPolicy{InitialInterval: time.Millisecond}})
	if _, err := durable.Call[string](ctx, "Reserve", item); err != nil {
		return "", err
	}
	status = "awaiting approval"
	who, err := durable.Receive[string](ctx, "approve")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s approved by %s, total %d", item, who, total), nil
}

// stores are the backends the CLI tests run on: SQLite always, PostgreSQL
// when DURABLE_TEST_POSTGRES is set.
var stores = []string{"SQLite", "PostgreSQL"}

func setup(t *testing.T, kind string) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	b := &testBundle{ctx: ctx}
	quiet := durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var err error
	switch kind {
	case "SQLite":
		path := filepath.Join(t.TempDir(), "durable.db")
		b.dsn = "sqlite:" + path
		b.worker, err = durable.Open(ctx, b.dsn, durable.WithPollInterval(20*time.Millisecond), quiet)
		require.NoError(t, err)
		b.global = []string{"--dsn", b.dsn}
	case "PostgreSQL":
		dsn := os.Getenv("DURABLE_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("DURABLE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		var rb [6]byte
		_, _ = rand.Read(rb[:])
		schema := "durable_cli_" + hex.EncodeToString(rb[:])
		require.NoError(t, postgres.Migrate(ctx, dsn, postgres.WithSchema(schema)), "DURABLE_TEST_POSTGRES is set, so the server must be reachable")
		t.Cleanup(func() {
			conn, err := pgx.Connect(context.Background(), dsn)
			require.NoError(t, err)
			defer conn.Close(context.Background())
			_, err = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			require.NoError(t, err)
		})
		st, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		b.worker, err = durable.New(ctx, st, durable.WithPollInterval(20*time.Millisecond), quiet)
		require.NoError(t, err)
		b.dsn = dsn
		b.global = []string{"--dsn", dsn, "--schema", schema}
	}
	t.Cleanup(func() { b.worker.Close() })
	b.worker.RegisterActivity(func(ctx context.Context, item string) (string, error) {
		if _, seen := b.reserved.LoadOrStore(item, true); !seen {
			return "", errors.New("warehouse busy")
		}
		return "reserved " + item, nil
	}, durable.WithName("Reserve"))
	b.register(b.worker)
	return b
}

// result is what one CLI invocation printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the durable command with the bundle's store and args.
func (b *testBundle) cli(t *testing.T, cfg durablecli.Config, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cfg.Stdout, cfg.Stderr = &out, &errb
	if cfg.GetenvFunc == nil {
		cfg.GetenvFunc = func(string) string { return "" }
	}
	code := durablecli.Main(b.ctx, append(append([]string{}, b.global...), args...), cfg)
	return result{out.String(), errb.String(), code}
}

// ok runs the CLI and requires exit code 0.
func (b *testBundle) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := b.cli(t, durablecli.Config{}, args...)
	require.Equal(t, 0, r.code, "durable %s: stderr: %s", strings.Join(args, " "), r.stderr)
	return r.stdout
}

// waitFor polls describe --json until cond holds for the run.
func (b *testBundle) waitFor(t *testing.T, id string, cond func(run map[string]any) bool) map[string]any {
	t.Helper()
	var run map[string]any
	require.Eventually(t, func() bool {
		run = map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(b.ok(t, "describe", id, "--json")), &run))
		return cond(run)
	}, 20*time.Second, 20*time.Millisecond)
	return run
}

func TestCommands(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)

			// start by name with JSON arguments; the worker runs it.
			out := b.ok(t, "start", "Order", `"lamp"`, "--id", "order-1", "--json")
			var started struct{ WorkflowID, RunID string }
			require.NoError(t, json.Unmarshal([]byte(out), &started))
			require.Equal(t, "order-1", started.WorkflowID)
			require.NotEmpty(t, started.RunID)
			require.Contains(t, b.ok(t, "start", "Order", `"desk"`, "--id", "order-2"), "started order-2 run ")

			run := b.waitFor(t, "order-1", func(r map[string]any) bool { return r["journalLen"].(float64) >= 4 })
			require.Equal(t, "running", run["status"])
			require.Equal(t, []any{"lamp"}, run["input"])
			require.Equal(t, map[string]any{"Item": "lamp"}, run["searchAttributes"])

			// queue: the worker holds both runs, nothing waits.
			var q struct {
				Queue     string
				Workflows struct{ Count int64 }
				Workers   []struct {
					ID        string
					Workflows int64
				}
			}
			require.NoError(t, json.Unmarshal([]byte(b.ok(t, "queue", "default", "--json")), &q))
			require.Equal(t, "default", q.Queue)
			require.Zero(t, q.Workflows.Count)
			require.Len(t, q.Workers, 1)
			require.Equal(t, int64(2), q.Workers[0].Workflows)
			require.Regexp(t, `(?m)^WORKER\s+WORKFLOWS\s+ACTIVITIES\s+LEASE UNTIL$`, b.ok(t, "queue", "default"))
			require.Contains(t, b.ok(t, "queue", "nobody"), "no worker holds its work")

			// list: table, --json and filters.
			table := b.ok(t, "list")
			require.Regexp(t, `(?m)^WORKFLOW ID\s+RUN ID\s+WORKFLOW\s+QUEUE\s+STATUS`, table)
			require.Regexp(t, `(?m)^order-2\s.*\sOrder\s+default\s+running\s`, table)
			var listed struct {
				Runs []struct{ WorkflowID, Status string }
			}
			require.NoError(t, json.Unmarshal([]byte(b.ok(t, "list", "--json", "--attr", "Item=desk")), &listed))
			require.Len(t, listed.Runs, 1)
			require.Equal(t, "order-2", listed.Runs[0].WorkflowID)
			require.NoError(t, json.Unmarshal([]byte(b.ok(t, "list", "--json", "--prefix", "order-", "--status", "completed")), &listed))
			require.Empty(t, listed.Runs)
			r := b.cli(t, durablecli.Config{}, "list", "--limit", "1")
			require.Equal(t, 0, r.code)
			require.Contains(t, r.stderr, "more runs: --page-token ")

			// Shell completion offers workflow IDs from the store.
			var compOut, compErr bytes.Buffer
			code := durablecli.Main(b.ctx, append(append([]string{"__complete"}, b.global...), "describe", "order-"),
				durablecli.Config{Stdout: &compOut, Stderr: &compErr, GetenvFunc: func(string) string { return "" }})
			require.Equal(t, 0, code, compErr.String())
			require.Equal(t, "order-2\norder-1\n:4\n", compOut.String())

			// update by name, without the workflow's code.
			require.Equal(t, "5\n", b.ok(t, "update", "order-1", "add", "5"))

			// A validator runs where the code is (Config.RegisterFunc): a
			// rejected update exits 4 and changes nothing.
			r = b.cli(t, durablecli.Config{RegisterFunc: b.register}, "update", "order-1", "add", "--", "-1")
			require.Equal(t, durablecli.ExitConflict, r.code, r.stderr)
			require.Contains(t, r.stderr, "cannot add a negative amount")

			// query needs the code: a clear error without it, the answer
			// with it (Config.RegisterFunc).
			r = b.cli(t, durablecli.Config{}, "query", "order-1", "status")
			require.Equal(t, durablecli.ExitError, r.code)
			require.Contains(t, r.stderr, "the CLI has no code for this workflow")
			r = b.cli(t, durablecli.Config{RegisterFunc: b.register}, "query", "order-1", "status")
			require.Equal(t, 0, r.code, r.stderr)
			require.Equal(t, "\"awaiting approval\"\n", r.stdout)

			// signal: the run completes.
			require.Contains(t, b.ok(t, "signal", "order-1", "approve", `"ann"`), "signalled order-1: approve")
			run = b.waitFor(t, "order-1", func(r map[string]any) bool { return r["status"] == "completed" })
			require.Equal(t, "lamp approved by ann, total 5", run["result"])

			// history: the timeline, with the activity's attempts.
			hist := b.ok(t, "history", "order-1")
			require.Regexp(t, `(?m)^#\s+TIME\s+EVENT\s+DETAILS$`, hist)
			require.Regexp(t, `ActivityCompleted\s+activity Reserve #\d+ completed: "reserved lamp" \(attempt 2\)`, hist)
			require.Regexp(t, `SignalReceived\s+signal approve received: "ann"`, hist)
			var h struct {
				Run    struct{ Status string }
				Events []struct {
					Seq     int64
					Kind    string
					Attempt int
				}
			}
			require.NoError(t, json.Unmarshal([]byte(b.ok(t, "history", "order-1", "--json")), &h))
			require.Equal(t, "completed", h.Run.Status)
			require.Equal(t, "Completed", h.Events[len(h.Events)-1].Kind)

			// reset to the event before the signal: a new run replays up to
			// it, gets the signal again and completes again.
			signalSeq := int64(0)
			for _, ev := range h.Events {
				if ev.Kind == "SignalReceived" {
					signalSeq = ev.Seq
				}
			}
			require.NotZero(t, signalSeq)
			out = b.ok(t, "reset", "order-1", "--event", fmt.Sprint(signalSeq-1))
			require.Regexp(t, `reset order-1 to event \d+: new run \S+`, out)
			run = b.waitFor(t, "order-1", func(r map[string]any) bool { return r["status"] == "completed" && r["runId"] != started.RunID })
			require.Equal(t, "lamp approved by ann, total 5", run["result"])
			require.Equal(t, started.RunID, run["resetFrom"])
			require.Regexp(t, `(?m)^Reset from:\s+run `+started.RunID+` at event \d+$`, b.ok(t, "describe", "order-1"))

			// cancel and terminate.
			require.Contains(t, b.ok(t, "cancel", "order-2"), "cancellation requested for order-2")
			b.waitFor(t, "order-2", func(r map[string]any) bool { return r["status"] == "canceled" })
			b.ok(t, "start", "Order", `"chair"`, "--id", "order-3")
			require.Contains(t, b.ok(t, "terminate", "order-3", "--reason", "wrong chair"), "terminated order-3")
			run = b.waitFor(t, "order-3", func(r map[string]any) bool { return r["status"] == "terminated" })
			require.Contains(t, run["error"], "wrong chair")

			// resume a stuck run after the fix.
			b.panics.Store(true)
			b.ok(t, "start", "Flaky", "--id", "flaky-1")
			run = b.waitFor(t, "flaky-1", func(r map[string]any) bool { return r["status"] == "stuck" })
			require.Contains(t, run["error"], "flaky code")
			desc := b.ok(t, "describe", "flaky-1")
			require.Regexp(t, `(?m)^Status:\s+stuck$`, desc)
			b.panics.Store(false)
			require.Contains(t, b.ok(t, "resume", "flaky-1"), "resumed flaky-1")
			run = b.waitFor(t, "flaky-1", func(r map[string]any) bool { return r["status"] == "completed" })
			require.Equal(t, "fixed", run["result"])
			r = b.cli(t, durablecli.Config{}, "resume", "flaky-1")
			require.Equal(t, durablecli.ExitConflict, r.code, "a completed run is not stuck")

			// terminate closes a stuck run at once (no worker works it).
			b.panics.Store(true)
			b.ok(t, "start", "Flaky", "--id", "flaky-2")
			b.waitFor(t, "flaky-2", func(r map[string]any) bool { return r["status"] == "stuck" })
			b.ok(t, "terminate", "flaky-2", "--reason", "given up")
			run = b.waitFor(t, "flaky-2", func(r map[string]any) bool { return r["status"] == "terminated" })
			require.Contains(t, run["error"], "given up")
			b.panics.Store(false)

			// start --wait prints the result.
			require.Contains(t, b.ok(t, "start", "Flaky", "--wait"), "result: \"fixed\"")
		})
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	b := setup(t, "SQLite")
	b.ok(t, "start", "Order", `"x"`, "--id", "dup")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"UnknownCommand", []string{"frobnicate"}, durablecli.ExitUsage, "unknown command"},
		{"UnknownFlag", []string{"list", "--colour"}, durablecli.ExitUsage, "unknown flag"},
		{"MissingArgument", []string{"describe"}, durablecli.ExitUsage, "accepts 1 arg(s)"},
		{"BadFlagValue", []string{"list", "--limit", "many"}, durablecli.ExitUsage, `invalid argument "many"`},
		{"ZeroLimit", []string{"list", "--limit", "0"}, durablecli.ExitUsage, "--limit must be positive"},
		{"ArgumentNotJSON", []string{"start", "Order", "lamp"}, durablecli.ExitUsage, "is not JSON"},
		{"UnknownStatus", []string{"list", "--status", "sleeping"}, durablecli.ExitUsage, `unknown status "sleeping"`},
		{"BadTime", []string{"list", "--since", "yesterday"}, durablecli.ExitUsage, "want RFC 3339"},
		{"ResetWithoutEvent", []string{"reset", "dup"}, durablecli.ExitUsage, "--event N is required"},
		{"NoSuchRun", []string{"describe", "nope"}, durablecli.ExitNotFound, "not found"},
		{"SignalNoSuchRun", []string{"signal", "nope", "x"}, durablecli.ExitNotFound, "not found"},
		{"AlreadyStarted", []string{"start", "Order", `"y"`, "--id", "dup"}, durablecli.ExitConflict, "open run"},
		{"ResumeNotStuck", []string{"resume", "dup"}, durablecli.ExitConflict, "not stuck"},
		{"Timeout", []string{"start", "Order", `"z"`, "--queue", "nobody-serves-this", "--wait", "--timeout", "200ms"}, durablecli.ExitTimeout, "no answer within --timeout 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := b.cli(t, durablecli.Config{}, tc.args...)
			require.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			require.Contains(t, r.stderr, tc.stderr)
		})
	}

	t.Run("NoStore", func(t *testing.T) {
		t.Parallel()
		var out, errb bytes.Buffer
		code := durablecli.Main(b.ctx, []string{"list"}, durablecli.Config{Stdout: &out, Stderr: &errb, GetenvFunc: func(string) string { return "" }})
		require.Equal(t, durablecli.ExitUsage, code)
		require.Contains(t, errb.String(), "no store: pass --dsn or set DURABLE_DSN")
		code = durablecli.Main(b.ctx, []string{"list", "--dsn", "sqlite:" + filepath.Join(t.TempDir(), "missing.db")}, durablecli.Config{Stdout: &out, Stderr: &errb})
		require.Equal(t, durablecli.ExitError, code)
		require.Contains(t, errb.String(), "no store at ")
	})

	t.Run("DSNFromEnvironment", func(t *testing.T) {
		t.Parallel()
		var out, errb bytes.Buffer
		code := durablecli.Main(b.ctx, []string{"describe", "dup"}, durablecli.Config{Stdout: &out, Stderr: &errb, GetenvFunc: func(k string) string {
			if k == "DURABLE_DSN" {
				return b.dsn
			}
			return ""
		}})
		require.Equal(t, 0, code, errb.String())
		require.Contains(t, out.String(), "Workflow ID:")
	})
}

func TestPasswordsNeverShow(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	dsn := "postgres://ops:s3cret-pw@127.0.0.1:1/nodb?sslmode=disable&connect_timeout=1"
	code := durablecli.Main(context.Background(), []string{"list", "--dsn", dsn}, durablecli.Config{Stdout: &out, Stderr: &errb})
	require.Equal(t, durablecli.ExitError, code)
	require.NotContains(t, errb.String(), "s3cret-pw")
	require.Contains(t, errb.String(), "ops:…@127.0.0.1:1")

	require.Equal(t, "postgres://u:…@h/db?password=…", durablecli.RedactDSN("postgres://u:p4ss@h/db?password=p4ss"))
	require.Equal(t, "sqlite:x.db", durablecli.RedactDSN("sqlite:x.db"))
	require.NotContains(t, durablecli.Redact("open postgres://u:p4ssw0rd@h/db: bad p4ssw0rd", "postgres://u:p4ssw0rd@h/db"), "p4ssw0rd")
}

// TestHistoryGolden pins the history table of a finished run, with times
// and IDs masked.
func TestHistoryGolden(t *testing.T) {
	t.Parallel()
	b := setup(t, "SQLite")
	b.ok(t, "start", "Order", `"lamp"`, "--id", "golden")
	b.waitFor(t, "golden", func(r map[string]any) bool { return r["journalLen"].(float64) >= 4 })
	b.ok(t, "update", "golden", "add", "2")
	b.ok(t, "signal", "golden", "approve", `"bob"`)
	b.waitFor(t, "golden", func(r map[string]any) bool { return r["status"] == "completed" })
	got := b.ok(t, "history", "golden")
	got = regexp.MustCompile(`\d\d:\d\d:\d\d\.\d\d\d`).ReplaceAllString(got, "HH:MM:SS.mmm")
	got = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).ReplaceAllString(got, "UUID")
	golden := filepath.Join("testdata", "history.golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

// cliChildEnv makes the test binary run the durable command instead of the
// tests, so that a test can run the CLI as a process of its own.
const cliChildEnv = "DURABLE_CLI_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(cliChildEnv) == "1" {
		os.Exit(durablecli.Main(context.Background(), os.Args[1:], durablecli.Config{}))
	}
	os.Exit(m.Run())
}

// TestProcessBesideWorker runs the CLI as processes of their own beside a
// worker (this test) on the same store: start, list, signal, query-less
// inspection (describe, history), cancel and reset, table and JSON.
func TestProcessBesideWorker(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)
			run := func(args ...string) string {
				t.Helper()
				cmd := exec.CommandContext(b.ctx, os.Args[0], append(append([]string{}, b.global...), args...)...)
				cmd.Env = append(os.Environ(), cliChildEnv+"=1")
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "durable %s: %s", strings.Join(args, " "), out)
				return string(out)
			}
			require.Contains(t, run("start", "Order", `"vase"`, "--id", "proc-1"), "started proc-1")
			b.waitFor(t, "proc-1", func(r map[string]any) bool { return r["journalLen"].(float64) >= 4 })
			require.Regexp(t, `(?m)^proc-1\s`, run("list", "--prefix", "proc-"))
			require.Contains(t, run("list", "--json", "--status", "running"), `"workflowId": "proc-1"`)
			run("signal", "proc-1", "approve", `"cy"`)
			var got string
			require.NoError(t, b.worker.Run("proc-1").Get(b.ctx, &got))
			require.Equal(t, "vase approved by cy, total 0", got)
			require.Regexp(t, `(?m)^Status:\s+completed$`, run("describe", "proc-1"))
			require.Contains(t, run("history", "proc-1"), "signal approve received")
			require.Contains(t, run("history", "proc-1", "--json"), `"kind": "Completed"`)
			require.Contains(t, run("reset", "proc-1", "--event", "1", "--no-reapply-signals"), "new run")
			b.waitFor(t, "proc-1", func(r map[string]any) bool { return r["journalLen"].(float64) >= 4 && r["status"] == "running" })
			run("cancel", "proc-1")
			b.waitFor(t, "proc-1", func(r map[string]any) bool { return r["status"] == "canceled" })
		})
	}
}
