//go:build unix

package adaptertest

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time (user and system) the process has used,
// which a benchmark on a busy machine can divide by its iterations: it
// counts the work done, not the time spent waiting for a core.
func CPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
