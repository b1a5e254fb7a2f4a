package durable_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// Bad storage under an SQLite store: files that are not stores of ours, a
// full disk, a read-only file system. The disk is made full for real: a
// small tmpfs mounted in a mount namespace of a child process (as root, or
// as any user where user namespaces are allowed), so nothing outlives the
// test and other tests' files are not touched.

// storageChildEnv makes a test binary run one test inside the namespace
// made by inMountNamespace.
const storageChildEnv = "DURABLE_STORAGE_CHILD"

// Keep is an activity that returns its argument.
func Keep(ctx context.Context, s string) (string, error) { return s, nil }

// KeepWorkflow journals its argument twice: once as the activity's
// argument, once as its result.
func KeepWorkflow(ctx context.Context, s string) (string, error) {
	return durable.Call[string](ctx, Keep, s)
}

func TestOpenRefusesUnusableFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"TextFile", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("not a database\n"), 0o644))
		}, "is not an SQLite database"},
		{"CorruptFile", func(t *testing.T, path string) {
			e, err := durable.Open(ctx, "sqlite:"+path)
			require.NoError(t, err)
			require.NoError(t, e.Close())
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			for i := 16; i < min(len(data), 3*4096); i++ {
				data[i] = 0xFF
			}
			require.NoError(t, os.WriteFile(path, data, 0o644))
		}, "is corrupt or not an SQLite database"},
		{"NewerSchema", func(t *testing.T, path string) {
			e, err := durable.Open(ctx, "sqlite:"+path)
			require.NoError(t, err)
			require.NoError(t, e.Close())
			db, err := sql.Open("sqlite", path)
			require.NoError(t, err)
			_, err = db.Exec("PRAGMA user_version = 99")
			require.NoError(t, err)
			require.NoError(t, db.Close())
		}, "99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "durable.db")
			tc.make(t, path)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			_, openErr := durable.Open(ctx, "sqlite:"+path)
			require.ErrorIs(t, openErr, store.ErrIncompatible)
			require.Contains(t, openErr.Error(), path)
			require.Contains(t, openErr.Error(), tc.want)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, before, after, "the file is untouched")
			t.Logf("%s: %v", tc.name, openErr)
		})
	}
}

// inMountNamespace runs the calling test again in a child process with a
// mount namespace of its own, where body gets a fresh tmpfs of size bytes
// at dir (and may remount it). The parent passes when the child does.
func inMountNamespace(t *testing.T, size int, body func(t *testing.T, dir string)) {
	t.Helper()
	if os.Getenv(storageChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), storageChildEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		if os.Geteuid() != 0 {
			// A user namespace lets anyone mount a tmpfs (where allowed).
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
				UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
				GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
				GidMappingsEnableSetgroups: false,
			}
		}
		out, err := cmd.CombinedOutput()
		var perm *os.SyscallError
		if os.Geteuid() != 0 && errors.As(err, &perm) {
			t.Skipf("no mount namespace for a small file system (run as root, or allow user namespaces): %v", err)
		}
		require.NoError(t, err, "child:\n%s", out)
		require.Contains(t, string(out), "--- PASS: "+t.Name(), "child:\n%s", out)
		if testing.Verbose() {
			t.Logf("child:\n%s", out)
		}
		return
	}
	// Mounts made here must not show outside the namespace.
	require.NoError(t, syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""), "make mounts private")
	dir, err := os.MkdirTemp("", "durable-small-fs-")
	require.NoError(t, err)
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)), "mount a tmpfs")
	t.Cleanup(func() {
		_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		os.Remove(dir)
	})
	body(t, dir)
}

