package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
	"github.com/durablego/toolkit/runtime/store/storetest"
)

// dsnEnv names the environment variable with the DSN of a test database.
// Tests skip when it is unset and fail when the server cannot be reached.
const dsnEnv = "DURABLE_TEST_POSTGRES"

func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("%s is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", dsnEnv)
	}
	return dsn
}

// testSchema returns a fresh schema name and drops the schema in cleanup,
// after every store opened on it is closed (cleanups run last-in first-out).
func testSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "durable_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(tb, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(tb, err)
	})
	return schema
}

// openStore opens a store on a fresh schema of the test database, closed
// and dropped in cleanup.
func openStore(tb testing.TB, opts ...postgres.Option) *postgres.Store {
	tb.Helper()
	dsn := testDSN(tb)
	schema := testSchema(tb)
	opts = append([]postgres.Option{postgres.WithSchema(schema), postgres.WithMaxConns(4)}, opts...)
	s, err := postgres.Open(context.Background(), dsn, opts...)
	require.NoError(tb, err, "%s is set, so the server must be reachable", dsnEnv)
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name       string
		syncCommit string
	}{
		{"SynchronousCommitOn", "on"},
		{"SynchronousCommitOff", "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) store.Store {
				return openStore(t, postgres.WithSynchronousCommit(tc.syncCommit))
			})
		})
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("ConcurrentOpensMigrateOnce", func(t *testing.T) {
		t.Parallel()
		dsn := testDSN(t)
		schema := testSchema(t)

		const n = 8
		stores := make([]*postgres.Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				stores[i], errs[i] = postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMaxConns(2))
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			t.Cleanup(func() { require.NoError(t, stores[i].Close()) })
		}

		var versions, latest int
		require.NoError(t, stores[0].Pool().QueryRow(ctx,
			"SELECT count(*), max(version) FROM schema_version").Scan(&versions, &latest))
		require.Equal(t, postgres.SchemaVersion(), versions, "each migration applied once")
		require.Equal(t, postgres.SchemaVersion(), latest)

		// Every store works on the same tables.
		run := &store.Run{RunID: "r1", WorkflowID: "wf1", Workflow: "W"}
		require.NoError(t, stores[3].CreateRun(ctx, &store.CreateRunParams{Run: run}))
		got, err := stores[5].GetRun(ctx, "r1")
		require.NoError(t, err)
		require.Equal(t, "wf1", got.WorkflowID)
	})

	t.Run("UpgradesAnOlderSchema", func(t *testing.T) {
		t.Parallel()
		dsn := testDSN(t)
		schema := testSchema(t)

		// A schema as the first release left it: migration 1 only.
		v1, err := os.ReadFile("migrations/001_init.sql")
		require.NoError(t, err)
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(ctx)
		ident := pgx.Identifier{schema}.Sanitize()
		_, err = conn.Exec(ctx, "CREATE SCHEMA "+ident+"; SET search_path TO "+ident+";"+string(v1)+
			"; CREATE TABLE schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"+
			"; INSERT INTO schema_version (version, name) VALUES (1, 'init')"+
			"; INSERT INTO runs (run_id, workflow_id, workflow, status) VALUES ('old', 'old', 'W', 'running')")
		require.NoError(t, err)

		s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
		require.NoError(t, err)
		defer s.Close()
		var version int
		require.NoError(t, s.Pool().QueryRow(ctx, "SELECT max(version) FROM schema_version").Scan(&version))
		require.Equal(t, postgres.SchemaVersion(), version)
		_, err = s.GetRun(ctx, "old")
		require.NoError(t, err, "data survives the upgrade")
	})

	t.Run("ReopenKeepsData", func(t *testing.T) {
		t.Parallel()
		dsn := testDSN(t)
		schema := testSchema(t)

		s1, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
		require.NoError(t, err)
		require.NoError(t, s1.CreateRun(ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r1", WorkflowID: "wf1"}}))
		require.NoError(t, s1.Close())

		s2, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
		require.NoError(t, err)
		defer s2.Close()
		_, err = s2.GetRun(ctx, "r1")
		require.NoError(t, err)
	})

	t.Run("NewerSchemaIsIncompatible", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)

		_, err := s.Pool().Exec(ctx, "INSERT INTO schema_version (version, name) VALUES ($1, 'from_the_future')",
			postgres.SchemaVersion()+1)
		require.NoError(t, err)

		for _, migrate := range []bool{true, false} {
			_, err = postgres.Open(ctx, testDSN(t), postgres.WithSchema(s.Schema()), postgres.WithMigrate(migrate))
			require.ErrorIs(t, err, store.ErrIncompatible, "migrate=%v", migrate)
		}
	})

	t.Run("ForeignTablesAreIncompatible", func(t *testing.T) {
		t.Parallel()
		dsn := testDSN(t)
		schema := testSchema(t)

		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(ctx)
		ident := pgx.Identifier{schema}.Sanitize()
		_, err = conn.Exec(ctx, "CREATE SCHEMA "+ident+"; CREATE TABLE "+ident+".runs (id int)")
		require.NoError(t, err)

		_, err = postgres.Open(ctx, dsn, postgres.WithSchema(schema))
		require.ErrorIs(t, err, store.ErrIncompatible)
	})

	t.Run("WithoutMigrateRequiresAMigratedSchema", func(t *testing.T) {
		t.Parallel()
		dsn := testDSN(t)
		schema := testSchema(t)

		_, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMigrate(false))
		require.ErrorContains(t, err, "run postgres.Migrate")

		require.NoError(t, postgres.Migrate(ctx, dsn, postgres.WithSchema(schema)))
		s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMigrate(false))
		require.NoError(t, err)
		require.NoError(t, s.Close())
	})

	t.Run("UnreachableServerGivesAClearError", func(t *testing.T) {
		t.Parallel()

		// Port 1 on loopback refuses connections; no test database needed.
		start := time.Now()
		_, err := postgres.Open(ctx, "postgres://someone:secret@127.0.0.1:1/nowhere?sslmode=disable")
		require.Error(t, err)
		require.Contains(t, err.Error(), "cannot connect to 127.0.0.1:1")
		require.Contains(t, err.Error(), `database "nowhere"`)
		require.NotContains(t, err.Error(), "secret", "the password stays out of errors")
		require.Less(t, time.Since(start), postgres.ConnectTimeoutDefault)
	})

	t.Run("MalformedDSNDoesNotEchoIt", func(t *testing.T) {
		t.Parallel()

		_, err := postgres.Open(ctx, "postgres://u:secret@host:notaport/db")
		require.Error(t, err)
		require.NotContains(t, err.Error(), "secret")
	})
}

