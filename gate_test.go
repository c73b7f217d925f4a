package jwtgate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

var testNow = time.Unix(1767225600, 0)

func testGate(t testing.TB, mutate func(*Config)) *Gate {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		SigningKey: key,
		Locations:  []Location{InHeader{}, InCookie{}, InQuery{}, InJSON{}},
		Cookies:    DefaultCookies(),
		Clock:      func() time.Time { return testNow.Add(300 * time.Millisecond) },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func access(t testing.TB, g *Gate, user string, opts ...TokenOption) string {
	t.Helper()
	tok, err := g.CreateAccessToken(context.Background(), user, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func refresh(t testing.TB, g *Gate, user string, opts ...TokenOption) string {
	t.Helper()
	tok, err := g.CreateRefreshToken(context.Background(), user, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// echo is a handler that reports the identity it sees.
func echo(g *Gate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var id any
		if t, ok := TokenFrom(r.Context()); ok {
			id = t.Identity
		}
		json.NewEncoder(w).Encode(map[string]any{"identity": id, "body": string(body)})
	})
}

type reqSpec struct {
	method  string
	target  string
	headers map[string]string
	cookies map[string]string
	body    string
}

func (s reqSpec) build() *http.Request {
	method := s.method
	if method == "" {
		method = http.MethodGet
	}
	target := s.target
	if target == "" {
		target = "/"
	}
	r := httptest.NewRequest(method, target, strings.NewReader(s.body))
	for k, v := range s.headers {
		r.Header.Set(k, v)
	}
	for k, v := range s.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	return r
}

type response struct {
	status int
	body   map[string]any
	header http.Header
}

func serve(h http.Handler, r *http.Request) response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return response{w.Code, body, w.Result().Header}
}

func TestFlaskProfileBehaviour(t *testing.T) {
	g := testGate(t, func(c *Config) { c.Profile = ProfileFlask })
	alice := access(t, g, "alice")
	aliceFresh := access(t, g, "alice", Fresh())
	aliceRefresh := refresh(t, g, "alice")
	csrf, err := g.CSRFOf(context.Background(), alice)
	if err != nil || csrf == "" {
		t.Fatal(err)
	}
	refreshCSRF, _ := g.CSRFOf(context.Background(), aliceRefresh)
	expired := access(t, testGate(t, func(c *Config) {
		c.Clock = func() time.Time { return testNow.Add(-time.Hour) }
	}), "alice")
	other := access(t, testGate(t, func(c *Config) {
		k, _ := jwt.NewHMACKey([]byte("another secret of thirty-two bytes!!"))
		c.SigningKey = k
	}), "alice")
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	allMissing := `Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; Missing cookie "access_token_cookie"; Missing 'jwt' query paramater; Invalid content-type. Must be application/json.)`

	tests := []struct {
		name   string
		route  RouteOptions
		req    reqSpec
		status int
		msg    string // {"msg": ...}, or the identity on success
	}{
		// Header.
		{"header ok", RouteOptions{}, reqSpec{headers: bearer(alice)}, 200, "alice"},
		{"header scheme any case", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "bearer " + alice}}, 200, "alice"},
		{"header two spaces", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "Bearer  " + alice}}, 200, "alice"},
		{"header with Basic first", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "Basic Zm9vOmJhcg==, Bearer " + alice}}, 200, "alice"},
		{"header trailing comma", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "Bearer " + alice + ","}}, 200, "alice"},
		{"no token", RouteOptions{}, reqSpec{}, 401, allMissing},
		{"no token header only", RouteOptions{Locations: []Location{InHeader{}}}, reqSpec{}, 401, "Missing Authorization Header"},
		{"wrong scheme", RouteOptions{Locations: []Location{InHeader{}}}, reqSpec{headers: map[string]string{"Authorization": "JWT " + alice}}, 401, "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"},
		{"two bearer entries", RouteOptions{Locations: []Location{InHeader{}}}, reqSpec{headers: map[string]string{"Authorization": "Bearer a, Bearer b"}}, 401, "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"},
		{"bearer alone", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "Bearer"}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"},
		{"bearer three parts", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "Bearer a b"}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"},
		{"malformed header beats valid cookie", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "Bearer a b"}, cookies: map[string]string{"access_token_cookie": alice}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"},
		{"wrong scheme then valid cookie", RouteOptions{}, reqSpec{headers: map[string]string{"Authorization": "Token xyz"}, cookies: map[string]string{"access_token_cookie": alice}}, 200, "alice"},
		{"invalid token in header beats cookie", RouteOptions{}, reqSpec{headers: bearer("abc"), cookies: map[string]string{"access_token_cookie": alice}}, 422, "Not enough segments"},

		// Token errors.
		{"expired", RouteOptions{}, reqSpec{headers: bearer(expired)}, 401, "Token has expired"},
		{"bad signature", RouteOptions{}, reqSpec{headers: bearer(other)}, 422, "Signature verification failed"},
		{"tampered", RouteOptions{}, reqSpec{headers: bearer(alice[:len(alice)-4] + "AAAA")}, 422, "Signature verification failed"},
		{"alg none", RouteOptions{}, reqSpec{headers: bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.")}, 422, "The specified alg value is not allowed"},
		{"garbage", RouteOptions{}, reqSpec{headers: bearer("abc")}, 422, "Not enough segments"},
		{"huge token", RouteOptions{}, reqSpec{headers: bearer(strings.Repeat("a", 9000) + ".b.c")}, 422, "Token is too large"},

		// Types and freshness.
		{"refresh on access route", RouteOptions{}, reqSpec{headers: bearer(aliceRefresh)}, 422, "Only non-refresh tokens are allowed"},
		{"access on refresh route", RouteOptions{Refresh: true}, reqSpec{headers: bearer(alice)}, 422, "Only refresh tokens are allowed"},
		{"refresh ok", RouteOptions{Refresh: true}, reqSpec{headers: bearer(aliceRefresh)}, 200, "alice"},
		{"skip type check", RouteOptions{SkipTypeCheck: true}, reqSpec{headers: bearer(aliceRefresh)}, 200, "alice"},
		{"not fresh", RouteOptions{Fresh: true}, reqSpec{headers: bearer(alice)}, 401, "Fresh token required"},
		{"fresh ok", RouteOptions{Fresh: true}, reqSpec{headers: bearer(aliceFresh)}, 200, "alice"},
		{"refresh token on fresh route", RouteOptions{Fresh: true}, reqSpec{headers: bearer(aliceRefresh)}, 422, "Only non-refresh tokens are allowed"},

		// Optional.
		{"optional no token", RouteOptions{Optional: true}, reqSpec{}, 200, ""},
		{"optional valid", RouteOptions{Optional: true}, reqSpec{headers: bearer(alice)}, 200, "alice"},
		{"optional expired", RouteOptions{Optional: true}, reqSpec{headers: bearer(expired)}, 401, "Token has expired"},
		{"optional malformed header", RouteOptions{Optional: true}, reqSpec{headers: map[string]string{"Authorization": "Bearer a b"}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"},
		{"optional wrong scheme", RouteOptions{Optional: true}, reqSpec{headers: map[string]string{"Authorization": "JWT x"}}, 200, ""},

		// Cookies and CSRF.
		{"cookie GET", RouteOptions{}, reqSpec{cookies: map[string]string{"access_token_cookie": alice}}, 200, "alice"},
		{"cookie GET wrong csrf ignored", RouteOptions{}, reqSpec{cookies: map[string]string{"access_token_cookie": alice}, headers: map[string]string{"X-CSRF-TOKEN": "nope"}}, 200, "alice"},
		{"cookie POST no csrf", RouteOptions{}, reqSpec{method: "POST", cookies: map[string]string{"access_token_cookie": alice}}, 401, "Missing CSRF token"},
		{"cookie POST garbage cookie no csrf", RouteOptions{}, reqSpec{method: "POST", cookies: map[string]string{"access_token_cookie": "garbage"}}, 401, "Missing CSRF token"},
		{"cookie POST csrf ok", RouteOptions{}, reqSpec{method: "POST", cookies: map[string]string{"access_token_cookie": alice}, headers: map[string]string{"X-CSRF-TOKEN": csrf}}, 200, "alice"},
		{"cookie POST header name any case", RouteOptions{}, reqSpec{method: "POST", cookies: map[string]string{"access_token_cookie": alice}, headers: map[string]string{"x-csrf-token": csrf}}, 200, "alice"},
		{"cookie DELETE csrf mismatch", RouteOptions{}, reqSpec{method: "DELETE", cookies: map[string]string{"access_token_cookie": alice}, headers: map[string]string{"X-CSRF-TOKEN": csrf + "x"}}, 401, "CSRF double submit tokens do not match"},
		{"cookie PATCH csrf of refresh", RouteOptions{}, reqSpec{method: "PATCH", cookies: map[string]string{"access_token_cookie": alice}, headers: map[string]string{"X-CSRF-TOKEN": refreshCSRF}}, 401, "CSRF double submit tokens do not match"},
		{"valid header beats cookie, no csrf needed", RouteOptions{}, reqSpec{method: "DELETE", headers: bearer(alice), cookies: map[string]string{"access_token_cookie": alice}}, 200, "alice"},
		{"refresh cookie on access route", RouteOptions{Locations: []Location{InCookie{}}}, reqSpec{cookies: map[string]string{"refresh_token_cookie": aliceRefresh}}, 401, `Missing cookie "access_token_cookie"`},
		{"refresh token in access cookie", RouteOptions{}, reqSpec{cookies: map[string]string{"access_token_cookie": aliceRefresh}}, 422, "Only non-refresh tokens are allowed"},
		{"refresh cookie on refresh route", RouteOptions{Refresh: true}, reqSpec{method: "POST", cookies: map[string]string{"refresh_token_cookie": aliceRefresh}, headers: map[string]string{"X-CSRF-TOKEN": refreshCSRF}}, 200, "alice"},
		{"empty cookie", RouteOptions{Locations: []Location{InCookie{}}}, reqSpec{cookies: map[string]string{"access_token_cookie": ""}}, 401, `Missing cookie "access_token_cookie"`},

		// Query string.
		{"query ok", RouteOptions{}, reqSpec{target: "/?jwt=" + alice}, 200, "alice"},
		{"query DELETE needs no csrf", RouteOptions{}, reqSpec{method: "DELETE", target: "/?jwt=" + alice}, 200, "alice"},
		{"query wrong name", RouteOptions{Locations: []Location{InQuery{}}}, reqSpec{target: "/?token=" + alice}, 401, "Missing 'jwt' query paramater"},
		{"query bearer prefix not configured", RouteOptions{}, reqSpec{target: "/?jwt=" + url.QueryEscape("Bearer "+alice)}, 422, "Malformed token"},
		{"query bad escape", RouteOptions{Locations: []Location{InQuery{}}}, reqSpec{target: "/?jwt=%zz"}, 401, "Missing 'jwt' query paramater"},

		// JSON body.
		{"json ok", RouteOptions{}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: `{"access_token":"` + alice + `"}`}, 200, "alice"},
		{"json +json type", RouteOptions{}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/merge-patch+json; charset=utf-8"}, body: `{"access_token":"` + alice + `"}`}, 200, "alice"},
		{"json GET", RouteOptions{}, reqSpec{headers: map[string]string{"Content-Type": "application/json"}, body: `{"access_token":"` + alice + `"}`}, 200, "alice"},
		{"json refresh key", RouteOptions{Refresh: true}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: `{"refresh_token":"` + aliceRefresh + `"}`}, 200, "alice"},
		{"json wrong type", RouteOptions{Locations: []Location{InJSON{}}}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "text/plain"}, body: `{"access_token":"` + alice + `"}`}, 401, "Invalid content-type. Must be application/json."},
		{"json broken", RouteOptions{Locations: []Location{InJSON{}}}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: `{"access_token":`}, 401, `Missing "access_token" key in json data.`},
		{"json token not string", RouteOptions{Locations: []Location{InJSON{}}}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: `{"access_token":42}`}, 401, `Missing "access_token" key in json data.`},
		{"json array", RouteOptions{Locations: []Location{InJSON{}}}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: `["x"]`}, 401, `Missing "access_token" key in json data.`},
		{"json huge", RouteOptions{Locations: []Location{InJSON{}}}, reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: `{"pad":"` + strings.Repeat("x", 70<<10) + `"}`}, 401, `Missing "access_token" key in json data.`},

		// Preflight.
		{"CORS preflight passes", RouteOptions{}, reqSpec{method: "OPTIONS", headers: map[string]string{"Access-Control-Request-Method": "POST", "Origin": "https://a.example"}}, 200, ""},
		{"plain OPTIONS needs a token", RouteOptions{}, reqSpec{method: "OPTIONS"}, 401, allMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := g.Protect(tt.route)(echo(g))
			res := serve(h, tt.req.build())
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %v", res.status, tt.status, res.body)
			}
			if res.status == 200 {
				id, _ := res.body["identity"].(string)
				if id != tt.msg {
					t.Fatalf("identity %q, want %q", id, tt.msg)
				}
				return
			}
			if res.body["msg"] != tt.msg {
				t.Fatalf("msg %q, want %q", res.body["msg"], tt.msg)
			}
			if len(res.body) != 1 {
				t.Fatalf("body has more than msg: %v", res.body)
			}
		})
	}
}

