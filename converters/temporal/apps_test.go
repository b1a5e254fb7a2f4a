package temporal

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestApps converts each realistic multi-package Temporal app under the
// repository's testdata/apps (workflows, activities, worker and starter
// mains, an HTTP API, testify suites) as a user would: the original must
// vet and pass its tests under Temporal's testsuite, and after
// Convert + Write the converted app must vet and pass its converted tests.
func TestApps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests whole apps before and after conversion")
	}
	apps, err := filepath.Glob("../../testdata/apps/*")
	require.NoError(t, err)
	require.NotEmpty(t, apps)
	for _, app := range apps {
		t.Run(filepath.Base(app), func(t *testing.T) {
			dir := appModule(t, app)
			goCmd(t, dir, "vet", "./...")
			goCmd(t, dir, "test", "-count=1", "./...")

			res, err := Convert(context.Background(), Options{Dir: dir, Patterns: []string{"./..."}, Env: testEnv()})
			require.NoError(t, err)
			require.Empty(t, res.Errors)
			require.NotEmpty(t, res.Files)
			require.NoError(t, res.Write())
			for _, f := range res.Findings {
				t.Log(f.String())
			}
			goCmd(t, dir, "vet", "./...")
			goCmd(t, dir, "test", "-count=1", "./...")
			require.Zero(t, res.FollowUps(), "every construct of the app has a durable counterpart")
			if exists(filepath.Join(dir, "worker")) && exists(filepath.Join(dir, "starter")) {
				t.Run("WorkerAndStarterProcesses", func(t *testing.T) { runWorkerAndStarter(t, dir) })
			}
		})
	}
}

// runWorkerAndStarter builds the converted worker and starter mains and runs
// them as two processes on one SQLite file, as a user would after the
// conversion: the starter's run goes to the worker's named queue, and the
// starter prints the outcome the worker computed.
func runWorkerAndStarter(t *testing.T, dir string) {
	bin := t.TempDir()
	goCmd(t, dir, "build", "-o", bin, "./worker", "./starter")
	db := filepath.Join(t.TempDir(), "app.db")
	env := append(testEnv(), "DURABLE_DSN=sqlite:"+db)

	worker := exec.Command(filepath.Join(bin, "worker"))
	worker.Env = env
	var workerOut bytes.Buffer
	worker.Stdout, worker.Stderr = &workerOut, &workerOut
	require.NoError(t, worker.Start())
	t.Cleanup(func() {
		_ = worker.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = worker.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = worker.Process.Kill()
			<-done
		}
	})
	// The worker creates the store when it opens it.
	deadline := time.Now().Add(30 * time.Second)
	for !exists(db) {
		require.True(t, time.Now().Before(deadline), "the worker did not open %s:\n%s", db, workerOut.String())
		time.Sleep(20 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	starter := exec.CommandContext(ctx, filepath.Join(bin, "starter"))
	starter.Env = env
	out, err := starter.CombinedOutput()
	require.NoError(t, err, "starter:\n%s\nworker:\n%s", out, workerOut.String())
	require.Contains(t, string(out), "shipped", "the starter prints the outcome the worker computed")
	t.Logf("starter: %s", bytes.TrimSpace(out))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// appModule copies an app into a module named example.com/apps/NAME that
// requires the Temporal SDK and this checkout of the toolkit.
func appModule(t *testing.T, app string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(app)))
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	gomod, err := os.ReadFile("testdata/mod/go.mod")
	require.NoError(t, err)
	gomod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(gomod, []byte("module example.com/apps/"+filepath.Base(app)))
	gomod = append(gomod, []byte("\nrequire "+ToolkitModule+" v0.0.0\n\nreplace "+ToolkitModule+" => "+repo+"\n")...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644))
	var sum []byte
	for _, p := range []string{"testdata/mod/go.sum", filepath.Join(repo, "go.sum")} {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		sum = append(sum, b...)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	return dir
}

// goCmd runs the go command in dir and fails the test with its output.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, testEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %v:\n%s", args, out)
}
