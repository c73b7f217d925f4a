package jwtgate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// signRaw signs an arbitrary claims set with the test gate's secret, for
// tokens a Gate would never create.
func signRaw(t *testing.T, claims string) string {
	t.Helper()
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	s, _ := jwt.NewSigner(key, jwt.HS256)
	tok, err := s.Sign([]byte(claims))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestClaimTypesRefused(t *testing.T) {
	g := testGate(t, func(c *Config) { c.Profile = ProfileFlask })
	tests := []struct {
		name, claims string
		route        RouteOptions
		status       int
		msg          string
	}{
		{"fresh string", `{"sub":"u","fresh":"yes"}`, RouteOptions{Fresh: true}, 422, "Invalid fresh claim: must be a boolean or a numeric date"},
		{"fresh null", `{"sub":"u","fresh":null}`, RouteOptions{}, 422, "Invalid fresh claim: must be a boolean or a numeric date"},
		{"fresh negative", `{"sub":"u","fresh":-5}`, RouteOptions{}, 422, "Invalid fresh claim: must be a boolean or a numeric date"},
		{"fresh past", `{"sub":"u","fresh":1767225000}`, RouteOptions{Fresh: true}, 401, "Fresh token required"},
		{"fresh future", `{"sub":"u","fresh":1767226000}`, RouteOptions{Fresh: true}, 200, ""},
		{"type number", `{"sub":"u","type":1}`, RouteOptions{}, 422, "Invalid type claim: must be a string"},
		{"type unknown is access", `{"sub":"u","type":"id"}`, RouteOptions{}, 200, ""},
		{"type unknown on refresh route", `{"sub":"u","type":"id"}`, RouteOptions{Refresh: true}, 422, "Only refresh tokens are allowed"},
		{"no type is access", `{"sub":"u"}`, RouteOptions{}, 200, ""},
		{"csrf number", `{"sub":"u","csrf":5}`, RouteOptions{}, 422, "Invalid csrf claim: must be a string"},
		{"no sub", `{"type":"access"}`, RouteOptions{}, 422, "Missing claim: sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(g.Protect(tt.route)(echo(g)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + signRaw(t, tt.claims)}}.build())
			if res.status != tt.status || (tt.status != 200 && res.body["msg"] != tt.msg) {
				t.Fatalf("%d %v", res.status, res.body)
			}
		})
	}
}

