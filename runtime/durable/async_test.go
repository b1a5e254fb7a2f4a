package durable_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// approvals is an activity that completes asynchronously: it hands its
// task token to the test and returns ErrResultPending. With retried set,
// an attempt that finds heartbeat details returns them instead.
type approvals struct {
	tokens chan []byte
}

func (a *approvals) Approve(ctx context.Context, id string) (string, error) {
	if durable.HasHeartbeatDetails(ctx) {
		var d string
		if err := durable.HeartbeatDetails(ctx, &d); err != nil {
			return "", err
		}
		return "resumed from " + d, nil
	}
	a.tokens <- durable.GetActivityInfo(ctx).TaskToken
	return "", durable.ErrResultPending
}

// SelfApprove completes itself by token before it returns
// ErrResultPending: the outcome may come before the attempt ends.
func (a *approvals) SelfApprove(ctx context.Context, id string) (string, error) {
	token := durable.GetActivityInfo(ctx).TaskToken
	if err := durable.ActivityClient(ctx).CompleteActivity(ctx, token, "SELF "+id, nil); err != nil {
		return "", err
	}
	return "", durable.ErrResultPending
}

// SelfApprovalWorkflow calls SelfApprove.
func SelfApprovalWorkflow(ctx context.Context, id string) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{StartToCloseTimeout: time.Minute})
	return durable.Call[string](ctx, "SelfApprove", id)
}

// QueueApprovalWorkflow calls Approve on the queue "approvals".
func QueueApprovalWorkflow(ctx context.Context, id string) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{Queue: "approvals", StartToCloseTimeout: time.Minute})
	return durable.Call[string](ctx, "Approve", id)
}

// LocalApprovalWorkflow calls Approve as a local activity, which cannot
// complete asynchronously.
func LocalApprovalWorkflow(ctx context.Context, id string) (string, error) {
	return durable.CallLocal[string](ctx, "Approve", id)
}

// ApprovalWorkflow waits for the Approve activity with the given
// timeouts (milliseconds; 0: none) and attempts.
func ApprovalWorkflow(ctx context.Context, id string, startToCloseMs, heartbeatMs, attempts int) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{
		StartToCloseTimeout: time.Duration(startToCloseMs) * time.Millisecond,
		HeartbeatTimeout:    time.Duration(heartbeatMs) * time.Millisecond,
		RetryPolicy:         &durable.RetryPolicy{MaximumAttempts: attempts, InitialInterval: time.Millisecond},
	})
	return durable.Call[string](ctx, "Approve", id)
}

// asyncBackend opens a store for a test: open returns functions that open
// engines on it, workers that run the workflow and client-only engines,
// as other processes would.
type asyncBackend struct {
	name string
	open func(t *testing.T) (worker func(t *testing.T, opts ...durable.Option) *durable.Engine, client func(t *testing.T) *durable.Engine)
}

func asyncBackends() []asyncBackend {
	quiet := durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return []asyncBackend{
		{
			name: "SQLite",
			open: func(t *testing.T) (worker func(t *testing.T, opts ...durable.Option) *durable.Engine, client func(t *testing.T) *durable.Engine) {
				dsn := "sqlite:" + filepath.Join(t.TempDir(), "async.db")
				worker = func(t *testing.T, opts ...durable.Option) *durable.Engine {
					return openEngine(t, dsn, append([]durable.Option{quiet, durable.WithPollInterval(20 * time.Millisecond)}, opts...)...)
				}
				client = func(t *testing.T) *durable.Engine { return openEngine(t, dsn, quiet, durable.WithClientOnly()) }
				return worker, client
			},
		},
		{
			name: "PostgreSQL",
			open: func(t *testing.T) (worker func(t *testing.T, opts ...durable.Option) *durable.Engine, client func(t *testing.T) *durable.Engine) {
				dsn, schema := pgSchema(t)
				worker = func(t *testing.T, opts ...durable.Option) *durable.Engine {
					return openPGEngine(t, dsn, schema, opts...)
				}
				client = func(t *testing.T) *durable.Engine { return openPGEngine(t, dsn, schema, durable.WithClientOnly()) }
				return worker, client
			},
		},
	}
}

