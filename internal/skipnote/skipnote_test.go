package skipnote

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSkipfSkips: Skipf skips with its reason, in a child test binary run
// without a terminal and not verbose (so it must not fail for want of
// /dev/tty either).
func TestSkipfSkips(t *testing.T) {
	if os.Getenv("SKIPNOTE_CHILD") == "1" {
		Skipf(t, "PostgreSQL unreachable: %s", "connection refused")
		t.Fatal("not skipped")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSkipfSkips$", "-test.v")
	cmd.Env = append(os.Environ(), "SKIPNOTE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- SKIP: TestSkipfSkips") || !strings.Contains(string(out), "PostgreSQL unreachable: connection refused") {
		t.Fatalf("child output:\n%s", out)
	}
}
