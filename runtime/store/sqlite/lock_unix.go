//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// fileLock is an exclusive advisory lock (flock) on PATH.lock. flock locks
// belong to an open file description, so a second Open in the same process
// conflicts just like one in another process; the kernel drops the lock when
// the process dies, so a crash leaves no stale lock behind.
type fileLock struct{ f *os.File }

const lockSupported = true

// lockInfoOffset is where the holder describes itself in the lock file.
const lockInfoOffset = 0

func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if readOnlyFile(err) {
			return nil, fmt.Errorf("sqlite: lock %s: %w: %v", path, store.ErrReadOnly, err)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	// A lock just released can look held for a moment: a process forked
	// (to exec something else) while the previous owner had the file open
	// shares its open file description until the exec. So retry briefly.
	for wait := 5 * time.Millisecond; ; wait *= 2 {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			writeLockHolder(f)
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || wait > lockRetryMax {
			break
		}
		time.Sleep(wait)
	}
	f.Close()
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, lockedError(path)
	}
	return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
}

// lockRetryMax bounds the wait for a lock that is being released.
const lockRetryMax = 300 * time.Millisecond

func (l *fileLock) unlock() error {
	if l == nil {
		return nil
	}
	// Closing the descriptor releases the flock.
	return l.f.Close()
}
