package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
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
	for _, sync := range []string{"on", "off"} {
		for _, notify := range []bool{true, false} {
			for _, goroutines := range []int{1, 200} {
				b.Run(fmt.Sprintf("SynchronousCommit=%s/Notify=%v/Goroutines=%d", sync, notify, goroutines), func(b *testing.B) {
					benchmarkCommit(b, goroutines, postgres.WithSynchronousCommit(sync), postgres.WithNotify(notify))
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
