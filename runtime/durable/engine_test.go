package durable_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// waitCtx bounds every wait of a test.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openEngine(t *testing.T, dsn string, opts ...durable.Option) *durable.Engine {
	t.Helper()
	e, err := durable.Open(context.Background(), dsn, append([]durable.Option{durable.WithPollInterval(20 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

// verifyAll replays every closed run of the store in a fresh engine.
func verifyAll(t *testing.T, e *durable.Engine) {
	t.Helper()
	runs, err := e.Store().ListRuns(context.Background(), &store.ListRunsParams{})
	require.NoError(t, err)
	for _, r := range runs {
		if r.Status.Open() {
			continue
		}
		require.NoError(t, e.Verify(context.Background(), r.RunID), "run %s (%s)", r.RunID, r.Workflow)
	}
}

func Greet(ctx context.Context, name string) (string, error) { return "hello " + name, nil }

func SignalSleepQuery(ctx context.Context, n int) (string, error) {
	state := "started"
	if err := durable.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	g, err := durable.Call[string](ctx, Greet, "a")
	if err != nil {
		return "", err
	}
	state = "sleeping"
	if err := durable.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
		return "", err
	}
	state = "waiting"
	msg, err := durable.Receive[string](ctx, "go")
	if err != nil {
		return "", err
	}
	state = "done"
	return g + "/" + msg, nil
}

func TestEngine(t *testing.T) {
	t.Parallel()

	t.Run("SignalSleepQuery", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		e := openEngine(t, "memory:")
		e.RegisterWorkflow(SignalSleepQuery)
		e.RegisterActivity(Greet)
		run, err := e.Start(ctx, durable.StartOptions{ID: "ssq"}, SignalSleepQuery, 50)
		require.NoError(t, err)
		require.NoError(t, e.Signal(ctx, "ssq", "go", "now"))
		var out string
		require.NoError(t, run.Get(ctx, &out))
		require.Equal(t, "hello a/now", out)
		v, err := e.Query(ctx, "ssq", "state")
		require.NoError(t, err)
		var st string
		require.NoError(t, v.Get(&st))
		require.Equal(t, "done", st)
		verifyAll(t, e)
	})

	t.Run("ResumesAfterRestart", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
		e1, err := durable.Open(ctx, dsn)
		require.NoError(t, err)
		e1.RegisterWorkflow(SignalSleepQuery)
		e1.RegisterActivity(Greet)
		_, err = e1.Start(ctx, durable.StartOptions{ID: "r"}, SignalSleepQuery, 300)
		require.NoError(t, err)
		require.NoError(t, e1.Signal(ctx, "r", "go", "later"))
		require.NoError(t, e1.Close())

		e2 := openEngine(t, dsn)
		e2.RegisterWorkflow(SignalSleepQuery)
		e2.RegisterActivity(Greet)
		var out string
		require.NoError(t, e2.Run("r").Get(ctx, &out))
		require.Equal(t, "hello a/later", out)
		verifyAll(t, e2)
	})

	t.Run("DuplicateIDIsRejected", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		e := openEngine(t, "memory:")
		e.RegisterWorkflow(SignalSleepQuery)
		e.RegisterActivity(Greet)
		_, err := e.Start(ctx, durable.StartOptions{ID: "dup"}, SignalSleepQuery, 1)
		require.NoError(t, err)
		_, err = e.Start(ctx, durable.StartOptions{ID: "dup"}, SignalSleepQuery, 1)
		require.ErrorIs(t, err, durable.ErrAlreadyStarted)
	})

	t.Run("CancelRunsCleanup", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		e := openEngine(t, "memory:")
		var cleaned atomic.Int32
		cleanup := func(ctx context.Context) error { cleaned.Add(1); return nil }
		wf := func(ctx context.Context) error {
			err := durable.Sleep(ctx, time.Hour)
			if errors.Is(err, context.Canceled) {
				if err := durable.Exec(context.WithoutCancel(ctx), cleanup); err != nil {
					return err
				}
			}
			return err
		}
		e.RegisterWorkflow(wf, durable.WithName("Cancellable"))
		e.RegisterActivity(cleanup, durable.WithName("Cleanup"))
		run, err := e.Start(ctx, durable.StartOptions{ID: "c"}, "Cancellable")
		require.NoError(t, err)
		require.NoError(t, e.Cancel(ctx, "c"))
		err = run.Get(ctx, nil)
		require.ErrorIs(t, err, context.Canceled)
		require.EqualValues(t, 1, cleaned.Load())
		verifyAll(t, e)
	})
}

