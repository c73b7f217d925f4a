package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/tmpfs"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// storeFixture serves a Server on the given stores, with the user alice
// (testPassword), and keys that follow keys.
func storeFixture(t *testing.T, users *SQLUsers, revs revoke.Store, keys KeyStore) *fixture {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	live, err := NewLiveKeys(ctx, keys, jwt.ES256, LiveKeysOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add(ctx, "alice", testPassword); err != nil {
		t.Fatal(err)
	}
	f := &fixture{logs: logs, kid: live.SigningKey().ID()}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	s, err := New(Config{Users: users, Revocations: revs, Keys: live, Algorithm: live.Algorithm(), Issuer: f.srv.URL, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", s)
	return f
}

// timed runs do and logs how long the answer took, for the record (no
// limit is asserted: the machine may be slow).
func timed(t *testing.T, what string, do func() reply) reply {
	t.Helper()
	start := time.Now()
	r := do()
	t.Logf("%s: %d after %v", what, r.status, time.Since(start).Round(time.Millisecond))
	return r
}

// wantReady checks a /readyz answer: its status and, for each store
// named, its outcome.
func wantReady(t *testing.T, what string, r reply, status int, stores map[string]string) {
	t.Helper()
	wantStatus(t, what, r, status)
	var body struct {
		Status string            `json:"status"`
		Stores map[string]string `json:"stores"`
	}
	if err := json.Unmarshal([]byte(r.raw), &body); err != nil {
		t.Fatalf("%s: %v: %s", what, err, r.raw)
	}
	for name, want := range stores {
		if got := body.Stores[name]; got != want {
			t.Fatalf("%s: store %s is %q, want %q: %s", what, name, got, want, r.raw)
		}
	}
	if status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
		t.Fatalf("%s: 503 without Retry-After", what)
	}
}

func wantDescription(t *testing.T, what string, r reply, status int, desc string) {
	t.Helper()
	wantStatus(t, what, r, status)
	if got, _ := r.body["error_description"].(string); got != desc {
		t.Fatalf("%s: error_description %q, want %q", what, got, desc)
	}
}

var allOK = map[string]string{"users": checkOK, "revocations": checkOK, "keys": checkOK}

// TestReadyzDataDirFaults runs the service on a data directory on a small
// file system of its own, fills it, then makes it read-only: /readyz says
// 503 while the database cannot write (though it still reads), a logout
// then answers 503 saying that it may not have happened and is safe to
// retry, and all is well once the fault is gone.
func TestReadyzDataDirFaults(t *testing.T) {
	ctx := context.Background()
	fs := tmpfs.Mount(t, 16<<20)
	data, err := OpenDataDir(ctx, filepath.Join(fs.Dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	data.Logger = slog.New(slog.DiscardHandler)
	f := storeFixture(t, data.Users, data.Revocations, data)
	access, refresh := f.login(t, "alice", testPassword)
	wantReady(t, "readyz", f.do(t, "GET", "/readyz", "", ""), 200, allOK)

	// Full: an empty WAL, so that the next commit needs new blocks.
	if _, err := data.DB.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	fs.Fill(t)
	r := timed(t, "readyz, disk full", func() reply { return f.do(t, "GET", "/readyz", "", "") })
	wantReady(t, "readyz, disk full", r, 503, map[string]string{"users": checkFailed, "revocations": checkFailed, "keys": checkOK})
	if strings.Contains(r.raw, "full") || strings.Contains(r.raw, fs.Dir) {
		t.Fatalf("readyz tells the error: %s", r.raw)
	}
	wantStatus(t, "userinfo, disk full (reads work)", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 200)
	r = timed(t, "logout, disk full", func() reply { return f.do(t, "POST", "/logout", "", "", bearer(access)...) })
	wantDescription(t, "logout, disk full", r, 503, logoutUnknown)
	// SQLite rolled it back: nothing happened.
	wantStatus(t, "userinfo after the failed logout", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 200)
	r = f.do(t, "POST", "/refresh", "", "", bearer(refresh)...)
	wantDescription(t, "refresh, disk full", r, 503, refreshUnknown)

	fs.Free(t)
	wantReady(t, "readyz, space freed", f.do(t, "GET", "/readyz", "", ""), 200, allOK)
	wantStatus(t, "logout retried", f.do(t, "POST", "/logout", "", "", bearer(access)...), 200)
	wantStatus(t, "userinfo after logout", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 401)
	wantStatus(t, "refresh after logout", f.do(t, "POST", "/refresh", "", "", bearer(refresh)...), 401)

	// Read-only. The kernel remounts read-only only when no file is open
	// for writing, so the store lets go of its files first: its answer
	// cache keeps a connection (Close ends the cache, the store still
	// answers), and the pool keeps idle ones.
	access, refresh2 := f.login(t, "alice", testPassword)
	data.Revocations.Close()
	data.DB.SetMaxIdleConns(0)
	fs.ReadOnly(t)
	r = timed(t, "readyz, read-only", func() reply { return f.do(t, "GET", "/readyz", "", "") })
	wantReady(t, "readyz, read-only", r, 503, map[string]string{"users": checkFailed, "revocations": checkFailed, "keys": checkOK})
	// The database cannot even be opened for reading now (SQLite needs
	// to create its -shm file): the checks before the logout fail.
	r = timed(t, "logout, read-only", func() reply { return f.do(t, "POST", "/logout", "", "", bearer(access)...) })
	wantDescription(t, "logout, read-only", r, 503, logoutNotDone)
	wantStatus(t, "userinfo, read-only", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 503)
	wantStatus(t, "refresh, read-only", f.do(t, "POST", "/refresh", "", "", bearer(refresh2)...), 503)
	fs.ReadWrite(t)
	data.DB.SetMaxIdleConns(2)
	wantReady(t, "readyz, read-write again", f.do(t, "GET", "/readyz", "", ""), 200, allOK)
	wantStatus(t, "logout retried", f.do(t, "POST", "/logout", "", "", bearer(access)...), 200)
	wantStatus(t, "userinfo after logout", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 401)
	wantStatus(t, "refresh after logout", f.do(t, "POST", "/refresh", "", "", bearer(refresh2)...), 401)
}

// TestReadyzKeysGone: a data directory whose key file went away is not
// ready (the service still signs with the key it loaded, but cannot
// reload or restart).
func TestReadyzKeysGone(t *testing.T) {
	ctx := context.Background()
	data, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	data.Logger = slog.New(slog.DiscardHandler)
	f := storeFixture(t, data.Users, data.Revocations, data)
	wantReady(t, "readyz", f.do(t, "GET", "/readyz", "", ""), 200, allOK)
	key := filepath.Join(data.Path, keyFile)
	if err := os.Rename(key, key+".away"); err != nil {
		t.Fatal(err)
	}
	wantReady(t, "readyz without the key file", f.do(t, "GET", "/readyz", "", ""), 503,
		map[string]string{"users": checkOK, "revocations": checkOK, "keys": checkFailed})
	if err := os.Rename(key+".away", key); err != nil {
		t.Fatal(err)
	}
	wantReady(t, "readyz with the key file back", f.do(t, "GET", "/readyz", "", ""), 200, allOK)
}

// viaProxy returns dsn with its host replaced by a proxy's address, or
// skips when dsn does not name a host:port the proxy can stand for.
func viaProxy(t *testing.T, dsn string) (string, *storetest.Proxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("the PostgreSQL URL has no host a proxy can stand in front of (%v)", err)
	}
	p := storetest.NewProxy(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}

// TestReadyzPostgresFrozen runs the service on PostgreSQL (users, keys,
// revocations) behind a proxy that freezes: /readyz and /logout answer 503
// within about their bounds (the durations are logged), the logout says
// it has not happened, and after the thaw all is well.
func TestReadyzPostgresFrozen(t *testing.T) {
	ctx := context.Background()
	dsn, proxy := viaProxy(t, needPostgres(t))
	st, err := Open(ctx, StoreConfig{DatabaseURL: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := storeFixture(t, st.Users, st.Revocations, st.Keys)
	access, refresh := f.login(t, "alice", testPassword)
	wantReady(t, "readyz", f.do(t, "GET", "/readyz", "", ""), 200, allOK)

	proxy.Freeze()
	r := timed(t, "readyz, frozen", func() reply { return f.do(t, "GET", "/readyz", "", "") })
	wantReady(t, "readyz, frozen", r, 503, map[string]string{"users": checkTimeout, "revocations": checkTimeout, "keys": checkTimeout})
	r = timed(t, "logout, frozen", func() reply { return f.do(t, "POST", "/logout", "", "", bearer(access)...) })
	wantDescription(t, "logout, frozen", r, 503, logoutNotDone)
	r = timed(t, "logout/all, frozen", func() reply { return f.do(t, "POST", "/logout/all", "", "", bearer(access)...) })
	wantDescription(t, "logout/all, frozen", r, 503, logoutNotDone)
	r = timed(t, "refresh, frozen", func() reply { return f.do(t, "POST", "/refresh", "", "", bearer(refresh)...) })
	wantStatus(t, "refresh, frozen", r, 503)

	proxy.Thaw()
	for i := 0; ; i++ { // the pool replaces the connections it gave up on
		if r = f.do(t, "GET", "/readyz", "", ""); r.status == 200 {
			break
		}
		if i == 50 {
			t.Fatalf("not ready after the thaw: %d %s\n%s", r.status, r.raw, f.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantReady(t, "readyz, thawed", r, 200, allOK)
	wantStatus(t, "userinfo, thawed", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 200)
	wantStatus(t, "logout, thawed", f.do(t, "POST", "/logout", "", "", bearer(access)...), 200)
	wantStatus(t, "userinfo after logout", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 401)
	wantStatus(t, "refresh after logout", f.do(t, "POST", "/refresh", "", "", bearer(refresh)...), 401)
}

// writesVia is a revocation store that reads through one store and
// writes through another on the same tables: a partition that only the
// writes meet, as when the store freezes between a request's checks and
// its writes.
type writesVia struct {
	revoke.Store // reads
	w            revoke.Store
}

func (s writesVia) Revoke(ctx context.Context, jti string, until time.Time) error {
	return s.w.Revoke(ctx, jti, until)
}

func (s writesVia) RevokeSubject(ctx context.Context, subject string, before, until time.Time) error {
	return s.w.RevokeSubject(ctx, subject, before, until)
}

func (s writesVia) Rotate(ctx context.Context, family, oldJTI, newJTI string, until time.Time) error {
	return s.w.Rotate(ctx, family, oldJTI, newJTI, until)
}

func (s writesVia) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	return s.w.RevokeFamily(ctx, family, until)
}

// TestLogoutWritesFrozen freezes PostgreSQL for the writes of /logout,
// /logout/all and /refresh only, after their checks passed: each answers
// 503 within storeWriteTimeout (logged), saying that its outcome is
// unknown; the frozen writes may land after the thaw; a retry of the
// logout then ends the session either way.
func TestLogoutWritesFrozen(t *testing.T) {
	ctx := context.Background()
	direct := needPostgres(t)
	via, proxy := viaProxy(t, direct)
	st, err := Open(ctx, StoreConfig{DatabaseURL: direct})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wst, err := Open(ctx, StoreConfig{DatabaseURL: via})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wst.Close() })
	f := storeFixture(t, st.Users, writesVia{st.Revocations, wst.Revocations}, st.Keys)
	access, refresh := f.login(t, "alice", testPassword)
	wantStatus(t, "userinfo", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 200)

	proxy.Freeze()
	for _, c := range []struct {
		path, token, desc string
	}{
		{"/logout", access, logoutUnknown},
		{"/logout/all", access, logoutUnknown},
		{"/refresh", refresh, refreshUnknown},
	} {
		r := timed(t, c.path+", writes frozen", func() reply { return f.do(t, "POST", c.path, "", "", bearer(c.token)...) })
		wantDescription(t, c.path+", writes frozen", r, 503, c.desc)
	}
	proxy.Thaw()
	// The frozen writes were held, not lost: they may land now. Whether
	// they did or not, a retry ends the session: 200, or 401 when the
	// access token is already revoked.
	var r reply
	for i := 0; ; i++ {
		r = f.do(t, "POST", "/logout", "", "", bearer(access)...)
		if r.status != 503 {
			break
		}
		if i == 50 {
			t.Fatalf("logout after the thaw: %d %s", r.status, r.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.status != 200 && r.status != 401 {
		t.Fatalf("logout retried after the thaw: %d %s", r.status, r.raw)
	}
	t.Logf("logout retried after the thaw: %d (401: the frozen logout had landed)", r.status)
	wantStatus(t, "userinfo after logout", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 401)
	wantStatus(t, "refresh after logout", f.do(t, "POST", "/refresh", "", "", bearer(refresh)...), 401)
}

// TestStoreChecks: which stores /readyz probes. A memory store never
// waits, so it has nothing to prove; a fixed key ring has no store.
func TestStoreChecks(t *testing.T) {
	ctx := context.Background()
	data, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	data.Logger = slog.New(slog.DiscardHandler)
	live, err := NewLiveKeys(ctx, data, jwt.ES256, LiveKeysOptions{Logger: data.Logger})
	if err != nil {
		t.Fatal(err)
	}
	mem := revoke.NewMemory(revoke.MemoryOptions{})
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"data directory", Config{Users: data.Users, Revocations: data.Revocations, Keys: live}, "users revocations keys"},
		{"memory revocations, fixed keys", Config{Users: data.Users, Revocations: mem, Keys: live.Ring()}, "users"},
		{"a store without Probe", Config{Users: data.Users, Revocations: plainStore{data.Revocations}, Keys: live}, "users revocations keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			for _, c := range storeChecks(tc.cfg) {
				names = append(names, c.name)
				if err := c.probe(ctx); err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			}
			if got := strings.Join(names, " "); got != tc.want {
				t.Fatalf("checks %q, want %q", got, tc.want)
			}
		})
	}
}

// plainStore hides every method of a store but those of revoke.Store.
type plainStore struct{ revoke.Store }
