package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/tmpfs"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
)

// TestSQLiteProbe makes the file system of a SQLite store full, then
// read-only: Probe fails while the store cannot write, even where reads
// still answer, and works again once the fault is gone.
func TestSQLiteProbe(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// break makes the store unable to write; mend undoes it.
		breakFS, mend func(*testing.T, *tmpfs.FS, *sql.DB)
		readsWork     bool // reads still answer meanwhile
	}{
		{
			name: "disk full",
			breakFS: func(t *testing.T, fs *tmpfs.FS, db *sql.DB) {
				// An empty WAL: the next commit needs new blocks.
				if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
					t.Fatal(err)
				}
				fs.Fill(t)
			},
			mend:      func(t *testing.T, fs *tmpfs.FS, _ *sql.DB) { fs.Free(t) },
			readsWork: true,
		},
		{
			name: "read-only file system",
			breakFS: func(t *testing.T, fs *tmpfs.FS, db *sql.DB) {
				// The kernel remounts read-only only when no file is open
				// for writing: the pool closes its connections (a
				// file system that fails under open files, such as ext4
				// with errors=remount-ro, makes writes fail the same way).
				db.SetMaxIdleConns(0)
				fs.ReadOnly(t)
			},
			mend: func(t *testing.T, fs *tmpfs.FS, db *sql.DB) {
				fs.ReadWrite(t)
				db.SetMaxIdleConns(2)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := tmpfs.Mount(t, 16<<20)
			db, err := sqlite.Open(filepath.Join(fs.Dir, "probe.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			// No answer cache: it would hold a file open (see above).
			s, err := sqlstore.New(ctx, db, sqlstore.SQLite, sqlstore.Options{CacheEntries: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			until := time.Now().Add(time.Hour)
			for i := range 50 {
				if err := s.Revoke(ctx, fmt.Sprintf("jti-%d", i), until); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Probe(ctx); err != nil {
				t.Fatalf("probe of a healthy store: %v", err)
			}

			tc.breakFS(t, fs, db)
			if err := s.Probe(ctx); err == nil {
				t.Fatal("probe succeeded while the store cannot write")
			} else {
				t.Logf("probe: %v", err)
			}
			if err := s.Revoke(ctx, "during", until); err == nil {
				t.Fatal("a revocation was kept although the probe failed")
			}
			revoked, err := s.CheckToken(ctx, revoke.Query{JTI: "jti-7", Subject: "alice", Family: "session-7", IssuedAt: time.Now()})
			if tc.readsWork && (err != nil || !revoked) {
				t.Fatalf("a read while writes fail: %v %v; want revoked", revoked, err)
			}

			tc.mend(t, fs, db)
			if err := s.Probe(ctx); err != nil {
				t.Fatalf("probe after the fault is gone: %v", err)
			}
			if err := s.Revoke(ctx, "after", until); err != nil {
				t.Fatal(err)
			}
		})
	}
}
