package adaptertest

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

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// Scenario is one conformance case: a Gate configuration, a route and a
// request.
type Scenario struct {
	// Name names the scenario in test names.
	Name string

	// Config changes the suite's base configuration (see Env) before the
	// Gate is made.
	Config func(e *Env, c *jwtgate.Config)

	// Route is the route's options.
	Route jwtgate.RouteOptions

	// Request returns the request, made with the scenario's Env (to
	// create tokens).
	Request func(e *Env) Request

	// Where is the kind of location the request carries its token in
	// (InHeader{}, InCookie{}, InQuery{}, InJSON{}), or nil when it sends
	// none or when any adapter can run it.
	Where jwtgate.Location

	// HTTPOnly, if not empty, says why the scenario does not apply to RPC
	// adapters (besides carrying the token elsewhere than the
	// Authorization header, which RunRPC detects).
	HTTPOnly string
}

// Request is a request of a scenario.
type Request struct {
	Method        string   // GET when empty
	Target        string   // "/" when empty
	Authorization []string // values of the Authorization header, in order
	Header        http.Header
	Cookies       []*http.Cookie
	ContentType   string
	Body          string
	DPoP          *Proofs // DPoP proofs in the DPoP header; none when nil
}

func (s Request) build() *http.Request {
	method, target := s.Method, s.Target
	if method == "" {
		method = http.MethodGet
	}
	if target == "" {
		target = "/"
	}
	var body *strings.Reader
	if s.Body != "" {
		body = strings.NewReader(s.Body)
	}
	var r *http.Request
	if body != nil {
		r = httptest.NewRequest(method, target, body)
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for k, vs := range s.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	for _, v := range s.Authorization {
		r.Header.Add("Authorization", v)
	}
	for _, c := range s.Cookies {
		r.AddCookie(c)
	}
	if s.ContentType != "" {
		r.Header.Set("Content-Type", s.ContentType)
	}
	return r
}

// Now is the time of the suite's Gates.
var Now = time.Unix(1767225600, 0)

// Secret is the HMAC secret of the suite's Gates.
var Secret = []byte("adaptertest-0123456789abcdef-0123456789abcdef")

// Env is a scenario's environment: its Gate and what it needs to create
// tokens and revoke them.
//
// The base configuration: HS256 with Secret, the clock at Now, token
// locations InHeader, InCookie, InQuery and InJSON (only InHeader for
// RPC adapters), DefaultCookies, revocation checked in Store, and the
// profile the scenario runs under.
type Env struct {
	T       testing.TB
	Gate    *jwtgate.Gate
	Profile jwtgate.Profile
	Store   *revoke.Memory

	// Past is a Gate like Gate whose clock is two hours earlier: its
	// tokens have expired. Other is a Gate with another secret.
	Past, Other *jwtgate.Gate

	// Users counts the calls of a LoadUser hook that scenarios set.
	Users int

	// Prover makes DPoP proofs with the key that Bound binds tokens to;
	// OtherProver with another key.
	Prover, OtherProver *dpop.Prover
}

func newEnv(t testing.TB, sc Scenario, p jwtgate.Profile, rpc bool) *Env {
	t.Helper()
	e := &Env{T: t, Profile: p, Prover: newProver(t), OtherProver: newProver(t)}
	e.Store = revoke.NewMemory(revoke.MemoryOptions{Clock: func() time.Time { return Now }})
	mk := func(secret []byte, now time.Time) *jwtgate.Gate {
		key, err := jwt.NewHMACKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		cfg := jwtgate.Config{
			SigningKey: key,
			Clock:      func() time.Time { return now },
			Locations:  []jwtgate.Location{jwtgate.InHeader{}, jwtgate.InCookie{}, jwtgate.InQuery{}, jwtgate.InJSON{}},
			Cookies:    jwtgate.DefaultCookies(),
			IsRevoked:  revoke.Check(e.Store),
			Profile:    p,
		}
		if sc.Config != nil {
			sc.Config(e, &cfg)
		}
		if rpc {
			cfg.Locations = []jwtgate.Location{jwtgate.InHeader{}}
		}
		g, err := jwtgate.New(cfg)
		if err != nil {
			t.Fatalf("adaptertest: scenario %s: %v", sc.Name, err)
		}
		return g
	}
	e.Gate = mk(Secret, Now)
	e.Past = mk(Secret, Now.Add(-2*time.Hour))
	e.Other = mk([]byte("adaptertest-another-secret-0123456789abcdef"), Now)
	return e
}

// Access returns an access token of g (the Env's Gate if nil) for user.
func (e *Env) Access(g *jwtgate.Gate, user string, opts ...jwtgate.TokenOption) string {
	e.T.Helper()
	if g == nil {
		g = e.Gate
	}
	tok, err := g.CreateAccessToken(context.Background(), user, opts...)
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// Refresh returns a refresh token of g (the Env's Gate if nil) for user.
func (e *Env) Refresh(g *jwtgate.Gate, user string, opts ...jwtgate.TokenOption) string {
	e.T.Helper()
	if g == nil {
		g = e.Gate
	}
	tok, err := g.CreateRefreshToken(context.Background(), user, opts...)
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// Revoke revokes tok in Store.
func (e *Env) Revoke(tok string) {
	e.T.Helper()
	jti, err := e.Gate.JTIOf(context.Background(), tok)
	if err == nil {
		err = e.Store.Revoke(context.Background(), jti, Now.Add(time.Hour))
	}
	if err != nil {
		e.T.Fatal(err)
	}
}

// CSRF returns tok's CSRF value.
func (e *Env) CSRF(tok string) string {
	e.T.Helper()
	v, err := e.Gate.CSRFOf(context.Background(), tok)
	if err != nil {
		e.T.Fatal(err)
	}
	return v
}

// DownStore is a revocation store whose server cannot be reached: every
// query fails.
type DownStore struct{ revoke.Store }

// ErrDown is the error of every DownStore query.
var ErrDown = errors.New("adaptertest: store unreachable")

// Revoked implements revoke.Store.
func (DownStore) Revoked(context.Context, string) (bool, error) { return false, ErrDown }

// FamilyRevoked implements revoke.Store.
func (DownStore) FamilyRevoked(context.Context, string) (bool, error) { return false, ErrDown }

// SubjectCutoff implements revoke.Store.
func (DownStore) SubjectCutoff(context.Context, string) (time.Time, error) {
	return time.Time{}, ErrDown
}

// User is the user the suite's LoadUser hooks load.
type User struct {
	Name  string
	Roles []string
}

func bearer(tok string) []string { return []string{"Bearer " + tok} }

func cookie(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// Scenarios returns the conformance scenarios.
func Scenarios() []Scenario {
	header1 := jwtgate.Location(jwtgate.InHeader{})
	cookies := jwtgate.Location(jwtgate.InCookie{})
	query := jwtgate.Location(jwtgate.InQuery{})
	body := jwtgate.Location(jwtgate.InJSON{})
	withUser := func(e *Env, c *jwtgate.Config) {
		c.LoadUser = func(ctx context.Context, t *jwtgate.Token) (any, error) {
			e.Users++
			switch t.Identity {
			case "ghost":
				return nil, nil
			case "broken":
				return nil, errors.New("user database unreachable")
			}
			return &User{Name: t.Identity, Roles: []string{"reader"}}, nil
		}
	}
	s := []Scenario{
		// Token locations.
		{Name: "header", Where: header1, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "alice"))} }},
		{Name: "header-lowercase-scheme", Where: header1, Request: func(e *Env) Request {
			return Request{Authorization: []string{"bearer " + e.Access(nil, "alice")}}
		}},
		{Name: "header-among-schemes", Where: header1, HTTPOnly: "several schemes in one value", Request: func(e *Env) Request {
			return Request{Authorization: []string{"Basic YWxpY2U6cHc=, Bearer " + e.Access(nil, "alice")}}
		}},
		{Name: "header-two-values", Where: header1, Request: func(e *Env) Request {
			return Request{Authorization: []string{"Bearer " + e.Access(nil, "alice"), "Bearer " + e.Access(nil, "bob")}}
		}},
		{Name: "header-custom-name", Where: header1, HTTPOnly: "another header", Config: func(e *Env, c *jwtgate.Config) {
			c.Locations = []jwtgate.Location{jwtgate.InHeader{Name: "X-Api-Token", NoScheme: true}}
		}, Request: func(e *Env) Request { return Request{Header: header("X-Api-Token", e.Access(nil, "alice"))} }},
		{Name: "no-token", Request: func(e *Env) Request { return Request{} }},
		{Name: "no-token-header-only", Config: func(e *Env, c *jwtgate.Config) { c.Locations = nil }, Request: func(e *Env) Request { return Request{} }},
		{Name: "scheme-alone", Where: header1, Request: func(e *Env) Request { return Request{Authorization: []string{"Bearer"}} }},
		{Name: "scheme-alone-space", Where: header1, Request: func(e *Env) Request { return Request{Authorization: []string{"Bearer "}} }},
		{Name: "two-words", Where: header1, Request: func(e *Env) Request { return Request{Authorization: []string{"Bearer a b"}} }},
		{Name: "other-scheme", Where: header1, Request: func(e *Env) Request { return Request{Authorization: []string{"Basic YWxpY2U6cHc="}} }},
		{Name: "garbage-token", Where: header1, Request: func(e *Env) Request { return Request{Authorization: bearer("not.a.token")} }},
		{Name: "two-segments", Where: header1, Request: func(e *Env) Request { return Request{Authorization: bearer("abc.def")} }},
		{Name: "forged", Where: header1, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(e.Other, "alice"))} }},
		{Name: "expired", Where: header1, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(e.Past, "alice"))} }},
		{Name: "route-locations", Where: query, Route: jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InQuery{Param: "t"}}},
			Request: func(e *Env) Request {
				return Request{Target: "/?t=" + url.QueryEscape(e.Access(nil, "alice")), Authorization: bearer(e.Access(nil, "bob"))}
			}},
		{Name: "route-realm", Route: jwtgate.RouteOptions{Realm: "admin"}, Request: func(e *Env) Request { return Request{} }},
		{Name: "route-realm-invalid", Where: header1, Route: jwtgate.RouteOptions{Realm: "admin"}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(e.Past, "alice"))}
		}},
		{Name: "query", Where: query, Request: func(e *Env) Request { return Request{Target: "/?jwt=" + e.Access(nil, "alice")} }},
		{Name: "json", Where: body, Request: func(e *Env) Request {
			return Request{Method: "POST", ContentType: "application/json", Body: `{"access_token":"` + e.Access(nil, "alice") + `","n":1}`}
		}},
		{Name: "json-refresh", Where: body, Route: jwtgate.RouteOptions{Refresh: true}, Request: func(e *Env) Request {
			return Request{Method: "POST", ContentType: "application/json", Body: `{"refresh_token":"` + e.Refresh(nil, "alice") + `"}`}
		}},
		{Name: "json-wrong-content-type", Where: body, Request: func(e *Env) Request {
			return Request{Method: "POST", ContentType: "text/plain", Body: `{"access_token":"` + e.Access(nil, "alice") + `"}`}
		}},
		{Name: "preflight", HTTPOnly: "CORS preflight", Request: func(e *Env) Request {
			return Request{Method: "OPTIONS", Header: header("Access-Control-Request-Method", "POST", "Origin", "https://app.example")}
		}},
		{Name: "preflight-checked", HTTPOnly: "CORS preflight", Config: func(e *Env, c *jwtgate.Config) { c.CheckPreflight = true }, Request: func(e *Env) Request {
			return Request{Method: "OPTIONS", Header: header("Access-Control-Request-Method", "POST", "Origin", "https://app.example")}
		}},
		{Name: "custom-finder", HTTPOnly: "Config.Finders read the request", Config: func(e *Env, c *jwtgate.Config) {
			c.Finders = []func(*http.Request) (string, error){func(r *http.Request) (string, error) {
				v := r.Header.Get("X-Token")
				if strings.HasPrefix(v, "bad") {
					return "", errors.New("X-Token is malformed")
				}
				return v, nil
			}}
		}, Request: func(e *Env) Request { return Request{Header: header("X-Token", e.Access(nil, "alice"))} }},
		{Name: "custom-finder-error", HTTPOnly: "Config.Finders read the request", Config: func(e *Env, c *jwtgate.Config) {
			c.Finders = []func(*http.Request) (string, error){func(r *http.Request) (string, error) {
				return "", fmt.Errorf("X-Token is malformed")
			}}
		}, Request: func(e *Env) Request { return Request{Header: header("X-Token", "bad")} }},

		// Token types and freshness.
		{Name: "refresh-on-access-route", Where: header1, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Refresh(nil, "alice"))} }},
		{Name: "refresh-route", Where: header1, Route: jwtgate.RouteOptions{Refresh: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Refresh(nil, "alice"))}
		}},
		{Name: "access-on-refresh-route", Where: header1, Route: jwtgate.RouteOptions{Refresh: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(nil, "alice"))}
		}},
		{Name: "skip-type-check", Where: header1, Route: jwtgate.RouteOptions{SkipTypeCheck: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Refresh(nil, "alice"))}
		}},
		{Name: "fresh", Where: header1, Route: jwtgate.RouteOptions{Fresh: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(nil, "alice", jwtgate.Fresh()))}
		}},
		{Name: "not-fresh", Where: header1, Route: jwtgate.RouteOptions{Fresh: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(nil, "alice"))}
		}},
		{Name: "fresh-for-elapsed", Where: header1, Route: jwtgate.RouteOptions{Fresh: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(nil, "alice", jwtgate.FreshFor(-time.Minute)))}
		}},
		{Name: "rfc9068-access", Where: header1, Config: rfc9068, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "alice"))} }},
		{Name: "rfc9068-refresh-on-access-route", Where: header1, Config: rfc9068, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Refresh(nil, "alice"))}
		}},
		{Name: "rfc9068-refresh-route", Where: header1, Config: rfc9068, Route: jwtgate.RouteOptions{Refresh: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Refresh(nil, "alice"))}
		}},

		// Optional routes.
		{Name: "optional-no-token", Route: jwtgate.RouteOptions{Optional: true}, Request: func(e *Env) Request { return Request{} }},
		{Name: "optional-token", Where: header1, Route: jwtgate.RouteOptions{Optional: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(nil, "alice"))}
		}},
		{Name: "optional-invalid", Where: header1, Route: jwtgate.RouteOptions{Optional: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(e.Past, "alice"))}
		}},
		{Name: "optional-malformed", Where: header1, Route: jwtgate.RouteOptions{Optional: true}, Request: func(e *Env) Request {
			return Request{Authorization: []string{"Bearer a b"}}
		}},
		{Name: "ignore-invalid", Where: header1, Route: jwtgate.RouteOptions{Optional: true, IgnoreInvalid: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(e.Past, "alice"))}
		}},
		{Name: "ignore-invalid-garbage", Where: header1, Route: jwtgate.RouteOptions{Optional: true, IgnoreInvalid: true}, Request: func(e *Env) Request {
			return Request{Authorization: bearer("garbage")}
		}},
		{Name: "ignore-invalid-revoked", Where: header1, Route: jwtgate.RouteOptions{Optional: true, IgnoreInvalid: true}, Request: func(e *Env) Request {
			tok := e.Access(nil, "alice")
			e.Revoke(tok)
			return Request{Authorization: bearer(tok)}
		}},
		{Name: "ignore-invalid-csrf", Where: cookies, Route: jwtgate.RouteOptions{Optional: true, IgnoreInvalid: true}, Request: func(e *Env) Request {
			return Request{Method: "POST", Cookies: []*http.Cookie{cookie("access_token_cookie", e.Access(nil, "alice"))}}
		}},

		// Cookies and double-submit CSRF.
		{Name: "cookie-get", Where: cookies, Request: func(e *Env) Request {
			return Request{Cookies: []*http.Cookie{cookie("access_token_cookie", e.Access(nil, "alice"))}}
		}},
		{Name: "cookie-post-no-csrf", Where: cookies, Request: func(e *Env) Request {
			return Request{Method: "POST", Cookies: []*http.Cookie{cookie("access_token_cookie", e.Access(nil, "alice"))}}
		}},
		{Name: "cookie-post-csrf", Where: cookies, Request: func(e *Env) Request {
			tok := e.Access(nil, "alice")
			return Request{Method: "POST", Cookies: []*http.Cookie{cookie("access_token_cookie", tok)}, Header: header("X-CSRF-TOKEN", e.CSRF(tok))}
		}},
		{Name: "cookie-post-wrong-csrf", Where: cookies, Request: func(e *Env) Request {
			tok := e.Access(nil, "alice")
			return Request{Method: "DELETE", Cookies: []*http.Cookie{cookie("access_token_cookie", tok)}, Header: header("X-CSRF-TOKEN", e.CSRF(e.Access(nil, "alice")))}
		}},
		{Name: "cookie-post-csrf-form", Where: cookies, Config: func(e *Env, c *jwtgate.Config) {
			cc := jwtgate.DefaultCookies()
			cc.CSRFCheckForm = true
			c.Cookies = cc
		}, Request: func(e *Env) Request {
			tok := e.Access(nil, "alice")
			return Request{Method: "POST", Cookies: []*http.Cookie{cookie("access_token_cookie", tok)},
				ContentType: "application/x-www-form-urlencoded", Body: "csrf_token=" + url.QueryEscape(e.CSRF(tok)) + "&x=1"}
		}},
		{Name: "cookie-refresh-route", Where: cookies, Route: jwtgate.RouteOptions{Refresh: true}, Request: func(e *Env) Request {
			tok := e.Refresh(nil, "alice")
			return Request{Method: "POST", Cookies: []*http.Cookie{cookie("refresh_token_cookie", tok)}, Header: header("X-CSRF-TOKEN", e.CSRF(tok))}
		}},
		{Name: "cookie-csrf-disabled", Where: cookies, Config: func(e *Env, c *jwtgate.Config) {
			cc := jwtgate.DefaultCookies()
			cc.DisableCSRF = true
			c.Cookies = cc
		}, Request: func(e *Env) Request {
			return Request{Method: "POST", Cookies: []*http.Cookie{cookie("access_token_cookie", e.Access(nil, "alice"))}}
		}},
		{Name: "websocket-query", Where: query, Route: jwtgate.RouteOptions{WebSocket: true}, Request: func(e *Env) Request {
			return Request{Target: "/?token=" + e.Access(nil, "alice")}
		}},
		{Name: "websocket-cookie-no-csrf", Where: cookies, Route: jwtgate.RouteOptions{WebSocket: true}, Request: func(e *Env) Request {
			return Request{Cookies: []*http.Cookie{cookie("access_token_cookie", e.Access(nil, "alice"))}}
		}},

		// Revocation.
		{Name: "revoked", Where: header1, Request: func(e *Env) Request {
			tok := e.Access(nil, "alice")
			e.Revoke(tok)
			return Request{Authorization: bearer(tok)}
		}},
		{Name: "revoked-skip-revocation", Where: header1, Route: jwtgate.RouteOptions{SkipRevocation: true}, Request: func(e *Env) Request {
			tok := e.Access(nil, "alice")
			e.Revoke(tok)
			return Request{Authorization: bearer(tok)}
		}},
		{Name: "store-down", Where: header1, Config: func(e *Env, c *jwtgate.Config) { c.IsRevoked = revoke.Check(DownStore{}) }, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Access(nil, "alice"))}
		}},
		{Name: "store-down-optional", Where: header1, Route: jwtgate.RouteOptions{Optional: true, IgnoreInvalid: true},
			Config: func(e *Env, c *jwtgate.Config) { c.IsRevoked = revoke.Check(DownStore{}) }, Request: func(e *Env) Request {
				return Request{Authorization: bearer(e.Access(nil, "alice"))}
			}},
		{Name: "store-down-fail-open", Where: header1, Config: func(e *Env, c *jwtgate.Config) {
			c.IsRevoked = revoke.Check(DownStore{})
			c.FailOpen = true
			c.Logger = discardLogger()
		}, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "alice"))} }},

		// Hooks.
		{Name: "verify-claims-refuses", Where: header1, Config: func(e *Env, c *jwtgate.Config) {
			c.VerifyClaims = func(ctx context.Context, t *jwtgate.Token) error {
				if t.Identity != "admin" {
					return errors.New("not an admin")
				}
				return nil
			}
		}, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "alice"))} }},
		{Name: "verify-claims-accepts", Where: header1, Config: func(e *Env, c *jwtgate.Config) {
			c.VerifyClaims = func(ctx context.Context, t *jwtgate.Token) error { return nil }
		}, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "alice"))} }},
		{Name: "load-user", Where: header1, Config: withUser, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "alice"))} }},
		{Name: "load-user-missing", Where: header1, Config: withUser, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "ghost"))} }},
		{Name: "load-user-store-down", Where: header1, Config: withUser, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "broken"))} }},
		{Name: "load-user-optional", Config: withUser, Route: jwtgate.RouteOptions{Optional: true}, Request: func(e *Env) Request { return Request{} }},
		{Name: "on-error", Where: header1, HTTPOnly: "Config.OnError writes an HTTP response", Config: func(e *Env, c *jwtgate.Config) {
			c.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusTeapot)
				fmt.Fprintf(w, "refused: %v", errors.Is(err, jwtgate.ErrExpired))
			}
		}, Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(e.Past, "alice"))} }},
		{Name: "message-key", Where: header1, Config: func(e *Env, c *jwtgate.Config) { c.MessageKey = "detail" }, Request: func(e *Env) Request {
			return Request{Authorization: bearer("garbage")}
		}},
	}
	s = append(s, scopeScenarios()...)
	return append(s, dpopScenarios()...)
}

func rfc9068(e *Env, c *jwtgate.Config) {
	c.Tokens = jwtgate.TokensRFC9068
	c.Audience = []string{"https://api.example"}
	c.RefreshAudience = "https://id.example/refresh"
}
