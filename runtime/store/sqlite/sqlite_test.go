package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
	"github.com/durablego/toolkit/runtime/store/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name  string
		fsync bool
	}{
		{"FsyncOff", false},
		{"FsyncOn", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) store.Store {
				t.Helper()
				s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "durable.db"), sqlite.WithFsync(tc.fsync))
				require.NoError(t, err)
				t.Cleanup(func() { require.NoError(t, s.Close()) })
				return s
			})
		})
	}

	t.Run("Memory", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) store.Store {
			t.Helper()
			s, err := sqlite.OpenMemory(context.Background())
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			return s
		})
	})
}

// testBundle is the state of one SQLite-specific test.
type testBundle struct {
	ctx  context.Context
	path string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &testBundle{ctx: ctx, path: filepath.Join(t.TempDir(), "durable.db")}
}

func (b *testBundle) open(t *testing.T, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(b.ctx, b.path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens the file with the driver directly, bypassing the store (and
// its lock), as a second program would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func runParams(id string) *store.CreateRunParams {
	return &store.CreateRunParams{
		Run:    &store.Run{RunID: id, WorkflowID: id, Workflow: "W", WakeAt: time.Now()},
		Events: []store.Event{{Kind: "started", Data: []byte(id)}},
		Owner:  "w1", Lease: time.Hour,
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("DataSurvivesCloseAndReopen", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		s, err := sqlite.Open(b.ctx, b.path)
		require.NoError(t, err)
		require.NoError(t, s.CreateRun(b.ctx, runParams("r1")))
		require.NoError(t, s.Commit(b.ctx, &store.CommitParams{
			RunID: "r1", Owner: "w1", ExpectLen: 1, Events: []store.Event{{Kind: "second", Data: []byte{0, 1}}},
		}))
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "Close is idempotent")
		_, err = s.GetRun(b.ctx, "r1")
		require.ErrorIs(t, err, sqlite.ErrClosed, "a closed store refuses calls")
		require.ErrorIs(t, s.Commit(b.ctx, &store.CommitParams{RunID: "r1", Owner: "w1", ExpectLen: 2}), sqlite.ErrClosed)

		s = b.open(t)
		events, err := s.LoadJournal(b.ctx, "r1", 0)
		require.NoError(t, err)
		require.Len(t, events, 2)
		require.Equal(t, []byte{0, 1}, events[1].Data)
	})

	t.Run("PathWithURICharacters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		dir := filepath.Join(t.TempDir(), "a dir #1 ?x=y&z%20")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		b.path = filepath.Join(dir, "my store.db")
		s := b.open(t)
		require.NoError(t, s.CreateRun(b.ctx, runParams("r1")))
		require.FileExists(t, b.path)
	})

	t.Run("UsesWAL", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.open(t)

		var mode string
		require.NoError(t, rawDB(t, b.path).QueryRow("PRAGMA journal_mode").Scan(&mode))
		require.Equal(t, "wal", mode)
	})

	t.Run("TextFileIsIncompatible", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, os.WriteFile(b.path, []byte("these are my notes, not a database\n"), 0o644))

		_, err := sqlite.Open(b.ctx, b.path)
		require.ErrorIs(t, err, store.ErrIncompatible)
		require.Contains(t, err.Error(), b.path)
		got, err := os.ReadFile(b.path)
		require.NoError(t, err)
		require.Equal(t, "these are my notes, not a database\n", string(got), "the file is untouched")
	})

	t.Run("CorruptFileIsIncompatible", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.open(t)
		for i := range 50 {
			require.NoError(t, s.CreateRun(b.ctx, runParams(fmt.Sprintf("r%d", i))))
		}
		require.NoError(t, s.Close())

		// Keep the header's magic, trash the rest of the first pages.
		data, err := os.ReadFile(b.path)
		require.NoError(t, err)
		for i := 16; i < min(len(data), 3*4096); i++ {
			data[i] = 0xFF
		}
		require.NoError(t, os.WriteFile(b.path, data, 0o644))

		_, err = sqlite.Open(b.ctx, b.path)
		require.ErrorIs(t, err, store.ErrIncompatible)
		require.Contains(t, err.Error(), b.path)
	})

	t.Run("ForeignDatabaseIsIncompatible", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		db := rawDB(t, b.path)
		_, err := db.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('ann')")
		require.NoError(t, err)
		require.NoError(t, db.Close())
		before, err := os.ReadFile(b.path)
		require.NoError(t, err)

		_, err = sqlite.Open(b.ctx, b.path)
		require.ErrorIs(t, err, store.ErrIncompatible)
		require.Contains(t, err.Error(), b.path)
		require.Contains(t, err.Error(), "another application")
		after, err := os.ReadFile(b.path)
		require.NoError(t, err)
		require.Equal(t, before, after, "the foreign database is untouched")
	})

	t.Run("EmptyFileBecomesAStore", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, os.WriteFile(b.path, nil, 0o644))
		s := b.open(t)
		require.NoError(t, s.CreateRun(b.ctx, runParams("r1")))
	})

	t.Run("NewerSchemaIsIncompatible", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.open(t)
		require.NoError(t, s.Close())
		db := rawDB(t, b.path)
		_, err := db.Exec("PRAGMA user_version = 99")
		require.NoError(t, err)
		require.NoError(t, db.Close())

		_, err = sqlite.Open(b.ctx, b.path)
		require.ErrorIs(t, err, store.ErrIncompatible)
		require.Contains(t, err.Error(), b.path)
		require.Contains(t, err.Error(), "99")
	})

	t.Run("SchemaOneIsUpgraded", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.open(t)
		p := runParams("r1")
		p.Owner, p.Lease = "w1", time.Hour
		require.NoError(t, s.CreateRun(b.ctx, p))
		require.NoError(t, s.Close())
		// Back to schema 1: its owner indexes, no index of tasks by run, its version.
		db := rawDB(t, b.path)
		_, err := db.Exec(`CREATE INDEX runs_owner ON runs (owner) WHERE owner <> '';
			CREATE INDEX tasks_owner ON tasks (owner) WHERE owner <> '';
			DROP INDEX tasks_run;
			PRAGMA user_version = 1`)
		require.NoError(t, err)
		require.NoError(t, db.Close())

		s = b.open(t)
		r, err := s.GetRun(b.ctx, "r1")
		require.NoError(t, err)
		require.Equal(t, "w1", r.Owner)
		require.NoError(t, s.ReleaseLeases(b.ctx, "w1"))
		r, err = s.GetRun(b.ctx, "r1")
		require.NoError(t, err)
		require.Empty(t, r.Owner, "released after the upgrade")
		require.NoError(t, s.Close())

		db = rawDB(t, b.path)
		defer db.Close()
		var version, ownerIndexes, runIndexes int
		require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&version))
		require.Equal(t, 3, version)
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('runs_owner', 'tasks_owner')`).Scan(&ownerIndexes))
		require.Zero(t, ownerIndexes)
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'tasks_run'`).Scan(&runIndexes))
		require.Equal(t, 1, runIndexes)
	})

	t.Run("SecondOpenInProcessIsLocked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.open(t)
		require.True(t, s.Exclusive())

		_, err := sqlite.Open(b.ctx, b.path)
		require.ErrorIs(t, err, sqlite.ErrLocked)
		require.Contains(t, err.Error(), b.path)

		require.NoError(t, s.Close())
		b.open(t) // free again
	})

	t.Run("SecondProcessIsLocked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.open(t)

		out, err := helperProcess(t, "open", b.path)
		require.Error(t, err, "the helper must fail: %s", out)
		require.Contains(t, out, "database in use by another store")
		require.Contains(t, out, b.path)
	})

	t.Run("AcknowledgedCommitsSurviveSIGKILL", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("no SIGKILL")
		}
		b := setup(t)

		cmd := helperCommand(t, "commit", b.path)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(stdout)
		var acked int64
		for acked < 200 && lines.Scan() {
			n, err := strconv.ParseInt(lines.Text(), 10, 64)
			require.NoError(t, err, "helper said %q", lines.Text())
			acked = n
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		for lines.Scan() { // acknowledged before the kill landed
			if n, err := strconv.ParseInt(lines.Text(), 10, 64); err == nil {
				acked = n
			}
		}

		// The lock died with the process; every acknowledged event is there.
		s := b.open(t)
		events, err := s.LoadJournal(b.ctx, "r1", 0)
		require.NoError(t, err)
		require.GreaterOrEqual(t, int64(len(events)), acked)
		for i, e := range events {
			require.EqualValues(t, i+1, e.Seq)
		}
		r, err := s.GetRun(b.ctx, "r1")
		require.NoError(t, err)
		require.EqualValues(t, len(events), r.JournalLen)
	})

	t.Run("TasksOfReleasedLeasesComeBackAbandoned", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.open(t)
		p := runParams("r1")
		p.Tasks = []*store.Task{{ID: "t1", Kind: "activity", DueAt: time.Now()}}
		require.NoError(t, s.CreateRun(b.ctx, p))
		claim := func(owner string) []*store.Task {
			t.Helper()
			tasks, err := s.ClaimTasks(b.ctx, &store.ClaimTasksParams{Owner: owner, Limit: 1, Lease: time.Hour})
			require.NoError(t, err)
			return tasks
		}
		require.Len(t, claim("dead"), 1)

		// What an engine does on a store only it can open, at start-up.
		require.NoError(t, s.ReleaseLeases(b.ctx, ""))
		tasks := claim("successor")
		require.Len(t, tasks, 1)
		require.True(t, tasks[0].Abandoned, "the attempt died with the previous process")
		require.ErrorIs(t, s.UpdateTask(b.ctx, &store.UpdateTaskParams{ID: "t1", Owner: "dead", Details: []byte("x")}),
			store.ErrLeaseLost)
	})

	t.Run("MemoryStoresAreSeparate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m1, err := sqlite.OpenMemory(b.ctx)
		require.NoError(t, err)
		t.Cleanup(func() { m1.Close() })
		m2, err := sqlite.OpenMemory(b.ctx)
		require.NoError(t, err)
		t.Cleanup(func() { m2.Close() })
		require.True(t, m1.Exclusive())

		require.NoError(t, m1.CreateRun(b.ctx, runParams("r1")))
		_, err = m2.GetRun(b.ctx, "r1")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, m2.CreateRun(b.ctx, runParams("r1")), "same IDs, other store")
	})
}

