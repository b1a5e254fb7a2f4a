package temporal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var equivOnly = flag.String("equiv.only", "", "run TestEquivalence on the scenarios whose name matches this regular expression")

// notEquivalent lists what cannot give Temporal's results after conversion,
// with the reason: a whole scenario ("concept/name") or one of its results
// ("concept/name result"). TestEquivalence still runs them and fails when a
// listed one becomes equivalent, so the list stays true.
var notEquivalent = map[string]string{
	"continueasnew/continue failed-97": "Temporal's test environment stops at the first run and reports a ContinueAsNewError; " +
		"durabletest follows the chain as Run.Get does and reports the last run's result (nil)",
}

// behavioural reports whether the scenario carries a test of its own (a
// _test.go under in/), which records its results in RESULT lines.
func (s *scenario) behavioural() bool {
	for name := range s.in {
		if strings.HasSuffix(name, "_test.go") {
			return true
		}
	}
	return false
}

// TestEquivalence runs every behavioural scenario twice: the original under
// Temporal's testsuite, and its conversion (made here by Convert, tests
// included) under durabletest. Both must pass and record the same results:
// each scenario test logs "RESULT <name> <json>" lines, which the
// conversion leaves as written. Each side is one module holding every
// scenario as a package, so go test builds the Temporal SDK and the runtime
// once per side (from GOCACHE after the first run).
func TestEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every scenario under Temporal's testsuite and durabletest")
	}
	start := time.Now()
	only, err := regexp.Compile(*equivOnly)
	require.NoError(t, err)
	var scens []*scenario
	for _, s := range loadScenarios(t) {
		if s.behavioural() && only.MatchString(s.name) {
			scens = append(scens, s)
		}
	}
	if *equivOnly == "" {
		require.GreaterOrEqual(t, len(scens), 15, "behavioural scenarios")
	}
	require.NotEmpty(t, scens)

	orig := scenarioModule(t, scens, func(s *scenario) map[string][]byte { return s.in })
	// The original's go test runs while the converter loads the same packages.
	var temporal, durable map[string]*pkgRun
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); temporal = goTestJSON(t, orig) }()
	defer wg.Wait()
	res, err := Convert(context.Background(), Options{Dir: orig, Patterns: []string{"./..."}, Env: testEnv()})
	require.NoError(t, err)
	require.Empty(t, res.Errors, "the Temporal inputs must type-check")
	converted := map[string][]byte{}
	for _, f := range res.Files {
		converted[f.Path] = f.Converted
	}
	conv := scenarioModule(t, scens, func(s *scenario) map[string][]byte {
		m := map[string][]byte{}
		for name, data := range s.in {
			if c, ok := converted[filepath.Join(orig, s.pkgDir(), name)]; ok {
				data = c
			}
			m[name] = data
		}
		return m
	})
	t.Logf("converted %d files in %s", len(res.Files), time.Since(start).Round(time.Millisecond))

	durable = goTestJSON(t, conv)
	wg.Wait()
	t.Logf("ran %d scenarios on both sides in %s", len(scens), time.Since(start).Round(time.Millisecond))

	for _, s := range scens {
		t.Run(s.name, func(t *testing.T) {
			tr, dr := temporal[s.pkgDir()], durable[s.pkgDir()]
			require.NotNil(t, tr, "no go test output for the original")
			require.NotNil(t, dr, "no go test output for the conversion")
			require.True(t, tr.passed, "the original fails under Temporal's testsuite:\n%s", tr.output.String())
			require.NotEmpty(t, tr.results, "the original's test records no RESULT line:\n%s", tr.output.String())
			if reason, ok := notEquivalent[s.name]; ok {
				if dr.passed && equalResults(tr.results, dr.results) {
					t.Fatalf("listed as not equivalent (%s) but the results are now equal: remove it from notEquivalent", reason)
				}
				t.Logf("not equivalent, as listed: %s\ntemporal: %v\ndurable:  %v", reason, tr.results, dr.results)
				return
			}
			require.True(t, dr.passed, "the conversion fails under durabletest:\n%s\nconverted files:\n%s", dr.output.String(), convertedListing(conv, s))
			want, got := map[string]string{}, map[string]string{}
			for name, v := range tr.results {
				reason, listed := notEquivalent[s.name+" "+name]
				if !listed {
					want[name], got[name] = v, dr.results[name]
					continue
				}
				if dr.results[name] == v {
					t.Errorf("result %s listed as not equivalent (%s) but equal now: remove it from notEquivalent", name, reason)
				}
				t.Logf("result %s not equivalent, as listed: %s\ntemporal: %s\ndurable:  %s", name, reason, v, dr.results[name])
			}
			for name, v := range dr.results {
				if _, ok := tr.results[name]; !ok {
					got[name] = v
				}
			}
			require.Equal(t, want, got, "results: Temporal's testsuite (expected) vs durabletest (actual)")
			names := make([]string, 0, len(want))
			for name := range want {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				t.Logf("RESULT %s %s", name, want[name])
			}
		})
	}
}

// pkgRun is what go test -json reported for one scenario package.
type pkgRun struct {
	passed  bool
	results map[string]string // RESULT name -> compacted JSON
	output  strings.Builder
}

var resultLine = regexp.MustCompile(`RESULT (\S+) (.*)$`)

// goTestJSON runs go test -json ./... in dir and collects, per package
// directory, whether it passed and the RESULT lines its tests logged.
func goTestJSON(t *testing.T, dir string) map[string]*pkgRun {
	cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
	cmd.Dir, cmd.Env = dir, testEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // a failing package is reported per package below
	runs := map[string]*pkgRun{}
	get := func(importPath string) *pkgRun {
		pkg := strings.TrimPrefix(importPath, "example.com/scenarios/")
		pkg = strings.SplitN(strings.Fields(pkg + " ")[0], "/", 2)[0]
		r := runs[pkg]
		if r == nil {
			r = &pkgRun{results: map[string]string{}}
			runs[pkg] = r
		}
		return r
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			Action, Package, ImportPath, Test, Output string
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		pkg := ev.Package
		if pkg == "" {
			pkg = ev.ImportPath
		}
		if pkg == "" {
			continue
		}
		r := get(pkg)
		switch ev.Action {
		case "output", "build-output":
			r.output.WriteString(ev.Output)
			if m := resultLine.FindStringSubmatch(strings.TrimRight(ev.Output, "\n")); m != nil && ev.Test != "" {
				r.results[m[1]] = compactJSON(m[2])
			}
		case "pass":
			if ev.Test == "" {
				r.passed = true
			}
		case "fail":
			if ev.Test == "" {
				r.passed = false
			}
		}
	}
	if stderr.Len() > 0 {
		t.Logf("go test in %s, stderr:\n%s", dir, stderr.String())
	}
	return runs
}

func compactJSON(s string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) != nil {
		return s
	}
	return b.String()
}

func equalResults(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// convertedListing prints the scenario's converted files for a failure.
func convertedListing(root string, s *scenario) string {
	var names []string
	for n := range s.in {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		data, _ := os.ReadFile(filepath.Join(root, s.pkgDir(), n))
		fmt.Fprintf(&b, "-- %s --\n%s", n, data)
	}
	return b.String()
}
