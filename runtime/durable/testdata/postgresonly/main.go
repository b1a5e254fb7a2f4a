// Command postgresonly is a program that links one backend: it opens a
// PostgreSQL store itself (the DSN in $DURABLE_DSN) and runs the engine on
// it with durable.New. The link test (link_test.go) lists its
// dependencies: built with the tag durable_nosqlite, SQLite is not among
// them.
package main

import (
	"context"
	"log"
	"os"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

func main() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv(durable.DSNEnv), postgres.WithSchema("durable"))
	if err != nil {
		log.Fatal(err)
	}
	e, err := durable.New(ctx, st, durable.WithStoreOwnership())
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
}