func TestMoreHooks(t *testing.T) {
	ctx := context.Background()
	ec, err := newTestECKey()
	if err != nil {
		t.Fatal(err)
	}
	// An asymmetric Gate: signs with the private key, verifies with the
	// public half, and an EncodeKey hook that chooses a key per identity.
	special, _ := newTestECKey()
	g, err := New(Config{
		SigningKey: ec.WithID("main"),
		Keys:       mustSet(t, ec.WithID("main").Public(), special.WithID("special").Public()),
		EncodeKey: func(ctx context.Context, id any) (*jwt.Key, error) {
			if id == "svc" {
				return special.WithID("special"), nil
			}
			return ec.WithID("main"), nil
		},
		ExtraHeaders: func(ctx context.Context, id any) (map[string]any, error) {
			return map[string]any{"x-tenant": "t1"}, nil
		},
		Clock:          func() time.Time { return testNow },
		NotBeforeDelta: 5 * time.Second,
		Audience:       []string{"default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.Algorithm() != jwt.ES256 {
		t.Fatalf("algorithm %s", g.Algorithm())
	}
	for _, who := range []string{"alice", "svc"} {
		tok, err := g.CreateAccessToken(ctx, who, WithAudience("api"), TTL(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		h, _ := UnverifiedHeader(tok)
		wantKid := map[string]string{"alice": "main", "svc": "special"}[who]
		if h["kid"] != wantKid || h["x-tenant"] != "t1" || h["alg"] != "ES256" {
			t.Errorf("%s header %v", who, h)
		}
		c, _ := UnverifiedClaims(tok)
		if c["aud"] != "api" || c["exp"].(interface{ String() string }).String() != "1767229200" || c["nbf"].(interface{ String() string }).String() != "1767225605" {
			t.Errorf("%s claims %v", who, c)
		}
	}
	// ExtraClaims and IdentityOf errors surface; a failing EncodeKey too.
	gErr := testGate(t, func(c *Config) {
		c.ExtraClaims = func(context.Context, any) (map[string]any, error) { return nil, errors.New("db down") }
	})
	if _, err := gErr.CreateAccessToken(ctx, "u"); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Errorf("ExtraClaims error: %v", err)
	}
}

func mustSet(t *testing.T, keys ...*jwt.Key) jwt.KeySet {
	t.Helper()
	return keySet(keys)
}

// keySet is a minimal kid-indexed jwt.KeySet for tests of the root package,
// which may not import jwk.
type keySet []*jwt.Key

func (s keySet) LookupKeys(_ context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	for _, k := range s {
		if k.ID() == h.KeyID {
			return []*jwt.Key{k}, nil
		}
	}
	return nil, jwt.ErrKeyNotFound
}

func TestDecodeKeyHook(t *testing.T) {
	tenantKeys := map[string]*jwt.Key{}
	for _, tenant := range []string{"a", "b"} {
		k, _ := jwt.NewHMACKey([]byte(strings.Repeat(tenant, 32)))
		tenantKeys[tenant] = k
	}
	var seen []string
	g, err := New(Config{
		Algorithms: []jwt.Algorithm{jwt.HS256},
		DecodeKey: func(ctx context.Context, h *jwt.Header, claims map[string]any) (*jwt.Key, error) {
			tenant, _ := claims["tenant"].(string)
			seen = append(seen, string(h.Alg)+":"+tenant)
			if k, ok := tenantKeys[tenant]; ok {
				return k, nil
			}
			return nil, nil
		},
		Clock: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(tenant, secretOf string) string {
		s, _ := jwt.NewSigner(tenantKeys[secretOf], jwt.HS256)
		tok, _ := s.Sign(map[string]any{"sub": "u", "tenant": tenant})
		return tok
	}
	h := g.Required(echo(g))
	if res := serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + sign("a", "a")}}.build()); res.status != 200 {
		t.Fatalf("tenant a: %d %v", res.status, res.body)
	}
	if res := serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + sign("a", "b")}}.build()); res.status != 401 {
		t.Fatalf("tenant a signed with b's key: %d %v", res.status, res.body)
	}
	if res := serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + sign("zz", "a")}}.build()); res.status != 401 {
		t.Fatalf("unknown tenant: %d %v", res.status, res.body)
	}
	if len(seen) != 3 || seen[0] != "HS256:a" {
		t.Fatalf("hook saw %v", seen)
	}
	if _, err := g.DecodeToken(context.Background(), sign("b", "b")); err != nil {
		t.Fatalf("DecodeToken with DecodeKey: %v", err)
	}
}

