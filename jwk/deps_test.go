package jwk

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies checks that the package imports only the standard
// library, package jwt and the module's internal strict JSON, base64url
// and loopback packages, directly or not.
func TestDependencies(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		switch p {
		case "github.com/jwtgate/jwtgate/jwk", "github.com/jwtgate/jwtgate/jwt",
			"github.com/jwtgate/jwtgate/internal/strictjson", "github.com/jwtgate/jwtgate/internal/b64url",
			"github.com/jwtgate/jwtgate/internal/loopback":
		default:
			t.Errorf("package jwk depends on %s", p)
		}
	}
}
