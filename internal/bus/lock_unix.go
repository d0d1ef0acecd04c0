//go:build unix

package bus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir (through the file dir/focal.lock)
// so that two processes never run an embedded server on the same storage.
// The lock is released by the returned function or when the process exits.
func lockDir(dir string) (unlock func() error, err error) {
	name := filepath.Join(dir, "focal.lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bus: lock data directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if cerr := f.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("bus: data directory %s is in use by another embedded server (%s is locked): %w", dir, name, err)
		}
		return nil, fmt.Errorf("bus: lock data directory %s: %w", dir, err)
	}
	return f.Close, nil
}
