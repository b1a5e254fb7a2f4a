// Command durable-load measures the durable runtime on the steps3 workload
// (a workflow of three sequential Calls to an activity that returns its
// input + ".") and the memory cost of runs parked in Sleep.
//
//	durable-load -dsn sqlite:/tmp/load.db -starters 200 -n 20000
//	durable-load -dsn sqlite:/tmp/load.db -starters 1 -n 2000 -fsync
//	durable-load -dsn sqlite:/tmp/load.db -parked 20000
//	durable-load -dsn postgres://localhost/db -schema load1 -workers 2 -starters 200 -n 20000
//
// With -workers N (PostgreSQL only) the command starts N worker processes
// (itself, with -serve) that share the work, and this process only starts
// workflows and waits for their results, as a client-only engine.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/postgres"
	"github.com/durablego/toolkit/runtime/store/sqlite"
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

type options struct {
	dsn, schema, syncCommit string
	maxConns, commitConns   int
	lease, poll             time.Duration
	evictAfter              time.Duration
	maxCached               int
	fsync, worker           bool
}

func run() error {
	var o options
	flag.StringVar(&o.dsn, "dsn", "", "store (sqlite:PATH, memory:, postgres://...); default a fresh SQLite file")
	starters := flag.Int("starters", 200, "concurrent starters, each starting a workflow and waiting for its result")
	n := flag.Int("n", 20000, "workflows to run")
	flag.BoolVar(&o.fsync, "fsync", false, "make every commit survive power loss (SQLite synchronous=FULL)")
	parked := flag.Int("parked", 0, "instead of steps3: park this many runs in Sleep(1h) and report RSS per run")
	flag.BoolVar(&o.worker, "worker", true, "work runs in this process (false: client only, for PostgreSQL with separate workers)")
	workers := flag.Int("workers", 0, "PostgreSQL: start this many worker processes (this command with -serve); this process is then client only")
	serve := flag.Bool("serve", false, "work the store until stdin is closed (what -workers starts)")
	flag.StringVar(&o.schema, "schema", "", "PostgreSQL schema of the store (default: "+postgres.SchemaDefault+")")
	flag.IntVar(&o.maxConns, "maxconns", 0, "PostgreSQL: connection pool size per process (default: the store's)")
	flag.IntVar(&o.commitConns, "commitconns", 0, "PostgreSQL: group-commit statements in flight at once per process (default: the store's)")
	flag.StringVar(&o.syncCommit, "synccommit", "", "PostgreSQL synchronous_commit for the store's sessions: on, off (default: the server's)")
	flag.DurationVar(&o.lease, "lease", 0, "lease timeout (default: the engine's)")
	flag.DurationVar(&o.poll, "poll", 0, "poll interval (default: the engine's)")
	flag.DurationVar(&o.evictAfter, "evict-after", durable.EvictAfterDefault, "unload runs whose next timer is further away (0: keep parked runs in memory)")
	flag.IntVar(&o.maxCached, "max-cached", 0, "runs kept parked in memory at most (default: the engine's, or -parked+1)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file (with -workers, each worker writes FILE.worker<i> too)")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file at the end (with -workers, each worker writes FILE.worker<i> too)")
	flag.Parse()
	if o.maxCached == 0 && *parked > 0 {
		o.maxCached = max(durable.MaxCachedRunsDefault, *parked+1)
	}
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
	if *memprofile != "" {
		runtime.MemProfileRate = 64 * 1024
		defer func() {
			if f, err := os.Create(*memprofile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	ctx := context.Background()
	if o.dsn == "" {
		dir, err := os.MkdirTemp("", "durable-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dsn = "sqlite:" + dir + "/load.db"
	}
	if *workers > 0 {
		if storeKind(o.dsn) != "postgres" && storeKind(o.dsn) != "postgresql" {
			return errors.New("-workers needs a postgres:// DSN (SQLite serves one process)")
		}
		o.worker = false
	}
	e, closeEngine, err := openEngine(ctx, o)
	if err != nil {
		return err
	}
	defer closeEngine()
	e.RegisterWorkflow(Steps3)
	e.RegisterWorkflow(Parked)
	e.RegisterActivity(Dot)
	if *serve {
		fmt.Println("ready")
		_, err := io.Copy(io.Discard, os.Stdin)
		return err
	}
	if *workers > 0 {
		stop, err := startWorkers(*workers, *cpuprofile, *memprofile)
		defer stop()
		if err != nil {
			return err
		}
	}
	if *parked > 0 {
		return parkedRSS(ctx, e, *parked)
	}
	return steps3(ctx, e, *starters, *n, o, *workers)
}

// openEngine opens the store (PostgreSQL with the -schema, -maxconns and
// -synccommit options) and an engine on it; closeAll closes both.
func openEngine(ctx context.Context, o options) (e *durable.Engine, closeAll func(), err error) {
	opts := []durable.Option{durable.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))}
	if !o.worker {
		opts = append(opts, durable.WithClientOnly())
	}
	if o.lease > 0 {
		opts = append(opts, durable.WithLeaseTimeout(o.lease))
	}
	if o.poll > 0 {
		opts = append(opts, durable.WithPollInterval(o.poll))
	}
	opts = append(opts, durable.WithEvictAfter(o.evictAfter))
	if o.maxCached > 0 {
		opts = append(opts, durable.WithMaxCachedRuns(o.maxCached))
	}
	kind := storeKind(o.dsn)
	if path, ok := strings.CutPrefix(o.dsn, "sqlite:"); ok {
		st, err := sqlite.Open(ctx, path, sqlite.WithFsync(o.fsync), sqlite.WithClientOnly(!o.worker))
		if err != nil {
			return nil, nil, err
		}
		e, err := durable.New(ctx, st, append(opts, durable.WithStoreOwnership())...)
		if err != nil {
			return nil, nil, err
		}
		return e, func() { e.Close() }, nil
	}
	if kind != "postgres" && kind != "postgresql" {
		e, err := durable.Open(ctx, o.dsn, opts...)
		if err != nil {
			return nil, nil, err
		}
		return e, func() { e.Close() }, nil
	}
	var popts []postgres.Option
	if o.schema != "" {
		popts = append(popts, postgres.WithSchema(o.schema))
	}
	if o.maxConns > 0 {
		popts = append(popts, postgres.WithMaxConns(int32(o.maxConns)))
	}
	if o.commitConns > 0 {
		popts = append(popts, postgres.WithCommitConcurrency(int32(o.commitConns)))
	}
	if o.syncCommit != "" {
		popts = append(popts, postgres.WithSynchronousCommit(o.syncCommit))
	}
	st, err := postgres.Open(ctx, o.dsn, popts...)
	if err != nil {
		return nil, nil, err
	}
	e, err = durable.New(ctx, st, opts...)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return e, func() { e.Close(); st.Close() }, nil
}

// startWorkers starts n copies of this command with -serve and the store
// flags, waits until each is ready, and returns a function that stops them.
func startWorkers(n int, cpuprofile, memprofile string) (stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return func() {}, err
	}
	var cmds []*exec.Cmd
	var stdins []io.WriteCloser
	stop = func() {
		for _, in := range stdins {
			in.Close()
		}
		for _, c := range cmds {
			_ = c.Wait()
		}
	}
	for i := range n {
		args := []string{"-serve"}
		flag.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "dsn", "schema", "maxconns", "commitconns", "synccommit", "lease", "poll":
				args = append(args, "-"+f.Name+"="+f.Value.String())
			}
		})
		if memprofile != "" {
			args = append(args, "-memprofile="+memprofile+".worker"+strconv.Itoa(i))
		}
		if cpuprofile != "" {
			args = append(args, "-cpuprofile="+cpuprofile+".worker"+strconv.Itoa(i))
		}
		cmd := exec.Command(exe, args...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return stop, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return stop, err
		}
		if err := cmd.Start(); err != nil {
			return stop, err
		}
		cmds, stdins = append(cmds, cmd), append(stdins, stdin)
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			return stop, fmt.Errorf("worker %d did not start: %q", i, line)
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
	}
	return stop, nil
}

func steps3(ctx context.Context, e *durable.Engine, starters, n int, o options, workers int) error {
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
	fmt.Printf("steps3 store=%s fsync=%v synccommit=%s workers=%d starters=%d workflows=%d cpus=%d\n",
		storeKind(o.dsn), o.fsync, cmpOr(o.syncCommit, "server"), workers, starters, n, runtime.NumCPU())
	fmt.Printf("  throughput %.0f workflows/s (%.2fs)\n", float64(n)/elapsed.Seconds(), elapsed.Seconds())
	fmt.Printf("  latency p50 %v  p90 %v  p99 %v\n", pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func parkedRSS(ctx context.Context, e *durable.Engine, n int) error {
	debug.FreeOSMemory() // a GC that also returns freed memory to the OS
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
	debug.FreeOSMemory() // a GC that also returns freed memory to the OS
	after, err := rssKiB()
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("parked runs=%d rss before %d KiB, after %d KiB: %.2f KiB per parked run (heap in use %d KiB, stacks %d KiB)\n",
		n, before, after, float64(after-before)/float64(n), ms.HeapInuse>>10, ms.StackInuse>>10)
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