// TestBusy shows that a lock held by another connection (a backup, the
// sqlite3 shell) delays the store's calls but surfaces no error.
func TestBusy(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name string
		lock string
	}{
		{"WriteLock", "BEGIN IMMEDIATE"},
		{"ExclusiveLock", "BEGIN EXCLUSIVE"},
	} {
		t.Run(tc.name+"HeldByAnotherConnection", func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			// A busy timeout far shorter than the lock is held, so that
			// the store's own retries must do the work.
			s := b.open(t, sqlite.WithBusyTimeout(20*time.Millisecond))
			require.NoError(t, s.CreateRun(b.ctx, runParams("r1")))

			conn, err := rawDB(t, b.path).Conn(b.ctx)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.ExecContext(b.ctx, tc.lock)
			require.NoError(t, err)
			_, err = conn.ExecContext(b.ctx, "UPDATE runs SET queue = queue")
			require.NoError(t, err)

			const n = 20
			errs := make(chan error, n+1)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					errs <- s.CreateRun(b.ctx, runParams(fmt.Sprintf("busy-%d", i)))
				})
			}
			wg.Go(func() {
				_, err := s.GetRun(b.ctx, "r1")
				errs <- err
			})

			// Hold the lock well past the busy timeout, then let go.
			time.Sleep(300 * time.Millisecond)
			_, err = conn.ExecContext(b.ctx, "COMMIT")
			require.NoError(t, err)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			runs, err := s.ListRuns(b.ctx, &store.ListRunsParams{})
			require.NoError(t, err)
			require.Len(t, runs, n+1)
		})
	}

	t.Run("WriterInAnotherProcess", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.open(t, sqlite.WithBusyTimeout(20*time.Millisecond))
		require.NoError(t, s.CreateRun(b.ctx, runParams("r1")))

		// The helper takes the write lock, says so, holds it 300ms.
		cmd := helperCommand(t, "hold", b.path, "300ms")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "locked\n", line)

		for i := range 10 {
			require.NoError(t, s.CreateRun(b.ctx, runParams(fmt.Sprintf("busy-%d", i))))
		}
		require.NoError(t, cmd.Wait())
	})
}

