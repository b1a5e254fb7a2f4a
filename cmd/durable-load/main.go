// Command durable-load measures the durable runtime on the steps3 workload
// (a workflow of three sequential Calls to an activity that returns its
// input + ".") and the memory cost of runs parked in Sleep.
//
//	durable-load -dsn sqlite:/tmp/load.db -starters 200 -n 20000
//	durable-load -dsn sqlite:/tmp/load.db -starters 1 -n 2000 -fsync
//	durable-load -dsn sqlite:/tmp/load.db -parked 20000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Dot is the steps3 activity.
func Dot(ctx context.Context, s string) (string, error) { return s + ".", nil }

// Steps3 is the steps3 workflow.
func Steps3(ctx context.Context, s string) (string, error) {
	for range 3 {
		var err error
		if s, err = durable.Call[string](ctx, Dot, s); err != nil {
			return "", err
		}
	}
	return s, nil
}

// Parked sleeps for an hour.
func Parked(ctx context.Context) error { return durable.Sleep(ctx, time.Hour) }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "durable-load:", err)
		os.Exit(1)
	}
}

func run() error {
	dsn := flag.String("dsn", "", "store (sqlite:PATH, memory:, postgres://...); default a fresh SQLite file")
	starters := flag.Int("starters", 200, "concurrent starters, each starting a workflow and waiting for its result")
	n := flag.Int("n", 20000, "workflows to run")
	fsync := flag.Bool("fsync", false, "make every commit survive power loss (SQLite synchronous=FULL)")
	parked := flag.Int("parked", 0, "instead of steps3: park this many runs in Sleep(1h) and report RSS per run")
	worker := flag.Bool("worker", true, "work runs in this process (false: client only, for PostgreSQL with separate workers)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	if *dsn == "" {
		dir, err := os.MkdirTemp("", "durable-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dsn = "sqlite:" + dir + "/load.db"
	}
	opts := []durable.Option{durable.WithFsync(*fsync), durable.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))}
	if !*worker {
		opts = append(opts, durable.WithClientOnly())
	}
	e, err := durable.Open(ctx, *dsn, opts...)
	if err != nil {
		return err
	}
	defer e.Close()
	e.RegisterWorkflow(Steps3)
	e.RegisterWorkflow(Parked)
	e.RegisterActivity(Dot)
	if *parked > 0 {
		return parkedRSS(ctx, e, *parked)
	}
	return steps3(ctx, e, *starters, *n, *dsn, *fsync)
}

func steps3(ctx context.Context, e *durable.Engine, starters, n int, dsn string, fsync bool) error {
	var (
		next    atomic.Int64
		mu      sync.Mutex
		lats    = make([]time.Duration, 0, n)
		wg      sync.WaitGroup
		failure error
	)
	prefix := strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	for range starters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				t0 := time.Now()
				run, err := e.Start(ctx, durable.StartOptions{ID: prefix + "-" + strconv.FormatInt(i, 10)}, Steps3, "x")
				var out string
				if err == nil {
					err = run.Get(ctx, &out)
				}
				if err == nil && out != "x..." {
					err = fmt.Errorf("workflow returned %q, want %q", out, "x...")
				}
				d := time.Since(t0)
				mu.Lock()
				if err != nil && failure == nil {
					failure = err
				}
				lats = append(lats, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failure != nil {
		return failure
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(float64(len(lats))*p))] }
	fmt.Printf("steps3 store=%s fsync=%v starters=%d workflows=%d cpus=%d\n", storeKind(dsn), fsync, starters, n, runtime.NumCPU())
	fmt.Printf("  throughput %.0f workflows/s (%.2fs)\n", float64(n)/elapsed.Seconds(), elapsed.Seconds())
	fmt.Printf("  latency p50 %v  p90 %v  p99 %v\n", pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
	return nil
}

func parkedRSS(ctx context.Context, e *durable.Engine, n int) error {
	runtime.GC()
	before, err := rssKiB()
	if err != nil {
		return err
	}
	prefix := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range n {
		if _, err := e.Start(ctx, durable.StartOptions{ID: prefix + "-" + strconv.Itoa(i)}, Parked); err != nil {
			return err
		}
	}
	// Let evictions and commits settle.
	for e.Busy() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	after, err := rssKiB()
	if err != nil {
		return err
	}
	fmt.Printf("parked runs=%d rss before %d KiB, after %d KiB: %.2f KiB per parked run\n", n, before, after, float64(after-before)/float64(n))
	return nil
}

func rssKiB() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc/self/status")
}

func storeKind(dsn string) string {
	if i := strings.Index(dsn, ":"); i > 0 {
		return dsn[:i]
	}
	return dsn
}
