package jwtgate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// New refuses settings that cannot all take effect, naming what to change.
func TestNewRefusesContradictions(t *testing.T) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	decode := func(context.Context, *jwt.Header, map[string]any) (*jwt.Key, error) { return key, nil }
	revoked := func(context.Context, *Token) (bool, error) { return false, nil }
	tests := []struct {
		name string
		cfg  Config
		says []string // what the message must name
	}{
		{"DecodeKey and Keys", Config{Keys: key, DecodeKey: decode}, []string{"DecodeKey", "Keys", "keep one"}},
		{"FailOpen without IsRevoked", Config{SigningKey: key, FailOpen: true}, []string{"FailOpen", "set IsRevoked or drop FailOpen"}},
		{"OmitNotBefore with NotBeforeDelta", Config{SigningKey: key, OmitNotBefore: true, NotBeforeDelta: time.Second}, []string{"OmitNotBefore", "NotBeforeDelta", "drop one"}},
		{"Algorithms without the signing algorithm", Config{SigningKey: key, Algorithms: []jwt.Algorithm{jwt.HS512}}, []string{"Algorithms [HS512] leave out HS256", "add HS256"}},
		{"Session cookies with MaxAge", Config{SigningKey: key, Cookies: &CookieConfig{Session: true, MaxAge: time.Hour}}, []string{"Session", "MaxAge"}},
		{"CSRFCheckForm with DisableCSRF", Config{SigningKey: key, Cookies: &CookieConfig{DisableCSRF: true, CSRFCheckForm: true}}, []string{"CSRFCheckForm", "DisableCSRF"}},
		{"nil finder", Config{SigningKey: key, Finders: []func(*http.Request) (string, error){nil}}, []string{"entry 0 of Finders is nil"}},
		{"realm with a quote", Config{SigningKey: key, Realm: `a"b`}, []string{"Realm", "quotes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New: %v, want ErrConfig", err)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
		})
	}
	// The same settings without the contradiction are accepted.
	for name, cfg := range map[string]Config{
		"DecodeKey alone":                 {DecodeKey: decode},
		"FailOpen with IsRevoked":         {SigningKey: key, FailOpen: true, IsRevoked: revoked},
		"OmitNotBefore alone":             {SigningKey: key, OmitNotBefore: true},
		"Algorithms with the signing one": {SigningKey: key, Algorithms: []jwt.Algorithm{jwt.HS512, jwt.HS256}},
		"Algorithms for Keys":             {SigningKey: key, Keys: key, Algorithms: []jwt.Algorithm{jwt.HS512}},
		"Session cookies":                 {SigningKey: key, Cookies: &CookieConfig{Session: true}},
		"CSRFCheckForm":                   {SigningKey: key, Cookies: &CookieConfig{CSRFCheckForm: true}},
	} {
		if _, err := New(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// registrationPanic runs register and returns the message of its panic,
// or "" if it registered the route.
func registrationPanic(register func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			err, ok := r.(error)
			if !ok || !errors.Is(err, ErrConfig) {
				msg = fmt.Sprintf("panic %v does not wrap ErrConfig", r)
				return
			}
			msg = err.Error()
		}
	}()
	register()
	return ""
}