func TestJSONBodyStillReadable(t *testing.T) {
	g := testGate(t, nil)
	tok := access(t, g, "alice")
	body := `{"access_token":"` + tok + `","other":1}`
	res := serve(g.Required(echo(g)), reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: body}.build())
	if res.status != 200 || res.body["body"] != body {
		t.Fatalf("%d %v", res.status, res.body)
	}
	// A large body that is not read entirely by the Gate still reaches the
	// handler whole.
	big := `{"access_token":"x","pad":"` + strings.Repeat("y", 100<<10) + `"}`
	g2 := testGate(t, func(c *Config) { c.Locations = []Location{InJSON{}} })
	res = serve(g2.Optional(echo(g2)), reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/json"}, body: big}.build())
	if res.status != 200 || res.body["body"] != big {
		t.Fatalf("big body: %d, %d bytes", res.status, len(res.body["body"].(string)))
	}
}

func TestRFC6750Profile(t *testing.T) {
	g := testGate(t, func(c *Config) { c.Realm = "api" })
	expired := access(t, testGate(t, func(c *Config) { c.Clock = func() time.Time { return testNow.Add(-time.Hour) } }), "u")
	tests := []struct {
		name      string
		req       reqSpec
		status    int
		challenge string
		code      string
	}{
		{"no token", reqSpec{}, 401, `Bearer realm="api"`, "unauthorized"},
		{"expired", reqSpec{headers: map[string]string{"Authorization": "Bearer " + expired}}, 401, `Bearer realm="api", error="invalid_token", error_description="Token has expired"`, "invalid_token"},
		{"bad header", reqSpec{headers: map[string]string{"Authorization": "Bearer a b"}}, 400, `Bearer realm="api", error="invalid_request", error_description="Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"`, "invalid_request"},
		{"csrf", reqSpec{method: "POST", cookies: map[string]string{"access_token_cookie": access(t, g, "u")}}, 403, "", "csrf_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(g.Required(echo(g)), tt.req.build())
			if res.status != tt.status || res.header.Get("WWW-Authenticate") != tt.challenge || res.body["error"] != tt.code {
				t.Fatalf("got %d %q %v", res.status, res.header.Get("WWW-Authenticate"), res.body)
			}
			if res.header.Get("Content-Type") != "application/json" || res.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v", res.header)
			}
		})
	}
}

