package replay

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/durablego/toolkit/runtime/durable"
)

// Exit codes of Main, as `migrate verify` reports them.
const (
	ExitOK       = 0 // every history verified
	ExitDiverged = 1 // at least one history diverged
	ExitError    = 2 // a history could not be checked
)

// Main is the body of the program `migrate verify` generates: register
// adds the converted workflows of a package to an engine, and the command
// line names histories (files) and, with -workflow, the workflow to replay
// them through. It prints one line per history and exits with ExitOK,
// ExitDiverged or ExitError.
func Main(register func(e *durable.Engine)) {
	os.Exit(RunMain(context.Background(), register, os.Args[1:], os.Stdout, os.Stderr))
}

// RunMain is Main without the exit; it returns the exit code.
func RunMain(ctx context.Context, register func(e *durable.Engine), args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workflow := fs.String("workflow", "", "replay every history through the workflow registered as `NAME`")
	if err := fs.Parse(args); err != nil {
		return ExitError
	}
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitError
	}
	defer e.Close()
	if err := registerSafely(e, register); err != nil {
		fmt.Fprintln(stderr, err)
		return ExitError
	}
	var opts []Option
	if *workflow != "" {
		opts = append(opts, WithWorkflow(*workflow))
	}
	code := ExitOK
	var ok, diverged, failed int
	defer func() {
		fmt.Fprintf(stdout, "%d histories: %d OK, %d diverged, %d could not be checked\n", len(fs.Args()), ok, diverged, failed)
	}()
	for _, path := range fs.Args() {
		rep, err := VerifyFile(ctx, e, path, opts...)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "%s: ERROR %v\n", path, err)
			code = ExitError
			failed++
		case !rep.OK():
			fmt.Fprintf(stdout, "%s: %s\n", path, rep)
			if code == ExitOK {
				code = ExitDiverged
			}
			diverged++
		default:
			fmt.Fprintf(stdout, "%s: %s\n", path, rep)
			ok++
		}
	}
	return code
}

func registerSafely(e *durable.Engine, register func(*durable.Engine)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if re, ok := r.(error); ok {
				err = re
			} else {
				err = errors.New(fmt.Sprint(r))
			}
		}
	}()
	register(e)
	return nil
}
