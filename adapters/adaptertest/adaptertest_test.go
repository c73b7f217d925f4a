package adaptertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
)

// netHTTP is the plain net/http adapter: the Gate's middleware with the
// Gate's accessors, and its shortcuts for their options.
func netHTTP() HTTP {
	return HTTP{Name: "net/http", Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			record(SeenFrom(r.Context(), r.Body))
		})
		switch {
		case equalOpts(opts, jwtgate.RouteOptions{}):
			return g.Required(h)
		case equalOpts(opts, jwtgate.RouteOptions{Optional: true}):
			return g.Optional(h)
		}
		return g.Protect(opts)(h)
	}}
}

func equalOpts(a, b jwtgate.RouteOptions) bool {
	return a.Optional == b.Optional && a.Fresh == b.Fresh && a.Refresh == b.Refresh && a.SkipTypeCheck == b.SkipTypeCheck &&
		a.SkipRevocation == b.SkipRevocation && a.WebSocket == b.WebSocket && a.IgnoreInvalid == b.IgnoreInvalid &&
		a.Realm == b.Realm && a.DPoP == b.DPoP && len(a.Locations) == 0 && len(b.Locations) == 0 && len(a.Scopes) == 0 && len(b.Scopes) == 0
}

func TestNetHTTP(t *testing.T) { RunHTTP(t, netHTTP()) }

// routeAdapter is a net/http adapter built as framework adapters are: a
// Route compiled at registration, Verify on each request, Fail on a
// refusal.
func routeAdapter() HTTP {
	return HTTP{Name: "route", Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler {
		rt, err := g.Route(opts)
		if err != nil {
			panic(err)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, err := rt.Verify(r)
			if err != nil {
				rt.Fail(w, r, err)
				return
			}
			record(SeenFrom(r2.Context(), r2.Body))
		})
	}}
}

func TestRouteAdapter(t *testing.T) { RunHTTP(t, routeAdapter()) }

// verifyThenWrite is an adapter that verifies with VerifyRequest (opts
// possibly changed by mutate) and answers with WriteError, which knows
// neither Config.OnError nor the route's realm.
func verifyThenWrite(mutate func(g *jwtgate.Gate, r *http.Request, opts jwtgate.RouteOptions) (*http.Request, error)) HTTP {
	return HTTP{Name: "broken", Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler {
		if _, err := g.VerifyRequest(httptest.NewRequest("GET", "/", nil), opts); errors.Is(err, jwtgate.ErrConfig) {
			panic(err)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, err := mutate(g, r, opts)
			if err != nil {
				g.WriteError(w, r, err)
				return
			}
			record(SeenFrom(r2.Context(), r2.Body))
		})
	}}
}