// expireLease moves a run's (or task's) lease into the past with the
// database's clock, so tests need not wait for it.
func expireLease(t *testing.T, s *postgres.Store, table, id string) {
	t.Helper()
	key := map[string]string{"runs": "run_id", "tasks": "id"}[table]
	tag, err := s.Pool().Exec(context.Background(),
		"UPDATE "+table+" SET lease_until = now() - interval '1 second' WHERE "+key+" = $1", id)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
}

func TestFencing(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	type testBundle struct {
		store *postgres.Store
		run   *store.Run
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		s := openStore(t)
		run := &store.Run{RunID: "r1", WorkflowID: "wf1", Workflow: "W", WakeAt: time.Now().Add(-time.Minute)}
		require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{
			Run: run, Events: []store.Event{{Kind: "started"}}, Owner: "w1", Lease: time.Hour,
		}))
		return &testBundle{store: s, run: run}
	}

	t.Run("ExpiredLeaseIsLostByTheDatabaseClock", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		expireLease(t, b.store, "runs", b.run.RunID)
		err := b.store.Commit(ctx, &store.CommitParams{RunID: "r1", Owner: "w1", ExpectLen: 1,
			Events: []store.Event{{Kind: "late"}}})
		require.ErrorIs(t, err, store.ErrLeaseLost)

		res, err := b.store.RenewLeases(ctx, &store.RenewLeasesParams{Owner: "w1", RunIDs: []string{"r1"}, Lease: time.Hour})
		require.NoError(t, err)
		require.Equal(t, []string{"r1"}, res.LostRuns, "an expired lease is not renewed")

		claimed, err := b.store.ClaimRuns(ctx, &store.ClaimRunsParams{Owner: "w2", Limit: 10, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, claimed, 1, "another owner claims the run once the lease expired")
		require.NoError(t, b.store.Commit(ctx, &store.CommitParams{RunID: "r1", Owner: "w2", ExpectLen: 1,
			Events: []store.Event{{Kind: "resumed"}}}))
		err = b.store.Commit(ctx, &store.CommitParams{RunID: "r1", Owner: "w1", ExpectLen: 2})
		require.ErrorIs(t, err, store.ErrLeaseLost)
	})

	t.Run("PrimaryKeyIsTheLastLineOfDefence", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		// Simulate a bug that wrote event 2 without moving journal_len.
		_, err := b.store.Pool().Exec(ctx, "INSERT INTO events (run_id, seq, kind) VALUES ('r1', 2, 'rogue')")
		require.NoError(t, err)
		err = b.store.Commit(ctx, &store.CommitParams{RunID: "r1", Owner: "w1", ExpectLen: 1,
			Events: []store.Event{{Kind: "next"}}})
		require.ErrorIs(t, err, store.ErrConflict)

		got, err := b.store.GetRun(ctx, "r1")
		require.NoError(t, err)
		require.EqualValues(t, 1, got.JournalLen, "the failed commit changed nothing")
	})

	t.Run("ExpiredTaskLeaseFencesUpdateAndComplete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		require.NoError(t, b.store.Commit(ctx, &store.CommitParams{RunID: "r1", Owner: "w1", ExpectLen: 1,
			CreateTasks: []*store.Task{{ID: "t1", Kind: "activity"}}}))
		tasks, err := b.store.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: "a", Limit: 1, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		require.Equal(t, "r1", tasks[0].RunID, "a task takes its run's ID")

		expireLease(t, b.store, "tasks", "t1")
		err = b.store.UpdateTask(ctx, &store.UpdateTaskParams{ID: "t1", Owner: "a", Lease: time.Hour})
		require.ErrorIs(t, err, store.ErrLeaseLost)
		err = b.store.CompleteTask(ctx, &store.CompleteTaskParams{ID: "t1", Owner: "a",
			Result: &store.DeliverParams{Kind: "result"}})
		require.ErrorIs(t, err, store.ErrLeaseLost)

		tasks, err = b.store.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: "b", Limit: 1, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		require.True(t, tasks[0].Abandoned)
		result := &store.DeliverParams{Kind: "result", Name: "t1"}
		require.NoError(t, b.store.CompleteTask(ctx, &store.CompleteTaskParams{ID: "t1", Owner: "b", Result: result}))
		require.Equal(t, "r1", result.RunID, "CompleteTask fills in the result's RunID")
	})

	t.Run("OneOpenRunPerWorkflowIDUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, postgres.WithMaxConns(8))

		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.CreateRun(ctx, &store.CreateRunParams{
					Run: &store.Run{RunID: fmt.Sprint("r", i), WorkflowID: "same", Workflow: "W"},
				})
			})
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			if err == nil {
				created++
				continue
			}
			require.ErrorIs(t, err, store.ErrAlreadyExists)
		}
		require.Equal(t, 1, created)
	})
}