type PermanentError struct{ Msg string }

func (e *PermanentError) Error() string { return e.Msg }

func TestRetries(t *testing.T) {
	t.Parallel()
	fast := &durable.RetryPolicy{InitialInterval: 5 * time.Millisecond, MaximumInterval: 20 * time.Millisecond}
	for _, tc := range []struct {
		name      string
		policy    durable.RetryPolicy
		failFirst int   // attempts that fail
		failWith  error // error they fail with
		wantCalls int32
		wantErr   string
	}{
		{name: "SucceedsAfterTwoFailures", failFirst: 2, failWith: errors.New("flaky"), wantCalls: 3},
		{name: "MaximumAttemptsCountsTheFirst", policy: durable.RetryPolicy{MaximumAttempts: 2}, failFirst: 5, failWith: errors.New("flaky"), wantCalls: 2, wantErr: "flaky"},
		{name: "NonRetryableTypeByGoName", policy: durable.RetryPolicy{NonRetryableErrorTypes: []string{"PermanentError"}}, failFirst: 5, failWith: &PermanentError{"perm"}, wantCalls: 1, wantErr: "perm"},
		{name: "NonRetryableApplicationError", failFirst: 5, failWith: durable.NewNonRetryableApplicationError("nope", "Bad", nil), wantCalls: 1, wantErr: "nope"},
		{name: "ApplicationErrorTypeListed", policy: durable.RetryPolicy{NonRetryableErrorTypes: []string{"Bad"}}, failFirst: 5, failWith: durable.NewApplicationError("typed", "Bad"), wantCalls: 1, wantErr: "typed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := waitCtx(t)
			e := openEngine(t, "memory:")
			var calls atomic.Int32
			act := func(ctx context.Context) (int, error) {
				n := calls.Add(1)
				if int(n) <= tc.failFirst {
					return 0, tc.failWith
				}
				return int(n), nil
			}
			policy := tc.policy
			policy.InitialInterval, policy.MaximumInterval = fast.InitialInterval, fast.MaximumInterval
			wf := func(ctx context.Context) (int, error) {
				ctx = durable.WithCallOptions(ctx, durable.CallOptions{StartToCloseTimeout: time.Minute, RetryPolicy: &policy})
				return durable.Call[int](ctx, "Flaky")
			}
			e.RegisterWorkflow(wf, durable.WithName("Retrying"))
			e.RegisterActivity(act, durable.WithName("Flaky"))
			run, err := e.Start(ctx, durable.StartOptions{}, "Retrying")
			require.NoError(t, err)
			var got int
			err = run.Get(ctx, &got)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				require.EqualValues(t, tc.wantCalls, got)
			}
			require.Equal(t, tc.wantCalls, calls.Load())
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()

	t.Run("StartToCloseCancelsTheAttempt", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		e := openEngine(t, "memory:")
		var attempts atomic.Int32
		act := func(ctx context.Context) error {
			attempts.Add(1)
			<-ctx.Done()
			return ctx.Err()
		}
		wf := func(ctx context.Context) error {
			ctx = durable.WithCallOptions(ctx, durable.CallOptions{StartToCloseTimeout: 30 * time.Millisecond, RetryPolicy: &durable.RetryPolicy{MaximumAttempts: 2, InitialInterval: time.Millisecond}})
			return durable.Exec(ctx, "Hang")
		}
		e.RegisterWorkflow(wf, durable.WithName("TimesOut"))
		e.RegisterActivity(act, durable.WithName("Hang"))
		run, err := e.Start(ctx, durable.StartOptions{}, "TimesOut")
		require.NoError(t, err)
		err = run.Get(ctx, nil)
		var te *durable.TimeoutError
		require.ErrorAs(t, err, &te)
		require.Equal(t, "StartToClose", te.Kind)
		require.EqualValues(t, 2, attempts.Load())
	})

	t.Run("HeartbeatDetailsReachTheNextAttempt", func(t *testing.T) {
		t.Parallel()
		ctx := waitCtx(t)
		e := openEngine(t, "memory:")
		act := func(ctx context.Context) (int, error) {
			info := durable.GetActivityInfo(ctx)
			start := 0
			if durable.HasHeartbeatDetails(ctx) {
				require.NoError(t, durable.HeartbeatDetails(ctx, &start))
			}
			if info.Attempt == 1 {
				durable.RecordHeartbeat(ctx, 41)
				<-ctx.Done() // stop heartbeating: the heartbeat timeout fires
				return 0, ctx.Err()
			}
			return start + 1, nil
		}
		wf := func(ctx context.Context) (int, error) {
			ctx = durable.WithCallOptions(ctx, durable.CallOptions{HeartbeatTimeout: 50 * time.Millisecond, RetryPolicy: &durable.RetryPolicy{InitialInterval: time.Millisecond}})
			return durable.Call[int](ctx, "Resumable")
		}
		e.RegisterWorkflow(wf, durable.WithName("Heartbeats"))
		e.RegisterActivity(act, durable.WithName("Resumable"))
		run, err := e.Start(ctx, durable.StartOptions{}, "Heartbeats")
		require.NoError(t, err)
		var got int
		require.NoError(t, run.Get(ctx, &got))
		require.Equal(t, 42, got)
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	require.PanicsWithError(t, "durable: RegisterWorkflow: want a function, got int", func() { e.RegisterWorkflow(42) })
	require.Panics(t, func() { e.RegisterWorkflow(func(s string) error { return nil }) })
	require.Panics(t, func() { e.RegisterActivity(func() (int, int) { return 0, 0 }) })
	e.RegisterWorkflow(Steps3)
	e.RegisterActivity(Dot)

	_, err := e.Start(ctx, durable.StartOptions{}, Greet, "x")
	require.ErrorContains(t, err, `workflow "Greet" is not registered`)
	_, err = e.Start(ctx, durable.StartOptions{}, Steps3)
	require.ErrorContains(t, err, "got 0 arguments, want 1: Steps3(string)")
	var ae *durable.ArgumentError
	require.ErrorAs(t, err, &ae)
	got, want, ok := ae.Counts()
	require.True(t, ok)
	require.Equal(t, [2]int{0, 1}, [2]int{got, want})
	_, err = e.Start(ctx, durable.StartOptions{}, Steps3, 7)
	require.ErrorContains(t, err, "argument 1 has type int, want string")

	run, err := e.Start(ctx, durable.StartOptions{}, Steps3, "s")
	require.NoError(t, err)
	var wrong int
	err = run.Get(ctx, &wrong)
	require.ErrorContains(t, err, "decode result of workflow")

	wrongCall := func(ctx context.Context) error {
		_, err := durable.Call[int](ctx, Dot, "x")
		return err
	}
	e.RegisterWorkflow(wrongCall, durable.WithName("WrongCall"))
	run, err = e.Start(ctx, durable.StartOptions{}, "WrongCall")
	require.NoError(t, err)
	require.ErrorContains(t, run.Get(ctx, nil), "the activity returns string, not int")

	// A pointer result read as its value (and back) decodes, as in
	// Temporal, where Get decodes the payload into whatever it is given.
	pointerCall := func(ctx context.Context) (string, error) {
		p, err := durable.Call[*string](ctx, Dot, "y")
		if err != nil {
			return "", err
		}
		return *p, nil
	}
	e.RegisterWorkflow(pointerCall, durable.WithName("PointerCall"))
	run, err = e.Start(ctx, durable.StartOptions{}, "PointerCall")
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "y.", out)
}

func TestNonDeterminismMakesTheRunStuck(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "nd.db")
	A := func(ctx context.Context, n int) (int, error) { return n, nil }
	B := func(ctx context.Context, s string) (string, error) { return s, nil }
	v1 := func(ctx context.Context) (int, error) {
		n, err := durable.Call[int](ctx, "A", 1)
		if err != nil {
			return 0, err
		}
		if _, err := durable.Receive[string](ctx, "go"); err != nil {
			return 0, err
		}
		return n, nil
	}
	v2 := func(ctx context.Context) (int, error) {
		if _, err := durable.Call[string](ctx, "B", "x"); err != nil {
			return 0, err
		}
		return 0, nil
	}
	e1, err := durable.Open(ctx, dsn)
	require.NoError(t, err)
	e1.RegisterWorkflow(v1, durable.WithName("W"))
	e1.RegisterActivity(A, durable.WithName("A"))
	e1.RegisterActivity(B, durable.WithName("B"))
	_, err = e1.Start(ctx, durable.StartOptions{ID: "nd"}, "W")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		evs, _ := e1.Store().ListRuns(ctx, &store.ListRunsParams{WorkflowID: "nd"})
		if len(evs) != 1 {
			return false
		}
		j, _ := e1.Store().LoadJournal(ctx, evs[0].RunID, 0)
		return len(j) >= 3
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, e1.Close())

	e2 := openEngine(t, dsn)
	e2.RegisterWorkflow(v2, durable.WithName("W"))
	e2.RegisterActivity(A, durable.WithName("A"))
	e2.RegisterActivity(B, durable.WithName("B"))
	require.NoError(t, e2.Signal(ctx, "nd", "go", "now"))
	err = e2.Run("nd").Get(ctx, nil)
	var nd *durable.NonDeterminismError
	require.ErrorAs(t, err, &nd)
	require.Equal(t, "Call A(int)", nd.Journal)
	require.Equal(t, "Call B(string)", nd.Code)
	r, err := e2.Store().CurrentRun(ctx, "nd")
	require.NoError(t, err)
	require.Equal(t, store.StatusStuck, r.Status)
	info, err := e2.Describe(ctx, "nd")
	require.NoError(t, err)
	require.Equal(t, "stuck", info.Status)
	require.ErrorAs(t, info.Error, &nd)
	require.NoError(t, e2.Close())

	// Deploy the fixed (original) code and resume: nothing was lost.
	e3 := openEngine(t, dsn)
	e3.RegisterWorkflow(v1, durable.WithName("W"))
	e3.RegisterActivity(A, durable.WithName("A"))
	e3.RegisterActivity(B, durable.WithName("B"))
	require.NoError(t, e3.Resume(ctx, "nd"))
	var n int
	require.NoError(t, e3.Run("nd").Get(ctx, &n))
	require.Equal(t, 1, n)
}

