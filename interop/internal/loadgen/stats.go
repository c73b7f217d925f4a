package loadgen

import (
	"slices"
	"time"
)

// Median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Summary is one target's runs summed up over rounds.
type Summary struct {
	RPS      float64 // medians over the runs
	P50, P99 time.Duration
	Errors   int // in all
}

// Summarize returns the medians of the runs' rates and latencies and the
// sum of their errors.
func Summarize(runs []Result) Summary {
	var s Summary
	var rps, p50, p99 []float64
	for _, r := range runs {
		rps = append(rps, r.RPS())
		p50 = append(p50, float64(r.P50))
		p99 = append(p99, float64(r.P99))
		s.Errors += r.Errors
	}
	s.RPS = Median(rps)
	s.P50 = time.Duration(Median(p50))
	s.P99 = time.Duration(Median(p99))
	return s
}

// PairedRatio is the median over rounds of runs[i].RPS() /
// base[i].RPS(), leaving out the rounds where base has a rate of 0. Each
// round pairs runs made seconds apart, which cancels slow drifts of a
// shared machine.
func PairedRatio(runs, base []Result) float64 {
	var paired []float64
	for i, r := range runs {
		if b := base[i].RPS(); b > 0 {
			paired = append(paired, r.RPS()/b)
		}
	}
	return Median(paired)
}

// RPSRange returns the lowest and highest rate of runs, 0 and 0 for none.
func RPSRange(runs []Result) (lo, hi float64) {
	if len(runs) == 0 {
		return 0, 0
	}
	lo, hi = runs[0].RPS(), runs[0].RPS()
	for _, r := range runs {
		lo, hi = min(lo, r.RPS()), max(hi, r.RPS())
	}
	return lo, hi
}