// TestSuiteCatches runs adapters that each drop or change one thing, and
// checks that the suite reports them on the scenarios that show it.
func TestSuiteCatches(t *testing.T) {
	scenario := func(name string) Scenario {
		for _, sc := range Scenarios() {
			if sc.Name == name {
				return sc
			}
		}
		t.Fatalf("no scenario %s", name)
		return Scenario{}
	}
	cases := []struct {
		name      string
		adapter   HTTP
		scenarios []string
	}{
		{"optional-as-required", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			o.Optional, o.IgnoreInvalid = false, false
			return g.VerifyRequest(r, o)
		}), []string{"optional-no-token", "ignore-invalid"}},
		{"no-csrf", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			if r.Method == "POST" || r.Method == "DELETE" {
				r = r.Clone(r.Context())
				r.Method = "GET"
			}
			return g.VerifyRequest(r, o)
		}), []string{"cookie-post-no-csrf", "cookie-post-wrong-csrf", "ignore-invalid-csrf"}},
		{"header-only", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			t, err := g.VerifyToken(r.Context(), tok, o)
			if err != nil {
				return nil, err
			}
			return r.WithContext(jwtgate.NewContext(r.Context(), t, nil)), nil
		}), []string{"cookie-get", "query", "json", "header-lowercase-scheme"}},
		{"own-error-body", HTTP{Name: "own-body", Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r2, err := g.VerifyRequest(r, opts)
				if err != nil {
					http.Error(w, err.Error(), jwtgate.ProfileRFC6750.Status(err))
					return
				}
				record(SeenFrom(r2.Context(), r2.Body))
			})
		}}, []string{"no-token", "expired", "store-down"}},
		{"no-abort", HTTP{Name: "no-abort", Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r2, err := g.VerifyRequest(r, opts)
				if err != nil {
					g.WriteError(w, r, err)
					r2 = r
				}
				record(SeenFrom(r2.Context(), r2.Body))
			})
		}}, []string{"no-token", "revoked", "not-fresh"}},
		{"no-user", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			r2, err := g.VerifyRequest(r, o)
			if err != nil {
				return nil, err
			}
			t, ok := jwtgate.TokenFrom(r2.Context())
			if !ok {
				return r2, nil
			}
			c := &jwtgate.Token{Token: t.Token, Identity: t.Identity, Type: t.Type, Fresh: t.Fresh, CSRF: t.CSRF, Location: t.Location}
			return r.WithContext(jwtgate.NewContext(r.Context(), c, nil)), nil
		}), []string{"load-user"}},
		{"body-eaten", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			r2, err := g.VerifyRequest(r, o)
			if err == nil {
				r2.Body = http.NoBody
			}
			return r2, err
		}), []string{"json"}},
		{"realm-dropped", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			return g.VerifyRequest(r, o)
		}), []string{"route-realm", "on-error", "scope-realm"}},
		{"no-scopes", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			o.Scopes = nil
			return g.VerifyRequest(r, o)
		}), []string{"scope-missing", "scope-none", "scp-string-missing"}},
		{"wrong-htu", HTTP{Name: "wrong-htu", Protect: routeAdapter().Protect, ProofURL: func(r *http.Request) *url.URL {
			return &url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path}
		}}, []string{"dpop", "dpop-required", "dpop-nonce"}},
		{"no-nonce-header", HTTP{Name: "no-nonce-header", Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler {
			h := routeAdapter().Protect(t, g, opts, record)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(dropHeader{w, "DPoP-Nonce"}, r)
			})
		}}, []string{"dpop-nonce-missing"}},
		{"scheme-as-bearer", verifyThenWrite(func(g *jwtgate.Gate, r *http.Request, o jwtgate.RouteOptions) (*http.Request, error) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
			if !ok || g.DPoPNonce() != "" {
				return g.VerifyRequest(r, o)
			}
			// The token of the DPoP scheme checked without its proof.
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
			t, err := g.VerifyToken(r.Context(), tok, o)
			if err != nil {
				return nil, err
			}
			return r.WithContext(jwtgate.NewContext(r.Context(), t, nil)), nil
		}), []string{"dpop-replay", "dpop-no-proof", "dpop-wrong-htu", "dpop-wrong-htm", "dpop-wrong-key", "dpop-wrong-ath"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range c.scenarios {
				if d := CompareHTTP(t, c.adapter, scenario(name), jwtgate.ProfileRFC6750); len(d) == 0 {
					t.Errorf("scenario %s: the suite found no difference", name)
				}
			}
		})
	}
	// The same adapters agree with the Gate where they do the same thing.
	if d := CompareHTTP(t, cases[0].adapter, scenario("header"), jwtgate.ProfileFlask); len(d) != 0 {
		t.Errorf("header: %v", d)
	}
}

func TestBadOptionsChecked(t *testing.T) {
	lax := HTTP{Name: "lax", Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler {
		return http.NotFoundHandler()
	}}
	for _, bo := range badOptions {
		if err := refusesAtRegistration(func(tb testing.TB) { lax.Protect(tb, nil, bo.opts, nil) }); err == nil {
			t.Errorf("%s: an adapter accepting it passes", bo.name)
		}
		if err := refusesAtRegistration(func(tb testing.TB) { tb.Fatalf("bad options") }); err != nil {
			t.Errorf("%s: a registration failing its test: %v", bo.name, err)
		}
		if err := refusesAtRegistration(func(tb testing.TB) { panic("no") }); err == nil {
			t.Errorf("%s: a panic without ErrConfig passes", bo.name)
		}
	}
}

