//go:build !unix && !windows

package sqlite

// fileLock is a no-op where the platform has no advisory file locks; such a
// Store does not report itself as Exclusive.
type fileLock struct{}

const lockSupported = false

const lockInfoOffset = 0

func lockFile(string) (*fileLock, error) { return nil, nil }

func (l *fileLock) unlock() error { return nil }
