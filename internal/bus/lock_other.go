//go:build !unix

package bus

// lockDir does nothing on systems without flock: the caller must make sure
// that only one process uses a data directory.
func lockDir(string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
