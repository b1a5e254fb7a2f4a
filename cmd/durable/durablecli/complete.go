package durablecli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
)

// newCompleteCmd completes an activity that returned
// durable.ErrResultPending, as Temporal's `temporal activity complete` and
// `fail` do.
func newCompleteCmd(a *app) *cobra.Command {
	var runID, fail, failType string
	cmd := &cobra.Command{
		Use:   "complete WORKFLOW_ID ACTIVITY_ID [JSON]",
		Short: "Complete (or --fail) an activity that waits for its result (ErrResultPending)",
		Long: `Report the outcome of an activity that returned durable.ErrResultPending: its
result as JSON (none: null), or with --fail an error the workflow sees as the
activity's (an ApplicationError of --type). ACTIVITY_ID is the activity's ID in
its run, as "durable history" lists it under pending activities.`,
		Example: `  durable complete expense-7 2 '"APPROVED"'
  durable complete expense-7 2 --fail "no budget" --type Rejected`,
		Args:              usageArgs(cobra.RangeArgs(2, 3)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			vals, err := jsonArgs(args[2:])
			if err != nil {
				return err
			}
			var result any = json.RawMessage("null")
			if len(vals) == 1 {
				result = vals[0]
			}
			var outcome error
			if cmd.Flags().Changed("fail") {
				if len(vals) == 1 {
					return usageErr("give a result or --fail, not both")
				}
				result, outcome = nil, durable.NewApplicationError(fail, failType)
			}
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			err = e.CompleteActivityByID(cmd.Context(), "", args[0], runID, args[1], result, outcome)
			if errors.Is(err, durable.ErrActivityNotFound) {
				return &exitError{code: ExitNotFound, err: err}
			}
			if err != nil {
				return err
			}
			verb := "completed"
			if outcome != nil {
				verb = "failed"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s activity %s of %s\n", verb, args[1], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID (default: its newest run)")
	cmd.Flags().StringVar(&fail, "fail", "", "fail the activity with this message instead")
	cmd.Flags().StringVar(&failType, "type", "ActivityFailed", "the error type of --fail (NonRetryableErrorTypes match it)")
	return cmd
}
