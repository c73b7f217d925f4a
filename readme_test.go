package jwtgate_test

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestREADMELeadsWithTheNetHTTPExample checks that the README shows the
// code of example_nethttp_test.go between its README markers (the code
// Example_netHTTP runs), before the command that starts the service.
func TestREADMELeadsWithTheNetHTTPExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_nethttp_test.go")
	if err != nil {
		t.Fatal(err)
	}
	snippet, err := readmeRegion(string(src))
	if err != nil {
		t.Fatalf("example_nethttp_test.go: %v", err)
	}
	at := strings.Index(string(readme), snippet)
	if at < 0 {
		t.Fatalf("README.md does not show the code of example_nethttp_test.go between its README markers:\n%s", snippet)
	}
	if serve := strings.Index(string(readme), "go run ./cmd/jwtgate serve"); serve < 0 || at > serve {
		t.Errorf("README.md shows the example at byte %d, not before the serve command (byte %d)", at, serve)
	}
}

func TestReadmeRegion(t *testing.T) {
	for _, tc := range []struct {
		name, src, want, err string
	}{
		{"region", "a\n// README begin\nb\n\tc\n// README end\nd\n", "b\n\tc", ""},
		{"no region", "a\nb\n", "", "no README begin"},
		{"end first", "// README end\n// README begin\n", "", "README end before README begin"},
		{"quoted markers are text", "x := \"// README begin\"\n", "", "no README begin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readmeRegion(tc.src)
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

// readmeRegion returns the lines between "README begin" and "README end"
// comment lines, without the blank lines around them.
func readmeRegion(src string) (string, error) {
	var out []string
	in := false
	for line := range strings.Lines(src) {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasSuffix(trimmed, "README begin") && !strings.Contains(trimmed, `"`):
			in = true
		case strings.HasSuffix(trimmed, "README end") && !strings.Contains(trimmed, `"`):
			if !in {
				return "", errors.New("README end before README begin")
			}
			return strings.TrimSpace(strings.Join(out, "")), nil
		case in:
			out = append(out, line)
		}
	}
	return "", errors.New("no README begin ... README end region")
}
