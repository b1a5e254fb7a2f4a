package durablecli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
)

func newCancelCmd(a *app) *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:               "cancel WORKFLOW_ID",
		Short:             "Ask a run to cancel (its code sees its context cancelled and may clean up)",
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := e.CancelWorkflow(cmd.Context(), args[0], runID); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cancellation requested for %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID (default: its open run)")
	return cmd
}

func newTerminateCmd(a *app) *cobra.Command {
	var runID, reason string
	cmd := &cobra.Command{
		Use:               "terminate WORKFLOW_ID",
		Short:             "End a run at once; its code gets no chance to react",
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := e.TerminateRun(cmd.Context(), args[0], runID, reason); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "terminated %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID (default: its open run)")
	cmd.Flags().StringVar(&reason, "reason", "terminated from the durable CLI", "why, recorded with the run")
	return cmd
}

func newResumeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resume WORKFLOW_ID",
		Short: "Run a stuck run again, after deploying the fix for its error",
		Long: `A run is stuck when replaying it diverged from its journal (a
NonDeterminismError) or its code panicked. Nothing is lost: deploy fixed code,
then resume it; a worker replays it with the code it has now. Exit 4 when the
run is not stuck.`,
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			info, err := e.Describe(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if info.Status != "stuck" {
				return &exitError{code: ExitConflict, err: fmt.Errorf("run %s of %s is %s, not stuck", info.RunID, args[0], info.Status)}
			}
			if err := e.Resume(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "resumed %s\n", args[0])
			return nil
		},
	}
	return cmd
}

func newResetCmd(a *app) *cobra.Command {
	var (
		o     durable.ResetOptions
		event int64
	)
	cmd := &cobra.Command{
		Use:   "reset WORKFLOW_ID --event N",
		Short: "Start a new run that replays the journal up to event N and continues from there",
		Long: `Start a new run of the workflow ID whose journal is the old run's up to event N
(the numbers history shows): a worker replays it and the code continues live
from there, as Temporal's reset and DBOS's fork do. The open run of the
workflow ID, if any, is terminated. Signals the old run received after event N
are delivered to the new run again (--no-reapply-signals drops them).
Activities after event N run again. --event 1 starts over.`,
		Example: `  durable history order-o-1     # find the event to go back to
  durable reset order-o-1 --event 5`,
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if event < 1 {
				return usageErr("--event N is required (1 or more; see history)")
			}
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			o.WorkflowID, o.Event = args[0], event
			runID, err := e.Reset(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reset %s to event %d: new run %s\n", args[0], event, runID)
			return nil
		},
	}
	cmd.Flags().Int64Var(&event, "event", 0, "last journal event the new run keeps")
	cmd.Flags().StringVar(&o.RunID, "run", "", "the run to reset (default: the newest)")
	cmd.Flags().StringVar(&o.Reason, "reason", "", "recorded on the open run the reset terminates")
	cmd.Flags().BoolVar(&o.NoReapplySignals, "no-reapply-signals", false, "do not deliver the signals received after event N again")
	return cmd
}
