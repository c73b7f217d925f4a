package readmecode

import (
	"strings"
	"testing"
)

func TestRegion(t *testing.T) {
	for _, tc := range []struct {
		name, src, want, err string
	}{
		{"region", "a\n// README begin\nb\n\tc\n// README end\nd\n", "b\n\tc", ""},
		{"no region", "a\nb\n", "", "no README begin"},
		{"end first", "// README end\n// README begin\n", "", "README end before README begin"},
		{"quoted markers are text", "x := \"// README begin\"\n", "", "no README begin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Region(tc.src)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
