package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type fixture struct {
	srv  *httptest.Server
	data *DataDir
	logs *syncBuffer
	kid  string
	s    *Server
	rev  revoke.Store // the server's revocation store
}

const testPassword = "correct horse battery staple"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureStore(t, nil)
}

// newFixtureStore is newFixture with its revocations in rev (nil: the data
// directory's).
func newFixtureStore(t *testing.T, rev revoke.Store) *fixture {
	t.Helper()
	f, _ := newFixtureWith(t, rev, nil)
	return f
}

// newFixtureWith is newFixtureStore with the Config adjusted by mutate
// before New, and the signing key.
func newFixtureWith(t testing.TB, rev revoke.Store, mutate func(*Config)) (*fixture, *jwt.Key) {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	data, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	key, err := data.SigningKey(jwt.ES256, log)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{}, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.Users.Add(ctx, "alice", testPassword); err != nil {
		t.Fatal(err)
	}
	if rev == nil {
		rev = data.Revocations
	}
	f := &fixture{data: data, logs: logs, kid: ring.KeyIDs()[0], rev: rev}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	cfg := Config{
		Users: data.Users, Revocations: rev, Keys: ring,
		Algorithm: jwt.ES256, Issuer: f.srv.URL, Logger: log,
		Sessions: data.Sessions, Audit: data.Audit,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	mux.Handle("/", s)
	return f, key
}

type reply struct {
	status   int
	header   http.Header
	body     map[string]any
	raw      string
	sentAuth bool // the request had an Authorization header
}

func (f *fixture) do(t testing.TB, method, path, contentType, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw), sentAuth: req.Header.Get("Authorization") != ""}
	json.Unmarshal(raw, &r.body)
	return r
}

