package durable_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Scratch downloads to and reads from the local disk of the worker that
// runs it: its two steps must run on one worker.
type Scratch struct{ dir string }

func (s *Scratch) Download(ctx context.Context, name string) (string, error) {
	path := filepath.Join(s.dir, name)
	return path, os.WriteFile(path, []byte("contents of "+name), 0o600)
}

func (s *Scratch) Size(ctx context.Context, path string) (int, error) {
	b, err := os.ReadFile(path)
	return len(b), err
}

func FileSize(ctx context.Context, name string) (int, error) {
	sctx, err := durable.CreateSession(ctx, &durable.SessionOptions{CreationTimeout: time.Minute, ExecutionTimeout: time.Hour})
	if err != nil {
		return 0, err
	}
	defer durable.CompleteSession(sctx)
	path, err := durable.Call[string](sctx, "Download", name)
	if err != nil {
		return 0, err
	}
	return durable.Call[int](sctx, "Size", path)
}

func ExampleCreateSession() {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	dir, err := os.MkdirTemp("", "scratch")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	e.RegisterWorkflow(FileSize)
	e.RegisterActivity(&Scratch{dir: dir})

	run, err := e.Start(ctx, durable.StartOptions{ID: "size-1"}, FileSize, "report.csv")
	if err != nil {
		panic(err)
	}
	var n int
	if err := run.Get(ctx, &n); err != nil {
		panic(err)
	}
	fmt.Println(n)
	// Output: 22
}