// TestSQLiteStorageFull fills the file system under an SQLite store while
// it works: the failing Start returns an error saying the storage is full,
// a run whose commit found the disk full waits (logged once, not as an
// error per run), nothing committed before is lost, and once space is
// freed the waiting run completes and new runs start.
func TestSQLiteStorageFull(t *testing.T) {
	t.Parallel()
	inMountNamespace(t, 2<<20, func(t *testing.T, dir string) {
		// Ballast takes half the space; removing it is "freeing space".
		ballast := filepath.Join(dir, "ballast")
		require.NoError(t, os.WriteFile(ballast, make([]byte, 1<<20), 0o644))
		path := filepath.Join(dir, "durable.db")
		log := &lockedBuffer{}
		ctx := context.Background()
		e, err := durable.Open(ctx, "sqlite:"+path, durable.WithLogger(slog.New(slog.NewTextHandler(log, nil))))
		require.NoError(t, err)
		e.RegisterWorkflow(KeepWorkflow)
		e.RegisterActivity(Keep)

		payload := strings.Repeat("x", 16<<10)
		done := map[string]string{} // committed results, by workflow ID
		var (
			startErr error
			waiting  durable.Run // a run whose commit waits for space
		)
		for i := 0; startErr == nil && waiting == nil; i++ {
			require.Less(t, i, 1000, "the file system never filled up")
			id := fmt.Sprintf("full-%d", i)
			arg := fmt.Sprintf("%d:%s", i, payload)
			run, err := e.Start(ctx, durable.StartOptions{ID: id}, KeepWorkflow, arg)
			if err != nil {
				startErr = err
				break
			}
			gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			var out string
			err = run.Get(gctx, &out)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				waiting = run
				break
			}
			require.NoError(t, err)
			require.Equal(t, arg, out)
			done[id] = out
		}
		require.NotEmpty(t, done, "runs completed before the disk filled")
		if startErr == nil {
			// A start whose first commit cannot fit fails, whatever room
			// the write-ahead log has left.
			_, startErr = e.Start(ctx, durable.StartOptions{ID: "too-big"}, KeepWorkflow, strings.Repeat("y", 1200<<10))
		}
		require.ErrorIs(t, startErr, store.ErrStorageFull)
		require.Contains(t, startErr.Error(), "storage full")
		t.Logf("Start on a full disk: %v", startErr)
		if waiting != nil {
			require.Eventually(t, func() bool { return strings.Contains(log.String(), "storage full; commits wait") }, 5*time.Second, 10*time.Millisecond)
		}
		t.Logf("%d runs completed before the disk was full; engine log:\n%s", len(done), log.String())

		// Free space: the waiting run goes on, and so do new runs.
		require.NoError(t, os.Remove(ballast))
		gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if waiting != nil {
			var out string
			require.NoError(t, waiting.Get(gctx, &out))
			require.True(t, strings.HasSuffix(out, payload))
		}
		run, err := e.Start(gctx, durable.StartOptions{ID: "after"}, KeepWorkflow, "after")
		require.NoError(t, err)
		var out string
		require.NoError(t, run.Get(gctx, &out))
		require.Equal(t, "after", out)
		// Quiet: no error lines, and each time the disk is full one line
		// says so and one says when commits go through again (SQLite
		// reuses its write-ahead log after a checkpoint, so a full disk can
		// clear by itself for a while).
		require.NotContains(t, log.String(), "level=ERROR", log.String())
		full := strings.Count(log.String(), "storage full; commits wait")
		require.LessOrEqual(t, full, strings.Count(log.String(), "store available again"), log.String())
		if waiting != nil {
			require.Positive(t, full, log.String())
		}
		require.NoError(t, e.Close())

		// Nothing committed before the disk filled is lost.
		e, err = durable.Open(ctx, "sqlite:"+path, durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		require.NoError(t, err)
		defer e.Close()
		for id, want := range done {
			var got string
			require.NoError(t, e.Run(id).Get(gctx, &got), id)
			require.Equal(t, want, got, id)
		}
	})
}

// TestSQLiteReadOnly opens a store whose file system is read-only: Open
// says so (worker and client-only alike), and the store opens again with
// everything in it once the file system is writable.
func TestSQLiteReadOnly(t *testing.T) {
	t.Parallel()
	inMountNamespace(t, 8<<20, func(t *testing.T, dir string) {
		ctx := context.Background()
		path := filepath.Join(dir, "durable.db")
		quiet := durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
		e, err := durable.Open(ctx, "sqlite:"+path, quiet)
		require.NoError(t, err)
		e.RegisterWorkflow(KeepWorkflow)
		e.RegisterActivity(Keep)
		gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		run, err := e.Start(gctx, durable.StartOptions{ID: "ro"}, KeepWorkflow, "kept")
		require.NoError(t, err)
		require.NoError(t, run.Get(gctx, nil))
		require.NoError(t, e.Close())

		require.NoError(t, syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""), "remount read-only")
		for _, opts := range [][]durable.Option{{quiet}, {quiet, durable.WithClientOnly()}} {
			_, err = durable.Open(ctx, "sqlite:"+path, opts...)
			require.ErrorIs(t, err, store.ErrReadOnly)
			require.Contains(t, err.Error(), "read-only")
			t.Logf("Open on a read-only file system: %v", err)
		}

		require.NoError(t, syscall.Mount("", dir, "", syscall.MS_REMOUNT, ""), "remount writable")
		e, err = durable.Open(ctx, "sqlite:"+path, quiet)
		require.NoError(t, err)
		defer e.Close()
		var out string
		require.NoError(t, e.Run("ro").Get(gctx, &out))
		require.Equal(t, "kept", out)
	})
}
