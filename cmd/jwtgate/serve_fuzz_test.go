package main

import (
	"slices"
	"strings"
	"testing"
)

// FuzzSplitList: a comma-separated flag becomes its items in order, none
// empty or padded with white space, each one a piece of the flag between
// commas; joined and split again, they give the same list.
func FuzzSplitList(f *testing.F) {
	for _, s := range []string{"", ",", " , ,", "a", "a,b", " a , b ,", "https://a.example, https://b.example",
		"*", "a,,b", "\t a\n", "a b, c", "\u00a0a\u00a0,b", "\u0085", "\xff, \xfe", "a,\u2028,b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := splitList(s)
		if len(got) > strings.Count(s, ",")+1 {
			t.Fatalf("%q: %d items from %d pieces", s, len(got), strings.Count(s, ",")+1)
		}
		rest := s
		for _, item := range got {
			if item == "" || strings.TrimSpace(item) != item || strings.Contains(item, ",") {
				t.Fatalf("%q: item %q is empty, padded or holds a comma", s, item)
			}
			i := strings.Index(rest, item)
			if i < 0 {
				t.Fatalf("%q: item %q is not next in the flag", s, item)
			}
			rest = rest[i+len(item):]
		}
		if again := splitList(strings.Join(got, ",")); !slices.Equal(again, got) {
			t.Fatalf("%q: split %q, joined and split again %q", s, got, again)
		}
		// A flag without commas is one item, or none if it is blank.
		if !strings.Contains(s, ",") {
			want := []string(nil)
			if tr := strings.TrimSpace(s); tr != "" {
				want = []string{tr}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%q: %q, want %q", s, got, want)
			}
		}
	})
}
