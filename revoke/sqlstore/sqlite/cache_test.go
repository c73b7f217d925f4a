package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
)

func newSQLiteStore(t testing.TB, db *sql.DB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(context.Background(), db, sqlstore.SQLite, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// cacheLen is the number of entries in s's cache, -1 without a cache.
func cacheLen(s *sqlstore.Store) int {
	st := s.CacheStats()
	if !st.On {
		return -1
	}
	return st.Entries
}

func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func wantCheck(t *testing.T, s *sqlstore.Store, jti, sub string, iat time.Time, want bool) {
	t.Helper()
	wantCheckQ(t, s, revoke.Query{JTI: jti, Subject: sub, IssuedAt: iat}, want)
}

func wantCheckQ(t *testing.T, s *sqlstore.Store, q revoke.Query, want bool) {
	t.Helper()
	got, err := s.CheckToken(context.Background(), q)
	if err != nil || got != want {
		t.Fatalf("CheckToken(%+v) = %v, %v; want %v", q, got, err, want)
	}
}

func wantRevoked(t *testing.T, s *sqlstore.Store, jti string, want bool) {
	t.Helper()
	got, err := s.Revoked(context.Background(), jti)
	if err != nil || got != want {
		t.Fatalf("Revoked(%q) = %v, %v; want %v", jti, got, err, want)
	}
}

// wantCached checks twice and fails unless the second answer came from the
// cache (no query), so that a test of invalidation is not vacuous.
func wantCached(t *testing.T, s *sqlstore.Store, jti, sub string, iat time.Time, want bool) {
	t.Helper()
	wantCachedQ(t, s, revoke.Query{JTI: jti, Subject: sub, IssuedAt: iat}, want)
}

func wantCachedQ(t *testing.T, s *sqlstore.Store, q revoke.Query, want bool) {
	t.Helper()
	wantCheckQ(t, s, q, want)
	n := s.CacheStats().Misses
	wantCheckQ(t, s, q, want)
	if got := s.CacheStats().Misses; got != n {
		t.Fatalf("CheckToken(%+v) again: %d queries, want none (answer not cached)", q, got-n)
	}
}

// TestSQLiteCacheOtherWriter: revocations committed through a second
// *sql.DB on the same file (another process, as far as SQLite knows) are
// seen by the next check of a store that had cached "not revoked".
func TestSQLiteCacheOtherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	_, a := openSQLite(t, path, nil)
	dbB := openDB(t, path)
	b := newSQLiteStore(t, dbB, sqlstore.Options{CacheEntries: -1})
	ctx := context.Background()
	now := time.Now()
	iat := now.Add(-time.Minute)

	t.Run("Revoke", func(t *testing.T) {
		wantCached(t, a, "j1", "alice", iat, false)
		if err := b.Revoke(ctx, "j1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a, "j1", "alice", iat, true)
		wantRevoked(t, a, "j1", true)
	})

	t.Run("RevokeSubject", func(t *testing.T) {
		wantCached(t, a, "j2", "bob", iat, false)
		if c, err := a.SubjectCutoff(ctx, "bob"); err != nil || !c.IsZero() {
			t.Fatalf("SubjectCutoff = %v, %v", c, err)
		}
		if err := b.RevokeSubject(ctx, "bob", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a, "j2", "bob", iat, true)
		wantCheck(t, a, "j3", "bob", now.Add(time.Second), false) // issued after the cutoff
		if c, err := a.SubjectCutoff(ctx, "bob"); err != nil || c.UnixMilli() != now.UnixMilli() {
			t.Fatalf("SubjectCutoff = %v, %v; want %v", c, err, now)
		}
		// A later cutoff replaces the cached one.
		later := now.Add(2 * time.Second)
		wantCached(t, a, "j3", "bob", now.Add(time.Second), false)
		if err := b.RevokeSubject(ctx, "bob", later, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a, "j3", "bob", now.Add(time.Second), true)
	})

	t.Run("Rotate", func(t *testing.T) {
		if err := b.Rotate(ctx, "fam", "r0", "r1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		r1 := revoke.Query{JTI: "r1", Subject: "carol", Family: "fam", IssuedAt: iat}
		wantCachedQ(t, a, r1, false)
		// r0 comes back: reuse; b revokes the family, and r1 with it.
		if err := b.Rotate(ctx, "fam", "r0", "r2", now.Add(time.Hour)); !errors.Is(err, revoke.ErrReused) {
			t.Fatalf("reuse: %v", err)
		}
		wantCheckQ(t, a, r1, true)
	})

	t.Run("RevokeFamily", func(t *testing.T) {
		access := revoke.Query{JTI: "a1", Subject: "frank", Family: "session", IssuedAt: iat}
		wantCachedQ(t, a, access, false)
		if r, err := a.FamilyRevoked(ctx, "session"); err != nil || r {
			t.Fatalf("FamilyRevoked = %v, %v", r, err)
		}
		if err := b.RevokeFamily(ctx, "session", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantCheckQ(t, a, access, true)
		if r, err := a.FamilyRevoked(ctx, "session"); err != nil || !r {
			t.Fatalf("FamilyRevoked after RevokeFamily elsewhere = %v, %v", r, err)
		}
	})

	t.Run("PlainSQL", func(t *testing.T) {
		// Another program writing the table directly, in a transaction.
		wantCached(t, a, "j4", "dave", iat, false)
		tx, err := dbB.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO jwtgate_revoked_jti (jti, expires_at) VALUES ('j4', ?)`, now.Add(time.Hour).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		// Not committed yet: still not revoked, and that answer must not
		// outlive the commit.
		wantCheck(t, a, "j4", "dave", iat, false)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a, "j4", "dave", iat, true)
	})

	t.Run("Cleanup", func(t *testing.T) {
		// Rows deleted elsewhere are not answered from the cache either.
		if err := b.Revoke(ctx, "j5", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantCached(t, a, "j5", "erin", iat, true)
		if _, err := dbB.Exec(`DELETE FROM jwtgate_revoked_jti WHERE jti = 'j5'`); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a, "j5", "erin", iat, false)
	})
}

// TestSQLiteCacheOwnWrites: the store's own writes are seen at once.
func TestSQLiteCacheOwnWrites(t *testing.T) {
	_, s := openSQLite(t, filepath.Join(t.TempDir(), "own.db"), nil)
	ctx := context.Background()
	now := time.Now()
	iat := now.Add(-time.Minute)
	wantCached(t, s, "j1", "alice", iat, false)
	if err := s.Revoke(ctx, "j1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCheck(t, s, "j1", "alice", iat, true)

	wantCached(t, s, "j2", "bob", iat, false)
	if err := s.RevokeSubject(ctx, "bob", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCheck(t, s, "j2", "bob", iat, true)

	if err := s.Rotate(ctx, "fam", "r0", "r1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r1 := revoke.Query{JTI: "r1", Subject: "carol", Family: "fam", IssuedAt: iat}
	wantCachedQ(t, s, r1, false)
	if err := s.Rotate(ctx, "fam", "r0", "r2", now.Add(time.Hour)); !errors.Is(err, revoke.ErrReused) {
		t.Fatalf("reuse: %v", err)
	}
	wantCheckQ(t, s, r1, true)

	other := revoke.Query{JTI: "a1", Subject: "carol", Family: "other", IssuedAt: iat}
	n := s.CacheStats().Misses
	wantCachedQ(t, s, other, false)
	if d := s.CacheStats().Misses - n; d != 1 {
		t.Fatalf("a token's jti, subject and session took %d queries, want 1", d)
	}
	if err := s.RevokeFamily(ctx, "other", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCheckQ(t, s, other, true)
}

// TestSQLiteCacheClock: cached rows are compared with the clock at each
// check, as the query does: a revocation ends when its token expires.
func TestSQLiteCacheClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().Truncate(time.Millisecond)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, s := openSQLite(t, filepath.Join(t.TempDir(), "clock.db"), clock)
	ctx := context.Background()
	if err := s.Revoke(ctx, "j", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSubject(ctx, "bob", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantCached(t, s, "j", "alice", now, true)
	wantCached(t, s, "k", "bob", now.Add(-time.Second), true)
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	q := s.CacheStats().Misses
	wantCheck(t, s, "j", "alice", now, false)
	wantCheck(t, s, "k", "bob", now.Add(-time.Second), false)
	if c, err := s.SubjectCutoff(ctx, "bob"); err != nil || !c.IsZero() {
		t.Fatalf("SubjectCutoff after expiry = %v, %v", c, err)
	}
	if got := s.CacheStats().Misses; got != q {
		t.Fatalf("%d queries; want the cached rows used", got-q)
	}
}

// TestSQLiteCacheProcess: a revocation made by another OS process is seen
// by the next check after that process exits.
func TestSQLiteCacheProcess(t *testing.T) {
	if path := os.Getenv("SQLSTORE_CACHE_CHILD"); path != "" {
		db, err := sqlite.Open(path)
		if err == nil {
			var s *sqlstore.Store
			if s, err = sqlstore.New(context.Background(), db, sqlstore.SQLite, sqlstore.Options{}); err == nil {
				ctx, now := context.Background(), time.Now()
				err = errors.Join(
					s.Revoke(ctx, "victim", now.Add(time.Hour)),
					s.RevokeSubject(ctx, "mallory", now, now.Add(time.Hour)),
					s.Close(),
				)
			}
			err = errors.Join(err, db.Close())
		}
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("revoked")
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "process.db")
	_, s := openSQLite(t, path, nil)
	iat := time.Now().Add(-time.Minute)
	wantCached(t, s, "victim", "alice", iat, false)
	wantCached(t, s, "other", "mallory", iat, false)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteCacheProcess$")
	cmd.Env = append(os.Environ(), "SQLSTORE_CACHE_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "revoked") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	wantCheck(t, s, "victim", "alice", iat, true)
	wantCheck(t, s, "other", "mallory", iat, true)
}

// TestSQLiteCacheConcurrent: checks racing with writes from this store and
// from another pool. Once a write has returned, no check begun after it may
// answer "not revoked". Run with -race.
func TestSQLiteCacheConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "concurrent.db")
	_, a := openSQLite(t, path, nil)
	b := newSQLiteStore(t, openDB(t, path), sqlstore.Options{})
	const tokens, checkers, rounds = 40, 4, 300
	var revoked [tokens]atomic.Bool
	until := time.Now().Add(time.Hour)
	iat := time.Now().Add(-time.Minute)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, checkers+2)
	for w, s := range []*sqlstore.Store{a, b} {
		wg.Go(func() {
			for i := w; i < tokens; i += 2 {
				var err error
				if i%4 < 2 {
					err = s.Revoke(ctx, fmt.Sprintf("t%d", i), until)
				} else {
					// Subject cutoffs: subject s<i>, token t<i>.
					err = s.RevokeSubject(ctx, fmt.Sprintf("s%d", i), time.Now(), until)
				}
				if err != nil {
					errs <- err
					return
				}
				revoked[i].Store(true)
			}
		})
	}
	for c := range checkers {
		wg.Go(func() {
			for r := range rounds {
				i := (r*7 + c*13) % tokens
				was := revoked[i].Load()
				got, err := a.CheckToken(ctx, revoke.Query{JTI: fmt.Sprintf("t%d", i), Subject: fmt.Sprintf("s%d", i), IssuedAt: iat})
				if err != nil {
					errs <- err
					return
				}
				if was && !got {
					errs <- fmt.Errorf("t%d: revoked before the check began, answered not revoked", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range tokens {
		wantCheck(t, a, fmt.Sprintf("t%d", i), fmt.Sprintf("s%d", i), iat, true)
		wantCheck(t, b, fmt.Sprintf("t%d", i), fmt.Sprintf("s%d", i), iat, true)
	}
}

// TestSQLiteCacheBounded: the cache never holds more than CacheEntries.
func TestSQLiteCacheBounded(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bounded.db"))
	s := newSQLiteStore(t, db, sqlstore.Options{CacheEntries: 10})
	ctx := context.Background()
	if err := s.Revoke(ctx, "t7", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	iat := time.Now().Add(-time.Minute)
	for r := range 3 {
		for i := range 50 {
			wantCheck(t, s, fmt.Sprintf("t%d", i), fmt.Sprintf("s%d", i%3), iat, i == 7)
			if n := cacheLen(s); n > 10 || n < 1 {
				t.Fatalf("round %d, token %d: %d entries; want 1 to 10", r, i, n)
			}
		}
	}
	// A cache of one is a cache of two: a check keeps a jti and a subject.
	s1 := newSQLiteStore(t, db, sqlstore.Options{CacheEntries: 1})
	wantCached(t, s1, "t7", "s1", iat, true)
	wantCached(t, s1, "t8", "s1", iat, false)
	if n := cacheLen(s1); n != 2 {
		t.Fatalf("CacheEntries 1: %d entries", n)
	}
	// Off.
	off := newSQLiteStore(t, db, sqlstore.Options{CacheEntries: -1})
	wantCheck(t, off, "t7", "s1", iat, true)
	if n := cacheLen(off); n != -1 {
		t.Fatalf("CacheEntries -1: cache of %d", n)
	}
}

// TestSQLiteCacheClose: Close empties the cache and gives its connection
// back; the store then still answers, by querying.
func TestSQLiteCacheClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.db")
	db := openDB(t, path)
	s, err := sqlstore.New(context.Background(), db, sqlstore.SQLite, sqlstore.Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	iat := time.Now().Add(-time.Minute)
	wantCached(t, s, "j", "alice", iat, false)
	if n := db.Stats().InUse; n != 1 {
		t.Fatalf("before Close: %d connections in use; want the cache's one", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // twice is fine
		t.Fatal(err)
	}
	if n := db.Stats().InUse; n != 0 {
		t.Fatalf("after Close: %d connections in use", n)
	}
	if n := cacheLen(s); n != 0 {
		t.Fatalf("after Close: %d entries", n)
	}
	other := newSQLiteStore(t, openDB(t, path), sqlstore.Options{})
	if err := other.Revoke(context.Background(), "j", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	q := s.CacheStats().Misses
	wantCheck(t, s, "j", "alice", iat, true)
	wantCheck(t, s, "k", "alice", iat, false)
	if n := s.CacheStats().Misses; n != q || db.Stats().InUse != 0 {
		t.Fatal("closed store uses its cache")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteCacheOneConnection: with a pool of one connection the cache
// stays off instead of starving the queries.
func TestSQLiteCacheOneConnection(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "one.db"))
	db.SetMaxOpenConns(1)
	s := newSQLiteStore(t, db, sqlstore.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a deadlock fails, not hangs
	defer cancel()
	iat := time.Now().Add(-time.Minute)
	for range 2 {
		if r, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Subject: "alice", IssuedAt: iat}); err != nil || r {
			t.Fatalf("CheckToken = %v, %v", r, err)
		}
	}
	if err := s.Revoke(ctx, "j", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Subject: "alice", IssuedAt: iat}); err != nil || !r {
		t.Fatalf("CheckToken after Revoke = %v, %v", r, err)
	}
	if n := cacheLen(s); n != 0 {
		t.Fatalf("%d entries with one connection", n)
	}
}

// TestSQLiteCacheContext: a check with an ended context fails, even when
// its answer is cached.
func TestSQLiteCacheContext(t *testing.T) {
	_, s := openSQLite(t, filepath.Join(t.TempDir(), "ctx.db"), nil)
	iat := time.Now().Add(-time.Minute)
	wantCached(t, s, "j", "alice", iat, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Subject: "alice", IssuedAt: iat}); err == nil {
		t.Fatalf("cancelled context: CheckToken = %v, nil; want an error", r)
	}
	if _, err := s.Revoked(ctx, "j"); err == nil {
		t.Fatal("cancelled context: Revoked gave no error")
	}
	if _, err := s.SubjectCutoff(ctx, "alice"); err == nil {
		t.Fatal("cancelled context: SubjectCutoff gave no error")
	}
	wantCached(t, s, "j", "alice", iat, false)
}

// TestSQLiteCacheMaxStaleness: with MaxStaleness, another writer's commit
// may be missed for at most that long; the store's own writes are seen at
// once.
func TestSQLiteCacheMaxStaleness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	dbA := openDB(t, path)
	if _, err := sqlstore.New(context.Background(), dbA, sqlstore.SQLite, sqlstore.Options{MaxStaleness: -time.Second}); err == nil {
		t.Fatal("negative MaxStaleness accepted")
	}
	a := newSQLiteStore(t, dbA, sqlstore.Options{MaxStaleness: time.Hour})
	b := newSQLiteStore(t, openDB(t, path), sqlstore.Options{CacheEntries: -1})
	ctx := context.Background()
	now := time.Now()
	iat := now.Add(-time.Minute)

	// Within the hour, a's cached answer stands against b's commit...
	wantCached(t, a, "j1", "alice", iat, false)
	if err := b.Revoke(ctx, "j1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCheck(t, a, "j1", "alice", iat, false)
	// ...but a's own write is seen at once, and with it b's.
	if err := a.Revoke(ctx, "j2", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCheck(t, a, "j2", "alice", iat, true)
	wantCheck(t, a, "j1", "alice", iat, true)

	// With a short staleness, b's commit reaches a's checks soon after.
	c := newSQLiteStore(t, dbA, sqlstore.Options{MaxStaleness: 20 * time.Millisecond})
	wantCached(t, c, "j3", "bob", iat, false)
	if err := b.Revoke(ctx, "j3", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		got, err := c.CheckToken(ctx, revoke.Query{JTI: "j3", Subject: "bob", IssuedAt: iat})
		if err != nil {
			t.Fatal(err)
		}
		if got {
			break
		}
		if i == 1000 {
			t.Fatal("another writer's revocation was never seen")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSQLiteCheckCached: with MaxStaleness, CheckCached answers seen
// tokens without I/O, as CheckToken would, until the store writes.
func TestSQLiteCheckCached(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cc.db")
	ctx := context.Background()
	now := time.Now()
	iat := now.Add(-time.Minute)
	strict := newSQLiteStore(t, openDB(t, path), sqlstore.Options{})
	wantCheck(t, strict, "j1", "alice", iat, false)
	if _, ok := strict.CheckCached(revoke.Query{JTI: "j1", Subject: "alice", IssuedAt: iat}); ok {
		t.Fatal("CheckCached answered without MaxStaleness")
	}
	s := newSQLiteStore(t, openDB(t, path), sqlstore.Options{MaxStaleness: time.Hour})
	if _, ok := s.CheckCached(revoke.Query{JTI: "j1", Subject: "alice", IssuedAt: iat}); ok {
		t.Fatal("CheckCached answered a token never checked")
	}
	if err := s.Revoke(ctx, "j2", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSubject(ctx, "bob", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		jti, sub string
		iat      time.Time
		want     bool
	}{
		{"j1", "alice", iat, false},
		{"j2", "alice", iat, true},
		{"j3", "bob", iat, true},
		{"j4", "bob", now.Add(time.Second), false},
		{"j5", "", iat, false},
	} {
		wantCheck(t, s, tc.jti, tc.sub, tc.iat, tc.want)
		got, ok := s.CheckCached(revoke.Query{JTI: tc.jti, Subject: tc.sub, IssuedAt: tc.iat})
		if !ok || got != tc.want {
			t.Fatalf("CheckCached(%q, %q) = %v, %v; want %v, true", tc.jti, tc.sub, got, ok, tc.want)
		}
	}
	// An own write empties the cache: the next answers read again.
	if err := s.Revoke(ctx, "j1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.CheckCached(revoke.Query{JTI: "j1", Subject: "alice", IssuedAt: iat}); ok {
		t.Fatal("CheckCached answered from a cache its own write emptied")
	}
	wantCheck(t, s, "j1", "alice", iat, true)
	if got, ok := s.CheckCached(revoke.Query{JTI: "j1", Subject: "alice", IssuedAt: iat}); !ok || !got {
		t.Fatalf("CheckCached after the revocation = %v, %v", got, ok)
	}
}
