//go:build windows

package sqlite

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// fileLock is an exclusive lock (LockFileEx) on PATH.lock, released by the
// system when the process dies.
type fileLock struct{ f *os.File }

const lockSupported = true

// lockInfoOffset is where the holder describes itself in the lock file:
// after byte 0, which the lock covers (other processes cannot read it).
const lockInfoOffset = 1

func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	ol := new(windows.Overlapped)
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK | windows.LOCKFILE_FAIL_IMMEDIATELY)
	if err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, ol); err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, lockedError(path)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	writeLockHolder(f)
	return &fileLock{f: f}, nil
}

func (l *fileLock) unlock() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
