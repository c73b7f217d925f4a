package postgres_test

import (
	"testing"

	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// BenchmarkProtected compares a protected request without revocation and
// with the check in PostgreSQL (one query per request; the sqlite module
// has the SQLite cases). The same token every time.
func BenchmarkProtected(b *testing.B) {
	b.Run("none", func(b *testing.B) { storetest.BenchProtected(b, nil) })
	b.Run("postgres", func(b *testing.B) {
		db := needPostgres(b)
		storetest.BenchProtected(b, pgStore(b, db, uniquePrefix(b, db), nil))
	})
}

// BenchmarkUse: OneTimeStore.Use in PostgreSQL, one INSERT (a new id; a
// replayed one).
func BenchmarkUse(b *testing.B) {
	db := needPostgres(b)
	storetest.BenchUse(b, pgStore(b, db, uniquePrefix(b, db), nil))
}
