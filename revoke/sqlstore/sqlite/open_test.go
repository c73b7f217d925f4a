package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
)

// TestOpenPathWithURICharacters: a path holding the characters that have
// a meaning in an SQLite URI (?, #, %) opens the file it names.
func TestOpenPathWithURICharacters(t *testing.T) {
	for _, name := range []string{"plain.db", "why?.db", "hash#1.db", "100%.db", "a?b#c%20d.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(context.Background(), `CREATE TABLE t (x INTEGER)`); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("the database is not at %s: %v", path, err)
			}
		})
	}
}
