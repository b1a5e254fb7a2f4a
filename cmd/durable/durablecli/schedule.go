package durablecli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
)

// newScheduleCmd builds "durable schedule" and its subcommands, which look
// at and act on the store's schedules (durable.ScheduleClient).
func newScheduleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "List, describe and act on schedules",
		Long: `Schedules start a workflow on a time spec (Engine.ScheduleClient). Each one is
a scheduler run with the workflow ID durable-scheduler:<ID>, worked by the
workers of its action's queue; these commands reach it through the store.`,
		Args: usageArgs(cobra.NoArgs),
	}
	var listJSON, describeJSON bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the schedules",
		Example: "  durable schedule list\n  durable schedule list --json",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.scheduleList(cmd, listJSON)
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	describe := &cobra.Command{
		Use:     "describe ID",
		Short:   "Show a schedule: spec, action, policies, state and what it did",
		Example: "  durable schedule describe nightly-export --json",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.scheduleDescribe(cmd, args[0], describeJSON)
		},
	}
	describe.Flags().BoolVar(&describeJSON, "json", false, "print JSON")
	var overlap, note string
	trigger := &cobra.Command{
		Use:   "trigger ID",
		Short: "Take the schedule's action now",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseOverlap(overlap)
			if err != nil {
				return err
			}
			return a.scheduleAct(cmd, args[0], "triggered", func(h *durable.ScheduleHandle) error {
				return h.Trigger(cmd.Context(), durable.ScheduleTriggerOptions{Overlap: p})
			})
		},
	}
	trigger.Flags().StringVar(&overlap, "overlap", "", "overlap policy for this start: Skip, BufferOne, BufferAll, CancelOther, TerminateOther, AllowAll (default: the schedule's)")
	pause := &cobra.Command{
		Use:   "pause ID",
		Short: "Pause the schedule's scheduled actions",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.scheduleAct(cmd, args[0], "paused", func(h *durable.ScheduleHandle) error {
				return h.Pause(cmd.Context(), durable.SchedulePauseOptions{Note: note})
			})
		},
	}
	unpause := &cobra.Command{
		Use:   "unpause ID",
		Short: "Resume the schedule's scheduled actions",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.scheduleAct(cmd, args[0], "unpaused", func(h *durable.ScheduleHandle) error {
				return h.Unpause(cmd.Context(), durable.ScheduleUnpauseOptions{Note: note})
			})
		},
	}
	for _, c := range []*cobra.Command{pause, unpause} {
		c.Flags().StringVar(&note, "note", "", "why (kept as the schedule's note)")
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete the schedule (the workflows it started go on)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.scheduleAct(cmd, args[0], "deleted", func(h *durable.ScheduleHandle) error {
				return h.Delete(cmd.Context())
			})
		},
	}
	cmd.AddCommand(list, describe, trigger, pause, unpause, del)
	return cmd
}

// parseOverlap reads an overlap policy's name; "" is the schedule's own.
func parseOverlap(s string) (durable.ScheduleOverlapPolicy, error) {
	if s == "" {
		return durable.ScheduleOverlapUnspecified, nil
	}
	for p := durable.ScheduleOverlapSkip; p <= durable.ScheduleOverlapAllowAll; p++ {
		if strings.EqualFold(p.String(), s) {
			return p, nil
		}
	}
	return 0, usageErr("unknown overlap policy %q (want Skip, BufferOne, BufferAll, CancelOther, TerminateOther or AllowAll)", s)
}

