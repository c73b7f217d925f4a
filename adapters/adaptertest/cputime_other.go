//go:build !unix

package adaptertest

import "time"

// CPUTime is not available here: benchmarks report wall time only.
func CPUTime() (time.Duration, bool) { return 0, false }
