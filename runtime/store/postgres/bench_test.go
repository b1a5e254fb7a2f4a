package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// BenchmarkCommit measures Store.Commit as the engine uses it: each
// goroutine owns one run and appends one 128-byte event per commit; every
// other commit also schedules an activity task (with its NOTIFY), and the
// commit after it deletes that task again. It reports commits/s.
//
//	DURABLE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench BenchmarkCommit -benchtime 5s ./runtime/store/postgres/
func BenchmarkCommit(b *testing.B) {
	for _, mode := range []string{"on", "off"} {
		for _, notify := range []bool{true, false} {
			for _, goroutines := range []int{1, 200} {
				b.Run(fmt.Sprintf("SynchronousCommit=%s/Notify=%v/Goroutines=%d", mode, notify, goroutines), func(b *testing.B) {
					benchmarkCommit(b, goroutines, postgres.WithSynchronousCommit(mode), postgres.WithNotify(notify))
				})
			}
		}
	}
}

func benchmarkCommit(b *testing.B, goroutines int, opts ...postgres.Option) {
	ctx := context.Background()
	s := openStore(b, append(opts, postgres.WithMaxConns(postgres.MaxConnsDefault))...)

	runIDs := make([]string, goroutines)
	for i := range runIDs {
		runIDs[i] = fmt.Sprint("run-", i)
		require.NoError(b, s.CreateRun(ctx, &store.CreateRunParams{
			Run:   &store.Run{RunID: runIDs[i], WorkflowID: fmt.Sprint("wf-", i), Workflow: "Bench"},
			Owner: "bench", Lease: time.Hour,
		}))
	}
	payload := bytes.Repeat([]byte("x"), 128)

	// work commits to one run until the shared budget of b.N commits is spent.
	var budget atomic.Int64
	budget.Store(int64(b.N))
	work := func(runID string) error {
		var length int64
		for budget.Add(-1) >= 0 {
			p := &store.CommitParams{
				RunID: runID, Owner: "bench", ExpectLen: length,
				Events: []store.Event{{Kind: "activity", Data: payload}},
			}
			taskID := fmt.Sprint(runID, "-", length/2)
			if length%2 == 0 {
				p.CreateTasks = []*store.Task{{ID: taskID, Kind: "activity", Data: payload}}
			} else {
				p.DeleteTasks = []string{taskID}
			}
			if err := s.Commit(ctx, p); err != nil {
				return err
			}
			length++
		}
		return nil
	}

	b.ResetTimer()
	start := time.Now()
	if goroutines == 1 {
		require.NoError(b, work(runIDs[0]))
	} else {
		b.SetParallelism((goroutines + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			runID := runIDs[int(next.Add(1)-1)%len(runIDs)]
			if err := work(runID); err != nil {
				b.Error(err)
			}
			for pb.Next() { // the budget, not pb, decides the work
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
}

// BenchmarkWorkflow drives the store the way two engine processes would
// run a 3-step workflow, to tell whether the store can carry the target
// rate: 200 starters spread over two Stores (two pools, two processes'
// worth of connections), each workflow doing CreateRun, then per step a
// Commit that schedules an activity task, a claim, CompleteTask, ListInbox
// and a Commit that consumes the result, and a final Commit that completes
// the run: 1 CreateRun, 7 Commits, 3 CompleteTasks per workflow. It
// reports workflows/s.
func BenchmarkWorkflow(b *testing.B) {
	for _, mode := range []string{"on", "off"} {
		b.Run("SynchronousCommit="+mode, func(b *testing.B) {
			benchmarkWorkflow(b, 200, postgres.WithSynchronousCommit(mode))
		})
	}
}

func benchmarkWorkflow(b *testing.B, starters int, opts ...postgres.Option) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	schema := testSchema(b)
	opts = append(opts, postgres.WithSchema(schema))
	var procs [2]*postgres.Store
	for i := range procs {
		s, err := postgres.Open(ctx, testDSN(b), opts...)
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
		procs[i] = s
	}

	// Each process runs claimers that complete the activity tasks they
	// claim (in any process) and wake the workflow waiting for it.
	var (
		mu      sync.Mutex
		waiting = map[string]chan struct{}{}
	)
	kick := make(chan struct{}, 1)
	payload := bytes.Repeat([]byte("x"), 128)
	for pi, s := range procs {
		for c := range 2 {
			owner := fmt.Sprint("p", pi, "c", c)
			go func() {
				for ctx.Err() == nil {
					tasks, err := s.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: owner, Limit: 100, Lease: time.Minute})
					if err != nil {
						return
					}
					if len(tasks) == 0 {
						select {
						case <-kick:
						case <-time.After(2 * time.Millisecond):
						case <-ctx.Done():
						}
						continue
					}
					var wg sync.WaitGroup
					for _, task := range tasks {
						wg.Go(func() {
							err := s.CompleteTask(ctx, &store.CompleteTaskParams{ID: task.ID, Owner: owner,
								Result: &store.DeliverParams{Kind: "result", Name: task.ID, Data: payload}})
							if err != nil {
								return
							}
							mu.Lock()
							ch := waiting[task.ID]
							mu.Unlock()
							close(ch)
						})
					}
					wg.Wait()
				}
			}()
		}
	}

	workflow := func(s *postgres.Store, id string) error {
		const owner = "engine"
		if err := s.CreateRun(ctx, &store.CreateRunParams{
			Run:    &store.Run{RunID: id, WorkflowID: id, Workflow: "Order", Input: payload},
			Events: []store.Event{{Kind: "started", Data: payload}},
			Owner:  owner, Lease: time.Minute,
		}); err != nil {
			return err
		}
		length := int64(1)
		for step := range 3 {
			taskID := fmt.Sprint(id, "-", step)
			done := make(chan struct{})
			mu.Lock()
			waiting[taskID] = done
			mu.Unlock()
			if err := s.Commit(ctx, &store.CommitParams{RunID: id, Owner: owner, ExpectLen: length,
				Events:      []store.Event{{Kind: "scheduled", Data: payload}},
				CreateTasks: []*store.Task{{ID: taskID, Kind: "activity", Data: payload, Attempt: 1}},
			}); err != nil {
				return err
			}
			length++
			select {
			case kick <- struct{}{}:
			default:
			}
			<-done
			mu.Lock()
			delete(waiting, taskID)
			mu.Unlock()
			inbox, err := s.ListInbox(ctx, id)
			if err != nil {
				return err
			}
			if err := s.Commit(ctx, &store.CommitParams{RunID: id, Owner: owner, ExpectLen: length,
				Events:       []store.Event{{Kind: "completed", Data: inbox[0].Data}},
				ConsumeInbox: []int64{inbox[0].ID},
			}); err != nil {
				return err
			}
			length++
		}
		return s.Commit(ctx, &store.CommitParams{RunID: id, Owner: owner, ExpectLen: length,
			Events: []store.Event{{Kind: "returned", Data: payload}},
			Update: &store.RunUpdate{Status: store.StatusCompleted, Result: payload},
		})
	}

	var (
		budget atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Pointer[error]
	)
	budget.Store(int64(b.N))
	b.ResetTimer()
	start := time.Now()
	for i := range starters {
		s := procs[i%len(procs)]
		wg.Go(func() {
			for n := budget.Add(-1); n >= 0; n = budget.Add(-1) {
				if err := workflow(s, fmt.Sprint("wf-", n)); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "workflows/s")
}