// plainRPC is an RPC-style adapter over the Gate: one "Bearer <token>"
// value, VerifyToken, or one "DPoP <token>" value and VerifyCall with
// the dpop values, codes named after the sentinels. broken names what
// it gets wrong, if anything.
func plainRPC(broken string) RPC {
	const callURL = "https://api.example/svc.Greeter/Hello"
	return RPC{
		Name: "rpc",
		URL:  callURL,
		Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md Metadata) (*Seen, Metadata, error) {
			auth := md["authorization"]
			if len(auth) > 1 {
				return nil, nil, jwtgate.NewError(jwtgate.ErrBadHeader, "several authorization values", nil)
			}
			if len(auth) == 0 || broken == "no-token-passes" && auth[0] == "" {
				if opts.Optional || broken == "no-token-passes" {
					return &Seen{}, nil, nil
				}
				return nil, nil, jwtgate.NewError(jwtgate.ErrNoToken, "no token", nil)
			}
			scheme, tok, ok := strings.Cut(auth[0], " ")
			if strings.EqualFold(scheme, "DPoP") && !ok {
				return nil, nil, jwtgate.NewError(jwtgate.ErrBadHeader, "malformed", nil)
			}
			// The DPoP scheme is a scheme like any other on a Gate
			// without Config.DPoP, where DPoPRequired is refused.
			_, noDPoP := g.Route(jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired})
			dpopOn := noDPoP == nil
			if strings.EqualFold(scheme, "DPoP") && dpopOn {
				return dpopCall(t, g, opts, md, tok, callURL, broken)
			}
			if !strings.EqualFold(scheme, "Bearer") {
				if opts.Optional {
					return &Seen{}, nil, nil
				}
				return nil, nil, jwtgate.NewError(jwtgate.ErrNoToken, "no bearer token", nil)
			}
			if !ok || tok == "" || strings.ContainsAny(tok, " \t,") {
				return nil, nil, jwtgate.NewError(jwtgate.ErrBadHeader, "malformed", nil)
			}
			tk, err := g.VerifyToken(context.Background(), tok, opts)
			if err != nil && opts.Optional && opts.IgnoreInvalid && ignorable(err) {
				return &Seen{}, nil, nil
			}
			if err != nil {
				if broken == "all-unauthenticated" {
					err = jwtgate.NewError(jwtgate.ErrInvalid, "no", err)
				}
				return nil, nil, err
			}
			s := SeenFrom(jwtgate.NewContext(context.Background(), tk, nil), nil)
			u, _ := jwtgate.User[any](jwtgate.NewContext(context.Background(), tk, nil))
			s.User = u
			return &s, nil, nil
		},
		Code:   func(s error) any { return s },
		CodeOf: func(err error) any { return Sentinel(err) },
	}
}

// dpopCall is plainRPC's call under the DPoP scheme.
func dpopCall(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md Metadata, tok, callURL, broken string) (*Seen, Metadata, error) {
	rt, err := g.Route(opts)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(callURL)
	if broken == "wrong-url" {
		u.Scheme = "http"
	}
	c := jwtgate.Call{Scheme: "DPoP", Token: tok, Proofs: md["dpop"], Method: http.MethodPost, URL: u}
	if broken == "first-proof" && len(c.Proofs) > 1 {
		c.Proofs = c.Proofs[:1]
	}
	ctx, _, err := rt.VerifyCall(context.Background(), &c)
	if err != nil {
		if rt.Admits(err) {
			return &Seen{}, nil, nil
		}
		var answer Metadata
		if errors.Is(err, jwtgate.ErrDPoPNonce) && broken != "no-nonce" {
			answer = Metadata{"dpop-nonce": {g.DPoPNonce()}}
		}
		return nil, answer, err
	}
	s := SeenFrom(ctx, nil)
	return &s, nil, nil
}

// dropHeader is a ResponseWriter that drops one header of the answer.
type dropHeader struct {
	http.ResponseWriter
	name string
}

func (d dropHeader) WriteHeader(code int) {
	d.Header().Del(d.name)
	d.ResponseWriter.WriteHeader(code)
}

func (d dropHeader) Write(b []byte) (int, error) {
	d.Header().Del(d.name)
	return d.ResponseWriter.Write(b)
}

