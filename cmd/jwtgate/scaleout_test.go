package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/services"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres/pgtest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// sharedStores returns the settings of a PostgreSQL schema and a Redis
// key prefix of their own (removed when the test ends), as JWTGATE_*
// variables, or fails (JWTGATE_REQUIRE_SERVICES=1) or skips when either
// service cannot be reached.
func sharedStores(t *testing.T) []string {
	t.Helper()
	dsn, redis := pgtest.PostgresDSN(), redistest.RedisAddr()
	db := pgtest.Postgres(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := net.DialTimeout("tcp", redis, 3*time.Second); err != nil {
		services.Unreachable(t, "Redis", err)
	} else {
		c.Close()
	}
	schema := "jwtgate_e2e_" + strings.ToLower(rand.Text()[:12])
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
	// Redis keys expire on their own (revocations at the end of the
	// tokens' lifetime, rate limits when full again); the prefix keeps
	// this test's keys apart from every other run's.
	return []string{
		"JWTGATE_DATABASE_URL=" + u.String(),
		"JWTGATE_REDIS=" + redis,
		"JWTGATE_REDIS_PREFIX=jwtgate-e2e-" + rand.Text() + ":",
	}
}

// TestServeTwoInstances runs two instances on two ports sharing
// PostgreSQL and Redis: a session started on one is refreshed on the
// other, logged out on the first and refused on the second; logins are
// limited across both; a user added and a key rotated with the commands
// reach both.
func TestServeTwoInstances(t *testing.T) {
	env := sharedStores(t)
	unused := filepath.Join(t.TempDir(), "unused")
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-login-burst", "3", "-keys-reload", "1h"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	if pw == "" {
		t.Fatalf("no admin password in the log:\n%s", a.Logs())
	}
	b := startServe(t, env, args...)
	if strings.Contains(b.Logs(), "password=") {
		t.Fatalf("the second instance made another admin:\n%s", b.Logs())
	}
	for _, p := range []*proc{a, b} {
		if !strings.Contains(p.Logs(), `stores="PostgreSQL + Redis"`) {
			t.Fatalf("not on PostgreSQL + Redis:\n%s", p.Logs())
		}
		expect(t, "readyz", call(t, "GET", p.url+"/readyz", "", ""), 200)
	}
	if _, err := os.Stat(unused); err == nil {
		t.Fatal("the data directory was created although the stores are shared")
	}
	kid := jwksKid(t, a.url)
	if got := jwksKid(t, b.url); got != kid {
		t.Fatalf("the instances sign with different keys: %s and %s", kid, got)
	}

	// A session is one refresh family across the instances: login on A
	// (A1, R1), refresh on B (A2, R2), R1 replayed on A: the store ends the
	// session, and both access tokens are refused on both instances (B
	// has A1's "not revoked" answer cached).
	creds := `{"username":"admin","password":"` + pw + `"}`
	login := expect(t, "login on A", call(t, "POST", a.url+"/login", "", creds), 200)
	a1, r1 := str(login, "access_token"), str(login, "refresh_token")
	expect(t, "A1 on B", call(t, "GET", b.url+"/userinfo", a1, ""), 200)
	ref := expect(t, "refresh on B", call(t, "POST", b.url+"/refresh", r1, ""), 200)
	a2, r2 := str(ref, "access_token"), str(ref, "refresh_token")
	expect(t, "A2 on A", call(t, "GET", a.url+"/userinfo", a2, ""), 200)
	expect(t, "A2 on B", call(t, "GET", b.url+"/userinfo", a2, ""), 200)
	expect(t, "R1 replayed on A", call(t, "POST", a.url+"/refresh", r1, ""), 401)
	for _, p := range []*proc{b, a} {
		refusedSoon(t, p.url, "A1 after reuse", a1)
		refusedSoon(t, p.url, "A2 after reuse", a2)
	}
	expect(t, "R2 on B after reuse", call(t, "POST", b.url+"/refresh", r2, ""), 401)

	// Logout with A2 on A ends the session: A1 (cached on B) and R2 are
	// refused on B.
	login = expect(t, "second login on A", call(t, "POST", a.url+"/login", "", creds), 200)
	a1, r1 = str(login, "access_token"), str(login, "refresh_token")
	ref = expect(t, "refresh on B", call(t, "POST", b.url+"/refresh", r1, ""), 200)
	a2, r2 = str(ref, "access_token"), str(ref, "refresh_token")
	expect(t, "A1 on B", call(t, "GET", b.url+"/userinfo", a1, ""), 200)
	expect(t, "logout with A2 on A", call(t, "POST", a.url+"/logout", a2, ""), 200)
	refusedSoon(t, b.url, "A2 on B after logout", a2)
	refusedSoon(t, b.url, "A1 on B after logout with A2", a1)
	expect(t, "R2 on B after logout", call(t, "POST", b.url+"/refresh", r2, ""), 401)

	// Cookie mode: login on A, refresh on B, replay the first refresh
	// cookie on B, refused on A; then a new session logged out on B with
	// its newest access cookie, its first access cookie refused on A.
	c1 := cookieLogin(t, a.url, creds)
	expect(t, "access cookie on B", cookieCall(t, "GET", b.url+"/userinfo", c1, "access").answer, 200)
	c2 := cookiesOf(t, expectCookies(t, "refresh by cookie on B", cookieCall(t, "POST", b.url+"/refresh", c1, "refresh")))
	expect(t, "first refresh cookie replayed on B", cookieCall(t, "POST", b.url+"/refresh", c1, "refresh").answer, 401)
	for _, c := range []cookies{c1, c2} {
		refusedSoonCookie(t, a.url, "access cookie on A after reuse", c)
	}
	c1 = cookieLogin(t, a.url, creds)
	c2 = cookiesOf(t, expectCookies(t, "refresh by cookie on B", cookieCall(t, "POST", b.url+"/refresh", c1, "refresh")))
	expect(t, "first access cookie on A", cookieCall(t, "GET", a.url+"/userinfo", c1, "access").answer, 200)
	expect(t, "logout by cookie on B", cookieCall(t, "POST", b.url+"/logout", c2, "access").answer, 200)
	refusedSoonCookie(t, a.url, "first access cookie on A after logout on B", c1)
	expect(t, "refresh cookie on A after logout", cookieCall(t, "POST", a.url+"/refresh", c2, "refresh").answer, 401)

	// Logout everywhere on B ends the sessions made on A.
	login = expect(t, "third login on A", call(t, "POST", a.url+"/login", "", creds), 200)
	expect(t, "userinfo on B", call(t, "GET", b.url+"/userinfo", str(login, "access_token"), ""), 200)
	expect(t, "logout/all on B", call(t, "POST", b.url+"/logout/all", str(login, "access_token"), ""), 200)
	expect(t, "userinfo on A after logout/all", call(t, "GET", a.url+"/userinfo", str(login, "access_token"), ""), 401)

	dir := t.TempDir()
	// A rotation through the database: A, restarted, signs with the new
	// key; B (which reloads only hourly) verifies A's token at once.
	out := runWithEnv(t, dir, env, "", "keys", "rotate", "--retire-after", "1h", "--now")
	if !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate: %q", out)
	}
	a.stop(t)
	a = startServe(t, env, args...)
	login = expect(t, "login on the restarted A", call(t, "POST", a.url+"/login", "", creds), 200)
	expect(t, "userinfo on B with the new key", call(t, "GET", b.url+"/userinfo", str(login, "access_token"), ""), 200)
	jwks := expect(t, "B's JWKS", call(t, "GET", b.url+"/.well-known/jwks.json", "", ""), 200)
	if keys, _ := jwks.body["keys"].([]any); len(keys) != 2 {
		t.Fatalf("B publishes %d keys after the rotation, want 2: %s", len(keys), jwks.raw)
	}
	// A user added with the command logs in on both, and failed logins
	// are counted across the instances: 3 allowed, then 429 on either
	// (last: the client address's budget is spent too).
	runWithEnv(t, dir, env, "carol-password\n", "users", "add", "carol")
	expect(t, "carol on B", call(t, "POST", b.url+"/auth", "", `{"username":"carol","password":"carol-password"}`), 200)
	bad := `{"username":"carol","password":"wrong"}`
	for i := range 3 {
		p := []*proc{a, b}[i%2]
		expect(t, "wrong password", call(t, "POST", p.url+"/auth", "", bad), 401)
	}
	limited := call(t, "POST", a.url+"/auth", "", bad)
	expect(t, "fourth wrong password, on A", limited, 429)
	expect(t, "right password while limited, on B", call(t, "POST", b.url+"/auth", "", `{"username":"carol","password":"carol-password"}`), 429)

	a.stop(t)
	b.stop(t)
}

