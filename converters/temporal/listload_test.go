package temporal

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
)

// listLoad gives the converter what go/packages' LoadSyntax gives: the
// same package variants with the same files, no errors where go/packages
// has none, and the same types.
func TestListLoadMatchesGoPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command on a multi-package app")
	}
	dir := appModule(t, "../../testdata/apps/orders")
	cfg := func() *packages.Config {
		return &packages.Config{Mode: packages.LoadSyntax | packages.NeedModule, Dir: dir, Env: testEnv(), Tests: true}
	}
	want, err := packages.Load(cfg(), "./...")
	require.NoError(t, err)
	got, err := listLoad(context.Background(), cfg(), []string{"./..."})
	require.NoError(t, err)

	byID := func(pkgs []*packages.Package) map[string]*packages.Package {
		m := map[string]*packages.Package{}
		for _, p := range pkgs {
			if !strings.HasSuffix(p.ID, ".test") { // the generated test main
				m[p.ID] = p
			}
		}
		return m
	}
	w, g := byID(want), byID(got)
	ids := func(m map[string]*packages.Package) []string {
		var out []string
		for id := range m {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	require.Equal(t, ids(w), ids(g))
	require.Greater(t, len(g), 5, "the app has several packages and test variants")
	for id, wp := range w {
		gp := g[id]
		require.Equal(t, wp.Name, gp.Name, id)
		require.Equal(t, wp.PkgPath, gp.PkgPath, id)
		require.Equal(t, wp.CompiledGoFiles, gp.CompiledGoFiles, id)
		require.Empty(t, wp.Errors, id)
		require.Empty(t, gp.Errors, id)
		require.Equal(t, wp.Types.Scope().Names(), gp.Types.Scope().Names(), id)
		require.Equal(t, len(wp.TypesInfo.Uses), len(gp.TypesInfo.Uses), id)
		require.Equal(t, len(wp.TypesInfo.Types), len(gp.TypesInfo.Types), id)
		require.Equal(t, wp.Module.Path, gp.Module.Path, id)
		for path := range wp.Imports {
			require.Contains(t, gp.Imports, path, id)
			require.Equal(t, wp.Imports[path].Name, gp.Imports[path].Name, "%s imports %s", id, path)
		}
	}
}