func ignorable(err error) bool {
	for _, e := range []error{jwtgate.ErrBadHeader, jwtgate.ErrInvalid, jwtgate.ErrExpired, jwtgate.ErrWrongType, jwtgate.ErrNotFresh, jwtgate.ErrUserLoad, jwtgate.ErrClaims} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func TestRPC(t *testing.T) { RunRPC(t, plainRPC("")) }

func TestRPCSuiteCatches(t *testing.T) {
	scenario := func(name string) Scenario {
		for _, sc := range Scenarios() {
			if sc.Name == name {
				return sc
			}
		}
		t.Fatalf("no scenario %s", name)
		return Scenario{}
	}
	expired := Scenario{Name: "expired", Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(e.Past, "alice"))} }}
	if d := CompareRPC(t, plainRPC("all-unauthenticated"), expired); len(d) == 0 {
		t.Error("a wrong code passes")
	}
	if d := CompareRPC(t, plainRPC("no-token-passes"), scenario("no-token")); len(d) == 0 {
		t.Error("a call without a token let through passes")
	}
	errsOnly := plainRPC("")
	errsOnly.Code, errsOnly.CodeOf = nil, nil
	if d := CompareRPC(t, errsOnly, expired); len(d) != 0 {
		t.Errorf("sentinel errors: %v", d)
	}
	for _, c := range []struct{ broken, scenario string }{
		{"wrong-url", "dpop"},
		{"wrong-url", "dpop-nonce"},
		{"first-proof", "dpop-two-proofs"},
		{"no-nonce", "dpop-nonce-missing"},
	} {
		if d := CompareRPC(t, plainRPC(c.broken), scenario(c.scenario)); len(d) == 0 {
			t.Errorf("%s: an adapter with %s passes", c.scenario, c.broken)
		}
	}
	noURL := plainRPC("")
	noURL.URL = ""
	if !fails(func(tb testing.TB) { CompareRPC(tb, noURL, scenario("dpop")) }) {
		t.Error("an adapter without RPC.URL passes the DPoP scenarios")
	}
}

// fails reports whether f fails its test (through fatalT).
func fails(f func(testing.TB)) (failed bool) {
	defer func() { failed = recover() == errFatal }()
	f(&fatalT{})
	return false
}

// TestReferenceOutcomes pins which scenarios the Gate lets through under
// ProfileRFC6750, so that the suite keeps testing both outcomes.
func TestReferenceOutcomes(t *testing.T) {
	pass := map[string]bool{}
	for _, n := range []string{
		"header", "header-lowercase-scheme", "header-among-schemes", "header-two-values", "header-custom-name",
		"route-locations", "query", "json", "json-refresh", "preflight", "custom-finder",
		"refresh-route", "skip-type-check", "fresh", "rfc9068-access", "rfc9068-refresh-route",
		"optional-no-token", "optional-token", "ignore-invalid", "ignore-invalid-garbage",
		"cookie-get", "cookie-post-csrf", "cookie-post-csrf-form", "cookie-refresh-route", "cookie-csrf-disabled", "websocket-query",
		"revoked-skip-revocation", "store-down-fail-open", "verify-claims-accepts", "load-user", "load-user-optional",
		"scope", "scope-all", "scp-array", "scope-optional-no-token",
		"dpop", "dpop-required", "dpop-nonce", "dpop-scheme-without-dpop-optional",
	} {
		pass[n] = true
	}
	for _, sc := range Scenarios() {
		env := newEnv(t, sc, jwtgate.ProfileRFC6750, false)
		o := serveRef(env, sc.Route, sc.Request(env))
		if o.ran != pass[sc.Name] {
			t.Errorf("%s: the Gate's handler ran: %v (status %d, body %s)", sc.Name, o.ran, o.status, o.body)
		}
		if o.ran && o.seen.Token == nil && !sc.Route.Optional && sc.Name != "preflight" {
			t.Errorf("%s: passed without a token", sc.Name)
		}
	}
}

// TestLocationsDeclared checks that an adapter declaring the locations it
// supports has the other scenarios skipped, and only those.
func TestLocationsDeclared(t *testing.T) {
	a := HTTP{Locations: []jwtgate.Location{jwtgate.InHeader{}, jwtgate.InQuery{}}}
	for _, c := range []struct {
		loc  jwtgate.Location
		want bool
	}{
		{nil, true}, {jwtgate.InHeader{Name: "X-Token"}, true}, {jwtgate.InQuery{}, true},
		{jwtgate.InCookie{}, false}, {jwtgate.InJSON{}, false},
	} {
		if got := a.supports(c.loc); got != c.want {
			t.Errorf("supports(%T) = %v", c.loc, got)
		}
	}
	if all := (HTTP{}); !all.supports(jwtgate.InCookie{}) || !all.supports(jwtgate.InJSON{}) {
		t.Error("an adapter declaring no locations does not support them all")
	}
}
