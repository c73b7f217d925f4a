package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
)

// TestCacheReadFails: when data_version cannot be read, the check queries
// (never answers from the cache) and the cache starts again on a new
// connection.
func TestCacheReadFails(t *testing.T) {
	db, err := OpenSQLite(filepath.Join(t.TempDir(), "fail.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	s, err := New(ctx, db, SQLite, Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Revoke(ctx, "j", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check := func(want bool) {
		t.Helper()
		if r, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Subject: "alice", IssuedAt: time.Now()}); err != nil || r != want {
			t.Fatalf("CheckToken = %v, %v; want %v", r, err, want)
		}
	}
	check(true)
	// Forge a wrong entry: the next check answers from the cache...
	c := s.cache
	c.mu.Lock()
	c.jti["j"] = 0
	c.mu.Unlock()
	check(false)
	// ...but not once data_version cannot be read.
	c.sem <- struct{}{}
	old := c.conn
	c.stmt = failingStmt{c.stmt}
	c.mu.Lock()
	c.jti["j"] = 0
	c.mu.Unlock()
	<-c.sem
	check(true)
	if c.conn != nil || c.len() != 0 {
		t.Fatalf("after a failed read: conn %v, %d entries; want none", c.conn, c.len())
	}
	if err := old.PingContext(ctx); err == nil {
		t.Fatal("the failed connection was not given back")
	}
	// A new connection on the next check, and the cache works again.
	check(true)
	q := c.queries.Load()
	check(true)
	if c.conn == nil || c.queries.Load() != q {
		t.Fatal("cache not back after a failed read")
	}
}

// failingStmt fails every query; Close closes the real statement.
type failingStmt struct{ driver.Stmt }

func (failingStmt) QueryContext(context.Context, []driver.NamedValue) (driver.Rows, error) {
	return nil, errors.New("injected failure")
}
