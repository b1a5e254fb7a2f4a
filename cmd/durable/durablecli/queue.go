package durablecli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

func newQueueCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "queue NAME",
		Short: "Show a queue's backlog and the workers holding its work",
		Long: `Show what waits on a queue for a worker (runs that are due or have a signal,
update or cancellation waiting, and activity attempts stored as task rows) and
the workers that hold leases on the queue's work, with how much each holds.
A backlog that grows while no worker is listed means nobody serves the queue.`,
		Example: `  durable queue default
  durable queue billing --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			info, err := e.DescribeQueue(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, info)
			}
			now := time.Now()
			fmt.Fprintf(w, "queue %s\n", info.Queue)
			fmt.Fprintf(w, "workflows waiting:  %d%s\n", info.Workflows.Count, oldest(info.Workflows.Age(now)))
			fmt.Fprintf(w, "activities waiting: %d%s\n", info.Activities.Count, oldest(info.Activities.Age(now)))
			if len(info.Workers) == 0 {
				fmt.Fprintln(w, "no worker holds its work")
				return nil
			}
			fmt.Fprintln(w)
			t := newTable(w, "WORKER", "WORKFLOWS", "ACTIVITIES", "LEASE UNTIL")
			for _, wk := range info.Workers {
				t.row(wk.ID, strconv.FormatInt(wk.Workflows, 10), strconv.FormatInt(wk.Activities, 10), when(wk.LeaseUntil))
			}
			return t.flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the queue as JSON")
	return cmd
}

// oldest says how long the oldest item has waited, if anything waits.
func oldest(age time.Duration) string {
	if age <= 0 {
		return ""
	}
	return fmt.Sprintf(" (oldest waiting %s)", age.Round(time.Second))
}
