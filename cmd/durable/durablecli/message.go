package durablecli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
)

func newSignalCmd(a *app) *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:               "signal WORKFLOW_ID NAME [JSON]",
		Short:             "Send a signal to a run (its argument as JSON; none: null)",
		Example:           `  durable signal order-o-1 approve '{"by":"ann"}'`,
		Args:              usageArgs(cobra.RangeArgs(2, 3)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			arg, err := jsonArgs(args[2:])
			if err != nil {
				return err
			}
			var v any = json.RawMessage("null")
			if len(arg) == 1 {
				v = arg[0]
			}
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := e.SignalWorkflow(cmd.Context(), args[0], runID, args[1], v); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signalled %s: %s\n", args[0], args[1])
			return nil
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID (default: its open run)")
	return cmd
}

func newQueryCmd(a *app) *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:   "query WORKFLOW_ID NAME [JSON_ARG...]",
		Short: "Ask a run's query handler; needs the workflow's code",
		Long: `Ask a run's query handler, each argument as JSON, and print the answer (JSON).

A query reads the run's state, which lives in the workflow's code: the CLI
rebuilds it by replaying the run's journal through that code, so it answers
only for workflows registered on it. The stock durable binary has none; build
your own with durablecli.Config.RegisterFunc, or query from your application
(Engine.Query, or the web UI mounted in your worker process).`,
		Args:              usageArgs(cobra.MinimumNArgs(2)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			jargs, err := jsonArgs(args[2:])
			if err != nil {
				return err
			}
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			v, err := e.QueryWorkflow(cmd.Context(), args[0], runID, args[1], jargs...)
			if err != nil {
				var nre *durable.NotRegisteredError
				if errors.As(err, &nre) {
					return fmt.Errorf("%w\nthe CLI has no code for this workflow: query from your application, the web UI mounted in your worker, or a durable binary built with durablecli.Config.RegisterFunc", err)
				}
				return err
			}
			var out json.RawMessage
			if err := v.Get(&out); err != nil {
				return err
			}
			return writeJSON(cmd.OutOrStdout(), out)
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID other than its newest")
	return cmd
}

func newUpdateCmd(a *app) *cobra.Command {
	var (
		runID, updateID string
		noWait          bool
	)
	cmd := &cobra.Command{
		Use:   "update WORKFLOW_ID NAME [JSON_ARG...]",
		Short: "Send an update to a run and print its result (JSON)",
		Long: `Send an update to a run, each argument as JSON, wait for its handler and print
the result. The run's worker runs the handler; its validator runs where the
workflow's code is registered (here only with durablecli.Config.RegisterFunc).
Exit 4 when the update was rejected, 1 when its handler failed.`,
		Args:              usageArgs(cobra.MinimumNArgs(2)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			jargs, err := jsonArgs(args[2:])
			if err != nil {
				return err
			}
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			stage := durable.UpdateStageCompleted
			if noWait {
				stage = durable.UpdateStageAccepted
			}
			h, err := e.UpdateWorkflow(cmd.Context(), durable.UpdateWorkflowOptions{
				WorkflowID: args[0], RunID: runID, UpdateName: args[1], UpdateID: updateID, Args: jargs, WaitForStage: stage,
			})
			if err != nil {
				return err
			}
			if noWait {
				fmt.Fprintf(cmd.OutOrStdout(), "sent update %s to %s\n", h.UpdateID(), args[0])
				return nil
			}
			var out json.RawMessage
			if err := h.Get(cmd.Context(), &out); err != nil {
				return err
			}
			if len(out) == 0 {
				out = json.RawMessage("null")
			}
			return writeJSON(cmd.OutOrStdout(), out)
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID (default: its open run)")
	cmd.Flags().StringVar(&updateID, "update-id", "", "the update's ID (default: a new one)")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the update is delivered")
	return cmd
}
