package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// BenchmarkProtected compares a protected request without revocation and
// with the check in SQLite and PostgreSQL (one query per request).
func BenchmarkProtected(b *testing.B) {
	b.Run("none", func(b *testing.B) { storetest.BenchProtected(b, nil) })
	b.Run("sqlite", func(b *testing.B) {
		_, s := openSQLite(b, filepath.Join(b.TempDir(), "bench.db"), nil)
		storetest.BenchProtected(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		db := needPostgres(b)
		storetest.BenchProtected(b, pgStore(b, db, uniquePrefix(b, db), nil))
	})
}

func BenchmarkCheck(b *testing.B) {
	_, s := openSQLite(b, filepath.Join(b.TempDir(), "bench.db"), nil)
	ctx := context.Background()
	iat := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if r, err := s.CheckToken(ctx, "jti", "user", iat); err != nil || r {
			b.Fatal(r, err)
		}
	}
}
