// Command sqliteonly is a program that links one backend: it opens an
// SQLite store itself and runs the engine on it with durable.New. The
// link test (link_test.go) lists its dependencies: built with the tag
// durable_nopostgres, PostgreSQL's driver is not among them.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

func Shout(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil }

func Greet(ctx context.Context, name string) (string, error) {
	return durable.Call[string](ctx, Shout, "hello "+name)
}

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqliteonly")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "durable.db"), sqlite.WithFsync(true))
	if err != nil {
		log.Fatal(err)
	}
	e, err := durable.New(ctx, st, durable.WithStoreOwnership())
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	e.RegisterWorkflow(Greet)
	e.RegisterActivity(Shout)
	run, err := e.Start(ctx, durable.StartOptions{ID: "greet"}, Greet, "gopher")
	if err != nil {
		log.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
}
