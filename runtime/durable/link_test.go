package durable_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLinkedBackends lists the dependencies of programs that open one
// backend's store themselves and pass it to durable.New: built with the
// tag that leaves the other backend out, its driver is not linked; built
// without it, durable.Open links both backends, as documented.
func TestLinkedBackends(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the go command")
	}
	const (
		pgx    = "github.com/jackc/pgx/"
		sqlite = "modernc.org/sqlite"
	)
	tests := []struct {
		name    string
		pkg     string
		tags    string
		absent  string // no dependency starts with it
		present string // some dependency starts with it
	}{
		{name: "SQLiteOnlyWithoutPostgres", pkg: "./testdata/sqliteonly", tags: "durable_nopostgres", absent: pgx, present: sqlite},
		{name: "PostgresOnlyWithoutSQLite", pkg: "./testdata/postgresonly", tags: "durable_nosqlite", absent: sqlite, present: pgx},
		{name: "OpenLinksBothByDefault", pkg: "./testdata/sqliteonly", present: pgx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			goCmd := func(args ...string) string {
				t.Helper()
				if tc.tags != "" {
					args = append(args, "-tags", tc.tags)
				}
				cmd := exec.Command("go", append(args, tc.pkg)...)
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "go %s:\n%s", strings.Join(cmd.Args[1:], " "), out)
				return string(out)
			}
			goCmd("build", "-o", os.DevNull) // the program compiles with these tags
			deps := strings.Fields(goCmd("list", "-deps"))
			hasPrefix := func(prefix string) bool {
				for _, d := range deps {
					if strings.HasPrefix(d, prefix) {
						return true
					}
				}
				return false
			}
			if tc.absent != "" {
				require.False(t, hasPrefix(tc.absent), "%s links %s with -tags %s", tc.pkg, tc.absent, tc.tags)
			}
			require.True(t, hasPrefix(tc.present), "%s does not link %s", tc.pkg, tc.present)
		})
	}
}
