package temporal

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the out/ and report sections of testdata/*/*.txtar")

// scenario is one testdata/<concept>/<name>.txtar: a Temporal program (in/),
// its golden conversion (out/, absent when nothing must change), the
// report lines the conversion must print (report) and, optionally, the
// Options.Store it is converted with (store; StoreDSN without it).
type scenario struct {
	name    string // concept/name
	path    string
	archive *txtar.Archive
	in, out map[string][]byte
	report  string
	hasOut  bool
	store   StoreKind
}

func loadScenarios(t testing.TB) []*scenario {
	t.Helper()
	paths, err := filepath.Glob("testdata/*/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var out []*scenario
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		require.NoError(t, err)
		s := &scenario{path: p, archive: a, in: map[string][]byte{}, out: map[string][]byte{},
			name: filepath.Base(filepath.Dir(p)) + "/" + strings.TrimSuffix(filepath.Base(p), ".txtar")}
		for _, f := range a.Files {
			switch {
			case strings.HasPrefix(f.Name, "in/"):
				s.in[strings.TrimPrefix(f.Name, "in/")] = f.Data
			case strings.HasPrefix(f.Name, "out/"):
				s.out[strings.TrimPrefix(f.Name, "out/")] = f.Data
				s.hasOut = true
			case f.Name == "report":
				s.report = string(f.Data)
			case f.Name == "store":
				s.store = StoreKind(strings.TrimSpace(string(f.Data)))
			}
		}
		out = append(out, s)
	}
	return out
}

// pkgDir is the scenario's package directory inside the test module.
func (s *scenario) pkgDir() string { return strings.ReplaceAll(s.name, "/", "_") }

// scenarioModule writes a module holding every scenario as one package,
// with the Temporal SDK required and the toolkit replaced by this checkout.
func scenarioModule(t testing.TB, scens []*scenario, files func(*scenario) map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	gomod, err := os.ReadFile("testdata/mod/go.mod")
	require.NoError(t, err)
	gomod = append(gomod, []byte(fmt.Sprintf("\nrequire %s v0.0.0\n\nreplace %s => %s\n", ToolkitModule, ToolkitModule, repo))...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644))
	var sum []byte
	for _, p := range []string{"testdata/mod/go.sum", filepath.Join(repo, "go.sum")} {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		sum = append(sum, b...)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	for _, s := range scens {
		for name, data := range files(s) {
			p := filepath.Join(dir, s.pkgDir(), name)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, data, 0o644))
		}
	}
	return dir
}

