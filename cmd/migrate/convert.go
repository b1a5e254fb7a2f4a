package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/converters/temporal"
)

// convertOpts are the flags and arguments of migrate convert.
type convertOpts struct {
	Diff, Write, List bool
	OutDir            string
	JSON              bool
	Strict            bool
	Dir               string
	Tags              []string
	Store             string
	Patterns          []string
}

// Validate rejects incompatible flags.
func (o *convertOpts) Validate() error {
	n := 0
	for _, b := range []bool{o.Diff, o.Write, o.List, o.OutDir != ""} {
		if b {
			n++
		}
	}
	if n > 1 {
		return usageError("-d, -w, -l and -o are mutually exclusive")
	}
	if len(o.Patterns) == 0 {
		return usageError("no packages given (try ./...)")
	}
	if !slices.Contains(temporal.StoreKinds(), temporal.StoreKind(o.Store)) {
		return usageError("--store %q: want dsn, sqlite or postgres", o.Store)
	}
	return nil
}

func newConvertCmd() *cobra.Command {
	var o convertOpts
	cmd := &cobra.Command{
		Use: "convert [-d|-w|-l] [-o DIR] [--json] [--strict] [--store dsn|sqlite|postgres] PATTERNS...",
		Example: `  migrate convert -d ./workflows/...        # review the change as a diff
  migrate convert -l ./...                   # list the files that would change
  migrate convert -w ./workflows/...         # rewrite in place (atomic per file)
  migrate convert -o ../converted ./...      # write a converted copy of the tree
  migrate convert --strict --json ./... > report.json   # CI gate: exit 1 while follow-ups remain
  migrate convert --store sqlite -w ./...    # programs open SQLite themselves and link no PostgreSQL driver`,
		Short: "Rewrite Temporal workflow, activity, worker, starter and test code to durable",
		Long: `Convert rewrites the packages matched by PATTERNS from the Temporal Go SDK to the
durable runtime. Like gofmt, it prints the converted source of changed files by
default; -d prints a unified diff, -l lists the files that would change, -w
rewrites them in place and -o DIR writes the converted tree under DIR.
What it cannot convert is marked "// TODO(migrate): ..." and reported.

Worker and client programs open their store with durable.Open(ctx,
durable.DSN()) by default (--store dsn): the backend comes from $DURABLE_DSN,
and the program links both backends. --store sqlite or --store postgres opens
that backend's store (sqlite.Open on durable.db, postgres.Open on
$DURABLE_DSN) and hands it to durable.New, for programs that link one
backend: build them with -tags durable_nopostgres or durable_nosqlite.

A package that does not load or type-check (a missing module, a type error)
is reported and left untouched; the other packages are converted. Files
behind build tags are converted when --tags names the tags.

Exit status: 0 ok; 1 with -d when there is a diff, or with --strict when
manual follow-ups remain; 2 usage errors, or packages that did not load.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Patterns = args
			if err := o.Validate(); err != nil {
				return err
			}
			return runConvert(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Diff, "diff", "d", false, "print a unified diff instead of the converted source")
	f.BoolVarP(&o.Write, "write", "w", false, "write the converted files in place")
	f.BoolVarP(&o.List, "list", "l", false, "list the files that would change")
	f.StringVarP(&o.OutDir, "out", "o", "", "write the converted tree under `DIR`")
	f.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	f.BoolVar(&o.Strict, "strict", false, "exit 1 when manual follow-ups remain")
	f.StringVarP(&o.Dir, "dir", "C", "", "run as if started in `DIR`")
	f.StringSliceVar(&o.Tags, "tags", nil, "build `TAGS` (comma-separated) of the files to convert, as go build -tags")
	f.StringVar(&o.Store, "store", string(temporal.StoreDSN), "how converted programs open their store: `dsn` (durable.Open, both backends), sqlite or postgres (durable.New on that backend only)")
	return cmd
}

// convertReport is the --json output.
type convertReport struct {
	Files     []string           `json:"files"`
	Findings  []temporal.Finding `json:"findings"`
	Errors    []temporal.Finding `json:"errors"`
	FollowUps int                `json:"follow_ups"`
	Broken    []string           `json:"broken"`
	GoGet     []string           `json:"go_get,omitempty"`
	Written   bool               `json:"written"`
	Rules     []temporal.RuleDoc `json:"-"`
}

func runConvert(ctx context.Context, o convertOpts, out, errOut io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	bar := newProgress(errOut, "loading packages")
	res, err := temporal.Convert(ctx, temporal.Options{Dir: o.Dir, Patterns: o.Patterns, Tags: o.Tags, Store: temporal.StoreKind(o.Store), ProgressFunc: bar.update})
	bar.finish()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	rep := convertReport{Files: []string{}, Findings: nonNil(res.Findings), Errors: nonNil(res.Errors),
		Broken: nonNil(res.Broken), FollowUps: res.FollowUps(), GoGet: res.GoGet}
	for _, f := range res.Files {
		rep.Files = append(rep.Files, rel(res.Root, f.Path))
	}
	switch {
	case o.Write:
		if err := res.Write(); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		rep.Written = true
	case o.OutDir != "":
		if err := res.WriteTree(o.OutDir); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		rep.Written = true
	}
	report := errOut
	if o.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		report = errOut
		for _, f := range res.Files {
			switch {
			case o.List:
				fmt.Fprintln(out, rel(res.Root, f.Path))
			case o.Diff:
				name := rel(res.Root, f.Path)
				diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(f.Original)), B: difflib.SplitLines(string(f.Converted)),
					FromFile: name + ".orig", ToFile: name, Context: 3,
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "diff -u %s.orig %s\n%s", name, name, diff)
			case o.Write, o.OutDir != "":
			default:
				out.Write(f.Converted)
			}
		}
		for _, e := range res.Errors {
			fmt.Fprintln(report, e.String())
		}
		for _, f := range res.Findings {
			fmt.Fprintln(report, f.String())
		}
		for _, g := range res.GoGet {
			fmt.Fprintf(report, "migrate: the converted code needs the durable runtime; run:\n\t%s\n", g)
		}
	}
	switch {
	case len(res.Errors) > 0:
		// The errors are printed above; the exit line only counts them.
		return &exitError{code: exitUsage, err: fmt.Errorf("%d package(s) not converted: %s", len(res.Broken), strings.Join(res.Broken, " "))}
	case o.Diff && len(res.Files) > 0:
		return &exitError{code: exitFollowUps, err: errors.New("")}
	case o.Strict && rep.FollowUps > 0:
		return &exitError{code: exitFollowUps, err: fmt.Errorf("%d manual follow-up(s) remain", rep.FollowUps)}
	}
	return nil
}

// nonNil makes an empty list print as [] in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}
