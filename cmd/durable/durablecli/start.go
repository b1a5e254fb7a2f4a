package durablecli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
)

func newStartCmd(a *app) *cobra.Command {
	var (
		id, queue    string
		attrs, memos []string
		wait, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "start WORKFLOW [JSON_ARG...]",
		Short: "Start a workflow by name, each argument given as JSON",
		Long: `Start a workflow by its registered name. Each argument after the name is one
of the workflow's arguments, as JSON. The CLI does not have the workflow's
code: the arguments are checked when a worker runs the workflow.`,
		Example: `  durable start OrderWorkflow '{"id":"o-1","amount":42}' --id order-o-1
  durable start Greet '"world"' --queue emails --wait`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			jargs, err := jsonArgs(args[1:])
			if err != nil {
				return err
			}
			opts := durable.StartOptions{ID: id, Queue: queue}
			if opts.SearchAttributes, err = parseAttrs(attrs); err != nil {
				return err
			}
			if opts.Memo, err = parseAttrs(memos); err != nil {
				return err
			}
			e, err := a.open(ctx)
			if err != nil {
				return err
			}
			run, err := e.Start(ctx, opts, args[0], jargs...)
			if err != nil {
				return err
			}
			out := struct {
				WorkflowID string          `json:"workflowId"`
				RunID      string          `json:"runId"`
				Result     json.RawMessage `json:"result,omitempty"`
				Error      string          `json:"error,omitempty"`
			}{WorkflowID: run.ID()}
			if r, ok := run.(interface{ RunID() string }); ok {
				out.RunID = r.RunID()
			}
			var runErr error
			if wait {
				runErr = run.Get(ctx, &out.Result)
				if runErr != nil {
					out.Error = runErr.Error()
				}
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "started %s run %s\n", out.WorkflowID, out.RunID)
				if wait && runErr == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "result: %s\n", orDash(string(out.Result)))
				}
			}
			if runErr != nil {
				return fmt.Errorf("run %s: %w", out.WorkflowID, runErr)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "workflow ID (default: a new UUID)")
	f.StringVar(&queue, "queue", "", "queue whose workers run it (default: the default queue)")
	f.StringArrayVar(&attrs, "attr", nil, "search attribute KEY=VALUE (VALUE as JSON, else a string); repeatable")
	f.StringArrayVar(&memos, "memo", nil, "memo field KEY=VALUE; repeatable")
	f.BoolVar(&wait, "wait", false, "wait for the run to close and print its result (exit 1 when it fails)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
