// Package durablecli is the durable command: a cobra command tree over any
// durable store. cmd/durable runs it as is; a team that wants `durable
// query` to answer from the CLI builds its own binary with its workflows
// registered (Config.RegisterFunc), since the state a query reads is rebuilt
// by replaying the workflow's code.
//
// Every command opens the store client-only (durable.WithClientOnly), so
// it runs beside the workers that work the store and never works a run
// itself.
package durablecli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// Exit codes of the durable command.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitError: the command failed (store unreachable, a run's update
	// handler failed, ...).
	ExitError = 1
	// ExitUsage: bad flags or arguments, or no store configured.
	ExitUsage = 2
	// ExitNotFound: no such run (or no open run for an action that needs
	// one).
	ExitNotFound = 3
	// ExitConflict: the run is not in a state that allows the action (a
	// workflow ID with an open run for start, resume of a run that is not
	// stuck, a rejected update).
	ExitConflict = 4
	// ExitTimeout: --timeout passed before the command's answer came
	// (usually: no worker serves the run, so nobody acts on it).
	ExitTimeout = 5
)

// Config adapts the command tree to a program that embeds it.
type Config struct {
	// RegisterFunc, when set, registers workflows on the CLI's engine, so
	// that query can rebuild a run's state by replaying its code and
	// update can run its validator. The stock durable binary has none.
	RegisterFunc func(e *durable.Engine)
	// GetenvFunc reads the environment (DURABLE_DSN, DURABLE_UI_TOKEN,
	// ...); nil: os.Getenv.
	GetenvFunc func(string) string
	// Stdout and Stderr default to the process's.
	Stdout, Stderr io.Writer
	// Options are added to the engine's options (a logger, a poll
	// interval); the CLI always adds durable.WithClientOnly.
	Options []durable.Option
}

// exitError carries the exit code of a failed command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageArgs makes an argument check's error a usage error (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
		return nil
	}
}

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// Main runs the durable command with args and returns its exit code.
func Main(ctx context.Context, args []string, cfg Config) int {
	cmd, a := newRoot(cfg)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if cerr := a.close(); err == nil {
		err = cerr
	}
	if err == nil {
		return ExitOK
	}
	if a.timeout > 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = &exitError{code: ExitTimeout, err: fmt.Errorf("no answer within --timeout %s (is a worker running that serves the run's queue?): %w", a.timeout, err)}
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "durable:", Redact(err.Error(), a.effectiveDSN()))
	return ExitCode(err)
}

// ExitCode maps an error of the command tree to the process exit code.
func ExitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, durable.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, durable.ErrAlreadyStarted), errors.Is(err, durable.ErrUpdateRejected):
		return ExitConflict
	case strings.HasPrefix(err.Error(), "unknown command"):
		// cobra's only usage error that no hook of ours sees (flags go
		// through SetFlagErrorFunc, arguments through usageArgs).
		return ExitUsage
	}
	return ExitError
}

// app is the state the commands share: configuration and, once a command
// needs it, the engine.
type app struct {
	cfg     Config
	dsn     string
	timeout time.Duration // bounds each command but ui; 0: none
	schema  string        // PostgreSQL schema of the store
	engine  *durable.Engine
	store   store.Store // opened here for PostgreSQL; closed after the engine
	cancel  context.CancelFunc
}

// NewCommand returns the durable command tree. Run it with Main, which
// also maps errors to exit codes and keeps credentials out of messages.
func NewCommand(cfg Config) *cobra.Command {
	cmd, _ := newRoot(cfg)
	return cmd
}

