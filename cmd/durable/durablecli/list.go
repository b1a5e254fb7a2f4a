package durablecli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durable"
)

type listOptions struct {
	statuses, workflows, queues, attrs []string
	id, prefix, since, until, token    string
	limit                              int
	all, oldest, json                  bool
}

func newListCmd(a *app) *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Long: `List runs, newest first, filtered by status, workflow name, queue, workflow ID
(exact or prefix), creation time and search attributes. A page holds --limit
runs; the next page's token goes to stderr (--page-token), or --all lists
every page.`,
		Example: `  durable list --status running --status stuck
  durable list --workflow OrderWorkflow --since 24h --json
  durable list --prefix order- --attr CustomerId=c-42`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.list(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.statuses, "status", nil, "keep runs in this status (running, stuck, completed, failed, canceled, terminated, continued); repeatable")
	f.StringSliceVar(&o.workflows, "workflow", nil, "keep runs of this workflow name; repeatable")
	f.StringSliceVar(&o.queues, "queue", nil, "keep runs on this queue; repeatable")
	f.StringVar(&o.id, "id", "", "keep the runs of this workflow ID")
	f.StringVar(&o.prefix, "prefix", "", "keep runs whose workflow ID starts with this")
	f.StringVar(&o.since, "since", "", "keep runs created at or after this time (RFC 3339, date, or duration ago: 24h)")
	f.StringVar(&o.until, "until", "", "keep runs created before this time")
	f.StringArrayVar(&o.attrs, "attr", nil, "keep runs with this search attribute value, KEY=VALUE (VALUE as JSON, else a string); repeatable")
	f.IntVar(&o.limit, "limit", durable.ListPageSizeDefault, "runs per page")
	f.StringVar(&o.token, "page-token", "", "continue from a previous page")
	f.BoolVar(&o.all, "all", false, "list every page")
	f.BoolVar(&o.oldest, "oldest", false, "oldest first")
	f.BoolVar(&o.json, "json", false, "print JSON")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(
		[]string{"running", "stuck", "completed", "failed", "canceled", "terminated", "continued"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// runJSON is a run as list and describe print it with --json.
type runJSON struct {
	WorkflowID       string                     `json:"workflowId"`
	RunID            string                     `json:"runId"`
	Workflow         string                     `json:"workflow"`
	Queue            string                     `json:"queue"`
	Status           string                     `json:"status"`
	Error            string                     `json:"error,omitempty"`
	CreatedAt        time.Time                  `json:"createdAt"`
	UpdatedAt        time.Time                  `json:"updatedAt"`
	JournalLen       int64                      `json:"journalLen"`
	Input            any                        `json:"input,omitempty"`
	Result           any                        `json:"result,omitempty"`
	ParentRunID      string                     `json:"parentRunId,omitempty"`
	PrevRunID        string                     `json:"prevRunId,omitempty"`
	NextRunID        string                     `json:"nextRunId,omitempty"`
	Unclaimed        bool                       `json:"unclaimed,omitempty"`
	ResetFrom        string                     `json:"resetFrom,omitempty"`
	ResetEvent       int64                      `json:"resetEvent,omitempty"`
	Memo             map[string]json.RawMessage `json:"memo,omitempty"`
	SearchAttributes map[string]json.RawMessage `json:"searchAttributes,omitempty"`
}

func toRunJSON(r *durable.RunInfo) runJSON {
	out := runJSON{
		WorkflowID: r.WorkflowID, RunID: r.RunID, Workflow: r.Workflow, Queue: r.Queue, Status: r.Status,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), JournalLen: r.JournalLen,
		ParentRunID: r.ParentRunID, PrevRunID: r.PrevRunID, NextRunID: r.NextRunID, Unclaimed: r.Unclaimed,
		ResetFrom: r.ResetFrom, ResetEvent: r.ResetEvent,
	}
	if r.Error != nil {
		out.Error = r.Error.Error()
	}
	if len(r.Input) > 0 {
		out.Input = r.Input
	}
	if len(r.Result) > 0 {
		out.Result = r.Result
	}
	if len(r.Memo) > 0 {
		out.Memo = r.Memo
	}
	if len(r.SearchAttributes) > 0 {
		out.SearchAttributes = r.SearchAttributes
	}
	return out
}

func (a *app) list(cmd *cobra.Command, o *listOptions) error {
	ctx := cmd.Context()
	now := time.Now()
	lo := durable.ListOptions{
		Statuses: o.statuses, Workflows: o.workflows, Queues: o.queues, WorkflowID: o.id, IDPrefix: o.prefix,
		PageSize: o.limit, PageToken: o.token, Oldest: o.oldest,
	}
	var err error
	if lo.CreatedAfter, err = parseTime(o.since, now); err != nil {
		return err
	}
	if lo.CreatedBefore, err = parseTime(o.until, now); err != nil {
		return err
	}
	if lo.SearchAttributes, err = parseAttrs(o.attrs); err != nil {
		return err
	}
	if o.limit <= 0 {
		return usageErr("--limit must be positive")
	}
	for _, s := range o.statuses {
		if !validStatus(s) {
			return usageErr("unknown status %q (want running, stuck, completed, failed, canceled, terminated or continued)", s)
		}
	}
	e, err := a.open(ctx)
	if err != nil {
		return err
	}
	var runs []*durable.RunInfo
	next := ""
	for {
		page, err := e.List(ctx, lo)
		if err != nil {
			return err
		}
		runs = append(runs, page.Runs...)
		next = page.NextPageToken
		if !o.all || next == "" {
			break
		}
		lo.PageToken = next
	}
	out := cmd.OutOrStdout()
	if o.json {
		items := make([]runJSON, len(runs))
		for i, r := range runs {
			items[i] = toRunJSON(r)
			items[i].Input, items[i].Result = nil, nil // describe shows them
		}
		return writeJSON(out, struct {
			Runs          []runJSON `json:"runs"`
			NextPageToken string    `json:"nextPageToken,omitempty"`
		}{items, next})
	}
	t := newTable(out, "WORKFLOW ID", "RUN ID", "WORKFLOW", "QUEUE", "STATUS", "CREATED", "UPDATED")
	for _, r := range runs {
		t.row(r.WorkflowID, r.RunID, r.Workflow, orDash(r.Queue), r.Status, when(r.CreatedAt), when(r.UpdatedAt))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if next != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "more runs: --page-token %s\n", next)
	}
	return nil
}

func validStatus(s string) bool {
	switch strings.ToLower(s) {
	case "running", "stuck", "completed", "failed", "canceled", "terminated", "continued":
		return true
	}
	return false
}
