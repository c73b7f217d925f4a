package revoke

import (
	"math"
	"testing"
	"time"
)

func TestNanosSaturates(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(0, math.MaxInt64), math.MaxInt64},
		{time.Unix(0, math.MinInt64), math.MinInt64},
		{time.Unix(9223372035, 999999999), 9223372035999999999},
		{time.Unix(-9223372036, 0), -9223372036000000000},
		{time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
	} {
		if got := nanos(c.t); got != c.want {
			t.Errorf("nanos(%v) = %d, want %d", c.t, got, c.want)
		}
	}
}