func (a *app) scheduleList(cmd *cobra.Command, asJSON bool) error {
	ctx := cmd.Context()
	e, err := a.open(ctx)
	if err != nil {
		return err
	}
	var entries []*durable.ScheduleListEntry
	token := ""
	for {
		page, err := e.ScheduleClient().List(ctx, durable.ScheduleListOptions{PageToken: token})
		if err != nil {
			return err
		}
		entries = append(entries, page.Schedules...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	out := cmd.OutOrStdout()
	if asJSON {
		if entries == nil {
			entries = []*durable.ScheduleListEntry{}
		}
		return writeJSON(out, struct {
			Schedules []*durable.ScheduleListEntry `json:"schedules"`
		}{entries})
	}
	t := newTable(out, "ID", "WORKFLOW", "STATE", "NEXT ACTION", "LAST ACTION", "CREATED")
	for _, s := range entries {
		state := "active"
		if s.Paused {
			state = "paused"
		}
		next, last := "-", "-"
		if len(s.NextActionTimes) > 0 {
			next = when(s.NextActionTimes[0])
		}
		if n := len(s.RecentActions); n > 0 {
			last = when(s.RecentActions[n-1].ActualTime)
		}
		t.row(s.ID, orDash(s.WorkflowType), state, next, last, when(s.CreatedAt))
	}
	return t.flush()
}

func (a *app) scheduleDescribe(cmd *cobra.Command, id string, asJSON bool) error {
	ctx := cmd.Context()
	e, err := a.open(ctx)
	if err != nil {
		return err
	}
	d, err := e.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return writeJSON(out, struct {
			ID string `json:"id"`
			*durable.ScheduleDescription
		}{id, d})
	}
	s, info := d.Schedule, d.Info
	state := "active"
	if s.State.Paused {
		state = "paused"
	}
	fmt.Fprintf(out, "Schedule:     %s (%s)\n", id, state)
	if s.State.Note != "" {
		fmt.Fprintf(out, "Note:         %s\n", s.State.Note)
	}
	fmt.Fprintf(out, "Workflow:     %v on queue %s, workflow IDs %s-<time>\n", s.Action.Workflow, s.Action.Queue, s.Action.ID)
	fmt.Fprintf(out, "Spec:         %s\n", specSummary(s.Spec))
	overlap := s.Policy.Overlap
	if overlap == durable.ScheduleOverlapUnspecified {
		overlap = durable.ScheduleOverlapSkip
	}
	fmt.Fprintf(out, "Overlap:      %s\n", overlap)
	if s.State.LimitedActions {
		fmt.Fprintf(out, "Remaining:    %d actions\n", s.State.RemainingActions)
	}
	fmt.Fprintf(out, "Actions:      %d taken, %d missed the catch-up window, %d skipped by overlap, %d buffered\n",
		info.NumActions, info.NumActionsMissedCatchupWindow, info.NumActionsSkippedOverlap, info.BufferedActions)
	fmt.Fprintf(out, "Created:      %s\n", when(info.CreatedAt))
	if !info.LastUpdateAt.IsZero() {
		fmt.Fprintf(out, "Updated:      %s\n", when(info.LastUpdateAt))
	}
	for _, r := range info.RunningWorkflows {
		fmt.Fprintf(out, "Running:      %s\n", r.WorkflowID)
	}
	for _, r := range info.RecentActions {
		wid := "-"
		if r.StartWorkflowResult != nil {
			wid = r.StartWorkflowResult.WorkflowID
		}
		fmt.Fprintf(out, "Recent:       %s %s (%s)\n", when(r.ScheduleTime), wid, orDash(r.StartWorkflowStatus))
	}
	for _, at := range info.NextActionTimes {
		fmt.Fprintf(out, "Next:         %s\n", at.UTC().Format(time.RFC3339))
	}
	return nil
}

// specSummary renders a spec on one line.
func specSummary(s durable.ScheduleSpec) string {
	var parts []string
	for _, iv := range s.Intervals {
		p := "every " + iv.Every.String()
		if iv.Offset > 0 {
			p += " offset " + iv.Offset.String()
		}
		parts = append(parts, p)
	}
	for _, c := range s.CronExpressions {
		parts = append(parts, "cron "+c)
	}
	for _, c := range s.Calendars {
		p := "calendar"
		if c.Comment != "" {
			p += " (" + c.Comment + ")"
		}
		parts = append(parts, p)
	}
	if len(s.Skip) > 0 {
		parts = append(parts, fmt.Sprintf("%d skip calendars", len(s.Skip)))
	}
	if s.TimeZoneName != "" {
		parts = append(parts, "in "+s.TimeZoneName)
	}
	if s.Jitter > 0 {
		parts = append(parts, "jitter "+s.Jitter.String())
	}
	if len(parts) == 0 {
		return "none (triggers and backfills only)"
	}
	return strings.Join(parts, ", ")
}

// scheduleAct runs one action on a schedule and reports it.
func (a *app) scheduleAct(cmd *cobra.Command, id, done string, act func(*durable.ScheduleHandle) error) error {
	e, err := a.open(cmd.Context())
	if err != nil {
		return err
	}
	if err := act(e.ScheduleClient().GetHandle(cmd.Context(), id)); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s schedule %s\n", done, id)
	return nil
}
