package main

import (
	"context"
	"crypto/rand"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/tmpfs"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres/pgtest"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// timedCall makes a call and logs how long the answer took, for the
// record (no limit is asserted: the machine may be slow).
func timedCall(t *testing.T, what, method, url, token, body string) answer {
	t.Helper()
	start := time.Now()
	a := call(t, method, url, token, body)
	t.Logf("%s: %d after %v", what, a.status, time.Since(start).Round(time.Millisecond))
	return a
}

// notReady expects a 503 from /readyz that names each of stores as not
// "ok".
func notReady(t *testing.T, what string, a answer, stores ...string) {
	t.Helper()
	expect(t, what, a, 503)
	got, _ := a.body["stores"].(map[string]any)
	for _, s := range stores {
		if v, _ := got[s].(string); v == "" || v == "ok" {
			t.Fatalf("%s: store %s is %q: %s", what, s, v, a.raw)
		}
	}
}

// waitReady polls /readyz a bounded number of times until it says 200.
func waitReady(t *testing.T, p *proc, what string) {
	t.Helper()
	start := time.Now()
	for i := 0; ; i++ {
		a := call(t, "GET", p.url+"/readyz", "", "")
		if a.status == 200 {
			t.Logf("%s: ready after %v", what, time.Since(start).Round(time.Millisecond))
			return
		}
		if i == 100 {
			t.Fatalf("%s: not ready: %d %s\n%s", what, a.status, a.raw, p.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeDiskFull runs jwtgate serve on a data directory on a small
// file system of its own and fills it: /readyz answers 503, a logout 503
// saying it may not have happened and is safe to retry; once space is
// freed the service is ready again and the retried logout works.
func TestServeDiskFull(t *testing.T) {
	fs := tmpfs.Mount(t, 16<<20)
	dataDir := filepath.Join(fs.Dir, "data")
	p := startServe(t, nil, "-data-dir", dataDir, "-store-bound", "1s")
	pw := logField(p.Logs(), "password", "username=admin")
	creds := `{"username":"admin","password":"` + pw + `"}`
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200)
	access, refresh := str(login, "access_token"), str(login, "refresh_token")
	expect(t, "readyz", call(t, "GET", p.url+"/readyz", "", ""), 200)

	// An empty WAL, so that the next commit needs new blocks.
	db, err := sqlite.Open(filepath.Join(dataDir, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	fs.Fill(t)
	notReady(t, "readyz, disk full", timedCall(t, "readyz, disk full", "GET", p.url+"/readyz", "", ""), "users", "revocations")
	a := expect(t, "logout, disk full", timedCall(t, "logout, disk full", "POST", p.url+"/logout", access, ""), 503)
	if d := str(a, "error_description"); !strings.Contains(d, "may or may not have taken effect") || !strings.Contains(d, "safe to retry") {
		t.Fatalf("logout, disk full: %s", a.raw)
	}
	expect(t, "userinfo, disk full: the logout did not happen", call(t, "GET", p.url+"/userinfo", access, ""), 200)

	fs.Free(t)
	waitReady(t, p, "space freed")
	expect(t, "logout retried", call(t, "POST", p.url+"/logout", access, ""), 200)
	expect(t, "userinfo after logout", call(t, "GET", p.url+"/userinfo", access, ""), 401)
	expect(t, "refresh after logout", call(t, "POST", p.url+"/refresh", refresh, ""), 401)
	p.stop(t)

	if r := jwtgate(t, t.TempDir(), "", "serve", "-addr", "127.0.0.1:0", "-store-bound", "0s"); r.code != exitUsage || !strings.Contains(r.stderr, "--store-bound") {
		t.Errorf("serve -store-bound 0s: exit %d, want %d: %s", r.code, exitUsage, r.stderr)
	}
}

// pgSchema returns the URL of a PostgreSQL schema of its own (dropped
// when the test ends), or fails (JWTGATE_REQUIRE_SERVICES=1) or skips
// when PostgreSQL cannot be reached.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := pgtest.PostgresDSN()
	db := pgtest.Postgres(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := "jwtgate_ready_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestServePostgresFrozen runs jwtgate serve on PostgreSQL behind a proxy
// that freezes (no FIN, no RST: a partition): /readyz and /logout answer
// 503 within about their bounds (the durations are logged), the logout
// saying it has not happened; after the thaw all is well by itself.
func TestServePostgresFrozen(t *testing.T) {
	u, err := url.Parse(pgSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	env := []string{"JWTGATE_DATABASE_URL=" + u.String(), "JWTGATE_REDIS="}
	p := startServe(t, env, "-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example")
	pw := logField(p.Logs(), "password", "username=admin")
	creds := `{"username":"admin","password":"` + pw + `"}`
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200)
	access, refresh := str(login, "access_token"), str(login, "refresh_token")
	expect(t, "readyz", call(t, "GET", p.url+"/readyz", "", ""), 200)

	proxy.Freeze()
	notReady(t, "readyz, frozen", timedCall(t, "readyz, frozen", "GET", p.url+"/readyz", "", ""), "users", "revocations", "keys")
	a := expect(t, "logout, frozen", timedCall(t, "logout, frozen", "POST", p.url+"/logout", access, ""), 503)
	if d := str(a, "error_description"); !strings.Contains(d, "has not happened") || !strings.Contains(d, "safe to retry") {
		t.Fatalf("logout, frozen: %s", a.raw)
	}
	expect(t, "refresh, frozen", timedCall(t, "refresh, frozen", "POST", p.url+"/refresh", refresh, ""), 503)
	expect(t, "userinfo, frozen", timedCall(t, "userinfo, frozen", "GET", p.url+"/userinfo", access, ""), 503)

	proxy.Thaw()
	waitReady(t, p, "thawed")
	expect(t, "userinfo, thawed", call(t, "GET", p.url+"/userinfo", access, ""), 200)
	expect(t, "logout, thawed", call(t, "POST", p.url+"/logout", access, ""), 200)
	expect(t, "userinfo after logout", call(t, "GET", p.url+"/userinfo", access, ""), 401)
	expect(t, "refresh after logout", call(t, "POST", p.url+"/refresh", refresh, ""), 401)
	p.stop(t)
}