// routeRequest is a request with tok in loc, as a route of the given kind
// reads it.
func routeRequest(loc Location, tok string, refreshRoute, websocket bool, csrf string) *http.Request {
	var r *http.Request
	switch loc {
	case InHeader{}:
		r = httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
	case InQuery{}:
		r = httptest.NewRequest(http.MethodGet, "/?jwt="+url.QueryEscape(tok), nil)
	case InCookie{}:
		target := "/"
		if websocket {
			target += "?csrf_token=" + url.QueryEscape(csrf)
		}
		r = httptest.NewRequest(http.MethodGet, target, nil)
		name := "access_token_cookie"
		if refreshRoute {
			name = "refresh_token_cookie"
		}
		r.AddCookie(&http.Cookie{Name: name, Value: tok})
	case InJSON{}:
		key := "access_token"
		if refreshRoute {
			key = "refresh_token"
		}
		r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"`+key+`":"`+tok+`"}`))
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// Every combination of route options, on a Gate with and without cookie
// settings, is either refused when the route is registered (a panic
// naming the contradiction) or works per request: the right token passes,
// no token passes only on Optional routes, garbage passes only with
// Optional and IgnoreInvalid, the wrong type only with SkipTypeCheck (or
// IgnoreInvalid), a revoked token only with SkipRevocation, and the realm
// is the route's.
func TestRouteOptionsEveryCombination(t *testing.T) {
	locationSets := [][]Location{nil, {InHeader{}}, {InCookie{}}, {InQuery{}}, {InJSON{}}, {InCookie{}, InHeader{}}, {nil}, {InQuery{}, InQuery{}}}
	realms := []string{"", "api", `a"b`}
	ctx := context.Background()
	n, refused := 0, 0
	for _, withCookies := range []bool{false, true} {
		g := testGate(t, func(c *Config) {
			c.Locations = []Location{InHeader{}, InQuery{}}
			c.Cookies = nil
			if withCookies {
				c.Cookies = DefaultCookies()
			}
			c.IsRevoked = func(_ context.Context, t *Token) (bool, error) { return t.Identity == "revoked", nil }
		})
		for bits := range 1 << 7 {
			for _, locs := range locationSets {
				for _, realm := range realms {
					opts := RouteOptions{
						Optional:       bits&1 != 0,
						Fresh:          bits&2 != 0,
						Refresh:        bits&4 != 0,
						SkipTypeCheck:  bits&8 != 0,
						SkipRevocation: bits&16 != 0,
						WebSocket:      bits&32 != 0,
						IgnoreInvalid:  bits&64 != 0,
						Locations:      locs,
						Realm:          realm,
					}
					n++
					name := fmt.Sprintf("cookies=%v %+v", withCookies, opts)
					// The locations the route reads.
					eff := locs
					if len(eff) == 0 {
						eff = []Location{InHeader{}, InQuery{}}
						if opts.WebSocket {
							eff = []Location{InQuery{}}
							if withCookies {
								eff = append(eff, InCookie{})
							}
						}
					}
					has := func(l Location) bool {
						for _, x := range eff {
							if x == l {
								return true
							}
						}
						return false
					}
					var want string // a word of the registration panic
					switch {
					case has(nil):
						want = "is nil"
					case len(eff) == 2 && eff[0] == eff[1]:
						want = "listed twice"
					case has(InCookie{}) && !withCookies:
						want = "Config.Cookies is nil"
					case opts.IgnoreInvalid && !opts.Optional:
						want = "IgnoreInvalid without Optional"
					case opts.Fresh && opts.Refresh && !opts.SkipTypeCheck:
						want = "never fresh"
					case opts.WebSocket && has(InJSON{}):
						want = "WebSocket handshake"
					case strings.Contains(realm, `"`):
						want = "Realm"
					}
					got := registrationPanic(func() { g.Protect(opts) })
					if want != "" {
						refused++
						if !strings.Contains(got, want) {
							t.Errorf("%s: registration panic %q, want one saying %q", name, got, want)
						}
						if _, err := g.VerifyRequest(httptest.NewRequest(http.MethodGet, "/", nil), opts); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
							t.Errorf("%s: VerifyRequest: %v, want ErrConfig saying %q", name, err, want)
						}
						continue
					}
					if got != "" {
						t.Errorf("%s: refused at registration: %s", name, got)
						continue
					}
					h := g.Protect(opts)(echo(g))
					loc := eff[0]
					refreshRoute := opts.Refresh
					mk := func(user string, fresh bool, refreshToken bool) string {
						if refreshToken {
							return refresh(t, g, user)
						}
						if fresh {
							return access(t, g, user, Fresh())
						}
						return access(t, g, user)
					}
					csrfOf := func(tok string) string {
						if !withCookies {
							return ""
						}
						c, err := g.CSRFOf(ctx, tok)
						if err != nil {
							t.Fatal(err)
						}
						return c
					}
					do := func(tok string) response {
						return serve(h, routeRequest(loc, tok, refreshRoute, opts.WebSocket, csrfOf(tok)))
					}
					ident := func(res response) any { return res.body["identity"] }

					// The right token.
					wantRefresh := opts.Refresh && !opts.SkipTypeCheck
					if res := do(mk("alice", true, wantRefresh)); res.status != 200 || ident(res) != "alice" {
						t.Errorf("%s: the right token in %s: %d %v", name, loc, res.status, res.body)
					}
					// No token at all.
					res := serve(h, httptest.NewRequest(http.MethodGet, "/", nil))
					if opts.Optional {
						if res.status != 200 || ident(res) != nil {
							t.Errorf("%s: no token on an optional route: %d %v", name, res.status, res.body)
						}
					} else {
						wantRealm := `realm="jwtgate"`
						if realm != "" {
							wantRealm = `realm="` + realm + `"`
						}
						if res.status != 401 || !strings.Contains(res.header.Get("WWW-Authenticate"), wantRealm) {
							t.Errorf("%s: no token: %d %q, want 401 with %s", name, res.status, res.header.Get("WWW-Authenticate"), wantRealm)
						}
					}
					// Garbage and the wrong type.
					lenient := opts.Optional && opts.IgnoreInvalid
					garbage := routeRequest(loc, "abc", refreshRoute, opts.WebSocket, "x")
					if res := serve(h, garbage); (res.status == 200) != lenient || (lenient && ident(res) != nil) {
						t.Errorf("%s: garbage: %d %v", name, res.status, res.body)
					}
					wrong := mk("bob", true, !wantRefresh)
					res = do(wrong)
					switch {
					case opts.SkipTypeCheck && !opts.Fresh: // a refresh token is never fresh
						if res.status != 200 || ident(res) != "bob" {
							t.Errorf("%s: other type with SkipTypeCheck: %d %v", name, res.status, res.body)
						}
					case lenient:
						if res.status != 200 || ident(res) != nil {
							t.Errorf("%s: wrong type, ignored: %d %v", name, res.status, res.body)
						}
					default:
						if res.status == 200 {
							t.Errorf("%s: wrong type accepted: %v", name, res.body)
						}
					}
					// A revoked token.
					res = do(mk("revoked", true, wantRefresh))
					if (res.status == 200) != opts.SkipRevocation {
						t.Errorf("%s: revoked token: %d %v", name, res.status, res.body)
					}
				}
			}
		}
	}
	t.Logf("%d combinations, %d refused at registration", n, refused)
	if refused == 0 || refused == n {
		t.Fatalf("%d of %d refused", refused, n)
	}
}

