// Command realcodetable turns the logs that scripts/realcode.sh leaves in its
// work folder into a Markdown table: one row per sample (the first path
// element under the module), counting packages that build, vet and pass their
// tests before and after `migrate convert -w ./...`, and the TODO(migrate)
// comments left in the converted copy.
package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) != 3 && len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: realcodetable WORK MODULE [HARDFILE]")
		os.Exit(2)
	}
	hard := map[string]string{}
	if len(os.Args) == 4 {
		var err error
		if hard, err = loadHard(os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "realcodetable:", err)
			os.Exit(1)
		}
	}
	if err := run(os.Args[1], os.Args[2], hard); err != nil {
		fmt.Fprintln(os.Stderr, "realcodetable:", err)
		os.Exit(1)
	}
}

// state is what the logs say of one side (before or after conversion).
type state struct {
	pkgs      []string
	buildFail map[string]bool
	vetFail   map[string]bool
	test      map[string]string // "ok" or "FAIL"; absent: no tests
}

func load(dir string) (*state, error) {
	s := &state{buildFail: map[string]bool{}, vetFail: map[string]bool{}, test: map[string]string{}}
	pkgs, err := lines(filepath.Join(dir, "pkgs"))
	if err != nil {
		return nil, err
	}
	s.pkgs = pkgs
	for file, set := range map[string]map[string]bool{"build.fail": s.buildFail, "vet.fail": s.vetFail} {
		ls, err := lines(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			set[l] = true
		}
	}
	ls, err := lines(filepath.Join(dir, "test.status"))
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		f := strings.Fields(l)
		if len(f) == 2 {
			s.test[f[1]] = f[0]
		}
	}
	return s, nil
}

// loadHard reads "sample reason..." lines (# comments) naming the samples
// built on features with no durable counterpart.
func loadHard(path string) (map[string]string, error) {
	ls, err := lines(path)
	if err != nil {
		return nil, err
	}
	hard := map[string]string{}
	for _, l := range ls {
		if strings.HasPrefix(l, "#") {
			continue
		}
		name, reason, _ := strings.Cut(l, " ")
		hard[name] = reason
	}
	return hard, nil
}

func lines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

type row struct {
	sample                                    string
	pkgs, vetBefore, vetAfter, buildAfter     int
	testsBefore, testsAfter, todos, buildFail int
	lost                                      []string
}

func run(work, module string, hard map[string]string) error {
	before, err := load(filepath.Join(work, "before"))
	if err != nil {
		return err
	}
	after, err := load(filepath.Join(work, "after"))
	if err != nil {
		return err
	}
	rows := map[string]*row{}
	sampleOf := func(pkg string) string {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		if rel == "" {
			return "."
		}
		return strings.SplitN(rel, "/", 2)[0]
	}
	for _, p := range before.pkgs {
		r := rows[sampleOf(p)]
		if r == nil {
			r = &row{sample: sampleOf(p)}
			rows[r.sample] = r
		}
		r.pkgs++
		vetB := !before.buildFail[p] && !before.vetFail[p]
		vetA := !after.buildFail[p] && !after.vetFail[p]
		if after.buildFail[p] {
			r.buildFail++
		} else {
			r.buildAfter++
		}
		if vetB {
			r.vetBefore++
			if vetA {
				r.vetAfter++
			} else {
				r.lost = append(r.lost, strings.TrimPrefix(p, module+"/")+" (vet)")
			}
		}
		if before.test[p] == "ok" {
			r.testsBefore++
			if after.test[p] == "ok" {
				r.testsAfter++
			} else if vetA {
				r.lost = append(r.lost, strings.TrimPrefix(p, module+"/")+" (test)")
			}
		}
	}
	// TODO(migrate) comments per sample in the converted copy.
	conv := filepath.Join(work, "conv")
	err = filepath.WalkDir(conv, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n := strings.Count(string(b), "TODO(migrate)")
		if n == 0 {
			return nil
		}
		rel, _ := filepath.Rel(conv, path)
		sample := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		if r := rows[sample]; r != nil {
			r.todos += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	var t, rest row
	fmt.Println("| sample | packages | vet before | builds after | vet after | tests pass before | tests pass after | TODO(migrate) | no counterpart |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, n := range names {
		r := rows[n]
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %d | %d | %s |\n", r.sample, r.pkgs, r.vetBefore, r.buildAfter, r.vetAfter, r.testsBefore, r.testsAfter, r.todos, hard[n])
		for _, acc := range []*row{&t, &rest} {
			if acc == &rest && hard[n] != "" {
				continue
			}
			acc.pkgs += r.pkgs
			acc.vetBefore += r.vetBefore
			acc.vetAfter += r.vetAfter
			acc.buildAfter += r.buildAfter
			acc.testsBefore += r.testsBefore
			acc.testsAfter += r.testsAfter
			acc.todos += r.todos
			acc.lost = append(acc.lost, r.lost...)
		}
	}
	total := func(name string, r row) {
		fmt.Printf("| **%s** | %d | %d | %d | %d (%.0f%%) | %d | %d (%.0f%%) | %d | |\n", name, r.pkgs, r.vetBefore, r.buildAfter, r.vetAfter,
			pct(r.vetAfter, r.vetBefore), r.testsBefore, r.testsAfter, pct(r.testsAfter, r.testsBefore), r.todos)
	}
	total("total", t)
	if len(hard) > 0 {
		total("total without the samples with no counterpart", rest)
	}
	if len(rest.lost) > 0 {
		fmt.Println()
		fmt.Println("Packages (of samples with a counterpart) that vetted or passed before and do not after:")
		fmt.Println()
		for _, l := range rest.lost {
			fmt.Println("- " + l)
		}
	}
	return nil
}

func pct(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}
