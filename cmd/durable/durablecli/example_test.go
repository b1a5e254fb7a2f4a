package durablecli_test

import (
	"context"
	"os"

	"github.com/durablego/toolkit/cmd/durable/durablecli"
	"github.com/durablego/toolkit/runtime/durable"
)

// A team's own durable command registers its workflows, so that `durable
// query` and update validators run their code.
func ExampleMain() {
	register := func(e *durable.Engine) { e.RegisterWorkflow(Order) }
	if len(os.Args) > 1 && os.Args[1] == "ops" { // in a real main: unconditionally
		os.Exit(durablecli.Main(context.Background(), os.Args[2:], durablecli.Config{RegisterFunc: register}))
	}
}
