package depcheck

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/jwtgate/jwtgate"

// core lists the packages that may import only the standard library (and
// each other): the public ones and the internal packages they share. The
// root package joins the list once it has Go files.
var core = []string{"jwt", "jwk", "dpop", "internal/strictjson", "internal/b64url", "internal/readmecode", "internal/loopback"}

func TestCoreImportsOnlyStandardLibrary(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := []string{}
	if matches, _ := filepath.Glob(filepath.Join(root, "*.go")); len(matches) > 0 {
		pkgs = append(pkgs, ".")
	}
	for _, p := range core {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			pkgs = append(pkgs, "./"+p)
		}
	}
	if len(pkgs) == 0 {
		t.Fatal("no core package found")
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	allowed := map[string]bool{module: true}
	for _, p := range core {
		allowed[module+"/"+p] = true
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, std, _ := strings.Cut(sc.Text(), " ")
		n++
		if std == "true" || allowed[path] {
			continue
		}
		t.Errorf("core packages %v depend on %s, which is outside the standard library", pkgs, path)
	}
	if n < 10 {
		t.Fatalf("go list returned only %d packages: %s", n, out)
	}
}