func TestFlaskJWTProfile(t *testing.T) {
	g := testGate(t, func(c *Config) {
		c.Profile = ProfileFlaskJWT
		c.Claims.Identity = "identity"
		c.Locations = []Location{InHeader{Scheme: "JWT"}}
		c.IdentityOf = func(u any) (any, error) { return u, nil }
	})
	res := serve(g.Required(echo(g)), reqSpec{}.build())
	if res.status != 401 || res.header.Get("WWW-Authenticate") != `JWT realm="Login Required"` ||
		res.body["error"] != "Authorization Required" || res.body["description"] != "Request does not contain an access token" || res.body["status_code"] != 401.0 {
		t.Fatalf("%d %v %v", res.status, res.header, res.body)
	}
	tok, err := g.CreateAccessToken(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	res = serve(g.Required(echo(g)), reqSpec{headers: map[string]string{"Authorization": "jwt " + tok}}.build())
	if res.status != 200 || res.body["identity"] != "7" {
		t.Fatalf("%d %v", res.status, res.body)
	}
}

func TestHooksOrderAndErrors(t *testing.T) {
	var calls []string
	users := map[string]string{"alice": "Alice A."}
	revoked := map[string]bool{}
	storeDown := false
	g := testGate(t, func(c *Config) {
		c.Profile = ProfileFlask
		c.ExtraClaims = func(ctx context.Context, id any) (map[string]any, error) {
			if id == "alice" {
				return map[string]any{"roles": []string{"admin"}}, nil
			}
			return map[string]any{"roles": "oops"}, nil
		}
		c.IsRevoked = func(ctx context.Context, t *Token) (bool, error) {
			calls = append(calls, "revoked")
			if storeDown {
				return false, errors.New("store down")
			}
			return revoked[t.Claims.ID], nil
		}
		c.VerifyClaims = func(ctx context.Context, t *Token) error {
			calls = append(calls, "claims")
			raw, ok := t.RawClaim("roles")
			if ok && !strings.HasPrefix(raw, "[") {
				return errors.New("roles is not a list")
			}
			return nil
		}
		c.LoadUser = func(ctx context.Context, t *Token) (any, error) {
			calls = append(calls, "user")
			if name, ok := users[t.Identity]; ok {
				return name, nil
			}
			return nil, nil
		}
	})
	h := g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := User[string](r.Context())
		tok, _ := TokenFrom(r.Context())
		var roles struct {
			Roles []string `json:"roles"`
		}
		if err := tok.Decode(&roles); err != nil {
			t.Error(err)
		}
		json.NewEncoder(w).Encode(map[string]any{"user": name, "ok": ok, "roles": roles.Roles, "jti": tok.Claims.ID, "raw": tok.Raw() != ""})
	}))
	alice := access(t, g, "alice")
	res := serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + alice}}.build())
	if res.status != 200 || res.body["user"] != "Alice A." || res.body["ok"] != true || res.body["jti"] == "" || res.body["raw"] != true {
		t.Fatalf("%d %v", res.status, res.body)
	}
	if strings.Join(calls, ",") != "revoked,claims,user" {
		t.Fatalf("hook order %v", calls)
	}
	// The claims hook refuses bob's non-list roles: 400.
	bob := access(t, g, "bob")
	if res := serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + bob}}.build()); res.status != 400 || res.body["msg"] != "User claims verification failed" {
		t.Fatalf("%d %v", res.status, res.body)
	}
	// A deleted user: 401 Error loading the user.
	delete(users, "alice")
	if res := serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + alice}}.build()); res.status != 401 || res.body["msg"] != "Error loading the user alice" {
		t.Fatalf("%d %v", res.status, res.body)
	}
	users["alice"] = "Alice A."
	// Revoked.
	jti, _ := g.JTIOf(context.Background(), alice)
	revoked[jti] = true
	if res := serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + alice}}.build()); res.status != 401 || res.body["msg"] != "Token has been revoked" {
		t.Fatalf("%d %v", res.status, res.body)
	}
	// The store is down: fail closed with 503.
	storeDown = true
	res = serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + access(t, g, "alice")}}.build())
	if res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Fatalf("store down: %d %v", res.status, res.body)
	}
	// SkipRevocation ignores the store.
	h2 := g.Protect(RouteOptions{SkipRevocation: true})(echo(g))
	if res := serve(h2, reqSpec{headers: map[string]string{"Authorization": "Bearer " + alice}}.build()); res.status != 200 {
		t.Fatalf("skip revocation: %d %v", res.status, res.body)
	}
}