// The helper process: go test re-runs this binary with
// DURABLE_SQLITE_HELPER set to play a second program.
func TestMain(m *testing.M) {
	switch os.Getenv("DURABLE_SQLITE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "open":
		_, err := sqlite.Open(context.Background(), os.Args[len(os.Args)-1])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("opened")
	case "commit":
		// Commit events to run r1 forever, printing each acknowledged
		// length, until killed.
		ctx := context.Background()
		s, err := sqlite.Open(ctx, os.Args[len(os.Args)-1])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if err := s.CreateRun(ctx, runParams("r1")); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		for n := int64(1); ; n++ {
			if err := s.Commit(ctx, &store.CommitParams{
				RunID: "r1", Owner: "w1", ExpectLen: n, Events: []store.Event{{Kind: "e", Data: []byte(fmt.Sprint(n + 1))}},
			}); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			fmt.Println(n + 1)
		}
	case "client":
		clientHelper(os.Args[len(os.Args)-1])
	case "work":
		// Work the store until stdin closes.
		s, err := sqlite.Open(context.Background(), os.Args[len(os.Args)-1])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("opened")
		_, _ = io.Copy(io.Discard, os.Stdin)
		s.Close()
	case "hold":
		path, d := os.Args[len(os.Args)-2], os.Args[len(os.Args)-1]
		hold, err := time.ParseDuration(d)
		if err != nil {
			panic(err)
		}
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			panic(err)
		}
		conn, err := db.Conn(context.Background())
		if err != nil {
			panic(err)
		}
		if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
			panic(err)
		}
		fmt.Println("locked")
		time.Sleep(hold)
		if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
			panic(err)
		}
	}
	os.Exit(0)
}

func helperCommand(t *testing.T, mode string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "DURABLE_SQLITE_HELPER="+mode)
	return cmd
}

func helperProcess(t *testing.T, mode string, args ...string) (string, error) {
	t.Helper()
	out, err := helperCommand(t, mode, args...).CombinedOutput()
	return string(out), err
}