func TestRouteAndErrorOptions(t *testing.T) {
	var onErr []error
	g := testGate(t, func(c *Config) {
		c.Profile = ProfileFlask
		c.MessageKey = "detail"
		c.Finders = []func(*http.Request) (string, error){
			func(r *http.Request) (string, error) {
				if v := r.Header.Get("X-Api-Token"); v != "" {
					if strings.HasPrefix(v, "bad") {
						return "", errors.New("X-Api-Token is malformed")
					}
					return v, nil
				}
				return "", nil
			},
		}
	})
	alice := access(t, g, "alice")
	// MessageKey.
	res := serve(g.Required(echo(g)), reqSpec{}.build())
	if res.body["detail"] == nil || res.body["msg"] != nil {
		t.Errorf("message key: %v", res.body)
	}
	// A custom finder, tried first.
	if res := serve(g.Required(echo(g)), reqSpec{headers: map[string]string{"X-Api-Token": alice}}.build()); res.status != 200 || res.body["identity"] != "alice" {
		t.Errorf("finder: %d %v", res.status, res.body)
	}
	if res := serve(g.Required(echo(g)), reqSpec{headers: map[string]string{"X-Api-Token": "bad"}}.build()); res.status != 422 || res.body["detail"] != "X-Api-Token is malformed" {
		t.Errorf("finder error: %d %v", res.status, res.body)
	}
	// IgnoreInvalid on an optional route lets a bad token through
	// unauthenticated, but not a CSRF failure.
	ign := g.Protect(RouteOptions{Optional: true, IgnoreInvalid: true})(echo(g))
	if res := serve(ign, reqSpec{headers: map[string]string{"Authorization": "Bearer garbage"}}.build()); res.status != 200 || res.body["identity"] != nil {
		t.Errorf("IgnoreInvalid: %d %v", res.status, res.body)
	}
	if res := serve(ign, reqSpec{method: "POST", cookies: map[string]string{"access_token_cookie": alice}}.build()); res.status != 401 {
		t.Errorf("IgnoreInvalid with CSRF failure: %d %v", res.status, res.body)
	}
	// The Fresh method and VerifyRequest on an optional route.
	if res := serve(g.Fresh(echo(g)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + alice}}.build()); res.status != 401 {
		t.Errorf("Fresh: %d", res.status)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r2, err := g.VerifyRequest(r, RouteOptions{Optional: true})
	if err != nil || r2 != r || g.Authenticated(r2.Context()) {
		t.Errorf("VerifyRequest optional: %v", err)
	}
	// OnError replaces the default answer and receives the sentinel.
	g2 := testGate(t, func(c *Config) {
		c.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
			onErr = append(onErr, err)
			w.WriteHeader(http.StatusTeapot)
		}
	})
	if res := serve(g2.Required(echo(g2)), reqSpec{}.build()); res.status != http.StatusTeapot || len(onErr) != 1 || !errors.Is(onErr[0], ErrNoToken) {
		t.Errorf("OnError: %d %v", res.status, onErr)
	}
	// A route's realm.
	g3 := testGate(t, nil)
	res = serve(g3.Protect(RouteOptions{Realm: "admin"})(echo(g3)), reqSpec{}.build())
	if res.header.Get("WWW-Authenticate") != `Bearer realm="admin"` {
		t.Errorf("realm: %q", res.header.Get("WWW-Authenticate"))
	}
}

func TestVerifyTokenString(t *testing.T) {
	g := testGate(t, nil)
	ctx := context.Background()
	tok := access(t, g, "alice", Fresh())
	csrf, _ := g.CSRFOf(ctx, tok)
	if vt, err := g.VerifyToken(ctx, tok, RouteOptions{Fresh: true}, csrf); err != nil || vt.Identity != "alice" {
		t.Fatalf("VerifyToken: %v", err)
	}
	if _, err := g.VerifyToken(ctx, tok, RouteOptions{}, "wrong"); !errors.Is(err, ErrCSRF) {
		t.Errorf("csrf: %v", err)
	}
	if _, err := g.VerifyToken(ctx, tok, RouteOptions{Refresh: true}); !errors.Is(err, ErrWrongType) {
		t.Errorf("type: %v", err)
	}
}

func TestFlaskJWTUserMissing(t *testing.T) {
	g := testGate(t, func(c *Config) {
		c.Profile = ProfileFlaskJWT
		c.LoadUser = func(context.Context, *Token) (any, error) { return nil, nil }
	})
	res := serve(g.Required(echo(g)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + access(t, g, "ghost")}}.build())
	if res.status != 401 || res.body["error"] != "Invalid JWT" || res.body["description"] != "User does not exist" {
		t.Fatalf("%d %v", res.status, res.body)
	}
}

func TestWebSocketRouteLocations(t *testing.T) {
	g := testGate(t, func(c *Config) { c.Locations = []Location{InHeader} })
	tok := access(t, g, "alice")
	csrf, _ := g.CSRFOf(context.Background(), tok)
	ws := g.Protect(RouteOptions{WebSocket: true})(echo(g))
	tests := []struct {
		name   string
		req    reqSpec
		status int
	}{
		{"query token", reqSpec{target: "/ws?token=" + tok}, 200},
		{"query jwt", reqSpec{target: "/ws?jwt=" + tok}, 200},
		{"cookie with csrf", reqSpec{target: "/ws?csrf_token=" + csrf, cookies: map[string]string{"access_token_cookie": tok}}, 200},
		{"cookie without csrf", reqSpec{target: "/ws", cookies: map[string]string{"access_token_cookie": tok}}, 403},
		{"cookie wrong csrf", reqSpec{target: "/ws?csrf_token=x", cookies: map[string]string{"access_token_cookie": tok}}, 403},
		{"header ignored", reqSpec{target: "/ws", headers: map[string]string{"Authorization": "Bearer " + tok}}, 401},
	}
	for _, tt := range tests {
		if res := serve(ws, tt.req.build()); res.status != tt.status {
			t.Errorf("%s: %d %v", tt.name, res.status, res.body)
		}
	}
}

