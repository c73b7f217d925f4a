// Package sqlite opens SQLite databases for the SQL revocation store
// (package sqlstore) with the pure Go driver modernc.org/sqlite (no cgo):
//
//	db, err := sqlite.Open("/var/lib/app/revoked.db")
//	...
//	store, err := sqlstore.New(ctx, db, sqlstore.SQLite, sqlstore.Options{})
//
// It is its own module, so that only SQLite users compile the driver.
package sqlite

import (
	"database/sql"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers "sqlite"
)

// Open opens the SQLite database file at path with the settings the
// store needs: WAL journal, synchronous=FULL (a revocation acknowledged is
// on disk, even after kill -9 or a power cut; NORMAL would keep it through
// kill -9 but may lose the last transactions on power loss), a busy timeout
// of 5 s, and foreign keys on. The file is created when missing, at the
// first use of the pool.
func Open(path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(5000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	return sql.Open("sqlite", "file:"+uriPath.Replace(path)+"?"+q.Encode())
}

// uriPath escapes the characters that end or change a path in an SQLite
// URI filename, so that a path with them names that file.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
