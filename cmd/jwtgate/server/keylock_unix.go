//go:build unix

package server

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// lockRotation takes the rotation lock of the key files in dir: an
// advisory lock (flock) on keysLockFile, which every "jwtgate keys rotate"
// of the directory takes, so that two rotations at once do not both
// rewrite the manifest from the same reading (one key would be lost). The
// system releases it if the process dies. It waits for a rotation under
// way until ctx ends.
func lockRotation(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.OpenFile(lockPath(dir), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(rotationLockPoll):
		}
	}
	return func() {
		syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}, nil
}