// TestServeKeysReload: a running instance publishes a rotated key at its
// next periodic reload, and signs with it from its activation (here at
// once: --now).
func TestServeKeysReload(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, nil, "-data-dir", dataDir, "-keys-reload", "50ms")
	kid := jwksKid(t, p.url)
	mustRun(t, t.TempDir(), "", "keys", "rotate", "--data-dir", dataDir, "--now")
	for i := 0; ; i++ {
		a := expect(t, "jwks", call(t, "GET", p.url+"/.well-known/jwks.json", "", ""), 200)
		if keys, _ := a.body["keys"].([]any); len(keys) == 2 {
			break
		}
		if i == 400 {
			t.Fatalf("the rotated key never appeared in the JWKS (kid %s):\n%s", kid, p.Logs())
		}
		time.Sleep(25 * time.Millisecond)
	}
	p.stop(t) // writes the log lines still batched
	if !strings.Contains(p.Logs(), "signing key published") || !strings.Contains(p.Logs(), "signing key changed") {
		t.Fatalf("no new key or signing key change logged:\n%s", p.Logs())
	}
}

// runWithEnv runs the command with env added to the environment and
// returns its standard output; it fails the test on a non-zero exit.
func runWithEnv(t *testing.T, dir string, env []string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("jwtgate %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// TestServeStoresGoAway runs the service with PostgreSQL and Redis behind
// proxies, takes each away and brings it back: while a store is away the
// requests that need it get 503 (never a 500, never a hang, never a
// token accepted unchecked) and /readyz says so; once it is back the
// service recovers by itself.
func TestServeStoresGoAway(t *testing.T) {
	env := sharedStores(t)
	var dsn, redis string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "JWTGATE_DATABASE_URL="); ok {
			dsn = v
		}
		if v, ok := strings.CutPrefix(kv, "JWTGATE_REDIS="); ok {
			redis = v
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pgProxy := storetest.NewProxy(t, u.Host)
	u.Host = pgProxy.Addr()
	redisProxy := storetest.NewProxy(t, redis)
	env = append(env, "JWTGATE_DATABASE_URL="+u.String(), "JWTGATE_REDIS="+redisProxy.Addr())
	p := startServe(t, env, "-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example")
	pw := logField(p.Logs(), "password", "username=admin")
	creds := `{"username":"admin","password":"` + pw + `"}`
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200)
	access := str(login, "access_token")
	expect(t, "userinfo", call(t, "GET", p.url+"/userinfo", access, ""), 200)

	redisProxy.Down()
	expect(t, "readyz without Redis", call(t, "GET", p.url+"/readyz", "", ""), 503)
	expect(t, "login without Redis", call(t, "POST", p.url+"/login", "", creds), 503)
	for i := 0; ; i++ { // the client notices the lost connection within a few tries
		a := call(t, "GET", p.url+"/userinfo", access, "")
		if a.status == 503 {
			break
		}
		if a.status != 200 || i == 200 {
			t.Fatalf("userinfo without Redis: %d %s", a.status, a.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	redisProxy.Up(t)
	waitFor(t, p, "/readyz", "", 200, "readyz after Redis came back")
	expect(t, "userinfo with Redis back", call(t, "GET", p.url+"/userinfo", access, ""), 200)

	pgProxy.Down()
	expect(t, "readyz without PostgreSQL", call(t, "GET", p.url+"/readyz", "", ""), 503)
	expect(t, "login without PostgreSQL", call(t, "POST", p.url+"/login", "", creds), 503)
	pgProxy.Up(t)
	waitFor(t, p, "/readyz", "", 200, "readyz after PostgreSQL came back")
	expect(t, "login with PostgreSQL back", call(t, "POST", p.url+"/login", "", creds), 200)
	p.stop(t)
	if strings.Contains(p.Logs(), "panic") {
		t.Fatalf("a panic was logged:\n%s", p.Logs())
	}
}

// refusedSoon waits until the instance at url refuses access with 401 on
// /userinfo: a revocation made on another instance reaches it by Redis's
// invalidation, within milliseconds. Bounded polling; the delay is
// logged, not asserted.
func refusedSoon(t *testing.T, url, what, access string) {
	t.Helper()
	awaitRefused(t, what, func() answer { return call(t, "GET", url+"/userinfo", access, "") })
}

// refusedSoonCookie is refusedSoon for the access cookie of a cookie-mode
// login.
func refusedSoonCookie(t *testing.T, url, what string, c cookies) {
	t.Helper()
	awaitRefused(t, what, func() answer { return cookieCall(t, "GET", url+"/userinfo", c, "access").answer })
}

// awaitRefused polls get until it answers 401, failing on any status but
// 200 and 401, or after 500 polls.
func awaitRefused(t *testing.T, what string, get func() answer) {
	t.Helper()
	start := time.Now()
	for range 500 {
		a := get()
		if a.status == 401 {
			t.Logf("%s: refused after %v", what, time.Since(start))
			return
		}
		if a.status != 200 {
			t.Fatalf("%s: status %d: %s", what, a.status, a.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: still accepted after 500 polls", what)
}

// cookies are the cookies of a cookie-mode login, by name.
type cookies map[string]string

type cookieAnswer struct {
	answer
	header http.Header
}

// cookieCall sends the access or refresh cookie with its CSRF cookie and
// header.
func cookieCall(t *testing.T, method, url string, c cookies, kind string) cookieAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	csrf := c["csrf_"+kind+"_token"]
	req.Header.Set("Cookie", kind+"_token_cookie="+c[kind+"_token_cookie"]+"; csrf_"+kind+"_token="+csrf)
	req.Header.Set("X-CSRF-TOKEN", csrf)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := cookieAnswer{answer: answer{status: resp.StatusCode, raw: string(raw)}, header: resp.Header}
	json.Unmarshal(raw, &a.body)
	return a
}

func expectCookies(t *testing.T, what string, a cookieAnswer) cookieAnswer {
	t.Helper()
	expect(t, what, a.answer, 200)
	return a
}

func cookiesOf(t *testing.T, a cookieAnswer) cookies {
	t.Helper()
	c := cookies{}
	for _, k := range (&http.Response{Header: a.header}).Cookies() {
		c[k.Name] = k.Value
	}
	for _, n := range []string{"access_token_cookie", "refresh_token_cookie", "csrf_access_token", "csrf_refresh_token"} {
		if c[n] == "" {
			t.Fatalf("cookie %s missing: %v", n, a.header["Set-Cookie"])
		}
	}
	return c
}

func cookieLogin(t *testing.T, url, creds string) cookies {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/login?cookies=1", strings.NewReader(creds))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("cookie login: %d %s", resp.StatusCode, raw)
	}
	return cookiesOf(t, cookieAnswer{answer: answer{status: resp.StatusCode}, header: resp.Header})
}
