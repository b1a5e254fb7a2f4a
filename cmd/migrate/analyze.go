package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/converters/temporal"
)

// analyzeOpts are the flags and arguments of migrate analyze.
type analyzeOpts struct {
	JSON     bool
	Dir      string
	Patterns []string
}

// Validate checks the arguments.
func (o *analyzeOpts) Validate() error {
	if len(o.Patterns) == 0 {
		return usageError("no packages given (try ./...)")
	}
	return nil
}

func newAnalyzeCmd() *cobra.Command {
	var o analyzeOpts
	cmd := &cobra.Command{
		Use: "analyze [--json] PATTERNS...",
		Example: `  migrate analyze ./...                      # inventory and what needs a person
  migrate analyze --json ./workflows/... > inventory.json`,
		Short: "Inventory Temporal workflows, activities, signals, queries, updates, timers and child workflows",
		Long: `Analyze lists what the packages matched by PATTERNS use from the Temporal Go
SDK (workflows, activities, signals, queries, updates, timers, child
workflows, per-API counts) and what converts automatically versus what needs
a person. It changes nothing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Patterns = args
			if err := o.Validate(); err != nil {
				return err
			}
			return runAnalyze(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the inventory as JSON")
	cmd.Flags().StringVarP(&o.Dir, "dir", "C", "", "run as if started in `DIR`")
	return cmd
}

func runAnalyze(ctx context.Context, o analyzeOpts, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := temporal.Analyze(ctx, temporal.Options{Dir: o.Dir, Patterns: o.Patterns})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if o.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(inv); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tCOUNT\tNAMES")
		for _, k := range inv.Kinds() {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", k.Kind, len(k.Names), k.Joined())
		}
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "API\tUSES\tAUTOMATIC\tMANUAL")
		for _, a := range inv.APIs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", a.Name, a.Uses, a.Uses-a.Manual, a.Manual)
		}
		tw.Flush()
		fmt.Fprintf(out, "\n%d file(s) would change; %d place(s) need a person\n", inv.FilesChanged, len(inv.FollowUps))
		for _, f := range inv.FollowUps {
			fmt.Fprintln(out, f.String())
		}
		for _, e := range inv.Errors {
			fmt.Fprintln(out, e.String())
		}
		fmt.Fprintln(out, "\nrules:")
		for _, r := range inv.Rules {
			fmt.Fprintf(out, "  %-16s %s\n", r.Name, r.Doc)
		}
	}
	if len(inv.Errors) > 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("%d error(s)", len(inv.Errors))}
	}
	return nil
}