func testEnv() []string { return append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off") }

// reportFor formats the findings of one scenario relative to its package.
func reportFor(res *Result, root string, s *scenario) string {
	var b strings.Builder
	prefix := filepath.Join(root, s.pkgDir()) + string(filepath.Separator)
	for _, list := range [][]Finding{res.Errors, res.Findings} {
		for _, f := range list {
			if strings.HasPrefix(f.File, prefix) {
				f.File = strings.TrimPrefix(f.File, prefix)
				fmt.Fprintln(&b, f.String())
			}
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	scens := loadScenarios(t)
	root := scenarioModule(t, scens, func(s *scenario) map[string][]byte { return s.in })
	// Every scenario is converted with the default store; those that name
	// another are converted again with it, package by package, and their
	// results taken from there.
	res, err := Convert(context.Background(), Options{Dir: root, Patterns: []string{"./..."}, Env: testEnv()})
	require.NoError(t, err)
	require.Empty(t, res.Errors, "the Temporal inputs must type-check")
	results := map[StoreKind]*Result{StoreDSN: res}
	byStore := map[StoreKind][]string{}
	for _, s := range scens {
		if s.store != "" && s.store != StoreDSN {
			byStore[s.store] = append(byStore[s.store], "./"+s.pkgDir())
		}
	}
	for store, patterns := range byStore {
		r, err := Convert(context.Background(), Options{Dir: root, Patterns: patterns, Env: testEnv(), Store: store})
		require.NoError(t, err)
		require.Empty(t, r.Errors, "the Temporal inputs must type-check")
		results[store] = r
	}
	changedBy := map[StoreKind]map[string][]byte{}
	for store, r := range results {
		changedBy[store] = map[string][]byte{}
		for _, f := range r.Files {
			changedBy[store][f.Path] = f.Converted
		}
	}
	for _, s := range scens {
		store := StoreDSN
		if s.store != "" {
			store = s.store
		}
		res, changed := results[store], changedBy[store]
		t.Run(s.name, func(t *testing.T) {
			got := map[string][]byte{}
			for name := range s.in {
				if c, ok := changed[filepath.Join(root, s.pkgDir(), name)]; ok {
					got[name] = c
				}
			}
			rep := reportFor(res, root, s)
			if *update {
				s.write(t, got, rep)
				return
			}
			if !s.hasOut {
				require.Empty(t, got, "input with nothing to convert must come out byte-identical")
			} else {
				for name, want := range s.out {
					g, ok := got[name]
					if !ok {
						g = s.in[name]
					}
					require.Equal(t, string(want), string(g), "converted %s", name)
				}
				for name := range got {
					require.Contains(t, s.out, name, "%s changed but has no out/ section", name)
				}
			}
			require.Equal(t, s.report, rep, "report")
		})
	}
}

// write rewrites only the out/ and report sections of the scenario.
func (s *scenario) write(t *testing.T, got map[string][]byte, rep string) {
	var files []txtar.File
	for _, f := range s.archive.Files {
		if strings.HasPrefix(f.Name, "in/") {
			files = append(files, f)
		}
	}
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, txtar.File{Name: "out/" + n, Data: got[n]})
	}
	files = append(files, txtar.File{Name: "report", Data: []byte(rep)})
	if s.store != "" {
		files = append(files, txtar.File{Name: "store", Data: []byte(string(s.store) + "\n")})
	}
	s.archive.Files = files
	require.NoError(t, os.WriteFile(s.path, txtar.Format(s.archive), 0o644))
}

// goldenFiles are the converted files of a scenario, its inputs where
// nothing changed.
func goldenFiles(s *scenario) map[string][]byte {
	m := map[string][]byte{}
	for n, d := range s.in {
		m[n] = d
	}
	for n, d := range s.out {
		m[n] = d
	}
	return m
}

// TestGoldenIdempotentAndBuilds converts the golden outputs again (nothing
// may change) and builds and vets them against this checkout's runtime.
// Scenarios whose targets the runtime lacks yet are skipped by name in the
// log; every other scenario must compile and vet.
func TestGoldenIdempotentAndBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the Temporal SDK and the runtime")
	}
	scens := loadScenarios(t)
	root := scenarioModule(t, scens, goldenFiles)
	res, err := Convert(context.Background(), Options{Dir: root, Patterns: []string{"./..."}, Env: testEnv(), partial: true})
	require.NoError(t, err)
	for _, f := range res.Files {
		require.Failf(t, "not idempotent", "converting the golden output again changed %s:\n%s", f.Path, f.Converted)
	}
	l, err := load(context.Background(), Options{Dir: root, Patterns: []string{"./..."}, Env: testEnv()})
	require.NoError(t, err)
	broken := map[string][]string{}
	for _, e := range l.errors {
		rel, _ := filepath.Rel(root, e.File)
		pkg := strings.SplitN(rel, string(filepath.Separator), 2)[0]
		broken[pkg] = append(broken[pkg], e.String())
	}
	var vetPkgs []string
	for _, s := range scens {
		errs := broken[s.pkgDir()]
		if len(errs) == 0 {
			vetPkgs = append(vetPkgs, "./"+s.pkgDir())
			continue
		}
		if s.expectsBroken() {
			continue
		}
		lacking := true
		for _, e := range errs {
			if !strings.Contains(e, "durable") {
				lacking = false
			}
		}
		if lacking {
			t.Logf("skip %s: the runtime lacks a target yet: %s", s.name, strings.Join(errs, "; "))
			continue
		}
		t.Errorf("golden output of %s does not compile:\n%s", s.name, strings.Join(errs, "\n"))
	}
	if len(vetPkgs) > 0 {
		cmd := exec.Command("go", append([]string{"vet"}, vetPkgs...)...)
		cmd.Dir, cmd.Env = root, testEnv()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), "go vet of golden outputs:\n%s", out.String())
	}
}

// expectsBroken reports whether the golden output is expected not to
// compile: it keeps TODO-marked Temporal code that no longer fits.
func (s *scenario) expectsBroken() bool {
	return strings.Contains(strings.Join(strings.Fields(string(s.archive.Comment)), " "), "does not compile")
}
