package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres/pgtest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// needPostgres returns a connection pool, or fails (with
// JWTGATE_REQUIRE_SERVICES=1) or skips the test when the server cannot be
// reached.
func needPostgres(t testing.TB) *sql.DB {
	t.Helper()
	return pgtest.Postgres(t, pgtest.PostgresDSN())
}

// pgStore returns a store on its own tables (a unique prefix), dropped when
// the test ends.
func pgStore(t testing.TB, db *sql.DB, prefix string, now func() time.Time) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(context.Background(), db, sqlstore.Postgres, sqlstore.Options{TablePrefix: prefix, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func uniquePrefix(t testing.TB, db *sql.DB) string {
	p := strings.ReplaceAll(storetest.ID("t"), "-", "_") + "_"
	t.Cleanup(func() {
		for _, tbl := range []string{"revoked_jti", "revoked_subject", "refresh_family", "used_id", "probe"} {
			if _, err := db.Exec(`DROP TABLE IF EXISTS ` + p + tbl); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return p
}

func TestPostgresConformance(t *testing.T) {
	db := needPostgres(t)
	type info struct {
		prefix string
		now    func() time.Time
	}
	infos := map[revoke.Store]info{}
	storetest.RunConfig(t, storetest.Config{
		New: func(t *testing.T, now func() time.Time) revoke.Store {
			p := uniquePrefix(t, db)
			s := pgStore(t, db, p, now)
			infos[s] = info{p, now}
			return s
		},
		Reopen: func(t *testing.T, old revoke.Store) revoke.Store {
			old.(*sqlstore.Store).Close()
			// A new pool: nothing survives from the old process but the
			// database.
			db2 := needPostgres(t)
			return pgStore(t, db2, infos[old].prefix, infos[old].now)
		},
	})
}

func TestPostgresInstances(t *testing.T) {
	dbA, dbB := needPostgres(t), needPostgres(t)
	p := uniquePrefix(t, dbA)
	storetest.RunInstances(t, pgStore(t, dbA, p, nil), pgStore(t, dbB, p, nil))
}

func TestPostgresFaults(t *testing.T) {
	db := needPostgres(t)
	p := uniquePrefix(t, db)
	good := pgStore(t, db, p, nil)
	// Down: a pool pointed at a port where nothing listens...
	wrong, err := postgres.Open("postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if _, err := sqlstore.New(context.Background(), wrong, sqlstore.Postgres, sqlstore.Options{TablePrefix: p}); err == nil {
		t.Fatal("New on a wrong port: no error")
	}
	// ...and a store whose pool was closed after it started.
	db2 := needPostgres(t)
	down := pgStore(t, db2, p, nil)
	db2.Close()
	storetest.RunFaults(t, good, down)
}

// TestPostgresServerComesBack takes PostgreSQL away behind a proxy and
// brings it back.
func TestPostgresServerComesBack(t *testing.T) {
	db := needPostgres(t)
	prefix := uniquePrefix(t, db)
	proxy := storetest.NewProxy(t, "127.0.0.1:5432")
	dsn := strings.Replace(pgtest.PostgresDSN(), "127.0.0.1:5432", proxy.Addr(), 1)
	if dsn == pgtest.PostgresDSN() {
		t.Skip("JWTGATE_POSTGRES_DSN does not name 127.0.0.1:5432; the proxy cannot stand in front of it")
	}
	viaDB, err := postgres.Open(dsn + "&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viaDB.Close() })
	storetest.RunComeback(t, pgStore(t, viaDB, prefix, nil), pgStore(t, db, prefix, nil), proxy)
}

// TestPostgresProbe: Probe writes, so a database that only reads (a
// standby, a read-only session) fails it; a frozen server fails it within
// the caller's deadline; once thawed it passes again.
func TestPostgresProbe(t *testing.T) {
	db := needPostgres(t)
	prefix := uniquePrefix(t, db)
	ctx := context.Background()
	s := pgStore(t, db, prefix, nil)
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("probe: %v", err)
	}

	// A session that may only read, as on a hot standby: one connection,
	// made read-only once the store has checked its tables.
	roDB := needPostgres(t)
	roDB.SetMaxOpenConns(1)
	ro := pgStore(t, roDB, prefix, nil)
	if _, err := roDB.Exec(`SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`); err != nil {
		t.Fatal(err)
	}
	if err := ro.Probe(ctx); err == nil {
		t.Fatal("probe succeeded on a read-only session")
	} else {
		t.Logf("read-only: %v", err)
	}
	if _, err := ro.CheckToken(ctx, revoke.Query{JTI: "jti", Subject: "alice", Family: "session", IssuedAt: time.Now()}); err != nil {
		t.Fatalf("a read on the read-only session: %v", err)
	}

	// Frozen: connections stay open, nothing comes back.
	proxy := storetest.NewProxy(t, "127.0.0.1:5432")
	dsn := strings.Replace(pgtest.PostgresDSN(), "127.0.0.1:5432", proxy.Addr(), 1)
	if dsn == pgtest.PostgresDSN() {
		t.Skip("JWTGATE_POSTGRES_DSN does not name 127.0.0.1:5432; the proxy cannot stand in front of it")
	}
	viaDB, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viaDB.Close() })
	via := pgStore(t, viaDB, prefix, nil)
	if err := via.Probe(ctx); err != nil {
		t.Fatalf("probe through the proxy: %v", err)
	}
	proxy.Freeze()
	const bound = time.Second
	pctx, cancel := context.WithTimeout(ctx, bound)
	start := time.Now()
	err = via.Probe(pctx)
	took := time.Since(start)
	cancel()
	if err == nil {
		t.Fatal("probe succeeded through a frozen proxy")
	}
	t.Logf("frozen: probe failed after %v (deadline %v): %v", took.Round(time.Millisecond), bound, err)
	proxy.Thaw()
	for i := 0; ; i++ { // the pool replaces the connection it gave up on
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := via.Probe(pctx)
		cancel()
		if err == nil {
			break
		}
		if i == 20 {
			t.Fatalf("probe after the thaw: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPostgresOpenTakesNoLock: opening a store on tables that exist takes
// no lock, so a start is not held up by writes waiting on a busy row
// (here a transaction holding the ROW EXCLUSIVE lock that every UPSERT
// takes; a CREATE INDEX IF NOT EXISTS waits for it even when the index
// exists).
func TestPostgresOpenTakesNoLock(t *testing.T) {
	db := needPostgres(t)
	p := uniquePrefix(t, db)
	pgStore(t, db, p, nil)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE ` + p + `revoked_subject IN ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	// A generous deadline: the point is that opening does not wait for
	// the transaction at all.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := sqlstore.New(ctx, db, sqlstore.Postgres, sqlstore.Options{TablePrefix: p, CleanupInterval: -1})
	if err != nil {
		t.Fatalf("opening while a writer holds the table: %v", err)
	}
	s.Close()
}

// TestPostgresConcurrentCreate: instances that start at once on a
// database without the tables all open their store. Concurrent CREATE
// TABLE IF NOT EXISTS of one table fail in PostgreSQL (a unique violation
// in its catalog) rather than wait for each other.
func TestPostgresConcurrentCreate(t *testing.T) {
	db := needPostgres(t)
	for round := range 3 {
		p := uniquePrefix(t, db)
		const n = 8
		errs := make(chan error, n)
		for range n {
			go func() {
				s, err := sqlstore.New(context.Background(), db, sqlstore.Postgres, sqlstore.Options{TablePrefix: p, CleanupInterval: -1})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %d stores opened at once on new tables: %v", round, n, err)
			}
		}
	}
}