func TestCookieMaxAgeOption(t *testing.T) {
	g := testGate(t, nil)
	w := httptest.NewRecorder()
	if err := g.SetAccessCookies(w, access(t, g, "a"), CookieOptions{MaxAge: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge != 60 {
			t.Errorf("%s max-age %d", c.Name, c.MaxAge)
		}
	}
}

func TestEmptySchemeAndNoCSRFCookies(t *testing.T) {
	g := testGate(t, func(c *Config) {
		c.EmptyHeaderScheme = true
		c.HeaderName = "X-Token"
		c.Profile = ProfileFlask
		c.Cookies = &CookieConfig{NoCSRFCookies: true}
	})
	tok := access(t, g, "alice")
	h := g.Required(echo(g))
	tests := []struct {
		value  string
		status int
		msg    string
	}{
		{tok, 200, ""},
		{"  " + tok + " ", 200, ""},
		{"Bearer " + tok, 422, "Bad X-Token header. Expected 'X-Token: <JWT>'"},
		{"", 401, `Missing JWT in headers, cookies, query_string or json (Missing X-Token Header; Missing cookie "access_token_cookie"; Missing 'jwt' query paramater; Invalid content-type. Must be application/json.)`},
	}
	for _, tt := range tests {
		res := serve(h, reqSpec{headers: map[string]string{"X-Token": tt.value}}.build())
		if res.status != tt.status || (tt.msg != "" && res.body["msg"] != tt.msg) {
			t.Errorf("%q: %d %v", tt.value, res.status, res.body)
		}
	}
	// Without CSRF cookies only the token cookies are set and unset, but
	// the tokens still carry csrf claims and POSTs still need the header.
	w := httptest.NewRecorder()
	if err := g.SetRefreshCookies(w, refresh(t, g, "alice")); err != nil {
		t.Fatal(err)
	}
	if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].Name != "refresh_token_cookie" {
		t.Errorf("cookies %v", cs)
	}
	w = httptest.NewRecorder()
	g.UnsetRefreshCookies(w)
	if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge != -1 {
		t.Errorf("unset %v", cs)
	}
	if res := serve(h, reqSpec{method: "POST", cookies: map[string]string{"access_token_cookie": tok}}.build()); res.status != 401 || res.body["msg"] != "Missing CSRF token" {
		t.Errorf("POST without CSRF: %d %v", res.status, res.body)
	}
}

func TestRevocationHookGateError(t *testing.T) {
	g := testGate(t, func(c *Config) {
		c.Profile = ProfileFlask
		c.IsRevoked = func(ctx context.Context, t *Token) (bool, error) {
			if t.Claims.ID == "" {
				return false, NewError(ErrInvalid, "Missing claim: jti", nil)
			}
			return false, nil
		}
	})
	res := serve(g.Required(echo(g)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + signRaw(t, `{"sub":"u"}`)}}.build())
	if res.status != 422 || res.body["msg"] != "Missing claim: jti" {
		t.Fatalf("%d %v", res.status, res.body)
	}
}

// IdentityOf turns the user object given to CreateAccessToken into the
// identity claim, and its error refuses the token.
func TestIdentityOfConvertsUser(t *testing.T) {
	type user struct {
		ID   int
		Name string
	}
	g := testGate(t, func(c *Config) {
		c.IdentityOf = func(u any) (any, error) {
			if u, ok := u.(user); ok {
				return u.Name, nil
			}
			return nil, fmt.Errorf("%T is not a user", u)
		}
	})
	ctx := context.Background()
	tok, err := g.CreateAccessToken(ctx, user{ID: 7, Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	vt, err := g.DecodeToken(ctx, tok)
	if err != nil || vt.Identity != "alice" {
		t.Fatalf("identity of the token: %v, %v", vt, err)
	}
	if _, err := g.CreateRefreshToken(ctx, 42); err == nil || !strings.Contains(err.Error(), "int is not a user") {
		t.Errorf("IdentityOf error: %v", err)
	}
}
