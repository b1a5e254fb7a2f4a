// Package e2e tests compat end to end: the Temporal workflows in original/
// run on Temporal workers against a real Temporal server started in this
// process (go.temporal.io/server/temporaltest), their conversions in
// converted/ (output of migrate convert) run on a durable Engine, and one
// compat.Client routes between the two.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	converted "github.com/durablego/toolkit/compat/e2e/converted"
	original "github.com/durablego/toolkit/compat/e2e/original"
	"github.com/durablego/toolkit/runtime/durable"
)

// taskQueue is the Temporal task queue of the original workflows.
const taskQueue = "e2e"

// The one Temporal server of this test binary and its client: starting a
// server takes seconds, so every test shares it (workflow IDs are unique
// per test).
var (
	server *temporaltest.TestServer
	tc     client.Client
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	start := time.Now()
	quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	server = temporaltest.NewServer(temporaltest.WithBaseClientOptions(client.Options{Logger: quiet}))
	defer func() {
		// Stop logs a shutdown error through a *testing.T it does not
		// have without WithT; a failing shutdown must not fail the run.
		defer func() { _ = recover() }()
		server.Stop()
	}()
	tc = server.GetDefaultClient()
	w := worker.New(tc, taskQueue, worker.Options{WorkflowPanicPolicy: worker.FailWorkflow})
	registerOriginal(w)
	if err := w.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start Temporal worker:", err)
		return 1
	}
	defer w.Stop()
	fmt.Fprintf(os.Stderr, "e2e: Temporal server and worker up in %v\n", time.Since(start).Round(time.Millisecond))
	return m.Run()
}

// registerOriginal registers the Temporal workflows and activities.
func registerOriginal(r worker.Registry) {
	r.RegisterWorkflow(original.Fulfil)
	r.RegisterWorkflow(original.Approval)
	r.RegisterWorkflow(original.Square)
	r.RegisterWorkflow(original.SumOfSquares)
	r.RegisterActivity(&original.Activities{})
	r.RegisterActivity(original.Shout)
}

// registerConverted registers the converted workflows and activities on
// a durable engine, under the same names as in Temporal.
func registerConverted(e *durable.Engine) {
	e.RegisterWorkflow(converted.Fulfil)
	e.RegisterWorkflow(converted.Approval)
	e.RegisterWorkflow(converted.Square)
	e.RegisterWorkflow(converted.SumOfSquares)
	e.RegisterActivity(&converted.Activities{})
	e.RegisterActivity(converted.Shout)
}

// openEngine opens a durable engine on dsn ("memory:" or "sqlite" for a
// file in the test's directory), closed when the test ends.
func openEngine(t *testing.T, dsn string) *durable.Engine {
	t.Helper()
	if dsn == "sqlite" {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "durable.db")
	}
	e, err := durable.Open(context.Background(), dsn, durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// testCtx bounds a test in time.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// logBuffer collects log output written from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventually calls f until it returns nil or ctx ends, and returns f's
// last error then. It waits for a state to be reached; it asserts nothing
// by itself.
func eventually(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
