package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/converters/temporal"
)

var update = flag.Bool("update", false, "update testscript files")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"migrate": main,
	})
}

// goEnv returns the go command's value of key.
func goEnv(t *testing.T, key string) string {
	out, err := exec.Command("go", "env", key).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// TestScript runs testdata/script/*.txtar: each gets a module requiring the
// Temporal SDK (the same go.mod and go.sum as the converter's scenarios).
func TestScript(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the Temporal SDK")
	}
	gomod, err := os.ReadFile("../../converters/temporal/testdata/mod/go.mod")
	require.NoError(t, err)
	gosum, err := os.ReadFile("../../converters/temporal/testdata/mod/go.sum")
	require.NoError(t, err)
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	reposum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	require.NoError(t, err)
	passthrough := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPROXY", "GONOSUMDB", "GOPATH", "GOTOOLCHAIN"} {
		passthrough[k] = goEnv(t, k)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			for k, v := range passthrough {
				env.Setenv(k, v)
			}
			env.Setenv("GOFLAGS", "-mod=mod")
			env.Setenv("HOME", env.WorkDir)
			// go.mod.rt and go.sum.rt add this checkout's runtime, for scripts
			// that build or re-convert converted code.
			rt := fmt.Sprintf("%s\nrequire %s v0.0.0\n\nreplace %s => %s\n", gomod, temporal.ToolkitModule, temporal.ToolkitModule, repo)
			for name, data := range map[string][]byte{
				"go.mod": gomod, "go.sum": gosum, "go.mod.rt": []byte(rt), "go.sum.rt": append(append([]byte{}, gosum...), reposum...),
			} {
				if err := os.WriteFile(filepath.Join(env.WorkDir, name), data, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// TestFlags checks flag parsing, including gofmt's one-letter flags and the
// exit code of usage errors, without loading packages.
func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ExclusiveModes", []string{"convert", "-d", "-l", "./..."}, exitUsage, "mutually exclusive"},
		{"NoPatterns", []string{"convert", "-w"}, exitUsage, "no packages"},
		{"UnknownFlag", []string{"convert", "--nope", "./..."}, exitUsage, "unknown flag"},
		{"SingleDashLongFlag", []string{"convert", "-strict", "./..."}, exitUsage, "unknown shorthand flag"},
		{"AnalyzeNoPatterns", []string{"analyze"}, exitUsage, "no packages"},
		{"UnknownStore", []string{"convert", "--store", "mysql", "./..."}, exitUsage, `--store "mysql": want dsn, sqlite or postgres`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := newRootCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			require.Error(t, err)
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, tt.code, ee.code)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}
