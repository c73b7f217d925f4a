package revoke

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzSessionValue: a session claim's raw JSON reads as encoding/json reads
// a non-empty string, and anything else is refused with an error wrapping
// ErrInvalidArgument. Raw claims come from verified tokens, so only valid
// JSON values in valid UTF-8 are judged against the reference (which would
// replace invalid bytes that verification refuses).
func FuzzSessionValue(f *testing.F) {
	for _, s := range []string{`"s1"`, `""`, `"a\"b"`, `"\u00e9"`, `"é"`, `"\ud800"`, `1`, `null`, `["x"]`,
		`"`, `""""`, `"a"b"`, "\"\x01\"", "\"\xec\"", " \"x\" "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := sessionValue("sid", raw)
		if err != nil && !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%q: error %v does not wrap ErrInvalidArgument", raw, err)
		}
		if err == nil && got == "" {
			t.Fatalf("%q: empty value accepted", raw)
		}
		if !json.Valid([]byte(raw)) || !utf8.ValidString(raw) {
			return
		}
		var want string
		werr := json.Unmarshal([]byte(raw), &want)
		if werr != nil || want == "" {
			if err == nil {
				t.Fatalf("accepted %q as %q", raw, got)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("%q read as %q (%v), want %q", raw, got, err, want)
		}
	})
}