func TestFailOpen(t *testing.T) {
	var logged strings.Builder
	g := testGate(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logged, nil))
		c.FailOpen = true
		c.IsRevoked = func(context.Context, *Token) (bool, error) { return false, errors.New("down") }
	})
	res := serve(g.Required(echo(g)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + access(t, g, "u")}}.build())
	if res.status != 200 {
		t.Fatalf("%d %v", res.status, res.body)
	}
	if !strings.Contains(logged.String(), "FailOpen") || strings.Contains(logged.String(), "eyJ") {
		t.Fatalf("log %q: want a warning without the token", logged.String())
	}
}

func TestCreatedTokenClaims(t *testing.T) {
	g := testGate(t, func(c *Config) {
		c.Issuer = "https://id.example"
		c.Audience = []string{"api"}
		c.ExpectedAudiences = []string{"api"}
		c.ExpectedIssuers = []string{"https://id.example"}
	})
	ctx := context.Background()
	tok := access(t, g, "alice", FreshFor(10*time.Minute), WithClaims(map[string]any{"roles": []string{"a"}}), WithHeaders(map[string]any{"kid": "k1"}))
	var claims map[string]any
	dt, err := g.DecodeToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := dt.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sub", "jti", "iat", "nbf", "exp", "type", "fresh", "csrf", "iss", "aud", "roles"} {
		if _, ok := claims[name]; !ok {
			t.Errorf("claim %s missing: %v", name, claims)
		}
	}
	if raw, _ := dt.RawClaim("iat"); raw != "1767225600" {
		t.Errorf("iat %s: want whole seconds", raw)
	}
	if !dt.Fresh || dt.Type != "access" || dt.Header.KeyID != "k1" || dt.Claims.ExpiresAt.Sub(testNow) != 15*time.Minute {
		t.Errorf("token %+v", dt)
	}
	r := refresh(t, g, "alice")
	rt, _ := g.DecodeToken(ctx, r)
	if rt.Fresh || rt.Type != "refresh" || rt.Claims.ExpiresAt.Sub(testNow) != 30*24*time.Hour {
		t.Errorf("refresh %+v", rt)
	}
	noexp := access(t, g, "alice", TTL(NoExpiry))
	nt, _ := g.DecodeToken(ctx, noexp)
	if nt.Claims.ExpiresAt != nil {
		t.Error("NoExpiry token has exp")
	}
	// Two tokens never share a jti.
	a, b := access(t, g, "alice"), access(t, g, "alice")
	ja, _ := g.JTIOf(ctx, a)
	jb, _ := g.JTIOf(ctx, b)
	if ja == jb || len(ja) != 36 {
		t.Errorf("jti %q %q", ja, jb)
	}
	// The algorithm per token, where the key allows it.
	g64 := testGate(t, func(c *Config) {
		k, _ := jwt.NewHMACKey([]byte(strings.Repeat("s", 64)))
		c.SigningKey = k
		c.Algorithms = []jwt.Algorithm{jwt.HS256, jwt.HS512}
	})
	t512 := access(t, g64, "alice", WithAlgorithm(jwt.HS512))
	if dt, err := g64.DecodeToken(ctx, t512); err != nil || dt.Header.Alg != jwt.HS512 {
		t.Errorf("HS512 token: %v", err)
	}
	if _, err := g.CreateAccessToken(ctx, "alice", WithAlgorithm(jwt.RS256)); err == nil {
		t.Error("RS256 with an HMAC key accepted")
	}
	// A non-string identity for sub is refused; IdentityOf fixes it.
	if _, err := g.CreateAccessToken(ctx, 42); err == nil {
		t.Error("numeric sub accepted")
	}
	// Expired tokens decode with AllowExpired only.
	old := access(t, testGate(t, func(c *Config) {
		c.Clock = func() time.Time { return testNow.Add(-time.Hour) }
		c.Issuer, c.Audience = "https://id.example", []string{"api"}
	}), "alice")
	if _, err := g.DecodeToken(ctx, old); !errors.Is(err, ErrExpired) || !errors.Is(err, jwt.ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	if _, err := g.DecodeToken(ctx, old, DecodeOptions{AllowExpired: true}); err != nil {
		t.Errorf("AllowExpired: %v", err)
	}
	csrf, _ := g.CSRFOf(ctx, tok)
	if _, err := g.DecodeToken(ctx, tok, DecodeOptions{CSRF: "wrong"}); !errors.Is(err, ErrCSRF) {
		t.Errorf("csrf mismatch: %v", err)
	}
	if _, err := g.DecodeToken(ctx, tok, DecodeOptions{CSRF: csrf}); err != nil {
		t.Errorf("csrf match: %v", err)
	}
	h, err := UnverifiedHeader(tok)
	if err != nil || h["alg"] != "HS256" || h["kid"] != "k1" {
		t.Errorf("header %v %v", h, err)
	}
	seg, rest, _ := strings.Cut(tok, ".")
	// Only canonical base64url: no line breaks, padding or trailing bits.
	for _, bad := range []string{"!!!.x.y", seg[:4] + "\r\n" + seg[4:] + "." + rest, seg + "==." + rest, "e31." + rest, "e30=." + rest} {
		if _, err := UnverifiedHeader(bad); !errors.Is(err, jwt.ErrMalformed) {
			t.Errorf("bad header %.20q: %v", bad, err)
		}
	}
	if _, err := UnverifiedClaims(seg + ".e30\n." + rest); !errors.Is(err, jwt.ErrMalformed) {
		t.Errorf("claims with a line break: %v", err)
	}
}

