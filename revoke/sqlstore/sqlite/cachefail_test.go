package sqlite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
)

// faulty is a connector to a SQLite file through the real driver whose
// reads of PRAGMA data_version fail while fail is set.
type faulty struct {
	drv  driver.Driver
	dsn  string
	fail atomic.Bool
}

func (f *faulty) Connect(context.Context) (driver.Conn, error) {
	c, err := f.drv.Open(f.dsn)
	if err != nil {
		return nil, err
	}
	return &faultyConn{Conn: c, f: f}, nil
}

func (f *faulty) Driver() driver.Driver { return f.drv }

type faultyConn struct {
	driver.Conn
	f *faulty
}

func (c *faultyConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil || query != "PRAGMA data_version" {
		return st, err
	}
	return faultyStmt{st, c.f}, nil
}

type faultyStmt struct {
	driver.Stmt
	f *faulty
}

func (s faultyStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.f.fail.Load() {
		return nil, errors.New("injected failure")
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// TestCacheReadFails: when data_version cannot be read, the check queries
// (never answers from the cache, even though the database changed), the
// cache's connection goes back to the pool, and the cache starts again on a
// new connection.
func TestCacheReadFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fail.db")
	other, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	f := &faulty{drv: other.Driver(), dsn: "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"}
	db := sql.OpenDB(f)
	defer db.Close()
	ctx := context.Background()
	s, err := sqlstore.New(ctx, db, sqlstore.SQLite, sqlstore.Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writer, err := sqlstore.New(ctx, other, sqlstore.SQLite, sqlstore.Options{CleanupInterval: -1, CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	check := func(want bool) {
		t.Helper()
		if r, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Subject: "alice", IssuedAt: time.Now()}); err != nil || r != want {
			t.Fatalf("CheckToken = %v, %v; want %v", r, err, want)
		}
	}
	check(false)
	if n := db.Stats().InUse; n != 1 {
		t.Fatalf("%d connections in use, want 1 (the cache's)", n)
	}
	misses := s.CacheStats().Misses
	check(false)
	if got := s.CacheStats().Misses; got != misses {
		t.Fatalf("second check: %d misses, want %d (answered from the cache)", got, misses)
	}
	// data_version can no longer be read, and another store revokes j: the
	// cached "not revoked" must not be the answer.
	f.fail.Store(true)
	if err := writer.Revoke(ctx, "j", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check(true)
	if st := s.CacheStats(); st.Entries != 0 {
		t.Fatalf("after a failed read: %d entries, want none", st.Entries)
	}
	if n := db.Stats().InUse; n != 0 {
		t.Fatalf("after a failed read: %d connections in use, want 0 (the cache's given back)", n)
	}
	// A new connection on the next check, and the cache works again.
	f.fail.Store(false)
	check(true)
	misses = s.CacheStats().Misses
	check(true)
	if st := s.CacheStats(); st.Misses != misses || st.Entries == 0 {
		t.Fatalf("cache not back after a failed read: %+v, misses before %d", st, misses)
	}
}
