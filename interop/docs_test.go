package interop

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)
	backtick = regexp.MustCompile("`([^`]+)`")
)

// TestSecurityListsEveryFuzzTarget holds docs/SECURITY.md's table of fuzz
// targets to the code: every Fuzz function of the repository is listed
// under its package, and every listed one exists.
func TestSecurityListsEveryFuzzTarget(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := listedFuzzTargets(t, root, string(doc))
	if len(listed) == 0 {
		t.Fatal("docs/SECURITY.md has no table of fuzz targets")
	}
	found := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllStringSubmatch(string(src), -1) {
			found[filepath.ToSlash(rel)+" "+m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("no fuzz target found under " + root)
	}
	for k := range found {
		if !listed[k] {
			pkg, name, _ := strings.Cut(k, " ")
			t.Errorf("fuzz target %s of package %s is not in docs/SECURITY.md's table", name, pkg)
		}
	}
	for k := range listed {
		if !found[k] {
			pkg, name, _ := strings.Cut(k, " ")
			t.Errorf("docs/SECURITY.md lists %s under %s, which has no such fuzz target", name, pkg)
		}
	}
}

// listedFuzzTargets reads the rows of the table whose second column names
// fuzz targets: "| `pkg`[, `pkg`...] | `FuzzX`, ... | ... |". A backticked
// word of the first column counts as a package when it is a directory of
// the repository ("." for the root).
func listedFuzzTargets(t *testing.T, root, doc string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[2], "`Fuzz") {
			continue
		}
		var pkgs []string
		for _, m := range backtick.FindAllStringSubmatch(cells[1], -1) {
			if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(m[1]))); err == nil && st.IsDir() {
				pkgs = append(pkgs, m[1])
			}
		}
		if len(pkgs) == 0 {
			t.Errorf("docs/SECURITY.md: no package directory in the row %q", line)
		}
		for _, m := range backtick.FindAllStringSubmatch(cells[2], -1) {
			for _, p := range pkgs {
				out[p+" "+m[1]] = true
			}
		}
	}
	return out
}