func TestSetAndUnsetCookies(t *testing.T) {
	g := testGate(t, func(c *Config) {
		c.Cookies = &CookieConfig{Secure: true, SameSite: http.SameSiteNoneMode, Partitioned: true, RefreshPath: "/refresh", Domain: "app.example"}
	})
	w := httptest.NewRecorder()
	tok := access(t, g, "alice")
	if err := g.SetAccessCookies(w, tok); err != nil {
		t.Fatal(err)
	}
	if err := g.SetRefreshCookies(w, refresh(t, g, "alice")); err != nil {
		t.Fatal(err)
	}
	got := w.Result().Cookies()
	if len(got) != 4 {
		t.Fatalf("%d cookies", len(got))
	}
	byName := map[string]*http.Cookie{}
	for _, c := range got {
		byName[c.Name] = c
	}
	at := byName["access_token_cookie"]
	if at == nil || at.Value != tok || !at.HttpOnly || !at.Secure || at.SameSite != http.SameSiteNoneMode || !at.Partitioned || at.Path != "/" || at.MaxAge != 900 || at.Domain != "app.example" {
		t.Errorf("access cookie %+v", at)
	}
	csrf, _ := g.CSRFOf(context.Background(), tok)
	ca := byName["csrf_access_token"]
	if ca == nil || ca.Value != csrf || ca.HttpOnly {
		t.Errorf("csrf cookie %+v", ca)
	}
	if rc := byName["refresh_token_cookie"]; rc == nil || rc.Path != "/refresh" || rc.MaxAge != 30*24*3600 {
		t.Errorf("refresh cookie %+v", rc)
	}
	w = httptest.NewRecorder()
	if err := g.UnsetJWTCookies(w); err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Value != "" || c.MaxAge != -1 {
			t.Errorf("unset %+v", c)
		}
	}
	if len(w.Result().Cookies()) != 4 {
		t.Errorf("%d unset cookies", len(w.Result().Cookies()))
	}
	// Cookies set with a Domain are unset with it.
	w = httptest.NewRecorder()
	g.UnsetAccessCookies(w, CookieOptions{Domain: "other.example"})
	for _, c := range w.Result().Cookies() {
		if c.Domain != "other.example" {
			t.Errorf("unset with domain %+v", c)
		}
	}
	// Default cookies are SameSite=Lax.
	gd := testGate(t, nil)
	w = httptest.NewRecorder()
	gd.SetAccessCookies(w, access(t, gd, "a"))
	if c := w.Result().Cookies()[0]; c.SameSite != http.SameSiteLaxMode {
		t.Errorf("default SameSite %v", c.SameSite)
	}
	// A token without a csrf claim sets no cookie at all.
	gnc := testGate(t, func(c *Config) { c.Cookies = &CookieConfig{DisableCSRF: true} })
	w = httptest.NewRecorder()
	if err := gd.SetAccessCookies(w, access(t, gnc, "a")); err == nil || len(w.Result().Cookies()) != 0 {
		t.Errorf("token without csrf: %v, %d cookies", err, len(w.Result().Cookies()))
	}
	// Session cookies have no Max-Age.
	gs := testGate(t, func(c *Config) { c.Cookies = &CookieConfig{Session: true} })
	w = httptest.NewRecorder()
	gs.SetAccessCookies(w, access(t, gs, "a"))
	if c := w.Result().Cookies()[0]; c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("session cookie %+v", c)
	}
	// A Gate without cookies says so.
	gn := testGate(t, func(c *Config) { c.Cookies = nil; c.Locations = nil })
	if err := gn.SetAccessCookies(httptest.NewRecorder(), tok); !errors.Is(err, ErrNoCookies) {
		t.Errorf("no cookies: %v", err)
	}
}

