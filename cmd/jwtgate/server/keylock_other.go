//go:build !unix

package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// lockRotation takes the rotation lock of the key files in dir: the
// creation of keysLockFile, which fails while another rotation holds it,
// so that two rotations at once do not both rewrite the manifest from the
// same reading (one key would be lost). Unlock removes the file; a process
// that died holding it leaves it, and rotations then fail after waiting
// rotationLockWait, saying which file to remove.
func lockRotation(ctx context.Context, dir string) (unlock func(), err error) {
	path := lockPath(dir)
	deadline := time.Now().Add(rotationLockWait)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("server: %s: another key rotation holds it; if none is running, remove the file", path)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(rotationLockPoll):
		}
	}
}
