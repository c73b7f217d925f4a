package jwtgate_test

import (
	"os"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/readmecode"
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
	snippet, err := readmecode.Region(string(src))
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