func newRoot(cfg Config) (*cobra.Command, *app) {
	if cfg.GetenvFunc == nil {
		cfg.GetenvFunc = os.Getenv
	}
	a := &app{cfg: cfg}
	root := &cobra.Command{
		Use:   "durable",
		Short: "Look at and act on the runs of a durable store",
		Long: `durable lists, inspects and acts on the runs of a durable store (SQLite or
PostgreSQL), beside the workers that run them, and serves a web UI.

The store is --dsn, or $DURABLE_DSN: sqlite:PATH or postgres://...
Exit codes: 0 ok, 1 error, 2 usage, 3 no such run, 4 the run's state does not
allow it, 5 --timeout passed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if cfg.Stdout != nil {
		root.SetOut(cfg.Stdout)
	}
	if cfg.Stderr != nil {
		root.SetErr(cfg.Stderr)
	}
	root.PersistentFlags().StringVar(&a.dsn, "dsn", "", "store to open: sqlite:PATH or postgres://... (default $DURABLE_DSN)")
	root.PersistentFlags().StringVar(&a.schema, "schema", postgres.SchemaDefault, "PostgreSQL schema that holds the store")
	root.PersistentFlags().DurationVar(&a.timeout, "timeout", 0, "give up after this long (commands that wait for a worker: update, start --wait, reset of an open run); 0: never")
	root.PersistentPreRun = func(cmd *cobra.Command, args []string) {
		if a.timeout > 0 && cmd.Name() != "ui" && cmd.Name() != "metrics" {
			ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
			a.cancel = cancel
			cmd.SetContext(ctx)
		}
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return &exitError{code: ExitUsage, err: err} })
	root.AddCommand(
		newListCmd(a), newDescribeCmd(a), newHistoryCmd(a), newStartCmd(a),
		newSignalCmd(a), newQueryCmd(a), newUpdateCmd(a), newCompleteCmd(a), newQueueCmd(a),
		newCancelCmd(a), newTerminateCmd(a), newResumeCmd(a), newResetCmd(a),
		newScheduleCmd(a), newUICmd(a), newMetricsCmd(a),
	)
	return root, a
}

// effectiveDSN is the DSN the commands open.
func (a *app) effectiveDSN() string {
	if a.dsn != "" {
		return a.dsn
	}
	return a.cfg.GetenvFunc(durable.DSNEnv)
}

// open returns the engine on the configured store, opened client-only.
func (a *app) open(ctx context.Context) (*durable.Engine, error) {
	if a.engine != nil {
		return a.engine, nil
	}
	dsn := a.effectiveDSN()
	if dsn == "" {
		return nil, usageErr("no store: pass --dsn or set %s (sqlite:PATH or postgres://...)", durable.DSNEnv)
	}
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		// The CLI never creates a store: a typo would make an empty one.
		if _, err := os.Stat(path); err != nil {
			return nil, &exitError{code: ExitError, err: fmt.Errorf("no store at %s: %w", path, errors.Unwrap(err))}
		}
	}
	opts := append([]durable.Option{
		durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, a.cfg.Options...)
	opts = append(opts, durable.WithClientOnly())
	var (
		e   *durable.Engine
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		// The CLI never creates or upgrades a schema: WithMigrate(false).
		st, perr := postgres.Open(ctx, dsn, postgres.WithSchema(a.schema), postgres.WithMigrate(false))
		if perr != nil {
			return nil, errors.New(Redact(fmt.Sprintf("open %s: %v", RedactDSN(dsn), perr), dsn))
		}
		if e, err = durable.New(ctx, st, opts...); err != nil {
			st.Close()
		} else {
			a.store = st
		}
	} else {
		e, err = durable.Open(ctx, dsn, opts...)
	}
	if err != nil {
		return nil, errors.New(Redact(err.Error(), dsn))
	}
	if a.cfg.RegisterFunc != nil {
		a.cfg.RegisterFunc(e)
	}
	a.engine = e
	return e, nil
}

func (a *app) close() error {
	if a.cancel != nil {
		a.cancel()
		a.cancel = nil
	}
	if a.engine == nil {
		return nil
	}
	err := a.engine.Close()
	a.engine = nil
	if a.store != nil {
		err = errors.Join(err, a.store.Close())
		a.store = nil
	}
	return err
}
