package sqlstore

import (
	"regexp"
	"slices"
	"testing"
)

// TestSchemaRelations: the relations that PostgreSQL's start looks for are
// exactly those Schema creates, so a table added to one and not the other
// cannot be skipped on an existing database.
func TestSchemaRelations(t *testing.T) {
	created := regexp.MustCompile(`^CREATE (?:TABLE|INDEX) IF NOT EXISTS (\S+)`)
	for _, d := range []Dialect{SQLite, Postgres} {
		var names []string
		for _, stmt := range Schema(d, "p_") {
			m := created.FindStringSubmatch(stmt)
			if m == nil {
				t.Fatalf("%v: a schema statement that creates nothing named: %s", d, stmt)
			}
			names = append(names, m[1])
		}
		want := schemaRelations("p_")
		slices.Sort(names)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("%v: Schema creates %v; the start looks for %v", d, names, want)
		}
	}
}
