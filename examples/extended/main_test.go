package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/proctest"
	"github.com/jwtgate/jwtgate/jwt"
)

const secret = "extended-example-secret-0123456789abcdef"

// TestExtended builds the program once, checks that it refuses to start
// without a proper secret, then drives every route in both profiles.
func TestExtended(t *testing.T) {
	bin := proctest.Build(t)
	t.Run("refuses to start", func(t *testing.T) { testRefusesToStart(t, bin) })
	t.Run("flask", func(t *testing.T) { testProfile(t, bin, "flask") })
	t.Run("rfc6750", func(t *testing.T) { testProfile(t, bin, "rfc6750") })
}

func testRefusesToStart(t *testing.T, bin string) {
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no secret", []string{"JWT_SECRET_KEY="}, nil, "JWT_SECRET_KEY is not set"},
		{"short secret", []string{"JWT_SECRET_KEY=too-short"}, nil, "needs at least 32"},
		{"unknown profile", []string{"JWT_SECRET_KEY=" + secret}, []string{"-profile", "django"}, `unknown -profile "django"`},
		{"extra argument", []string{"JWT_SECRET_KEY=" + secret}, []string{"serve"}, "unexpected arguments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-addr", "127.0.0.1:0"}, tt.args...)
			code, _, stderr := proctest.RunToExit(t, bin, tt.env, args...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want a failure saying %q", code, stderr, tt.want)
			}
		})
	}
}

// failure is a refused request as each profile answers it.
type failure struct {
	flaskStatus int
	flaskMsg    string
	rfcStatus   int
	rfcCode     string // RFC 6750 error code; "" when no token was sent
	rfcMsg      string // "" means flaskMsg
}

func (f failure) check(t *testing.T, profile string, res proctest.Response) {
	t.Helper()
	if profile == "flask" {
		wantBody(t, res, f.flaskStatus, map[string]any{"msg": f.flaskMsg})
		if c := res.Header.Get("WWW-Authenticate"); c != "" {
			t.Errorf("flask profile sent WWW-Authenticate %q", c)
		}
		return
	}
	msg := f.rfcMsg
	if msg == "" {
		msg = f.flaskMsg
	}
	code := f.rfcCode
	if code == "" {
		code = "unauthorized"
	}
	wantBody(t, res, f.rfcStatus, map[string]any{"error": code, "error_description": msg})
	challenge := ""
	switch {
	case f.rfcCode == "":
		challenge = `Bearer realm="jwtgate"`
	case f.rfcStatus == 401 || f.rfcStatus == 400 || f.rfcCode == "insufficient_scope":
		challenge = `Bearer realm="jwtgate", error="` + f.rfcCode + `", error_description="` + msg + `"`
	}
	if got := res.Header.Get("WWW-Authenticate"); got != challenge {
		t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
	}
}

func wantBody(t *testing.T, res proctest.Response, status int, want any) {
	t.Helper()
	var got any
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("status %d, body not JSON: %q", res.Status, res.Body)
	}
	wantJSON, _ := json.Marshal(want)
	var w any
	_ = json.Unmarshal(wantJSON, &w)
	if res.Status != status || !reflect.DeepEqual(got, w) {
		t.Fatalf("got %d %s\nwant %d %s", res.Status, res.Body, status, wantJSON)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func ck(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }

// sign makes a token with the server's secret but claims of the test's
// choosing: tokens the server would never issue.
func sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte(secret), jwt.HS256)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rawSign signs any payload with the server's secret, even one that
// package jwt would refuse to sign.
func rawSign(payload string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil))
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	c, err := jwtgate.UnverifiedClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

type session struct{ access, refresh string }

func login(t *testing.T, p *proctest.Proc, name, password string) session {
	t.Helper()
	res := p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": name, "password": password}})
	body := res.Object(t)
	if res.Status != 200 || len(body) != 2 {
		t.Fatalf("login %s: %d %s", name, res.Status, res.Body)
	}
	access, _ := body["access_token"].(string)
	refresh, _ := body["refresh_token"].(string)
	if access == "" || refresh == "" {
		t.Fatalf("login %s: %s", name, res.Body)
	}
	return session{access, refresh}
}

