// Package readmecode finds the code that the README shows in a source file,
// so that tests can check the README shows exactly the code they run.
package readmecode

import (
	"errors"
	"strings"
)

// Region returns the lines of src between a comment line ending in
// "README begin" and one ending in "README end" (any comment syntax:
// "//", "#"), without the blank lines around them. A marker inside a
// quoted string is text, not a marker.
func Region(src string) (string, error) {
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
