package depcheck

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the checkout's root, the core module's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

// goCmd runs the go command in dir with env added to the environment, and
// returns its standard output.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return string(out)
}

// TestCoreGoModRequiresNothing: the core module's go.mod has no require
// (and no replace, which would mean nothing to its users).
func TestCoreGoModRequiresNothing(t *testing.T) {
	root := repoRoot(t)
	var mod struct {
		Module  struct{ Path string }
		Require []struct{ Path, Version string }
		Replace []any
	}
	out := goCmd(t, root, []string{"GOWORK=off"}, "mod", "edit", "-json")
	if err := json.Unmarshal([]byte(out), &mod); err != nil {
		t.Fatalf("go mod edit -json: %v\n%s", err, out)
	}
	if mod.Module.Path != module {
		t.Fatalf("root module is %q, want %q", mod.Module.Path, module)
	}
	for _, r := range mod.Require {
		t.Errorf("the core module requires %s %s", r.Path, r.Version)
	}
	if len(mod.Replace) > 0 {
		t.Errorf("the core module has replace directives: %v", mod.Replace)
	}
}

// TestCoreModuleImportsOnlyStandardLibrary: every package of the core
// module, tests included, depends only on the standard library and on
// packages of the core module.
func TestCoreModuleImportsOnlyStandardLibrary(t *testing.T) {
	root := repoRoot(t)
	out := goCmd(t, root, []string{"GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off"},
		"list", "-deps", "-test", "-f", "{{.Standard}} {{with .Module}}{{.Path}}{{else}}-{{end}} {{.ImportPath}}", "./...")
	n := 0
	for line := range strings.Lines(out) {
		f := strings.SplitN(strings.TrimSpace(line), " ", 3)
		if len(f) < 3 {
			t.Fatalf("go list line %q", line)
		}
		n++
		if f[0] == "true" || f[1] == module {
			continue
		}
		t.Errorf("the core module depends on %s (module %s), outside the standard library", f[2], f[1])
	}
	if n < 50 {
		t.Fatalf("go list returned only %d packages:\n%s", n, out)
	}
}

// TestModuleOfCoreUserListsOnlyJwtgate: a module that imports the core
// packages (and runs the conformance suite in its tests, as a third-party
// store would) has jwtgate alone in go list -m all, resolved offline.
func TestModuleOfCoreUserListsOnlyJwtgate(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/user\n\ngo 1.26.0\n\nrequire " + module + " v0.0.0\n\nreplace " + module + " => " + root + "\n",
		"main.go": `package main

import (
	"fmt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

func main() {
	fmt.Println(jwtgate.InHeader{}, jwk.Set{}, jwt.HS256, revoke.NewMemory(revoke.MemoryOptions{}), sqlstore.SQLite)
}
`,
		"store_test.go": `package main

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunConfig(t, storetest.Config{
		New: func(t *testing.T, now func() time.Time) revoke.Store {
			return revoke.NewMemory(revoke.MemoryOptions{Clock: now})
		},
	})
}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off"}
	out := goCmd(t, dir, env, "list", "-m", "-f", "{{.Path}}", "all")
	got := strings.Fields(out)
	if want := []string{"example.com/user", module}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("go list -m all = %q, want %q", got, want)
	}
	// The packages build, tests included, with nothing but the core.
	goCmd(t, dir, env, "vet", "./...")
}

// TestDriverModulesApart: the SQLite module compiles no pgx and the
// PostgreSQL module no SQLite driver, tests included.
func TestDriverModulesApart(t *testing.T) {
	root := repoRoot(t)
	for _, c := range []struct {
		dir, must, mustNot string
	}{
		{"revoke/sqlstore/sqlite", "modernc.org/sqlite", "github.com/jackc/pgx"},
		{"revoke/sqlstore/postgres", "github.com/jackc/pgx/v5/stdlib", "modernc.org/"},
	} {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			out := goCmd(t, filepath.Join(root, c.dir), []string{"GOWORK=off"}, "list", "-deps", "-test", "./...")
			found := false
			for line := range strings.Lines(out) {
				p := strings.TrimSpace(line)
				found = found || p == c.must
				if strings.HasPrefix(p, c.mustNot) {
					t.Errorf("%s depends on %s", c.dir, p)
				}
			}
			if !found {
				t.Errorf("%s does not depend on %s: go list gave\n%s", c.dir, c.must, out)
			}
		})
	}
}