func testProfile(t *testing.T, bin, profile string) {
	p := proctest.Start(t, bin, []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0", "-profile", profile)
	flask := profile == "flask"

	t.Run("bad logins", func(t *testing.T) {
		for _, req := range []proctest.Request{
			{JSON: map[string]string{"username": "alice", "password": "wrong"}},
			{JSON: map[string]string{"username": "mallory", "password": "alice-pw"}},
			{JSON: map[string]string{"username": "alice"}},
			{JSON: map[string]any{"username": "alice", "password": 42}},
			{JSON: map[string]any{"username": "alice", "password": nil}},
			{JSON: map[string]string{"USERNAME": "alice", "PASSWORD": "alice-pw"}},
			{JSON: []string{"alice", "alice-pw"}},
			{Body: `{"username":"alice","password":"alice-pw"}`, Header: map[string]string{"Content-Type": "text/plain"}},
			{Body: "username=alice&password=alice-pw", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
			{Body: `{"username":"alice","password":"alice-pw"`, Header: map[string]string{"Content-Type": "application/json"}},
			{Body: `{"username":"alice","password":"alice-pw"} {}`, Header: map[string]string{"Content-Type": "application/json"}},
			{Header: map[string]string{"Content-Type": "application/json"}},
			{Body: `{"username":"alice","password":"` + strings.Repeat("x", 100<<10) + `"}`, Header: map[string]string{"Content-Type": "application/json"}},
		} {
			for _, path := range []string{"/login", "/login/cookies"} {
				req.Method, req.Path = "POST", path
				res := p.Do(t, req)
				wantBody(t, res, 401, map[string]string{"msg": "Bad username or password"})
				if len(res.Cookies()) != 0 {
					t.Fatalf("a failed login set cookies: %v", res.Header["Set-Cookie"])
				}
			}
		}
	})

	alice := login(t, p, "alice", "alice-pw")
	bob := login(t, p, "bob", "bob-pw")

	t.Run("issued tokens", func(t *testing.T) {
		a, r := claimsOf(t, alice.access), claimsOf(t, alice.refresh)
		if a["sub"] != "alice" || a["type"] != "access" || a["fresh"] != true || !reflect.DeepEqual(a["roles"], []any{"admin"}) {
			t.Fatalf("access claims %v", a)
		}
		if r["sub"] != "alice" || r["type"] != "refresh" || r["fresh"] != false || !reflect.DeepEqual(r["roles"], []any{"admin"}) {
			t.Fatalf("refresh claims %v", r)
		}
		for _, c := range []map[string]any{a, r} {
			if c["jti"] == "" || c["csrf"] == "" || c["jti"] == nil || c["csrf"] == nil {
				t.Fatalf("no jti or csrf: %v", c)
			}
		}
		if d := num(t, a["exp"]) - num(t, a["iat"]); d != 900 {
			t.Fatalf("access lifetime %v", d)
		}
		if d := num(t, r["exp"]) - num(t, r["iat"]); d != 30*24*3600 {
			t.Fatalf("refresh lifetime %v", d)
		}
		if b := claimsOf(t, bob.access); !reflect.DeepEqual(b["roles"], []any{}) {
			t.Fatalf("bob's roles %v", b["roles"])
		}
	})

	t.Run("token locations", func(t *testing.T) {
		for _, req := range []proctest.Request{
			{Path: "/protected", Header: bearer(alice.access)},
			{Path: "/protected?jwt=" + url.QueryEscape(alice.access)},
			{Path: "/protected", JSON: map[string]string{"access_token": alice.access}},
			{Path: "/protected", Cookies: []*http.Cookie{ck("access_token_cookie", alice.access)}},
			// A wrong scheme is no token: the cookie is used.
			{Path: "/protected", Header: map[string]string{"Authorization": "Token xyz"}, Cookies: []*http.Cookie{ck("access_token_cookie", alice.access)}},
			{Path: "/optional", Header: bearer(alice.access)},
			{Path: "/fresh", Header: bearer(alice.access)},
		} {
			wantBody(t, p.Do(t, req), 200, map[string]string{"identity": "alice"})
		}
		wantBody(t, p.Do(t, proctest.Request{Path: "/optional"}), 200, map[string]any{"identity": nil})
		wantBody(t, p.Do(t, proctest.Request{Path: "/whoami", Header: bearer(alice.access)}), 200, map[string]any{"username": "alice", "roles": []string{"admin"}})
		wantBody(t, p.Do(t, proctest.Request{Path: "/whoami", Header: bearer(bob.access)}), 200, map[string]any{"username": "bob", "roles": []string{}})
		wantBody(t, p.Do(t, proctest.Request{Path: "/admin", Header: bearer(alice.access)}), 200, map[string]any{"identity": "alice", "admin": true})
	})

	t.Run("admins only", func(t *testing.T) {
		res := p.Do(t, proctest.Request{Path: "/admin", Header: bearer(bob.access)})
		wantBody(t, res, 403, map[string]string{"msg": "Admins only!"})
		want := ""
		if !flask {
			want = `Bearer realm="jwtgate", error="insufficient_scope", error_description="Admins only!"`
		}
		if got := res.Header.Get("WWW-Authenticate"); got != want {
			t.Fatalf("WWW-Authenticate %q, want %q", got, want)
		}
	})

	// A refreshed access token is not fresh.
	res := p.Do(t, proctest.Request{Method: "POST", Path: "/refresh", Header: bearer(alice.refresh)})
	refreshed, _ := res.Object(t)["access_token"].(string)
	if res.Status != 200 || refreshed == "" || len(res.Object(t)) != 1 {
		t.Fatalf("refresh: %d %s", res.Status, res.Body)
	}
	if c := claimsOf(t, refreshed); c["fresh"] != false || c["type"] != "access" || c["sub"] != "alice" {
		t.Fatalf("refreshed claims %v", c)
	}
	wantBody(t, p.Do(t, proctest.Request{Path: "/protected", Header: bearer(refreshed)}), 200, map[string]string{"identity": "alice"})

	now := time.Now().Unix()
	expired := sign(t, map[string]any{"sub": "alice", "type": "access", "fresh": true, "jti": "x1", "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600})
	badRoles := sign(t, map[string]any{"sub": "alice", "type": "access", "jti": "x2", "roles": "admin"})
	otherKey, _ := jwt.NewHMACKey([]byte("another-secret-of-thirty-two-bytes!!"), jwt.HS256)
	otherSigner, _ := jwt.NewSigner(otherKey, jwt.HS256, jwt.SignerOptions{})
	forged, _ := otherSigner.Sign(map[string]any{"sub": "alice"})
	algNone := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."

	// Cookies and CSRF values from /login/cookies.
	res = p.Do(t, proctest.Request{Method: "POST", Path: "/login/cookies", JSON: map[string]string{"username": "alice", "password": "alice-pw"}})
	wantBody(t, res, 200, map[string]bool{"login": true})
	cookies := map[string]*http.Cookie{}
	for _, c := range res.Cookies() {
		cookies[c.Name] = c
	}
	t.Run("cookie flags", func(t *testing.T) {
		for name, httpOnly := range map[string]bool{
			"access_token_cookie": true, "refresh_token_cookie": true,
			"csrf_access_token": false, "csrf_refresh_token": false,
		} {
			c := cookies[name]
			if c == nil {
				t.Fatalf("no %s cookie in %v", name, res.Header["Set-Cookie"])
			}
			if c.Value == "" || c.HttpOnly != httpOnly || c.Path != "/" || c.Secure {
				t.Fatalf("%s: value %q HttpOnly %v Path %q Secure %v", name, c.Value, c.HttpOnly, c.Path, c.Secure)
			}
		}
		if len(cookies) != 4 {
			t.Fatalf("cookies %v", res.Header["Set-Cookie"])
		}
		if claimsOf(t, cookies["access_token_cookie"].Value)["csrf"] != cookies["csrf_access_token"].Value ||
			claimsOf(t, cookies["refresh_token_cookie"].Value)["csrf"] != cookies["csrf_refresh_token"].Value {
			t.Fatal("the CSRF cookies do not hold the tokens' csrf claims")
		}
	})
	accessCookie := ck("access_token_cookie", cookies["access_token_cookie"].Value)
	refreshCookie := ck("refresh_token_cookie", cookies["refresh_token_cookie"].Value)
	csrfAccess := cookies["csrf_access_token"].Value
	csrfRefresh := cookies["csrf_refresh_token"].Value

	missingAll := "Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' query paramater; Invalid content-type. Must be application/json.)"
	missingAllRFC := strings.Replace(missingAll, "paramater", "parameter", 1)
	missingRefresh := "Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; Missing cookie \"refresh_token_cookie\"; Missing 'jwt' query paramater; Invalid content-type. Must be application/json.)"
	missingRefreshRFC := strings.Replace(missingRefresh, "paramater", "parameter", 1)
	noToken := failure{401, missingAll, 401, "", missingAllRFC}
	invalid := func(flaskMsg string) failure { return failure{422, flaskMsg, 401, "invalid_token", ""} }
	unauthorized := func(msg string) failure { return failure{401, msg, 401, "invalid_token", ""} }
	csrf := func(msg string) failure { return failure{401, msg, 403, "csrf_failed", ""} }
	badHeader := "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"

	t.Run("refusals", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			req  proctest.Request
			want failure
		}{
			{"no token", proctest.Request{Path: "/protected"}, noToken},
			{"no token fresh", proctest.Request{Path: "/fresh"}, noToken},
			{"no token admin", proctest.Request{Path: "/admin"}, noToken},
			{"no token refresh", proctest.Request{Method: "POST", Path: "/refresh"}, failure{401, missingRefresh, 401, "", missingRefreshRFC}},
			{"no token revoke", proctest.Request{Method: "DELETE", Path: "/revoke"}, noToken},
			{"query parameter must be jwt", proctest.Request{Path: "/protected?token=" + alice.access}, noToken},
			{"refresh cookie only", proctest.Request{Path: "/protected", Cookies: []*http.Cookie{refreshCookie}}, noToken},
			{"lowercase json key only", proctest.Request{Path: "/protected", JSON: map[string]string{"token": alice.access}},
				failure{401, strings.Replace(missingAll, "Invalid content-type. Must be application/json.", `Missing "access_token" key in json data.`, 1), 401, "",
					strings.Replace(missingAllRFC, "Invalid content-type. Must be application/json.", `Missing "access_token" key in json data.`, 1)}},
			{"expired", proctest.Request{Path: "/protected", Header: bearer(expired)}, unauthorized("Token has expired")},
			{"expired on optional", proctest.Request{Path: "/optional", Header: bearer(expired)}, unauthorized("Token has expired")},
			{"refresh token as access", proctest.Request{Path: "/protected", Header: bearer(alice.refresh)}, invalid("Only non-refresh tokens are allowed")},
			{"refresh token on optional", proctest.Request{Path: "/optional", Header: bearer(alice.refresh)}, invalid("Only non-refresh tokens are allowed")},
			{"refresh token in query", proctest.Request{Path: "/protected?jwt=" + alice.refresh}, invalid("Only non-refresh tokens are allowed")},
			{"refresh token in access cookie", proctest.Request{Path: "/protected", Cookies: []*http.Cookie{ck("access_token_cookie", alice.refresh)}}, invalid("Only non-refresh tokens are allowed")},
			{"access token on refresh", proctest.Request{Method: "POST", Path: "/refresh", Header: bearer(alice.access)}, invalid("Only refresh tokens are allowed")},
			{"access token in refresh json", proctest.Request{Method: "POST", Path: "/refresh", JSON: map[string]string{"refresh_token": alice.access}}, invalid("Only refresh tokens are allowed")},
			{"refreshed token on fresh", proctest.Request{Path: "/fresh", Header: bearer(refreshed)}, unauthorized("Fresh token required")},
			{"refresh token on fresh", proctest.Request{Path: "/fresh", Header: bearer(alice.refresh)}, invalid("Only non-refresh tokens are allowed")},
			{"other key", proctest.Request{Path: "/protected", Header: bearer(forged)}, invalid("Signature verification failed")},
			{"tampered", proctest.Request{Path: "/protected", Header: bearer(alice.access[:len(alice.access)-4] + "AAAA")}, invalid("Signature verification failed")},
			{"alg none", proctest.Request{Path: "/protected", Header: bearer(algNone)}, invalid("The specified alg value is not allowed")},
			{"garbage", proctest.Request{Path: "/protected", Header: bearer("abc")}, failure{422, "Not enough segments", 401, "invalid_token", "Malformed token"}},
			{"garbage in optional", proctest.Request{Path: "/optional", Header: bearer("abc")}, failure{422, "Not enough segments", 401, "invalid_token", "Malformed token"}},
			{"bearer alone", proctest.Request{Path: "/protected", Header: map[string]string{"Authorization": "Bearer"}}, failure{422, badHeader, 400, "invalid_request", ""}},
			{"bearer two words", proctest.Request{Path: "/protected", Header: map[string]string{"Authorization": "Bearer a b"}}, failure{422, badHeader, 400, "invalid_request", ""}},
			{"malformed header beats cookie", proctest.Request{Path: "/protected", Header: map[string]string{"Authorization": "Bearer a b"}, Cookies: []*http.Cookie{accessCookie}}, failure{422, badHeader, 400, "invalid_request", ""}},
			{"roles not a list", proctest.Request{Path: "/protected", Header: bearer(badRoles)}, failure{400, "User claims verification failed", 403, "insufficient_scope", ""}},
			{"roles not a list on optional", proctest.Request{Path: "/optional", Header: bearer(badRoles)}, failure{400, "User claims verification failed", 403, "insufficient_scope", ""}},
			{"cookie POST without CSRF", proctest.Request{Method: "POST", Path: "/refresh", Cookies: []*http.Cookie{refreshCookie}}, csrf("Missing CSRF token")},
			{"cookie POST with wrong CSRF", proctest.Request{Method: "POST", Path: "/refresh", Cookies: []*http.Cookie{refreshCookie}, Header: map[string]string{"X-CSRF-TOKEN": csrfRefresh + "x"}}, csrf("CSRF double submit tokens do not match")},
			{"cookie POST with the access CSRF", proctest.Request{Method: "POST", Path: "/refresh", Cookies: []*http.Cookie{refreshCookie}, Header: map[string]string{"X-CSRF-TOKEN": csrfAccess}}, csrf("CSRF double submit tokens do not match")},
			{"cookie DELETE without CSRF", proctest.Request{Method: "DELETE", Path: "/revoke", Cookies: []*http.Cookie{accessCookie}}, csrf("Missing CSRF token")},
		} {
			t.Run(tt.name, func(t *testing.T) { tt.want.check(t, profile, p.Do(t, tt.req)) })
		}
	})

	t.Run("cookies", func(t *testing.T) {
		// GET needs no CSRF value, even a wrong one is ignored.
		wantBody(t, p.Do(t, proctest.Request{Path: "/protected", Cookies: []*http.Cookie{accessCookie}, Header: map[string]string{"X-CSRF-TOKEN": "nope"}}), 200, map[string]string{"identity": "alice"})
		res := p.Do(t, proctest.Request{Method: "POST", Path: "/refresh", Cookies: []*http.Cookie{refreshCookie}, Header: map[string]string{"X-CSRF-TOKEN": csrfRefresh}})
		if res.Status != 200 || res.Object(t)["access_token"] == nil {
			t.Fatalf("refresh with cookie: %d %s", res.Status, res.Body)
		}
		res = p.Do(t, proctest.Request{Method: "POST", Path: "/logout/cookies"})
		wantBody(t, res, 200, map[string]bool{"logout": true})
		gone := map[string]bool{}
		for _, c := range res.Cookies() {
			if c.Value != "" || c.MaxAge >= 0 || c.Path != "/" {
				t.Fatalf("logout cookie %s: %q MaxAge %d Path %q", c.Name, c.Value, c.MaxAge, c.Path)
			}
			gone[c.Name] = true
		}
		if len(gone) != 4 || !gone["access_token_cookie"] || !gone["csrf_refresh_token"] {
			t.Fatalf("logout unsets %v", res.Header["Set-Cookie"])
		}
		// Logging out only deletes cookies: the token itself still works
		// until it expires or is revoked.
		wantBody(t, p.Do(t, proctest.Request{Path: "/protected", Cookies: []*http.Cookie{accessCookie}}), 200, map[string]string{"identity": "alice"})
	})

	t.Run("revocation", func(t *testing.T) {
		s := login(t, p, "alice", "alice-pw")
		wantBody(t, p.Do(t, proctest.Request{Method: "DELETE", Path: "/revoke", Header: bearer(s.access)}), 200, map[string]string{"msg": "revoked"})
		revoked := unauthorized("Token has been revoked")
		revoked.check(t, profile, p.Do(t, proctest.Request{Path: "/protected", Header: bearer(s.access)}))
		revoked.check(t, profile, p.Do(t, proctest.Request{Path: "/optional", Header: bearer(s.access)}))
		revoked.check(t, profile, p.Do(t, proctest.Request{Method: "DELETE", Path: "/revoke", Header: bearer(s.access)}))

		// A refresh token is revoked the same way.
		wantBody(t, p.Do(t, proctest.Request{Method: "DELETE", Path: "/revoke", Header: bearer(s.refresh)}), 200, map[string]string{"msg": "revoked"})
		revoked.check(t, profile, p.Do(t, proctest.Request{Method: "POST", Path: "/refresh", Header: bearer(s.refresh)}))
		// The type check comes before the revocation check.
		invalid("Only non-refresh tokens are allowed").check(t, profile, p.Do(t, proctest.Request{Path: "/protected", Header: bearer(s.refresh)}))

		// Through the query string, DELETE needs no CSRF value; through a
		// cookie it needs one.
		s2 := login(t, p, "alice", "alice-pw")
		wantBody(t, p.Do(t, proctest.Request{Method: "DELETE", Path: "/revoke?jwt=" + s2.access}), 200, map[string]string{"msg": "revoked"})
		revoked.check(t, profile, p.Do(t, proctest.Request{Path: "/protected", Header: bearer(s2.access)}))
		wantBody(t, p.Do(t, proctest.Request{Method: "DELETE", Path: "/revoke", Cookies: []*http.Cookie{accessCookie}, Header: map[string]string{"X-CSRF-TOKEN": csrfAccess}}), 200, map[string]string{"msg": "revoked"})
		revoked.check(t, profile, p.Do(t, proctest.Request{Path: "/protected", Cookies: []*http.Cookie{accessCookie}}))

		// Other tokens of the same user still work.
		wantBody(t, p.Do(t, proctest.Request{Path: "/protected", Header: bearer(alice.access)}), 200, map[string]string{"identity": "alice"})
	})

	// Logins, revocations and checks at once: the stores are shared by all
	// requests (under go test -race the program runs with the race
	// detector).
	t.Run("concurrent revocations", func(t *testing.T) {
		do := func(method, path string, header map[string]string, body string) (int, map[string]any, error) {
			req, err := http.NewRequest(method, p.URL+path, strings.NewReader(body))
			if err != nil {
				return 0, nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			for k, v := range header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			var m map[string]any
			err = json.NewDecoder(resp.Body).Decode(&m)
			return resp.StatusCode, m, err
		}
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 5; j++ {
					status, m, err := do("POST", "/login", nil, `{"username":"alice","password":"alice-pw"}`)
					if err != nil || status != 200 {
						t.Errorf("login: %d %v %v", status, m, err)
						return
					}
					tok, _ := m["access_token"].(string)
					if status, m, err = do("DELETE", "/revoke", bearer(tok), ""); err != nil || status != 200 {
						t.Errorf("revoke: %d %v %v", status, m, err)
						return
					}
					if status, m, err = do("GET", "/protected", bearer(tok), ""); err != nil || status != 401 {
						t.Errorf("revoked token: %d %v %v", status, m, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})

	t.Run("deleted user", func(t *testing.T) {
		wantBody(t, p.Do(t, proctest.Request{Method: "POST", Path: "/users/bob/delete"}), 200, map[string]string{"deleted": "bob"})
		wantBody(t, p.Do(t, proctest.Request{Method: "POST", Path: "/users/bob/delete"}), 404, map[string]string{"msg": "No such user"})
		gone := unauthorized("Error loading the user bob")
		for _, req := range []proctest.Request{
			{Path: "/protected", Header: bearer(bob.access)},
			{Path: "/optional", Header: bearer(bob.access)},
			{Path: "/whoami", Header: bearer(bob.access)},
			{Path: "/admin", Header: bearer(bob.access)},
			{Method: "POST", Path: "/refresh", Header: bearer(bob.refresh)},
			{Method: "DELETE", Path: "/revoke", Header: bearer(bob.access)},
		} {
			gone.check(t, profile, p.Do(t, req))
		}
		wantBody(t, p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": "bob", "password": "bob-pw"}}), 401, map[string]string{"msg": "Bad username or password"})
		wantBody(t, p.Do(t, proctest.Request{Path: "/protected", Header: bearer(alice.access)}), 200, map[string]string{"identity": "alice"})
	})

	t.Run("unknown routes and bad input", func(t *testing.T) {
		for _, tt := range []struct {
			req    proctest.Request
			status int
		}{
			{proctest.Request{Path: "/nope"}, 404},
			{proctest.Request{Path: "/"}, 404},
			{proctest.Request{Path: "/login"}, 405},
			{proctest.Request{Method: "POST", Path: "/protected", Header: bearer(alice.access)}, 405},
			{proctest.Request{Method: "POST", Path: "/users/alice"}, 404},
		} {
			if res := p.Do(t, tt.req); res.Status != tt.status {
				t.Fatalf("%s %s: %d, want %d", tt.req.Method, tt.req.Path, res.Status, tt.status)
			}
		}
		// Whatever arrives, the answer is a 4xx, never a 5xx.
		for _, req := range []proctest.Request{
			{Path: "/protected", Header: bearer(strings.Repeat("a", 20000))},
			{Path: "/protected", Header: bearer(strings.Repeat("a.", 3) + "b")},
			{Path: "/protected", Header: bearer("eyJhbGciOiJIUzI1NiJ9.bnVsbA.AAAA")},
			{Path: "/protected", Header: bearer("e30.e30.e30")},
			{Path: "/protected", Header: bearer("....")},
			{Path: "/protected", Header: map[string]string{"Authorization": "Bearer , Bearer"}},
			{Path: "/protected?jwt=%zz"},
			{Path: "/protected?jwt=" + url.QueryEscape("Bearer "+alice.access)},
			{Path: "/protected", Body: `{"access_token": ["x"]}`, Header: map[string]string{"Content-Type": "application/json"}},
			{Path: "/protected", Body: `{"access_token": "` + strings.Repeat("x", 70<<10) + `"}`, Header: map[string]string{"Content-Type": "application/json"}},
			{Path: "/protected", Header: map[string]string{"Content-Type": "application/json; charset"}},
			{Path: "/protected", Cookies: []*http.Cookie{ck("access_token_cookie", "garbage")}},
			{Method: "POST", Path: "/refresh", Cookies: []*http.Cookie{ck("refresh_token_cookie", "garbage")}, Header: map[string]string{"X-CSRF-TOKEN": "x"}},
			{Path: "/protected", Header: bearer(sign(t, map[string]any{"sub": "alice", "type": 7}))},
			{Path: "/fresh", Header: bearer(sign(t, map[string]any{"sub": "alice", "fresh": "yes"}))},
			{Path: "/protected", Header: bearer(rawSign(`{"sub":"alice","exp":"tomorrow"}`))},
			{Path: "/protected", Header: bearer(rawSign(`{"sub":42}`))},
			{Path: "/protected", Header: bearer(rawSign(`{"sub":"alice","sub":"bob"}`))},
			{Path: "/protected", Header: bearer(rawSign(`{"sub":"alice","exp":1e400}`))},
			{Path: "/protected", Header: bearer(rawSign(`[]`))},
			{Path: "/protected", Header: bearer(rawSign(`{"sub":"alice","roles":{"a":`))},
			{Path: "/protected", Header: bearer(sign(t, map[string]any{"sub": "alice", "iat": now + 3600}))},
			{Path: "/protected", Header: bearer(sign(t, map[string]any{"sub": "alice", "aud": "someone"}))},
			{Path: "/protected", Header: bearer(sign(t, map[string]any{"sub": "nobody"}))},
			{Path: "/admin", Header: bearer(sign(t, map[string]any{"sub": "alice", "roles": []any{1, 2}}))},
			{Method: "DELETE", Path: "/revoke", Header: bearer(sign(t, map[string]any{"sub": "alice"}))},
			{Method: "POST", Path: "/users/%2e%2e/delete"},
		} {
			if res := p.Do(t, req); res.Status < 400 || res.Status >= 500 {
				t.Errorf("%s %.60s: %d %s", req.Method, req.Path+" "+req.Header["Authorization"], res.Status, res.Body)
			}
		}
	})
}