func TestCSRFFormField(t *testing.T) {
	g := testGate(t, func(c *Config) { c.Cookies = &CookieConfig{CSRFCheckForm: true}; c.Profile = ProfileFlask })
	tok := access(t, g, "alice")
	csrf, _ := g.CSRFOf(context.Background(), tok)
	form := url.Values{"csrf_token": {csrf}, "x": {"1"}}.Encode()
	res := serve(g.Required(echo(g)), reqSpec{method: "POST", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, cookies: map[string]string{"access_token_cookie": tok}, body: form}.build())
	if res.status != 200 || res.body["body"] != form {
		t.Fatalf("%d %v", res.status, res.body)
	}
}

func TestConfigErrors(t *testing.T) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	pubOnly := mustECDSA(t).Public()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no keys", Config{}},
		{"public signing key", Config{SigningKey: pubOnly}},
		{"alg not allowed", Config{SigningKey: key, Algorithm: jwt.RS256}},
		{"unknown decode alg", Config{SigningKey: key, Algorithms: []jwt.Algorithm{"none"}}},
		{"cookies without config", Config{SigningKey: key, Locations: []Location{InCookie{}}}},
		{"nil location", Config{SigningKey: key, Locations: []Location{nil}}},
		{"duplicate location", Config{SigningKey: key, Locations: []Location{InHeader{}, InHeader{}}}},
		{"negative ttl", Config{SigningKey: key, AccessTTL: -5}},
		{"negative leeway", Config{SigningKey: key, Leeway: -1}},
		{"claim names clash", Config{SigningKey: key, Claims: ClaimNames{Type: "sub"}}},
		{"scheme with space", Config{SigningKey: key, Locations: []Location{InHeader{Scheme: "Bear er"}}}},
		{"no scheme and scheme", Config{SigningKey: key, Locations: []Location{InHeader{NoScheme: true, Scheme: "JWT"}}}},
		{"negative json body", Config{SigningKey: key, Locations: []Location{InJSON{MaxBody: -1}}}},
		{"samesite none insecure", Config{SigningKey: key, Cookies: &CookieConfig{SameSite: http.SameSiteNoneMode}}},
		{"partitioned insecure", Config{SigningKey: key, Cookies: &CookieConfig{Partitioned: true}}},
		{"bad cookie name", Config{SigningKey: key, Cookies: &CookieConfig{AccessName: "a b"}}},
		{"same cookie names", Config{SigningKey: key, Cookies: &CookieConfig{AccessName: "t", RefreshName: "t"}}},
		{"bad profile", Config{SigningKey: key, Profile: 9}},
		{"bad realm", Config{SigningKey: key, Realm: `a"b`}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// Verify-only Gates cannot create tokens.
	g, err := New(Config{Keys: pubOnly})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.CreateAccessToken(context.Background(), "u"); !errors.Is(err, ErrNoSigningKey) {
		t.Errorf("verify-only create: %v", err)
	}
}

func mustECDSA(t testing.TB) *jwt.Key {
	t.Helper()
	k, err := newTestECKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