func (f *fixture) login(t testing.TB, user, pw string) (access, refresh string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	r := f.do(t, "POST", "/login", "application/json", string(b))
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	access, _ = r.body["access_token"].(string)
	refresh, _ = r.body["refresh_token"].(string)
	if access == "" || refresh == "" {
		t.Fatalf("login: missing tokens: %s", r.raw)
	}
	return access, refresh
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func wantStatus(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || len(strings.Split(h, "$")) != 6 {
		t.Fatalf("hash %q is not the expected PHC string", h)
	}
	if ok, err := VerifyPassword(h, "pw"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, err := VerifyPassword(h, "pW"); ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
	h2, _ := HashPassword("pw")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA"} {
		if _, err := VerifyPassword(bad, "pw"); err == nil {
			t.Errorf("VerifyPassword(%q) accepted a malformed hash", bad)
		}
	}
}

func TestEndpoints(t *testing.T) {
	f := newFixture(t)

	wantStatus(t, "healthz", f.do(t, "GET", "/healthz", "", ""), 200)
	wantStatus(t, "readyz", f.do(t, "GET", "/readyz", "", ""), 200)

	r := f.do(t, "GET", "/.well-known/jwks.json", "", "")
	wantStatus(t, "jwks", r, 200)
	keys, _ := r.body["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["kid"] != f.kid || keys[0].(map[string]any)["d"] != nil {
		t.Fatalf("jwks: %s", r.raw)
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Fatalf("jwks Cache-Control %q", cc)
	}
	checkMetadata(t, f.do(t, "GET", metadataPath, "", ""), f.srv.URL)
	// No OpenID Connect discovery: the service issues no id tokens.
	wantStatus(t, "OpenID Connect discovery", f.do(t, "GET", "/.well-known/openid-configuration", "", ""), 404)

	// Flask-JWT's /auth: an access token only.
	r = f.do(t, "POST", "/auth", "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
	wantStatus(t, "auth", r, 200)
	if r.body["access_token"] == nil || r.body["refresh_token"] != nil {
		t.Fatalf("auth: %s", r.raw)
	}
	r = f.do(t, "GET", "/userinfo", "", "", bearer(r.body["access_token"].(string))...)
	wantStatus(t, "userinfo with /auth token", r, 200)

	// Wrong password, unknown user: the same answer.
	bad := f.do(t, "POST", "/login", "application/json", `{"username":"alice","password":"nope"}`)
	unknown := f.do(t, "POST", "/login", "application/json", `{"username":"bob","password":"nope"}`)
	wantStatus(t, "wrong password", bad, 401)
	wantStatus(t, "unknown user", unknown, 401)
	if bad.raw != unknown.raw {
		t.Fatalf("wrong password and unknown user answer differently: %s / %s", bad.raw, unknown.raw)
	}

	access, refresh := f.login(t, "alice", testPassword)
	r = f.do(t, "GET", "/userinfo", "", "", bearer(access)...)
	wantStatus(t, "userinfo", r, 200)
	if r.body["username"] != "alice" {
		t.Fatalf("userinfo: %s", r.raw)
	}
	wantStatus(t, "userinfo without token", f.do(t, "GET", "/userinfo", "", ""), 401)
	wantStatus(t, "userinfo with refresh token", f.do(t, "GET", "/userinfo", "", "", bearer(refresh)...), 401)
	wantStatus(t, "refresh with access token", f.do(t, "POST", "/refresh", "", "", bearer(access)...), 401)

	// Logout: the access token and its refresh token are refused.
	wantStatus(t, "logout", f.do(t, "POST", "/logout", "", "", bearer(access)...), 200)
	wantStatus(t, "userinfo after logout", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 401)
	wantStatus(t, "refresh after logout", f.do(t, "POST", "/refresh", "", "", bearer(refresh)...), 401)

	// A user deleted as "jwtgate users delete" does (the user, then its
	// sessions): its tokens stop working at once (TestDeletedUserCache
	// covers a user deleted from the store alone).
	access2, _ := f.login(t, "alice", testPassword)
	if err := f.data.Users.Delete(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.data.EndSessions(context.Background(), "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "userinfo of a deleted user", f.do(t, "GET", "/userinfo", "", "", bearer(access2)...), 401)

	if logs := f.logs.String(); strings.Contains(logs, testPassword) || strings.Contains(logs, access) || strings.Contains(logs, refresh) {
		t.Fatalf("the logs hold a password or a token:\n%s", logs)
	}
}

// checkMetadata checks the RFC 8414 metadata of the service at issuer:
// its issuer and JWKS, and no member for anything it does not do.
func checkMetadata(t *testing.T, r reply, issuer string) {
	t.Helper()
	wantStatus(t, "metadata", r, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("metadata Content-Type %q", ct)
	}
	want := map[string]any{"issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json"}
	if len(r.body) != len(want) {
		t.Fatalf("metadata has members beyond issuer and jwks_uri: %s", r.raw)
	}
	for k, v := range want {
		if r.body[k] != v {
			t.Fatalf("metadata %s = %v, want %v: %s", k, r.body[k], v, r.raw)
		}
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	f := newFixture(t)
	_, r0 := f.login(t, "alice", testPassword)

	r := f.do(t, "POST", "/refresh", "", "", bearer(r0)...)
	wantStatus(t, "first refresh", r, 200)
	a1, r1 := r.body["access_token"].(string), r.body["refresh_token"].(string)
	if r1 == "" || r1 == r0 || a1 == "" {
		t.Fatalf("refresh did not rotate: %s", r.raw)
	}
	wantStatus(t, "userinfo with refreshed token", f.do(t, "GET", "/userinfo", "", "", bearer(a1)...), 200)

	r = f.do(t, "POST", "/refresh", "", "", bearer(r1)...)
	wantStatus(t, "second refresh", r, 200)
	r2 := r.body["refresh_token"].(string)

	// Reusing r1 (spent) revokes the family: r2 is refused too.
	wantStatus(t, "reuse of a spent refresh token", f.do(t, "POST", "/refresh", "", "", bearer(r1)...), 401)
	wantStatus(t, "current token after reuse", f.do(t, "POST", "/refresh", "", "", bearer(r2)...), 401)

	// Logout with an older access token still ends the newer family member.
	a, rr := f.login(t, "alice", testPassword)
	r = f.do(t, "POST", "/refresh", "", "", bearer(rr)...)
	wantStatus(t, "refresh", r, 200)
	newer := r.body["refresh_token"].(string)
	wantStatus(t, "logout with the first access token", f.do(t, "POST", "/logout", "", "", bearer(a)...), 200)
	wantStatus(t, "refresh after logout", f.do(t, "POST", "/refresh", "", "", bearer(newer)...), 401)
}

func TestLogoutEverywhere(t *testing.T) {
	f := newFixture(t)
	a1, r1 := f.login(t, "alice", testPassword)
	a2, _ := f.login(t, "alice", testPassword)
	wantStatus(t, "logout/all", f.do(t, "POST", "/logout/all", "", "", bearer(a1)...), 200)
	wantStatus(t, "other session after logout/all", f.do(t, "GET", "/userinfo", "", "", bearer(a2)...), 401)
	wantStatus(t, "refresh after logout/all", f.do(t, "POST", "/refresh", "", "", bearer(r1)...), 401)
}

func TestCookieLogin(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "POST", "/login?cookies=1", "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
	wantStatus(t, "cookie login", r, 200)
	if r.body["access_token"] != nil {
		t.Fatalf("cookie login returned tokens in the body: %s", r.raw)
	}
	cookies := map[string]string{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		cookies[c.Name] = c.Value
		if (c.Name == "access_token_cookie" || c.Name == "refresh_token_cookie") && !c.HttpOnly {
			t.Errorf("%s is not HttpOnly", c.Name)
		}
	}
	for _, n := range []string{"access_token_cookie", "refresh_token_cookie", "csrf_access_token", "csrf_refresh_token"} {
		if cookies[n] == "" {
			t.Fatalf("cookie %s missing: %v", n, r.header["Set-Cookie"])
		}
	}
	cookie := func(names ...string) string {
		var parts []string
		for _, n := range names {
			parts = append(parts, n+"="+cookies[n])
		}
		return strings.Join(parts, "; ")
	}
	access := cookie("access_token_cookie", "csrf_access_token")
	wantStatus(t, "userinfo by cookie", f.do(t, "GET", "/userinfo", "", "", "Cookie", access), 200)
	// POST without the CSRF header is refused.
	refresh := cookie("refresh_token_cookie", "csrf_refresh_token")
	wantStatus(t, "refresh cookie without CSRF", f.do(t, "POST", "/refresh", "", "", "Cookie", refresh), 403)
	r = f.do(t, "POST", "/refresh", "", "", "Cookie", refresh, "X-CSRF-TOKEN", cookies["csrf_refresh_token"])
	wantStatus(t, "refresh by cookie", r, 200)
	if len(r.header["Set-Cookie"]) == 0 || r.body["refresh_token"] != nil {
		t.Fatalf("cookie refresh did not answer with cookies: %s", r.raw)
	}
	r = f.do(t, "POST", "/logout", "", "", "Cookie", access, "X-CSRF-TOKEN", cookies["csrf_access_token"])
	wantStatus(t, "logout by cookie", r, 200)
	wantStatus(t, "userinfo after cookie logout", f.do(t, "GET", "/userinfo", "", "", "Cookie", access), 401)
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("a", maxUsernameLen+1)
	longPW := strings.Repeat("p", MaxPasswordLen+1)
	huge := `{"username":"alice","password":"` + strings.Repeat("x", maxBody) + `"}`
	cases := []struct {
		name, ct, body string
		status         int
	}{
		{"no content type", "", `{"username":"alice","password":"x"}`, 415},
		{"text/plain", "text/plain", `{"username":"alice","password":"x"}`, 415},
		{"form", "application/x-www-form-urlencoded", "username=alice&password=x", 415},
		{"broken JSON", "application/json", `{"username":"alice",`, 400},
		{"not an object", "application/json", `["alice","x"]`, 400},
		{"empty body", "application/json", ``, 400},
		{"null", "application/json", `null`, 400},
		{"two values", "application/json", `{"username":"alice","password":"x"} {}`, 400},
		{"unknown field", "application/json", `{"username":"alice","password":"x","admin":true}`, 400},
		{"wrong type", "application/json", `{"username":1,"password":"x"}`, 400},
		{"empty username", "application/json", `{"username":"","password":"x"}`, 400},
		{"empty password", "application/json", `{"username":"alice","password":""}`, 400},
		{"missing password", "application/json", `{"username":"alice"}`, 400},
		{"long username", "application/json", `{"username":"` + long + `","password":"x"}`, 400},
		{"long password", "application/json", `{"username":"alice","password":"` + longPW + `"}`, 400},
		{"control character", "application/json", `{"username":"al\u0000ice","password":"x"}`, 400},
		{"huge body", "application/json", huge, 413},
		{"invalid UTF-8", "application/json", "{\"username\":\"alice\",\"password\":\"\xff\"}", 400},
		{"lone surrogate password", "application/json", `{"username":"alice","password":"\udc00"}`, 400},
		{"lone surrogate username", "application/json", `{"username":"\ud800","password":"x"}`, 400},
		{"json with charset", "application/json; charset=utf-8", `{"username":"alice","password":"wrong"}`, 401},
	}
	for _, path := range []string{"/login", "/auth"} {
		for _, c := range cases {
			r := f.do(t, "POST", path, c.ct, c.body)
			if r.status != c.status {
				t.Errorf("%s %s: status %d, want %d: %s", path, c.name, r.status, c.status, r.raw)
				continue
			}
			if r.header.Get("Content-Type") != "application/json" || r.body["error"] == nil {
				t.Errorf("%s %s: not a JSON error: %s", path, c.name, r.raw)
			}
		}
	}
	wantStatus(t, "GET /login", f.do(t, "GET", "/login", "", ""), 405)
	wantStatus(t, "unknown path", f.do(t, "GET", "/nope", "", ""), 404)
	wantStatus(t, "garbage token", f.do(t, "GET", "/userinfo", "", "", bearer("a.b.c")...), 401)
	if strings.Contains(f.logs.String(), longPW) {
		t.Fatal("a password reached the logs")
	}
}

func TestReadyzUnavailable(t *testing.T) {
	f := newFixture(t)
	f.data.DB.Close()
	wantStatus(t, "readyz with the database closed", f.do(t, "GET", "/readyz", "", ""), 503)
	wantStatus(t, "healthz with the database closed", f.do(t, "GET", "/healthz", "", ""), 200)
	r := f.do(t, "POST", "/login", "application/json", `{"username":"alice","password":"x"}`)
	wantStatus(t, "login with the database closed", r, 503)
}

func TestBootstrapAndKeyPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	d, err := OpenDataDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Bootstrap(ctx, log); err != nil {
		t.Fatal(err)
	}
	k1, err := d.SigningKey(jwt.ES256, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Bootstrap(ctx, log); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "password="); n != 1 {
		t.Fatalf("the admin password was logged %d times:\n%s", n, logs)
	}
	pw := logs.String()[strings.Index(logs.String(), "password=")+len("password="):]
	pw = strings.Fields(pw)[0]
	hash, ok, err := d.Users.PasswordHash(ctx, "admin")
	if err != nil || !ok {
		t.Fatalf("admin missing: %v", err)
	}
	if ok, _ := VerifyPassword(hash, pw); !ok {
		t.Fatal("the logged password is not admin's")
	}
	d.Close()

	d, err = OpenDataDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	k2, err := d.SigningKey(jwt.ES256, log)
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := jwk.KeyID(k1)
	id2, _ := jwk.KeyID(k2)
	if id1 != id2 {
		t.Fatalf("the key changed across opens: %s, %s", id1, id2)
	}
	if _, err := d.SigningKey("HS256", log); err == nil {
		t.Fatal("HS256 accepted")
	}
}

// Two refreshes racing with one token: exactly one gets new tokens.
func TestConcurrentRefresh(t *testing.T) {
	f := newFixture(t)
	_, r0 := f.login(t, "alice", testPassword)
	const n = 4
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", f.srv.URL+"/refresh", nil)
			req.Header.Set("Authorization", "Bearer "+r0)
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[401] != n-1 {
		t.Fatalf("concurrent refreshes of one token: %v, want one 200 and %d 401", count, n-1)
	}
}

func TestSigningKeyFile(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	log := slog.New(slog.DiscardHandler)
	if _, err := d.SigningKey(jwt.EdDSA, log); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{keyFile, dbFile} {
		fi, err := os.Stat(filepath.Join(d.Path, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v", name, fi, err)
		}
	}
	entries, _ := os.ReadDir(d.Path)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := newLimiter(3, 10*time.Second, 2, clock)
	try := func(key string) bool {
		ok, _ := l.check(key)
		if ok {
			l.fail(key)
		}
		return ok
	}
	for i := range 3 {
		if !try("a") {
			t.Fatalf("attempt %d refused", i)
		}
	}
	ok, wait := l.check("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("4th attempt: %v, wait %v", ok, wait)
	}
	if !try("b") {
		t.Fatal("another client refused")
	}
	// The table is full (a and b, neither full again): a third client is
	// refused rather than an entry forgotten.
	if ok, _ := l.check("c"); ok {
		t.Fatal("a client over the table size was let in")
	}
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	if !try("a") {
		t.Fatal("no attempt after a refill")
	}
	if try("a") {
		t.Fatal("two attempts after one refill")
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if !try("c") {
		t.Fatal("full buckets not swept")
	}

	// Through the HTTP handler: successes cost nothing, and the 11th
	// failure of a client in a row gets 429, even with the right password.
	f := newFixture(t)
	good := `{"username":"alice","password":"` + testPassword + `"}`
	for range 12 {
		wantStatus(t, "good login", f.do(t, "POST", "/auth", "application/json", good), 200)
	}
	for i := range 10 {
		wantStatus(t, fmt.Sprint("failure ", i), f.do(t, "POST", "/auth", "application/json", `{"username":"alice","password":"wrong"}`), 401)
	}
	last := f.do(t, "POST", "/auth", "application/json", good)
	wantStatus(t, "attempt after 10 failures", last, 429)
	if last.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Malformed requests are refused before the limit and do not use it.
	wantStatus(t, "bad input when limited", f.do(t, "POST", "/auth", "application/json", `{`), 400)
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	access, _ := f.login(t, "alice", testPassword)
	f.do(t, "POST", "/login", "application/json", `{"username":"alice","password":"nope"}`)
	f.do(t, "POST", "/login", "text/plain", `x`)
	wantStatus(t, "userinfo", f.do(t, "GET", "/userinfo", "", "", bearer(access)...), 200)
	wantStatus(t, "no token", f.do(t, "GET", "/userinfo", "", ""), 401)
	wantStatus(t, "bad token", f.do(t, "GET", "/userinfo", "", "", bearer("a.b.c")...), 401)

	r := f.do(t, "GET", "/metrics", "", "")
	wantStatus(t, "metrics", r, 200)
	for _, line := range []string{
		`jwtgate_logins_total{outcome="ok"} 1`,
		`jwtgate_logins_total{outcome="bad_credentials"} 1`,
		`jwtgate_logins_total{outcome="bad_request"} 1`,
		`jwtgate_tokens_issued_total{type="access"} 1`,
		`jwtgate_tokens_issued_total{type="refresh"} 1`,
		`jwtgate_verifications_total{outcome="ok"} 1`,
		`jwtgate_verifications_total{outcome="no_token"} 1`,
		`jwtgate_verifications_total{outcome="invalid"} 1`,
		`jwtgate_revocation_check_seconds_count 1`,
		`jwtgate_revocation_check_seconds_bucket{le="+Inf"} 1`,
		`# TYPE jwtgate_revocation_check_seconds histogram`,
	} {
		if !strings.Contains(r.raw, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, r.raw)
		}
	}
}

// TestMetadataIssuerSlash: an issuer written with a trailing slash names
// the JWKS at the path the service serves it on, not at "//.well-known".
func TestMetadataIssuerSlash(t *testing.T) {
	f := newFixture(t)
	const issuer = "https://auth.example/"
	s, err := New(Config{Users: f.data.Users, Revocations: f.rev, Keys: f.s.cfg.Keys, Algorithm: f.s.cfg.Algorithm,
		Issuer: issuer, Logger: f.s.log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	f.srv = srv
	r := f.do(t, "GET", metadataPath, "", "")
	wantStatus(t, "metadata", r, 200)
	if got, want := r.body["jwks_uri"], "https://auth.example/.well-known/jwks.json"; got != want {
		t.Fatalf("jwks_uri %v, want %s", got, want)
	}
	if got := r.body["issuer"]; got != issuer {
		t.Fatalf("issuer %v, want the configured one, %s", got, issuer)
	}
}