// The constructors check their routes when called, not per request.
func TestConstructorsCheckAtRegistration(t *testing.T) {
	// A verify-only TokensRFC9068 Gate without RefreshAudience accepts no
	// refresh token: Refresh routes are refused, access routes are not.
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	g, err := New(Config{Keys: key, Algorithms: []jwt.Algorithm{jwt.HS256}, Tokens: TokensRFC9068, ExpectedAudiences: []string{testAPI}})
	if err != nil {
		t.Fatal(err)
	}
	next := http.NotFoundHandler()
	for name, register := range map[string]func(){
		"Refresh":                   func() { g.Refresh(next) },
		"Protect Refresh":           func() { g.Protect(RouteOptions{Refresh: true}) },
		"Protect Optional, Refresh": func() { g.Protect(RouteOptions{Refresh: true, Optional: true}) },
	} {
		if msg := registrationPanic(register); !strings.Contains(msg, "RefreshAudience") {
			t.Errorf("%s: panic %q, want one naming RefreshAudience", name, msg)
		}
	}
	for name, register := range map[string]func(){
		"Required":                       func() { g.Required(next) },
		"Optional":                       func() { g.Optional(next) },
		"Fresh":                          func() { g.Fresh(next) },
		"Protect Refresh, SkipTypeCheck": func() { g.Protect(RouteOptions{Refresh: true, SkipTypeCheck: true}) },
	} {
		if msg := registrationPanic(register); msg != "" {
			t.Errorf("%s: panic %q", name, msg)
		}
	}

	// A cookie route on a Gate without cookie settings panics once, at
	// registration, instead of on every request.
	gn := testGate(t, func(c *Config) { c.Cookies = nil; c.Locations = nil })
	if msg := registrationPanic(func() { gn.Protect(RouteOptions{Locations: []Location{InCookie{}}}) }); !strings.Contains(msg, "Config.Cookies is nil") {
		t.Errorf("cookie route without cookies: panic %q", msg)
	}
	if msg := registrationPanic(func() { gn.Protect(RouteOptions{WebSocket: true}) }); msg != "" {
		t.Errorf("WebSocket route without cookies reads the query string only, yet: %q", msg)
	}
}

// Calls that take one options value refuse a second instead of ignoring it.
func TestSecondOptionsValueRefused(t *testing.T) {
	g := testGate(t, nil)
	ctx := context.Background()
	tok := access(t, g, "alice")
	csrf, err := g.CSRFOf(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.DecodeToken(ctx, tok, DecodeOptions{}, DecodeOptions{CSRF: "wrong"}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "DecodeToken takes at most one jwtgate.DecodeOptions, got 2") {
		t.Errorf("DecodeToken with two options: %v", err)
	}
	if _, err := g.DecodeToken(ctx, tok, DecodeOptions{CSRF: csrf}); err != nil {
		t.Errorf("DecodeToken with one: %v", err)
	}
	if _, err := g.DecodeToken(ctx, tok); err != nil {
		t.Errorf("DecodeToken with none: %v", err)
	}
	if _, err := g.VerifyToken(ctx, tok, RouteOptions{}, csrf, "wrong"); !errors.Is(err, ErrConfig) {
		t.Errorf("VerifyToken with two csrf values: %v", err)
	}
	two := []CookieOptions{{Domain: "a.example"}, {MaxAge: time.Minute}}
	for name, f := range map[string]func(http.ResponseWriter) error{
		"SetAccessCookies":    func(w http.ResponseWriter) error { return g.SetAccessCookies(w, tok, two...) },
		"SetRefreshCookies":   func(w http.ResponseWriter) error { return g.SetRefreshCookies(w, refresh(t, g, "alice"), two...) },
		"UnsetJWTCookies":     func(w http.ResponseWriter) error { return g.UnsetJWTCookies(w, two...) },
		"UnsetAccessCookies":  func(w http.ResponseWriter) error { return g.UnsetAccessCookies(w, two...) },
		"UnsetRefreshCookies": func(w http.ResponseWriter) error { return g.UnsetRefreshCookies(w, two...) },
	} {
		w := httptest.NewRecorder()
		if err := f(w); !errors.Is(err, ErrConfig) || len(w.Result().Cookies()) != 0 {
			t.Errorf("%s with two CookieOptions: %v, %d cookies", name, err, len(w.Result().Cookies()))
		}
	}
}
