package redisstore

import (
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

// canonicalMs is how ms writes an int64: decimal, a minus sign only
// before a negative number, no leading zeros.
var canonicalMs = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

// FuzzCutoffValue: readCutoff reads back every cutoff RevokeSubject
// writes (ms(t) for any t, 1970 and before included) as the millisecond
// of t, and refuses every other value with errUnreadable.
func FuzzCutoffValue(f *testing.F) {
	for _, s := range []struct {
		v         string
		sec, nsec int64
	}{
		{"1767225600000", 1767225600, 0},
		{"-86400000", -86400, 0},
		{"-1", 0, -1},
		{"0", 0, 0},
		{"-62135596800000", -62135596800, 0},
		{"9223372036854775807", 1<<62 - 1, 999999999},
		{"-9223372036854775808", -1 << 62, -1},
		{"9223372036854775808", 0, 1},
		{"-0", -1, 999999999},
		{"+5", 5, 500000},
		{"007", 7, 0},
		{"", 0, 0},
		{" 5", 0, 0},
		{"5\n", 0, 0},
		{"1e3", 0, 0},
		{"0x10", 0, 0},
		{"soon", 0, 0},
		{"1767225600000.5", 0, 0},
	} {
		f.Add(s.v, s.sec, s.nsec)
	}
	f.Fuzz(func(t *testing.T, v string, sec, nsec int64) {
		// What RevokeSubject writes for a cutoff t reads back as t's
		// millisecond.
		at := time.Unix(sec, nsec)
		w := ms(at)
		got, err := parseCutoff(w)
		if err != nil {
			t.Fatalf("cutoff %v written as %q: %v", at, w, err)
		}
		if ms(got) != w || !got.Equal(time.UnixMilli(at.UnixMilli())) {
			t.Fatalf("cutoff %v written as %q read back as %v (%s)", at, w, got, ms(got))
		}

		got, err = parseCutoff(v)
		n, ok := new(big.Int).SetString(v, 10)
		if canonicalMs.MatchString(v) && ok && n.IsInt64() {
			if err != nil {
				t.Fatalf("%q: %v", v, err)
			}
			if got.UnixMilli() != n.Int64() || ms(got) != v {
				t.Fatalf("%q read as %v (%d ms)", v, got, got.UnixMilli())
			}
			return
		}
		if err == nil {
			t.Fatalf("%q taken as the cutoff %v", v, got)
		}
		if !errors.Is(err, errUnreadable) || !strings.Contains(err.Error(), "cutoff") {
			t.Fatalf("%q: error %v, want errUnreadable naming the cutoff", v, err)
		}
		if !got.IsZero() {
			t.Fatalf("%q: refused but returned %v", v, got)
		}
	})
}

// TestParseCutoff: cutoffs before 1970 are negative milliseconds, and
// read back.
func TestParseCutoff(t *testing.T) {
	tests := []struct {
		v    string
		want time.Time
		err  bool
	}{
		{"1767225600000", time.Unix(1767225600, 0), false},
		{"0", time.Unix(0, 0), false},
		{"-1", time.Unix(0, -int64(time.Millisecond)), false},
		{"-86400000", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{ms(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"-0", time.Time{}, true},
		{"+1", time.Time{}, true},
		{"01", time.Time{}, true},
		{"1.5", time.Time{}, true},
		{"soon", time.Time{}, true},
		{"", time.Time{}, true},
		{"9223372036854775808", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			got, err := parseCutoff(tt.v)
			if tt.err {
				if !errors.Is(err, errUnreadable) {
					t.Fatalf("%v, %v; want errUnreadable", got, err)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("%v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