func TestClaimUnderContention(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	const (
		items    = 600
		claimers = 24
	)

	// claimAll runs claimers concurrently until every item is claimed and
	// fails on any item handed out twice.
	claimAll := func(t *testing.T, claim func(owner string) ([]string, error)) {
		t.Helper()
		var (
			mu    sync.Mutex
			owner = map[string]string{}
			dups  []string
			errs  []error
			wg    sync.WaitGroup
		)
		for w := range claimers {
			name := fmt.Sprint("w", w)
			wg.Go(func() {
				for {
					ids, err := claim(name)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					for _, id := range ids {
						if prev, ok := owner[id]; ok {
							dups = append(dups, id+" to "+prev+" and "+name)
						}
						owner[id] = name
					}
					done := len(owner) >= items || err != nil
					mu.Unlock()
					if done {
						return
					}
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		require.Empty(t, dups)
		require.Len(t, owner, items)
	}

	t.Run("ClaimRunsNeverDoubleClaims", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, postgres.WithMaxConns(12))

		past := time.Now().Add(-time.Minute)
		var b []*store.CreateRunParams
		for i := range items {
			b = append(b, &store.CreateRunParams{Run: &store.Run{
				RunID: fmt.Sprint("r", i), WorkflowID: fmt.Sprint("wf", i), Workflow: "W", WakeAt: past,
			}})
		}
		creator := &store.Run{RunID: "creator", WorkflowID: "creator", Workflow: "W"}
		require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{Run: creator, Owner: "c", Lease: time.Hour}))
		require.NoError(t, s.Commit(ctx, &store.CommitParams{RunID: "creator", Owner: "c", CreateRuns: b}))

		claimAll(t, func(owner string) ([]string, error) {
			runs, err := s.ClaimRuns(ctx, &store.ClaimRunsParams{Owner: owner, Limit: 5, Lease: time.Hour})
			ids := make([]string, len(runs))
			for i, r := range runs {
				ids[i] = r.RunID
			}
			return ids, err
		})
	})

	t.Run("ClaimTasksNeverDoubleClaims", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, postgres.WithMaxConns(12))

		var tasks []*store.Task
		for i := range items {
			tasks = append(tasks, &store.Task{ID: fmt.Sprint("t", i), Kind: "activity"})
		}
		run := &store.Run{RunID: "r", WorkflowID: "wf", Workflow: "W"}
		require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{Run: run, Tasks: tasks}))

		claimAll(t, func(owner string) ([]string, error) {
			got, err := s.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: owner, Limit: 5, Lease: time.Hour})
			ids := make([]string, len(got))
			for i, task := range got {
				ids[i] = task.ID
			}
			return ids, err
		})
	})
}

