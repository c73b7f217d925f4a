package server

import (
	"math"
	"strconv"
	"testing"
	"time"
)

// FuzzRedisLimiterAnswer: the token count a limiter script returns is
// refused with an error unless it is a number from 0 to the burst; one or
// more lets the attempt through, less asks for a wait in (0, every], the
// longer the fewer tokens are left.
func FuzzRedisLimiterAnswer(f *testing.F) {
	for _, s := range []string{"5", "1", "0.999999999", "0", "-0", "0.5", "1e-300", "4.9e-324", "5.0000001", "-1",
		"NaN", "Inf", "+Inf", "0x1p-1", "", " 1", "1_0", "(nil)"} {
		f.Add(s)
	}
	l := &redisLimiter{burst: 5, every: time.Minute}
	f.Fuzz(func(t *testing.T, s string) {
		ok, wait, err := l.answer("check", s)
		n, perr := strconv.ParseFloat(s, 64)
		if perr != nil || math.IsNaN(n) || n < 0 || n > float64(l.burst) {
			if err == nil {
				t.Fatalf("answer %q taken: %v, %v", s, ok, wait)
			}
			return
		}
		switch {
		case err != nil:
			t.Fatalf("answer %q refused: %v", s, err)
		case ok != (n >= 1) || (ok && wait != 0):
			t.Fatalf("answer %q: ok %v, wait %v", s, ok, wait)
		case !ok && (wait <= 0 || wait > l.every):
			t.Fatalf("answer %q: wait %v", s, wait)
		case !ok && wait < time.Duration((1-n)*float64(l.every)):
			t.Fatalf("answer %q: wait %v is short of %v", s, wait, time.Duration((1-n)*float64(l.every)))
		}
	})
}
