package durable_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// ClientsAdd is the activity of ClientsWorkflow.
func ClientsAdd(ctx context.Context, v int) (int, error) { return v, nil }

// ClientsWorkflow sums the "add" signals (through an activity) and the
// "add" updates until a negative signal; "total" queries the sum.
func ClientsWorkflow(ctx context.Context) (int, error) {
	total := 0
	if err := durable.SetQueryHandler(ctx, "total", func() (int, error) { return total, nil }); err != nil {
		return 0, err
	}
	err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, v int) (int, error) {
		total += v
		return total, nil
	}, durable.UpdateOptions{Validator: func(v int) error {
		if v <= 0 {
			return fmt.Errorf("add %d: want a positive number", v)
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	for {
		v, err := durable.Receive[int](ctx, "add")
		if err != nil {
			return total, err
		}
		if v < 0 {
			return total, nil
		}
		got, err := durable.Call[int](ctx, ClientsAdd, v)
		if err != nil {
			return total, err
		}
		total += got
	}
}

// TestConcurrentClients starts, signals, updates, queries and cancels runs
// from three client-only engines at once while two workers work them.
// Every client call goes through the store, so the worker that has a run
// loaded learns of it from the store (ClaimRuns re-claims its own runs
// with inbox items) and its notification.
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	dsn, schema := pgSchema(t)
	for range 2 {
		w := openPGEngine(t, dsn, schema)
		w.RegisterWorkflow(ClientsWorkflow)
		w.RegisterActivity(ClientsAdd)
	}
	clients := make([]*durable.Engine, 3)
	for i := range clients {
		clients[i] = openPGEngine(t, dsn, schema, durable.WithClientOnly(), durable.WithPollInterval(20*time.Millisecond))
		clients[i].RegisterWorkflow(ClientsWorkflow) // to validate updates and answer queries by replay
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const (
		runs    = 80
		signals = 4
		update  = 1000
	)
	var (
		wg        sync.WaitGroup
		sem       = make(chan struct{}, 24)
		dupStarts atomic.Int64
		mu        sync.Mutex
		failures  []error
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Errorf(format, args...))
	}
	for i := range runs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			id := "clients-" + strconv.Itoa(i)
			client := func(k int) *durable.Engine { return clients[(i+k)%len(clients)] }

			// Two clients race to start the same workflow ID: one wins.
			var starts sync.WaitGroup
			var won atomic.Int64
			for k := range 2 {
				starts.Go(func() {
					_, err := client(k).Start(ctx, durable.StartOptions{ID: id}, ClientsWorkflow)
					switch {
					case err == nil:
						won.Add(1)
					case errors.Is(err, durable.ErrAlreadyStarted):
						dupStarts.Add(1)
					default:
						fail("start %s: %v", id, err)
					}
				})
			}
			starts.Wait()
			if won.Load() != 1 {
				fail("start %s: %d starts won, want 1", id, won.Load())
				return
			}

			want := 0
			for k := range signals {
				v := i*10 + k + 1
				want += v
				if err := client(k).Signal(ctx, id, "add", v); err != nil {
					fail("signal %s: %v", id, err)
					return
				}
			}
			if _, err := client(1).Update(ctx, id, "add", -5); err == nil || !strings.Contains(err.Error(), "want a positive number") {
				fail("update %s with a rejected value: got %v", id, err)
			}
			v, err := client(1).Update(ctx, id, "add", update)
			if err != nil {
				fail("update %s: %v", id, err)
				return
			}
			var afterUpdate int
			if err := v.Get(&afterUpdate); err != nil || afterUpdate < update || afterUpdate > update+want {
				fail("update %s returned %d (%v), want between %d and %d", id, afterUpdate, err, update, update+want)
			}
			want += update
			q, err := client(2).Query(ctx, id, "total")
			if err != nil {
				fail("query %s: %v", id, err)
				return
			}
			var total int
			if err := q.Get(&total); err != nil || total < update || total > want {
				fail("query %s returned %d (%v), want between %d and %d", id, total, err, update, want)
			}

			var got int
			if i%4 == 0 {
				if err := client(2).Cancel(ctx, id); err != nil {
					fail("cancel %s: %v", id, err)
					return
				}
				if err := client(0).Run(id).Get(ctx, &got); !errors.Is(err, context.Canceled) {
					fail("run %s after Cancel: got %v, want a cancellation", id, err)
				}
				return
			}
			if err := client(2).Signal(ctx, id, "add", -1); err != nil {
				fail("signal %s: %v", id, err)
				return
			}
			if err := client(0).Run(id).Get(ctx, &got); err != nil || got != want {
				fail("run %s: got %d (%v), want %d", id, got, err, want)
			}
		})
	}
	wg.Wait()
	require.Empty(t, failures)
	require.Equal(t, int64(runs), dupStarts.Load(), "every second start of an ID is ErrAlreadyStarted")

	checkJournals(t, pgConn(t, dsn, schema), runs)
	all, err := clients[0].Store().ListRuns(ctx, &store.ListRunsParams{})
	require.NoError(t, err)
	canceled := 0
	for _, r := range all {
		if r.Status == store.StatusCanceled {
			canceled++
		} else {
			require.Equal(t, store.StatusCompleted, r.Status, "run %s", r.WorkflowID)
		}
		require.NoError(t, clients[0].Verify(ctx, r.RunID), "run %s", r.WorkflowID)
	}
	require.Equal(t, runs/4, canceled)
}