// waitPending waits until the run keeps an attempt in a pending row.
func waitPending(t *testing.T, e *durable.Engine, runID string) {
	t.Helper()
	require.Eventually(t, func() bool {
		tasks, err := e.Store().ListTasks(context.Background(), runID)
		require.NoError(t, err)
		for _, tk := range tasks {
			if tk.Kind == "activity-pending" {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the attempt's pending row")
}

type asyncBundle struct {
	ctx       context.Context
	acts      *approvals
	worker    *durable.Engine
	client    *durable.Engine
	newWorker func(t *testing.T, opts ...durable.Option) *durable.Engine
}

func TestAsyncCompletion(t *testing.T) {
	t.Parallel()
	for _, b := range asyncBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			setup := func(t *testing.T, opts ...durable.Option) *asyncBundle {
				t.Helper()
				bundle := &asyncBundle{ctx: waitCtx(t), acts: &approvals{tokens: make(chan []byte, 4)}}
				worker, client := b.open(t)
				bundle.newWorker = worker
				bundle.worker = worker(t, opts...)
				bundle.worker.RegisterWorkflow(ApprovalWorkflow)
				bundle.worker.RegisterWorkflow(SelfApprovalWorkflow)
				bundle.worker.RegisterWorkflow(LocalApprovalWorkflow)
				bundle.worker.RegisterWorkflow(QueueApprovalWorkflow)
				bundle.worker.RegisterActivity(bundle.acts)
				bundle.client = client(t)
				return bundle
			}
			start := func(t *testing.T, bundle *asyncBundle, id string, startToCloseMs, heartbeatMs, attempts int) (durable.Run, []byte) {
				t.Helper()
				run, err := bundle.worker.Start(bundle.ctx, durable.StartOptions{ID: id}, ApprovalWorkflow, "e-1", startToCloseMs, heartbeatMs, attempts)
				require.NoError(t, err)
				var token []byte
				select {
				case token = <-bundle.acts.tokens:
				case <-bundle.ctx.Done():
					t.Fatal("the activity never ran")
				}
				return run, token
			}

			t.Run("CompleteFromASecondEngine", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, token := start(t, bundle, "approve", 0, 0, 1)
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, token, "APPROVED", nil))
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "APPROVED", got)

				err := bundle.client.CompleteActivity(bundle.ctx, token, "AGAIN", nil)
				require.ErrorIs(t, err, durable.ErrActivityNotFound)
				require.ErrorContains(t, err, "is completed")
			})

			t.Run("CompleteAfterARestart", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, token := start(t, bundle, "restart", 0, 0, 1)
				runID := run.(interface{ RunID() string }).RunID()
				waitPending(t, bundle.worker, runID)
				require.NoError(t, bundle.worker.Close())

				again := bundle.newWorker(t)
				again.RegisterWorkflow(ApprovalWorkflow)
				again.RegisterWorkflow(SelfApprovalWorkflow)
				again.RegisterWorkflow(LocalApprovalWorkflow)
				again.RegisterActivity(bundle.acts)
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, token, "LATER", nil))
				var got string
				require.NoError(t, again.Run("restart").Get(bundle.ctx, &got))
				require.Equal(t, "LATER", got)
				require.Empty(t, bundle.acts.tokens, "the activity did not run again")
			})

			t.Run("CompleteWithAnError", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, token := start(t, bundle, "reject", 0, 0, 1)
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, token, nil, durable.NewApplicationError("rejected", "Rejected")))
				err := run.Get(bundle.ctx, new(string))
				var appErr *durable.ApplicationError
				require.ErrorAs(t, err, &appErr)
				require.Equal(t, "Rejected", appErr.Type())
			})

			t.Run("AnErrorByTokenIsRetried", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, first := start(t, bundle, "retried", 0, 0, 2)
				waitPending(t, bundle.worker, run.(interface{ RunID() string }).RunID())
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, first, nil, errors.New("try again")))
				var second []byte
				select {
				case second = <-bundle.acts.tokens:
				case <-bundle.ctx.Done():
					t.Fatal("no second attempt after the first failed by token")
				}
				waitPending(t, bundle.worker, run.(interface{ RunID() string }).RunID())
				require.ErrorContains(t, bundle.client.CompleteActivity(bundle.ctx, first, "LATE", nil), "attempt 2 replaced it")
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, second, "SECOND", nil))
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "SECOND", got)
			})

			t.Run("CompleteByID", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, _ := start(t, bundle, "by-id", 0, 0, 1)
				runID := run.(interface{ RunID() string }).RunID()
				waitPending(t, bundle.worker, runID)
				h, err := bundle.client.History(bundle.ctx, "by-id", "")
				require.NoError(t, err)
				require.Len(t, h.PendingActivities, 1)
				require.Equal(t, "pending", h.PendingActivities[0].State)
				require.Equal(t, 1, h.PendingActivities[0].Attempt)
				err = bundle.client.CompleteActivityByID(bundle.ctx, "", "by-id", "", "2", "NOPE", nil)
				require.ErrorIs(t, err, durable.ErrActivityNotFound)
				require.ErrorContains(t, err, "no such activity")
				require.NoError(t, bundle.client.CompleteActivityByID(bundle.ctx, durable.Namespace, "by-id", "", "1", "BY ID", nil))
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "BY ID", got)
			})

			t.Run("TimeoutRetriesAndTheOldTokenIsStale", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				// The second attempt has the same StartToClose timeout,
				// long enough for the test to complete it first.
				run, first := start(t, bundle, "timeout", 1500, 0, 2)
				var second []byte
				select {
				case second = <-bundle.acts.tokens:
				case <-bundle.ctx.Done():
					t.Fatal("no second attempt after the first timed out")
				}
				waitPending(t, bundle.worker, run.(interface{ RunID() string }).RunID())
				err := bundle.client.CompleteActivity(bundle.ctx, first, "LATE", nil)
				require.ErrorIs(t, err, durable.ErrActivityNotFound)
				require.ErrorContains(t, err, "attempt 2 replaced it")
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, second, "SECOND", nil))
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "SECOND", got)
			})

			t.Run("TimeoutFailsTheCall", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, token := start(t, bundle, "timeout-fails", 200, 0, 1)
				err := run.Get(bundle.ctx, new(string))
				var te *durable.TimeoutError
				require.ErrorAs(t, err, &te)
				require.Equal(t, "StartToClose", te.Kind)
				err = bundle.client.CompleteActivity(bundle.ctx, token, "LATE", nil)
				require.ErrorIs(t, err, durable.ErrActivityNotFound)
			})

			t.Run("HeartbeatDetailsReachTheNextAttempt", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				// A heartbeat timeout long enough for the heartbeat to
				// reach the run first on a busy machine.
				run, token := start(t, bundle, "heartbeat", 0, 1500, 2)
				waitPending(t, bundle.worker, run.(interface{ RunID() string }).RunID())
				require.NoError(t, bundle.client.RecordActivityHeartbeat(bundle.ctx, token, "step 3"))
				// No more heartbeats: the heartbeat timeout ends the
				// attempt, and the next one reads the details.
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "resumed from step 3", got)
			})

			t.Run("CompleteBeforeTheActivityReturns", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, err := bundle.worker.Start(bundle.ctx, durable.StartOptions{ID: "self"}, SelfApprovalWorkflow, "e-2")
				require.NoError(t, err)
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "SELF e-2", got)
			})

			t.Run("AnAttemptWithATaskRow", func(t *testing.T) {
				t.Parallel()
				// The attempt has a task row: on PostgreSQL it runs on
				// another worker, the only one of its queue, which tells
				// the run through its inbox; on SQLite (one working
				// process per file) every attempt gets a row here.
				var bundle *asyncBundle
				if b.name == "PostgreSQL" {
					bundle = setup(t)
					other := bundle.newWorker(t, durable.WithQueues("approvals"))
					other.RegisterActivity(bundle.acts)
				} else {
					bundle = setup(t, durable.WithActivityTaskRows(true), durable.WithQueues(durable.QueueDefault, "approvals"))
				}
				run, err := bundle.worker.Start(bundle.ctx, durable.StartOptions{ID: "queue"}, QueueApprovalWorkflow, "e-4")
				require.NoError(t, err)
				token := <-bundle.acts.tokens
				waitPending(t, bundle.worker, run.(interface{ RunID() string }).RunID())
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, token, "ROW", nil))
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "ROW", got)
			})

			t.Run("CompleteAnEvictedRun", func(t *testing.T) {
				t.Parallel()
				// The run waits only for its pending attempt (deadline a
				// minute away): it leaves memory, and the outcome brings
				// it back.
				bundle := setup(t, durable.WithEvictAfter(time.Millisecond))
				run, token := start(t, bundle, "evicted", 60_000, 0, 1)
				runID := run.(interface{ RunID() string }).RunID()
				waitPending(t, bundle.worker, runID)
				require.Eventually(t, func() bool {
					r, err := bundle.worker.Store().GetRun(bundle.ctx, runID)
					require.NoError(t, err)
					return r.Owner == ""
				}, 10*time.Second, 10*time.Millisecond, "the run is unloaded")
				require.NoError(t, bundle.client.CompleteActivity(bundle.ctx, token, "WOKEN", nil))
				var got string
				require.NoError(t, run.Get(bundle.ctx, &got))
				require.Equal(t, "WOKEN", got)
			})

			t.Run("CancelWhilePending", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, token := start(t, bundle, "cancel", 0, 0, 1)
				waitPending(t, bundle.worker, run.(interface{ RunID() string }).RunID())
				require.NoError(t, bundle.client.Cancel(bundle.ctx, "cancel"))
				require.ErrorIs(t, run.Get(bundle.ctx, new(string)), context.Canceled)
				tasks, err := bundle.worker.Store().ListTasks(bundle.ctx, run.(interface{ RunID() string }).RunID())
				require.NoError(t, err)
				require.Empty(t, tasks, "the pending row is gone")
				require.ErrorIs(t, bundle.client.CompleteActivity(bundle.ctx, token, "LATE", nil), durable.ErrActivityNotFound)
			})

			t.Run("LocalActivitiesCannotPend", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				run, err := bundle.worker.Start(bundle.ctx, durable.StartOptions{ID: "local"}, LocalApprovalWorkflow, "e-3")
				require.NoError(t, err)
				<-bundle.acts.tokens
				err = run.Get(bundle.ctx, new(string))
				var appErr *durable.ApplicationError
				require.ErrorAs(t, err, &appErr)
				require.Equal(t, "ResultPending", appErr.Type())
			})

			t.Run("BadTokens", func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				for _, tc := range []struct {
					name  string
					token []byte
					want  error
					text  string
				}{
					{"Empty", nil, durable.ErrInvalidTaskToken, "empty task token"},
					{"Foreign", []byte("CiQ0YjE3"), durable.ErrInvalidTaskToken, "does not start with"},
					{"Garbled", []byte("durable1.!!!"), durable.ErrInvalidTaskToken, "task token"},
					{"UnknownRun", []byte("durable1.eyJydW4iOiJub3BlIiwid29ya2Zsb3ciOiJ3IiwiYWN0aXZpdHkiOjEsImF0dGVtcHQiOjF9"), durable.ErrActivityNotFound, "no such run"},
				} {
					err := bundle.client.CompleteActivity(bundle.ctx, tc.token, "x", nil)
					require.ErrorIs(t, err, tc.want, tc.name)
					require.ErrorContains(t, err, tc.text, tc.name)
					require.False(t, errors.Is(err, store.ErrNotFound), tc.name)
				}
			})
		})
	}
}
