package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// benchStores opens the store variants the benchmarks compare.
func benchStores(b *testing.B, run func(b *testing.B, s *sqlite.Store)) {
	for _, v := range []struct {
		name string
		open func(b *testing.B) *sqlite.Store
	}{
		{"FsyncOff", func(b *testing.B) *sqlite.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			require.NoError(b, err)
			return s
		}},
		{"FsyncOn", func(b *testing.B) *sqlite.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.WithFsync(true))
			require.NoError(b, err)
			return s
		}},
		{"Memory", func(b *testing.B) *sqlite.Store {
			s, err := sqlite.OpenMemory(context.Background())
			require.NoError(b, err)
			return s
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			s := v.open(b)
			b.Cleanup(func() { s.Close() })
			run(b, s)
		})
	}
}

// parallel runs body on exactly n goroutines (b.RunParallel rounds to a
// multiple of GOMAXPROCS).
func parallel(b *testing.B, n int, body func(worker int, next func() bool)) {
	var left atomic.Int64
	left.Store(int64(b.N))
	next := func() bool { return left.Add(-1) >= 0 }
	done := make(chan struct{})
	for w := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			body(w, next)
		}()
	}
	for range n {
		<-done
	}
}

// randomIDs makes BenchmarkWorkflow use random run IDs.
var randomIDs = os.Getenv("BENCH_RANDOM_IDS") != ""

var payload = []byte(`{"activity":"SendEmail","args":[{"to":"someone@example.com","subject":"hello","body":"a short body of text"}]}`)

// BenchmarkCommit measures Commit alone: each goroutine appends one event
// (and a run update) to its own run, as an engine does at a yield point.
func BenchmarkCommit(b *testing.B) {
	for _, conc := range []int{1, 200} {
		b.Run(fmt.Sprintf("Concurrency%d", conc), func(b *testing.B) {
			benchStores(b, func(b *testing.B, s *sqlite.Store) {
				ctx := context.Background()
				runs := make([]string, conc)
				for i := range runs {
					runs[i] = fmt.Sprintf("bench-%d", i)
					require.NoError(b, s.CreateRun(ctx, &store.CreateRunParams{
						Run:   &store.Run{RunID: runs[i], WorkflowID: runs[i], Workflow: "Bench"},
						Owner: "bench", Lease: time.Hour,
					}))
				}
				var failed atomic.Value
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				parallel(b, conc, func(w int, next func() bool) {
					var n int64
					for next() {
						err := s.Commit(ctx, &store.CommitParams{
							RunID: runs[w], Owner: "bench", ExpectLen: n,
							Events: []store.Event{{Kind: "ActivityScheduled", Data: payload}},
							Update: &store.RunUpdate{Status: store.StatusRunning, WakeAt: time.Now().Add(time.Minute)},
						})
						if err != nil {
							failed.Store(err)
							return
						}
						n++
					}
				})
				b.StopTimer()
				if err, ok := failed.Load().(error); ok {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
				reportBatch(b, s)
			})
		})
	}
}

// BenchmarkWorkflow measures the store calls of a 3-step workflow run by an
// engine that executes its activities in-process: CreateRun with the first
// event and task, then per step a commit of the result and one of the next
// step (7 writes), the last commit closing the run.
func BenchmarkWorkflow(b *testing.B) {
	for _, conc := range []int{1, 200} {
		b.Run(fmt.Sprintf("Concurrency%d", conc), func(b *testing.B) {
			benchStores(b, func(b *testing.B, s *sqlite.Store) {
				ctx := context.Background()
				var (
					seq    atomic.Int64
					failed atomic.Value
				)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				parallel(b, conc, func(_ int, next func() bool) {
					for next() {
						if err := workflow(ctx, s, seq.Add(1)); err != nil {
							failed.Store(err)
							return
						}
					}
				})
				b.StopTimer()
				if err, ok := failed.Load().(error); ok {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "workflows/s")
				b.ReportMetric(7*float64(b.N)/b.Elapsed().Seconds(), "writes/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
				reportBatch(b, s)
			})
		})
	}
}

func workflow(ctx context.Context, s *sqlite.Store, n int64) error {
	id := fmt.Sprintf("wf-%d", n)
	if randomIDs {
		// As an engine's UUIDs: index inserts scatter.
		id = fmt.Sprintf("%016x-%d", rand.Uint64(), n)
	}
	task := func(step int) *store.Task {
		return &store.Task{ID: fmt.Sprintf("%s-t%d", id, step), RunID: id, Kind: "activity", DueAt: time.Now(), Attempt: 1, Data: payload}
	}
	if err := s.CreateRun(ctx, &store.CreateRunParams{
		Run:    &store.Run{RunID: id, WorkflowID: id, Workflow: "Bench", Input: payload, WakeAt: time.Now()},
		Events: []store.Event{{Kind: "WorkflowStarted", Data: payload}, {Kind: "ActivityScheduled", Data: payload}},
		Tasks:  []*store.Task{task(1)},
		Owner:  "bench", Lease: time.Minute,
	}); err != nil {
		return err
	}
	length := int64(2)
	for step := 1; step <= 3; step++ {
		// The activity's result.
		if err := s.Commit(ctx, &store.CommitParams{
			RunID: id, Owner: "bench", ExpectLen: length,
			Events:      []store.Event{{Kind: "ActivityCompleted", Data: payload}},
			DeleteTasks: []string{task(step).ID},
		}); err != nil {
			return err
		}
		length++
		p := &store.CommitParams{RunID: id, Owner: "bench", ExpectLen: length}
		if step < 3 {
			p.Events = []store.Event{{Kind: "ActivityScheduled", Data: payload}}
			p.CreateTasks = []*store.Task{task(step + 1)}
		} else {
			p.Events = []store.Event{{Kind: "WorkflowCompleted", Data: payload}}
			p.Update = &store.RunUpdate{Status: store.StatusCompleted, Result: payload}
		}
		if err := s.Commit(ctx, p); err != nil {
			return err
		}
		length++
	}
	return nil
}

func reportBatch(b *testing.B, s *sqlite.Store) {
	st := s.Stats()
	if st.Transactions > 0 {
		b.ReportMetric(float64(st.Calls)/float64(st.Transactions), "calls/tx")
	}
	_ = runtime.GOMAXPROCS(0)
}
