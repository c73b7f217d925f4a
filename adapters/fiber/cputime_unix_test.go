//go:build unix

package fibergate_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the process has used,
// which a benchmark on a busy machine can divide by its iterations: it
// counts the work done, not the time spent waiting for a core.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
