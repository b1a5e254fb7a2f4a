package durablecli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
)

// completeIDs completes workflow IDs from the store (newest runs first).
func (a *app) completeIDs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	e, err := a.open(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	defer a.close()
	page, err := e.List(cmd.Context(), durable.ListOptions{IDPrefix: toComplete, PageSize: 100})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	var ids []string
	for _, r := range page.Runs {
		if !slices.Contains(ids, r.WorkflowID) {
			ids = append(ids, r.WorkflowID)
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

func newDescribeCmd(a *app) *cobra.Command {
	var (
		runID  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:               "describe WORKFLOW_ID",
		Short:             "Show a run: status, input, result or error, memo and search attributes",
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			info, err := e.DescribeRun(cmd.Context(), args[0], runID)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), toRunJSON(info))
			}
			return printRun(cmd.OutOrStdout(), info)
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID other than its newest")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printRun writes a run's fields, one per line.
func printRun(w io.Writer, r *durable.RunInfo) error {
	t := newTable(w, "Workflow ID:", r.WorkflowID)
	t.row("Run ID:", r.RunID)
	t.row("Workflow:", r.Workflow)
	t.row("Queue:", orDash(r.Queue))
	status := r.Status
	if r.Unclaimed {
		status += " (no worker has taken it: is a worker serving its queue with the workflow registered?)"
	}
	t.row("Status:", status)
	t.row("Created:", when(r.CreatedAt))
	t.row("Updated:", when(r.UpdatedAt))
	t.row("Events:", fmt.Sprint(r.JournalLen))
	t.row("Input:", orDash(string(r.Input)))
	if len(r.Result) > 0 {
		t.row("Result:", string(r.Result))
	}
	if r.Error != nil {
		t.row("Error:", r.Error.Error())
	}
	for _, l := range []struct{ name, id string }{{"Parent run:", r.ParentRunID}, {"Previous run:", r.PrevRunID}, {"Next run:", r.NextRunID}} {
		if l.id != "" {
			t.row(l.name, l.id)
		}
	}
	if r.ResetFrom != "" {
		t.row("Reset from:", fmt.Sprintf("run %s at event %d", r.ResetFrom, r.ResetEvent))
	}
	attrs := func(name string, m map[string]json.RawMessage) {
		if len(m) == 0 {
			return
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + string(m[k])
		}
		t.row(name, strings.Join(parts, " "))
	}
	attrs("Memo:", r.Memo)
	attrs("Search attributes:", r.SearchAttributes)
	return t.flush()
}

func newHistoryCmd(a *app) *cobra.Command {
	var (
		runID  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "history WORKFLOW_ID",
		Short: "Show a run's journal as a timeline",
		Long: `Show a run's journal as a timeline: the start, activities scheduled and their
outcomes with the attempt that produced them, timers, signals, updates,
children, side effects and the close, then what the run waits for now:
pending activities with their attempt, timers, and inbox items its worker has
not taken yet. Event numbers are what reset --event takes.`,
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.history(cmd.Context(), cmd.OutOrStdout(), args[0], runID, asJSON)
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "a run of the workflow ID other than its newest")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) history(ctx context.Context, w io.Writer, id, runID string, asJSON bool) error {
	e, err := a.open(ctx)
	if err != nil {
		return err
	}
	h, err := e.History(ctx, id, runID)
	if err != nil {
		return err
	}
	if asJSON {
		utc(h)
		return writeJSON(w, struct {
			Run runJSON `json:"run"`
			*durable.History
		}{toRunJSON(h.Run), h})
	}
	fmt.Fprintf(w, "%s  run %s  %s  %s\n\n", h.Run.WorkflowID, h.Run.RunID, h.Run.Workflow, h.Run.Status)
	t := newTable(w, "#", "TIME", "EVENT", "DETAILS")
	for _, ev := range h.Events {
		t.row(fmt.Sprint(ev.Seq), ev.At.UTC().Format("15:04:05.000"), ev.Kind, ev.Summary)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(h.PendingActivities) > 0 {
		fmt.Fprintln(w, "\nPending activities:")
		t := newTable(w, "ID", "ACTIVITY", "STATE", "ATTEMPT", "DUE", "WORKER")
		for _, p := range h.PendingActivities {
			attempt := "-"
			if p.Attempt > 0 {
				attempt = fmt.Sprint(p.Attempt)
			}
			t.row(fmt.Sprint(p.ID), p.Activity, p.State, attempt, when(p.DueAt), orDash(p.Worker))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(h.PendingTimers) > 0 {
		fmt.Fprintln(w, "\nPending timers:")
		t := newTable(w, "ID", "FIRES AT")
		for _, p := range h.PendingTimers {
			t.row(fmt.Sprint(p.ID), when(p.FireAt))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(h.Inbox) > 0 {
		fmt.Fprintln(w, "\nInbox (not yet taken by the run's worker):")
		t := newTable(w, "KIND", "NAME", "AT")
		for _, it := range h.Inbox {
			t.row(it.Kind, orDash(it.Name), when(it.At))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}

// utc puts the times of h in UTC, as --json prints every time.
func utc(h *durable.History) {
	fix := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	for _, evs := range [][]durable.HistoryEvent{h.Events, h.PendingTimers} {
		for i := range evs {
			fix(&evs[i].At)
			fix(&evs[i].FireAt)
		}
	}
	for i := range h.PendingActivities {
		fix(&h.PendingActivities[i].ScheduledAt)
		fix(&h.PendingActivities[i].DueAt)
	}
	for i := range h.Inbox {
		fix(&h.Inbox[i].At)
	}
}
