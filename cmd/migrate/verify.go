package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/compat/replay/harness"
)

// Exit code of verify when a history diverges (a run that could not
// check a history at all exits with exitUsage).
const exitDiverged = replay.ExitDiverged

// verifyOpts are the flags and arguments of migrate verify.
type verifyOpts struct {
	Histories []string
	Workflow  string
	Dir       string
	Package   string
}

// Validate checks the arguments.
func (o *verifyOpts) Validate() error {
	if len(o.Histories) == 0 {
		return usageError("--history is required (a history file or a directory of them)")
	}
	if o.Package == "" {
		return usageError("no package given: name the package of the converted workflows")
	}
	return nil
}

func newVerifyCmd() *cobra.Command {
	var o verifyOpts
	cmd := &cobra.Command{
		Use: "verify --history FILE|DIR [--workflow NAME] PACKAGE",
		Example: `  temporal workflow show --workflow-id order-42 --output json > histories/order-42.json
  migrate verify --history histories/ ./workflows
  migrate verify --history order-42.json --workflow ProcessOrder ./workflows`,
		Short: "Replay Temporal histories through the converted workflows of PACKAGE",
		Long: `Verify replays Temporal workflow histories, as exported by
"temporal workflow show --output json", through the converted workflows of
PACKAGE and prints OK or the first divergence for each: the Temporal event ID,
what the history has there and what the code did. The workflow is found by the
history's workflow type unless --workflow names it. A directory contributes its
*.json files. Exit status: 0 when every history verifies, 1 when one diverges,
2 when one cannot be checked.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Package = args[0]
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return runVerify(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringSliceVar(&o.Histories, "history", nil, "history `FILE` or DIR (repeatable)")
	cmd.Flags().StringVar(&o.Workflow, "workflow", "", "replay through the workflow registered as `NAME`")
	cmd.Flags().StringVarP(&o.Dir, "dir", "C", "", "run as if started in `DIR`")
	return cmd
}

func runVerify(ctx context.Context, o verifyOpts, out, errOut io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	code, err := harness.Verify(ctx, harness.Options{
		Dir: o.Dir, Package: o.Package, Histories: o.Histories, Workflow: o.Workflow, Stdout: out, Stderr: errOut,
	})
	switch {
	case err != nil:
		return &exitError{code: exitUsage, err: err}
	case code == replay.ExitOK:
		return nil
	case code == exitDiverged:
		return &exitError{code: exitDiverged, err: errors.New("a history diverged")}
	default:
		return &exitError{code: exitUsage, err: errors.New("a history could not be checked")}
	}
}