func TestNotify(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	// next returns the next notification or fails after a bound.
	next := func(t *testing.T, ch <-chan store.Notification) store.Notification {
		t.Helper()
		select {
		case n, ok := <-ch:
			require.True(t, ok, "subscription closed")
			return n
		case <-time.After(10 * time.Second):
			require.FailNow(t, "no notification")
			return store.Notification{}
		}
	}
	// expect skips notifications until want arrives.
	expect := func(t *testing.T, ch <-chan store.Notification, want store.Notification) {
		t.Helper()
		for next(t, ch) != want {
		}
	}

	t.Run("TaskCompletionAndReleaseNotify", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch, err := s.Subscribe(subCtx)
		require.NoError(t, err)

		run := &store.Run{RunID: "r1", WorkflowID: "wf1", Workflow: "W", Queue: "wq"}
		require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{Run: run, Owner: "w1", Lease: time.Hour,
			Tasks: []*store.Task{{ID: "t1", Kind: "activity", Queue: "aq"}}}))
		expect(t, ch, store.Notification{Kind: "task", Queue: "aq"})

		_, err = s.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: "a", Limit: 1, Lease: time.Hour})
		require.NoError(t, err)
		require.NoError(t, s.UpdateTask(ctx, &store.UpdateTaskParams{ID: "t1", Owner: "a", Release: true, Attempt: 2}))
		expect(t, ch, store.Notification{Kind: "task", Queue: "aq"})

		_, err = s.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: "a", Limit: 1, Lease: time.Hour})
		require.NoError(t, err)
		require.NoError(t, s.CompleteTask(ctx, &store.CompleteTaskParams{ID: "t1", Owner: "a",
			Result: &store.DeliverParams{Kind: "result"}}))
		expect(t, ch, store.Notification{Kind: "run", Queue: "wq"})
	})

	t.Run("NotificationsStayInTheirSchema", func(t *testing.T) {
		t.Parallel()
		a, b := openStore(t), openStore(t)
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		chA, err := a.Subscribe(subCtx)
		require.NoError(t, err)
		chB, err := b.Subscribe(subCtx)
		require.NoError(t, err)

		require.NoError(t, a.CreateRun(ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r", WorkflowID: "w", Queue: "from-a"}}))
		require.NoError(t, b.CreateRun(ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r", WorkflowID: "w", Queue: "from-b"}}))
		// Notifications of one transaction arrive in commit order, so B's
		// first notification would be A's if they leaked.
		require.Equal(t, store.Notification{Kind: "run", Queue: "from-b"}, next(t, chB))
		require.Equal(t, store.Notification{Kind: "run", Queue: "from-a"}, next(t, chA))
	})

	t.Run("ListenerReconnectsAfterConnectionLoss", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch, err := s.Subscribe(subCtx)
		require.NoError(t, err)

		var killed int
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = 'durable-listener' AND query = $1`,
			"LISTEN "+pgx.Identifier{"durable." + s.Schema()}.Sanitize()).Scan(&killed))
		require.Equal(t, 1, killed)

		// After reconnecting, the listener reports that it may have missed
		// notifications, then delivers new ones.
		expect(t, ch, store.Notification{Kind: "run"})
		require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r", WorkflowID: "w", Queue: "q"}}))
		expect(t, ch, store.Notification{Kind: "run", Queue: "q"})
	})

	t.Run("CloseEndsSubscriptions", func(t *testing.T) {
		t.Parallel()
		dsn := testDSN(t)
		schema := testSchema(t)
		s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
		require.NoError(t, err)
		ch, err := s.Subscribe(ctx)
		require.NoError(t, err)

		require.NoError(t, s.Close())
		for range ch {
		}
		_, err = s.Subscribe(ctx)
		require.Error(t, err)
	})
}

func TestInvalidStatusIsRejected(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := openStore(t)
	require.NoError(t, s.CreateRun(ctx, &store.CreateRunParams{
		Run: &store.Run{RunID: "r1", WorkflowID: "wf1", Workflow: "W"}, Owner: "w1", Lease: time.Hour,
	}))

	err := s.Commit(ctx, &store.CommitParams{RunID: "r1", Owner: "w1", Update: &store.RunUpdate{}})
	require.ErrorContains(t, err, "invalid status")
	err = s.SetRunStatus(ctx, &store.SetRunStatusParams{RunID: "r1", Status: "paused"})
	require.ErrorContains(t, err, "invalid status")
	err = s.CreateRun(ctx, &store.CreateRunParams{Run: &store.Run{RunID: "r2", WorkflowID: "wf2", Status: "new"}})
	require.ErrorContains(t, err, "invalid status")

	got, err := s.GetRun(ctx, "r1")
	require.NoError(t, err)
	require.Equal(t, store.StatusRunning, got.Status)
	require.Equal(t, "w1", got.Owner)
}