// TestNowIsTheSameOnReplay returns Now in full detail (location and
// nanoseconds); Verify replays the journal and compares the result.
func TestNowIsTheSameOnReplay(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "sqlite:"+filepath.Join(t.TempDir(), "now.db"))
	wf := func(ctx context.Context) (string, error) {
		start := durable.Now(ctx)
		if err := durable.Sleep(ctx, time.Millisecond); err != nil {
			return "", err
		}
		end := durable.Now(ctx)
		return start.Format(time.RFC3339Nano) + " " + end.Sub(start).String() + " " + end.Location().String(), nil
	}
	e.RegisterWorkflow(wf, durable.WithName("Clock"))
	run, err := e.Start(ctx, durable.StartOptions{ID: "now"}, "Clock")
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Contains(t, out, "UTC")
	verifyAll(t, e)
}

// TestCancelReachesTheRunningActivity cancels a run whose activity is
// running: the attempt's context is cancelled and the run ends canceled.
func TestCancelReachesTheRunningActivity(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	started := make(chan struct{})
	stopped := make(chan error, 1)
	act := func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return ctx.Err()
	}
	wf := func(ctx context.Context) error { return durable.Exec(ctx, "Block") }
	e.RegisterActivity(act, durable.WithName("Block"))
	e.RegisterWorkflow(wf, durable.WithName("Blocked"))
	run, err := e.Start(ctx, durable.StartOptions{ID: "blocked"}, "Blocked")
	require.NoError(t, err)
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("activity did not start")
	}
	require.NoError(t, e.Cancel(ctx, "blocked"))
	require.ErrorIs(t, run.Get(ctx, nil), context.Canceled)
	select {
	case err := <-stopped:
		require.ErrorIs(t, err, context.Canceled)
	case <-ctx.Done():
		t.Fatal("the activity's context was not cancelled")
	}
}

type orderA struct {
	ID     string
	Amount int
}

type orderB struct {
	ID     string
	Amount int
}

// TestStartAcceptsAStructThatEncodesAlike: a caller's own copy of a struct
// type is accepted (it crosses the journal as JSON); a type that does not
// decode is still a clear error.
func TestStartAcceptsAStructThatEncodesAlike(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	wf := func(ctx context.Context, o orderB) (string, error) { return fmt.Sprint(o.ID, o.Amount), nil }
	e.RegisterWorkflow(wf, durable.WithName("Take"))
	run, err := e.Start(ctx, durable.StartOptions{}, "Take", orderA{ID: "a", Amount: 2})
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "a2", out)
	_, err = e.Start(ctx, durable.StartOptions{}, "Take", struct{ Other int }{1})
	require.ErrorContains(t, err, "want durable_test.orderB")
}

func TestNewRefusesWithFsync(t *testing.T) {
	t.Parallel()
	st, err := sqlite.OpenMemory(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	_, err = durable.New(context.Background(), st, durable.WithFsync(true))
	require.ErrorContains(t, err, "sqlite.WithFsync")
	e, err := durable.New(context.Background(), st, durable.WithFsync(false))
	require.NoError(t, err)
	require.NoError(t, e.Close())
}
