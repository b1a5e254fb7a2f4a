// Command durable looks at and acts on the runs of a durable store: list,
// describe, history, start, signal, query, update, cancel, terminate,
// resume, reset, and a web UI. See docs/cli.md.
package main

import (
	"context"
	"os"

	"github.com/durablego/toolkit/cmd/durable/durablecli"
)

func main() { os.Exit(durablecli.Main(context.Background(), os.Args[1:], durablecli.Config{})) }
