// Package skipnote makes a test skipped for want of a service or a tool
// say why in go test's default output.
//
// go test shows nothing of a passing package but its "ok" line: a skip
// and its reason appear only with -v, and what a test writes to its
// standard output or error is hidden too. So that "go test ./..." in a
// terminal does not pass in silence over tests that did not run, Skipf
// also writes the reason, once per test binary, to the terminal that
// go test runs in (/dev/tty). Nothing is written without a terminal (CI
// requires the services and tools instead: JWTGATE_REQUIRE_SERVICES=1),
// nor under -v, which lists the skips itself. A result go test takes
// from its cache ("(cached)") runs no test and writes no note.
package skipnote

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	noted = map[string]bool{}
)

// Skipf is t.Skipf that also notes the reason on the terminal (see the
// package doc). Reasons that repeat are noted once.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	note(t.Name(), reason)
	t.Skip(reason)
}

func note(test, reason string) {
	if testing.Verbose() {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if noted[reason] {
		return
	}
	noted[reason] = true
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return // no terminal: nobody to tell
	}
	defer tty.Close()
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	fmt.Fprintf(tty, "%s: SKIP %s (and any other test for the same reason): %s\n", pkg, test, oneLine(reason))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
