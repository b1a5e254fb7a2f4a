package sqlite

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The process that holds PATH.lock writes who it is into the file (from
// lockInfoOffset on: Windows locks byte 0 against reading), so that a
// second process that tries to work the store can name the first.

// lockHolder describes this process for the lock file.
func lockHolder() string {
	prog := "?"
	if len(os.Args) > 0 {
		prog = filepath.Base(os.Args[0])
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("pid %d (%s) on %s since %s", os.Getpid(), prog, host, time.Now().UTC().Format(time.RFC3339))
}

// writeLockHolder records this process in the lock file f, which it holds.
// Failing to is no error: the description is for people.
func writeLockHolder(f *os.File) {
	if err := f.Truncate(lockInfoOffset); err != nil {
		return
	}
	_, _ = f.WriteAt([]byte(lockHolder()+"\n"), lockInfoOffset)
}

// readLockHolder returns what the holder of the lock file at path wrote, or
// "" when it cannot be read.
func readLockHolder(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 512)
	n, err := f.ReadAt(b, lockInfoOffset)
	if err != nil && err != io.EOF {
		return ""
	}
	return strings.TrimSpace(strings.Trim(string(b[:n]), "\x00"))
}

// lockedError is the error of a second Open that would work the store.
func lockedError(path string) error {
	by := ""
	if h := readLockHolder(path); h != "" {
		by = " by " + h
	}
	return fmt.Errorf("%w: %s is locked%s; only one process may work an SQLite store: open it client-only in the others (sqlite.WithClientOnly, durable.WithClientOnly) to start, signal and query runs beside it",
		ErrLocked, path, by)
}
