package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPublicSurfaceDocumented checks that the package doc's "Public
// surface" section names exactly the exported top-level names, so that a
// new export is a decision written down.
func TestPublicSurfaceDocumented(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var exported []string
	var pkgDoc string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if af.Doc != nil {
			pkgDoc += af.Doc.Text()
		}
		for _, d := range af.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					exported = append(exported, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							exported = append(exported, s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								exported = append(exported, n.Name)
							}
						}
					}
				}
			}
		}
	}
	_, section, ok := strings.Cut(pkgDoc, "Public surface\n")
	if !ok {
		t.Fatal(`the package doc has no "Public surface" section`)
	}
	if i := strings.Index(section, "\n# "); i >= 0 {
		section = section[:i]
	}
	var listed []string
	for _, m := range regexp.MustCompile(`\[(\w+)\]`).FindAllStringSubmatch(section, -1) {
		if !slices.Contains(listed, m[1]) {
			listed = append(listed, m[1])
		}
	}
	for _, name := range exported {
		if !slices.Contains(listed, name) {
			t.Errorf("%s is exported but not listed in the package doc's public surface", name)
		}
	}
	for _, name := range listed {
		if !slices.Contains(exported, name) {
			t.Errorf("the package doc's public surface lists %s, which is not an exported name", name)
		}
	}
	if len(exported) < 10 {
		t.Fatalf("found only %d exported names: %v", len(exported), exported)
	}
}