// queueWhere is registered under this name by every worker of the queues
// test, each returning its own queue, so a result tells who ran it.
const queueWhere = "Where"

func whereActivity(queue string) func(ctx context.Context, s string) (string, error) {
	return func(ctx context.Context, s string) (string, error) {
		info := durable.GetActivityInfo(ctx)
		if info.Queue != queue {
			return "", fmt.Errorf("worker of %q ran an activity of queue %q", queue, info.Queue)
		}
		return queue + ":" + s, nil
	}
}

// QueuesWorkflow calls Where on the run's queue and on queue "b".
func QueuesWorkflow(ctx context.Context, s string) (string, error) {
	a, err := durable.Call[string](ctx, queueWhere, s)
	if err != nil {
		return "", err
	}
	bctx := durable.WithCallOptions(ctx, durable.CallOptions{Queue: "b"})
	b, err := durable.Call[string](bctx, queueWhere, s)
	if err != nil {
		return "", err
	}
	return a + "," + b, nil
}

// countingHandler counts the log records whose message contains a string.
type countingHandler struct {
	slog.Handler
	match string
	n     *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.match) {
		h.n.Add(1)
	}
	return nil
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func TestQueues(t *testing.T) {
	t.Parallel()
	dsn, schema := pgSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The worker of queue "b" knows no workflow: if it ever claimed a run
	// it would log that it released a run of an unregistered workflow.
	var strayRuns atomic.Int64
	logger := slog.New(countingHandler{Handler: slog.DiscardHandler, match: "unregistered workflow", n: &strayRuns})
	wb := openPGEngine(t, dsn, schema, durable.WithQueues("b"), durable.WithLogger(logger))
	wb.RegisterActivity(whereActivity("b"), durable.WithName(queueWhere))
	wd := openPGEngine(t, dsn, schema)
	wd.RegisterWorkflow(QueuesWorkflow)
	wd.RegisterActivity(whereActivity(durable.QueueDefault), durable.WithName(queueWhere))
	client := openPGEngine(t, dsn, schema, durable.WithClientOnly(), durable.WithPollInterval(20*time.Millisecond))

	t.Run("ActivitiesGoToTheirQueue", func(t *testing.T) {
		// Runs started from the client (claimed by the default worker) and
		// from the default worker itself (worked in place).
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, 2*n)
		for i := range 2 * n {
			wg.Go(func() {
				starter := client
				if i%2 == 1 {
					starter = wd
				}
				run, err := starter.Start(ctx, durable.StartOptions{ID: "queues-" + strconv.Itoa(i)}, QueuesWorkflow, strconv.Itoa(i))
				if err != nil {
					errs[i] = err
					return
				}
				var got string
				if err := run.Get(ctx, &got); err != nil {
					errs[i] = err
					return
				}
				if want := fmt.Sprintf("default:%d,b:%d", i, i); got != want {
					errs[i] = fmt.Errorf("run %d returned %q, want %q", i, got, want)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Zero(t, strayRuns.Load(), "the worker of queue b claimed runs of the default queue")
	})

	t.Run("RunOnAnUnservedQueueWaitsForItsWorker", func(t *testing.T) {
		run, err := client.Start(ctx, durable.StartOptions{ID: "queue-c", Queue: "c"}, QueuesWorkflow, "c")
		require.NoError(t, err)
		// Let the pollers of both workers pass over it a few times: work
		// that the default worker does meanwhile proves they are polling.
		for i := range 3 {
			r, err := wd.Start(ctx, durable.StartOptions{ID: "queue-c-meanwhile-" + strconv.Itoa(i)}, QueuesWorkflow, "m")
			require.NoError(t, err)
			require.NoError(t, r.Get(ctx, nil))
		}
		rec, err := client.Store().CurrentRun(ctx, "queue-c")
		require.NoError(t, err)
		require.Equal(t, store.StatusRunning, rec.Status)
		require.Equal(t, int64(1), rec.JournalLen, "nobody worked the run of queue c")
		require.Empty(t, rec.Owner)

		wc := openPGEngine(t, dsn, schema, durable.WithQueues("c"))
		wc.RegisterWorkflow(QueuesWorkflow)
		wc.RegisterActivity(whereActivity("c"), durable.WithName(queueWhere))
		var got string
		require.NoError(t, run.Get(ctx, &got))
		// The run's first activity went to its own queue (c), the other to
		// the worker of b.
		require.Equal(t, "c:c,b:c", got)
		require.Zero(t, strayRuns.Load())
	})
}
