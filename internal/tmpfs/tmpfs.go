// Package tmpfs gives a test a small file system of its own, to fill up
// or make read-only while a program uses it: Mount mounts a tmpfs of a
// given size on a fresh directory (unmounted when the test ends), Fill
// takes every byte left, Free gives them back, and ReadOnly and
// ReadWrite remount it.
//
// Mounting needs root (or CAP_SYS_ADMIN) and the mount command of Linux.
// Where that is missing, Mount skips the test and says why, unless
// JWTGATE_REQUIRE_SERVICES=1 (as in CI), where it fails it.
package tmpfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/jwtgate/jwtgate/internal/services"
)

// FS is a mounted tmpfs.
type FS struct {
	// Dir is the mount point.
	Dir string
}

// Mount mounts a tmpfs of size bytes (rounded up to pages by the kernel)
// on a new directory and unmounts it when the test ends.
func Mount(t testing.TB, size int64) *FS {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		services.Unreachable(t, "a tmpfs mount", fmt.Errorf("tmpfs mounts are tested on Linux only, not %s", runtime.GOOS))
	}
	if err := run("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir); err != nil {
		services.Unreachable(t, "a tmpfs mount (it needs root on Linux)", err)
	}
	t.Cleanup(func() {
		if err := run("umount", dir); err != nil {
			// Still in use (a process the test could not stop): detach it
			// now, the kernel frees it when the last file is closed.
			if err2 := run("umount", "-l", dir); err2 != nil {
				t.Errorf("tmpfs: cannot unmount %s: %v; %v", dir, err, err2)
			}
		}
	})
	return &FS{Dir: dir}
}

// fillName is the file Fill writes.
const fillName = ".tmpfs-fill"

// Fill writes a file that takes every byte still free, so that the next
// write that needs space fails with ENOSPC ("no space left on device").
func (fs *FS) Fill(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(fs.Dir, fillName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("tmpfs: fill: %v", err)
	}
	defer f.Close()
	// Big chunks first, then smaller ones down to a byte, so that not even
	// the last partial page stays free.
	buf := make([]byte, 64<<10)
	for n := len(buf); n >= 1; n /= 2 {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("tmpfs: fill: %v", err)
				}
				break
			}
		}
	}
}

// Free removes the file of Fill.
func (fs *FS) Free(t testing.TB) {
	t.Helper()
	if err := os.Remove(filepath.Join(fs.Dir, fillName)); err != nil {
		t.Fatalf("tmpfs: free: %v", err)
	}
}

// ReadOnly remounts the file system read-only. The kernel refuses
// (EBUSY) while any file on it is open for writing: close them first.
func (fs *FS) ReadOnly(t testing.TB) {
	t.Helper()
	if err := run("mount", "-o", "remount,ro", fs.Dir); err != nil {
		t.Fatalf("tmpfs: remount read-only (a file still open for writing?): %v", err)
	}
}

// ReadWrite remounts the file system read-write.
func (fs *FS) ReadWrite(t testing.TB) {
	t.Helper()
	if err := run("mount", "-o", "remount,rw", fs.Dir); err != nil {
		t.Fatalf("tmpfs: remount read-write: %v", err)
	}
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
