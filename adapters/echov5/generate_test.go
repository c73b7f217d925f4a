package echogate_test

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

//go:generate go test -run ^TestGenerated$ -update .

// update makes TestGenerated write the generated files instead of
// comparing them.
var update = flag.Bool("update", false, "rewrite the files generated from the echo v4 adapter")

// generated are the files of this package made from those of the echo v4
// adapter (../echo) by toV5: the adapter, its tests and its examples. The
// benchmark and the fuzz target differ by more (echo-jwt has no v5
// release) and are written here.
var generated = []string{"echogate.go", "echogate_test.go", "example_test.go"}

const generatedHeader = "// Code generated from ../echo by `go generate`; DO NOT EDIT.\n\n"

// toV5 turns a file of the echo v4 adapter into its echo v5 form: echo v5
// passes *echo.Context where v4 passes the echo.Context interface, puts
// the context first in HTTPErrorHandler and names HTTPError's
// SetInternal Wrap.
func toV5(src []byte) ([]byte, error) {
	s := string(src)
	for _, r := range [][2]string{
		{"// Package echogate is jwtgate's adapter for echo v4\n// (github.com/labstack/echo/v4)", "// Package echogate is jwtgate's adapter for echo v5\n// (github.com/labstack/echo/v5)"},
		{"// echo.Context; and cookie login and logout helpers. For echo v5 use\n// github.com/jwtgate/jwtgate/adapters/echov5,", "// *echo.Context; and cookie login and logout helpers. For echo v4 use\n// github.com/jwtgate/jwtgate/adapters/echo,"},
		{`"github.com/labstack/echo/v4"`, `"github.com/labstack/echo/v5"`},
		{`"github.com/jwtgate/jwtgate/adapters/echo"`, `"github.com/jwtgate/jwtgate/adapters/echov5"`},
		{"func(err error, c echo.Context)", "func(c *echo.Context, err error)"},
		{"def(err, c)", "def(c, err)"},
		{".SetInternal(err)", ".Wrap(err)"},
	} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	s = contextType.ReplaceAllString(s, "$1*echo.Context")
	out, err := format.Source([]byte(generatedHeader + s))
	if err != nil {
		return nil, fmt.Errorf("generated code: %w", err)
	}
	return out, nil
}

// contextType is the echo.Context type, not already a pointer.
var contextType = regexp.MustCompile(`([^*\w])echo\.Context\b`)

// TestGenerated checks that the files made from the echo v4 adapter are
// up to date (with -update, or go generate, it rewrites them), so that
// the two adapters are one source: change ../echo, then run go generate
// here.
func TestGenerated(t *testing.T) {
	for _, name := range generated {
		src, err := os.ReadFile(filepath.Join("..", "echo", name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := toV5(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what ../echo/%s gives: run go generate in adapters/echov5", name, name)
		}
	}
}
