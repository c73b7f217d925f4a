package sqlite_test

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// BenchmarkProtected compares a protected request without revocation and
// with the check in SQLite (cached, and not; the postgres module has the
// PostgreSQL case). The same token every time: the cached case.
func BenchmarkProtected(b *testing.B) {
	b.Run("none", func(b *testing.B) { storetest.BenchProtected(b, nil) })
	b.Run("sqlite", func(b *testing.B) {
		_, s := openSQLite(b, filepath.Join(b.TempDir(), "bench.db"), nil)
		storetest.BenchProtected(b, s)
	})
	b.Run("sqlite-nocache", func(b *testing.B) {
		db := openDB(b, filepath.Join(b.TempDir(), "bench.db"))
		storetest.BenchProtected(b, newSQLiteStore(b, db, sqlstore.Options{CacheEntries: -1}))
	})
}

func BenchmarkCheck(b *testing.B) {
	_, s := openSQLite(b, filepath.Join(b.TempDir(), "bench.db"), nil)
	ctx := context.Background()
	iat := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if r, err := s.CheckToken(ctx, revoke.Query{JTI: "jti", Subject: "user", Family: "session", IssuedAt: iat}); err != nil || r {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkCheckTokenCached: CheckToken on SQLite for a token already
// checked, with the context revoke.Check gives (a deadline), without the
// cache (one query) and with it (one read of PRAGMA data_version).
func BenchmarkCheckTokenCached(b *testing.B) {
	for _, c := range []struct {
		name    string
		entries int
	}{{"query", -1}, {"cached", 0}} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.db")
			s := newSQLiteStore(b, openDB(b, path), sqlstore.Options{CacheEntries: c.entries})
			ctx, cancel := context.WithTimeout(context.Background(), revoke.DefaultTimeout+time.Hour)
			defer cancel()
			iat := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if r, err := s.CheckToken(ctx, revoke.Query{JTI: "jti", Subject: "user", Family: "session", IssuedAt: iat}); err != nil || r {
					b.Fatal(r, err)
				}
			}
		})
	}
}

// BenchmarkDataVersion: ways to read PRAGMA data_version on one
// connection (see cache.go). "raw" is what the cache does.
func BenchmarkDataVersion(b *testing.B) {
	db := openDB(b, filepath.Join(b.TempDir(), "bench.db"))
	bg := context.Background()
	conn, err := db.Conn(bg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var v int64
	b.Run("queryrow", func(b *testing.B) {
		for b.Loop() {
			if err := conn.QueryRowContext(bg, "PRAGMA data_version").Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prepared", func(b *testing.B) {
		st, err := conn.PrepareContext(bg, "PRAGMA data_version")
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		for b.Loop() {
			if err := st.QueryRowContext(bg).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw := func(b *testing.B, ctx context.Context) {
		err := conn.Raw(func(dc any) error {
			st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, "PRAGMA data_version")
			if err != nil {
				return err
			}
			defer st.Close()
			dest := make([]driver.Value, 1)
			for b.Loop() {
				rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, nil)
				if err != nil {
					return err
				}
				err = rows.Next(dest)
				rows.Close()
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("raw", func(b *testing.B) { raw(b, bg) })
	b.Run("raw-deadline", func(b *testing.B) {
		ctx, cancel := context.WithTimeout(bg, time.Hour)
		defer cancel()
		raw(b, ctx)
	})
}

// BenchmarkUse: OneTimeStore.Use in SQLite, one INSERT committed with
// synchronous=FULL (a new id; a replayed one).
func BenchmarkUse(b *testing.B) {
	_, s := openSQLite(b, filepath.Join(b.TempDir(), "bench.db"), nil)
	storetest.BenchUse(b, s)
}
