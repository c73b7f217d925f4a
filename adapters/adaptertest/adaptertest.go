// Package adaptertest is the conformance suite for framework adapters of
// jwtgate: middleware for gin, echo and the like (RunHTTP), and
// interceptors for gRPC, Connect and other RPC systems (RunRPC).
//
// The suite is differential. Each scenario (a Gate configuration, the
// options of a route and a request) runs twice: through the Gate's own
// middleware (Gate.Protect on net/http), which is the reference, and
// through the adapter. The suite then asserts that both give the same
// outcome: whether the handler ran, the token, user and request body the
// handler saw, and, for a refusal, the status, the headers the Gate sets
// (WWW-Authenticate, Content-Type, Cache-Control, Retry-After) and the
// body, byte for byte. Every scenario runs under each response profile
// (ProfileRFC6750, ProfileFlask, ProfileFlaskJWT). So an adapter cannot
// quietly drop a check or answer in another form. An adapter that
// compiles each route with Gate.Route, runs Route.Verify on each request
// and answers refusals with Route.Fail (Config.OnError, else the
// profile's answer, with the route's realm) passes, as long as it hands
// the handler the request Verify returned and stops the chain on a
// refusal (the suite's own tests run such an adapter on net/http):
//
//	func TestConformance(t *testing.T) {
//		adaptertest.RunHTTP(t, adaptertest.HTTP{
//			Name: "gin",
//			Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record adaptertest.Recorder) http.Handler {
//				e := gin.New()
//				e.Any("/*path", gingate.New(g).Protect(opts), func(c *gin.Context) {
//					record(adaptertest.SeenFrom(c.Request.Context(), c.Request.Body))
//					c.Status(http.StatusOK)
//				})
//				return e
//			},
//		})
//	}
//
// RPC adapters have no cookies, bodies or HTTP statuses: RunRPC sends the
// scenarios that carry their token in the Authorization header as the
// authorization metadata, and checks that the handler ran with the same
// token and user, or that the call was refused with the code the adapter
// gives the sentinel error the Gate refused the request with. Scenarios
// that do not apply to an adapter are skipped with t.Skip, naming what
// does not apply.
//
// The DPoP scenarios (RFC 9449) send DPoP-bound tokens with proofs that
// dpop.Prover makes for each run, for the URL the adapter's server
// computes: the request's own for HTTP adapters (HTTP.ProofURL when it
// differs), RPC.URL for RPC adapters, whose answer must carry the DPoP
// nonce of a refusal wrapping jwtgate.ErrDPoPNonce in its dpop-nonce
// metadata.
//
// The package imports only the standard library and the core packages.
package adaptertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
)

// Seen is what a protected handler saw, through the adapter's accessors.
type Seen struct {
	// Token is the verified token the handler got; nil when the request
	// is not authenticated (an Optional route without a token).
	Token *jwtgate.Token
	// User is the user Config.LoadUser loaded, as the handler got it; nil
	// when none.
	User any
	// Body is the request body as the handler read it (HTTP only).
	Body string
}

// SeenFrom returns what a handler sees in a context that carries the
// Gate's token and user (jwtgate.TokenFrom, jwtgate.User), and in body,
// which it reads to the end (body may be nil). Adapters with their own
// accessors should use those instead, so that the suite checks them.
func SeenFrom(ctx context.Context, body io.Reader) Seen {
	var s Seen
	if t, ok := jwtgate.TokenFrom(ctx); ok {
		s.Token = t
	}
	if u, ok := jwtgate.User[any](ctx); ok {
		s.User = u
	}
	if body != nil {
		b, _ := io.ReadAll(body)
		s.Body = string(b)
	}
	return s
}

// Recorder is called by the protected handler of an adapter under test
// with what it saw, once per request that reaches it.
type Recorder func(Seen)

// HTTP describes an HTTP framework adapter.
type HTTP struct {
	// Name names the adapter in messages.
	Name string

	// Protect returns an http.Handler (the framework's engine, or an
	// adapter of it) that serves every method and path with the adapter's
	// middleware for opts on g, followed by a handler that calls record
	// with what it sees through the adapter's accessors and then answers
	// 200. An adapter whose shortcuts (Required, Optional, Fresh,
	// Refresh) stand for Protect with those options should use them when
	// opts equals them, so that they are checked too. Protect may fail
	// the test (t.Fatal) on options the Gate accepts; it must not accept
	// options the Gate refuses: the suite checks that it panics (or fails
	// the test) for them, as Gate.Protect does.
	Protect func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record Recorder) http.Handler

	// Locations lists the kinds of token locations the adapter supports
	// (InHeader{}, InCookie{}, InQuery{}, InJSON{}); nil means all of
	// them. Scenarios that send their token elsewhere are skipped.
	Locations []jwtgate.Location

	// ProofURL returns the URL that the DPoP proofs of r are made for
	// (htu): the URL the adapter's server computes for r, as a client
	// addresses it. Nil means dpop.RequestURL(r, nil), the URL of r on
	// a server that sees r as it was sent.
	ProofURL func(r *http.Request) *url.URL
}

func (a *HTTP) supports(l jwtgate.Location) bool {
	if a.Locations == nil || l == nil {
		return true
	}
	return slices.ContainsFunc(a.Locations, func(m jwtgate.Location) bool { return reflect.TypeOf(m) == reflect.TypeOf(l) })
}

// Profiles are the response profiles every scenario runs under.
var Profiles = []jwtgate.Profile{jwtgate.ProfileRFC6750, jwtgate.ProfileFlask, jwtgate.ProfileFlaskJWT}

// ProfileName names a profile for test names.
func ProfileName(p jwtgate.Profile) string {
	switch p {
	case jwtgate.ProfileRFC6750:
		return "rfc6750"
	case jwtgate.ProfileFlask:
		return "flask"
	case jwtgate.ProfileFlaskJWT:
		return "flaskjwt"
	}
	return fmt.Sprintf("profile%d", p)
}

// RunHTTP runs every scenario under every profile through a and through
// the Gate's own middleware, and fails the test where they differ. It
// also checks that a refuses, at registration, the route options the Gate
// refuses.
func RunHTTP(t *testing.T, a HTTP) {
	t.Helper()
	if a.Protect == nil {
		t.Fatal("adaptertest: HTTP.Protect is nil")
	}
	for _, p := range Profiles {
		t.Run(ProfileName(p), func(t *testing.T) {
			for _, sc := range Scenarios() {
				t.Run(sc.Name, func(t *testing.T) {
					if !a.supports(sc.Where) {
						t.Skipf("%s does not read tokens from %s", a.Name, sc.Where)
					}
					for _, d := range CompareHTTP(t, a, sc, p) {
						t.Error(d)
					}
				})
			}
		})
	}
	t.Run("bad-options", func(t *testing.T) { checkBadOptions(t, a) })
}

// CompareHTTP runs one scenario under profile p through a and through the
// Gate's own middleware, and returns the differences, each a sentence.
func CompareHTTP(t testing.TB, a HTTP, sc Scenario, p jwtgate.Profile) []string {
	t.Helper()
	env := newEnv(t, sc, p, false)
	spec := sc.Request(env)
	want := serveRef(env, sc.Route, spec)
	got := serveWith(t, a, env, sc.Route, spec)
	return diff(a.Name, want, got)
}

// outcome is what one run of a request gave.
type outcome struct {
	ran    bool
	seen   Seen
	status int
	header http.Header
	body   []byte
	panic  any
}

// checkedHeaders are the headers the Gate sets on a refusal.
var checkedHeaders = []string{"WWW-Authenticate", "Content-Type", "Cache-Control", "Retry-After", "DPoP-Nonce"}

// requests returns the request of s, with its DPoP proofs made for the
// URL proofURL gives (dpop.RequestURL when nil), and, when the proofs
// are to be replayed, a first request with the same proofs (else nil).
func (s Request) requests(e *Env, proofURL func(*http.Request) *url.URL) (first, r *http.Request) {
	r = s.build()
	if s.DPoP == nil {
		return nil, r
	}
	u := dpop.RequestURL(r, nil)
	if proofURL != nil {
		u = proofURL(r)
	}
	proofs := s.DPoP.make(e, r.Method, u)
	add := func(r *http.Request) *http.Request {
		for _, p := range proofs {
			r.Header.Add("DPoP", p)
		}
		return r
	}
	if s.DPoP.Replay {
		first = add(s.build())
	}
	return first, add(r)
}

func serveRef(e *Env, opts jwtgate.RouteOptions, spec Request) outcome {
	var o outcome
	h := e.Gate.Protect(opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.ran, o.seen = true, SeenFrom(r.Context(), r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	first, r := spec.requests(e, nil)
	if first != nil {
		if o.serve(h, first); !o.ran {
			e.T.Fatalf("adaptertest: the Gate refused the first use of a proof (status %d, body %q): the suite is out of date", o.status, o.body)
		}
		o = outcome{}
	}
	o.serve(h, r)
	return o
}

func serveWith(t testing.TB, a HTTP, e *Env, opts jwtgate.RouteOptions, spec Request) outcome {
	var o outcome
	calls := 0
	h := a.Protect(t, e.Gate, opts, func(s Seen) {
		calls++
		o.ran, o.seen = true, s
	})
	first, r := spec.requests(e, a.ProofURL)
	if first != nil {
		o.serve(h, first)
		o, calls = outcome{}, 0
	}
	o.serve(h, r)
	if calls > 1 {
		o.panic = fmt.Sprintf("the handler ran %d times", calls)
	}
	return o
}

// serve serves r with h into o; the handler of h fills o.ran and o.seen.
func (o *outcome) serve(h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			o.panic = p
		}
	}()
	h.ServeHTTP(w, r)
	o.status, o.header, o.body = w.Code, w.Result().Header, w.Body.Bytes()
}

func diff(name string, want, got outcome) []string {
	var d []string
	add := func(format string, args ...any) { d = append(d, name+": "+fmt.Sprintf(format, args...)) }
	if got.panic != nil {
		add("panicked or misbehaved: %v", got.panic)
		return d
	}
	if want.ran != got.ran {
		add("handler ran: %v, the Gate's: %v (status %d, body %q)", got.ran, want.ran, got.status, got.body)
		return d
	}
	if want.ran {
		d = append(d, diffSeen(name, want.seen, got.seen, true)...)
		if got.status != http.StatusOK {
			add("status %d after the handler ran, want 200", got.status)
		}
		return d
	}
	if want.status != got.status {
		add("status %d, the Gate's: %d", got.status, want.status)
	}
	for _, h := range checkedHeaders {
		if w, g := want.header.Values(h), got.header.Values(h); !slices.Equal(w, g) {
			add("header %s: %q, the Gate's: %q", h, g, w)
		}
	}
	if !bytes.Equal(want.body, got.body) {
		add("body %q, the Gate's: %q", got.body, want.body)
	}
	return d
}

func diffSeen(name string, want, got Seen, location bool) []string {
	var d []string
	add := func(format string, args ...any) { d = append(d, name+": "+fmt.Sprintf(format, args...)) }
	switch {
	case (want.Token == nil) != (got.Token == nil):
		add("handler saw token %v, the Gate's handler %v", describe(got.Token), describe(want.Token))
	case want.Token != nil:
		w, g := want.Token, got.Token
		if w.Raw() != g.Raw() || w.Identity != g.Identity || w.Type != g.Type || w.Fresh != g.Fresh || w.CSRF != g.CSRF || (location && w.Location != g.Location) {
			add("handler saw token %v, the Gate's handler %v", describe(g), describe(w))
		}
	}
	if !reflect.DeepEqual(want.User, got.User) {
		add("handler saw user %#v, the Gate's handler %#v", got.User, want.User)
	}
	if want.Body != got.Body {
		add("handler read body %q, the Gate's handler %q", got.Body, want.Body)
	}
	return d
}

func describe(t *jwtgate.Token) string {
	if t == nil {
		return "none"
	}
	return fmt.Sprintf("{identity %q, type %q, fresh %v, location %v, %d bytes}", t.Identity, t.Type, t.Fresh, t.Location, len(t.Raw()))
}

// badOptions are route options every Gate of the suite refuses.
var badOptions = []struct {
	name string
	opts jwtgate.RouteOptions
}{
	{"ignore-invalid-without-optional", jwtgate.RouteOptions{IgnoreInvalid: true}},
	{"fresh-refresh", jwtgate.RouteOptions{Fresh: true, Refresh: true}},
	{"websocket-json", jwtgate.RouteOptions{WebSocket: true, Locations: []jwtgate.Location{jwtgate.InJSON{}}}},
	{"bad-realm", jwtgate.RouteOptions{Realm: `a"b`}},
	{"nil-location", jwtgate.RouteOptions{Locations: []jwtgate.Location{nil}}},
	{"empty-scope", jwtgate.RouteOptions{Scopes: []string{"read", ""}}},
	{"scope-with-quote", jwtgate.RouteOptions{Scopes: []string{`a"b`}}},
}

// checkBadOptions checks that the adapter refuses, when the route is
// made, the options the Gate refuses: by panicking with an error wrapping
// ErrConfig, as Gate.Protect does, or by failing the test.
func checkBadOptions(t *testing.T, a HTTP) {
	for _, bo := range badOptions {
		t.Run(bo.name, func(t *testing.T) {
			env := newEnv(t, Scenario{}, jwtgate.ProfileRFC6750, false)
			if _, err := env.Gate.Route(bo.opts); !errors.Is(err, jwtgate.ErrConfig) {
				t.Fatalf("the Gate accepts %+v (%v): the suite is out of date", bo.opts, err)
			}
			if err := refusesAtRegistration(func(tb testing.TB) {
				a.Protect(tb, env.Gate, bo.opts, func(Seen) {})
			}); err != nil {
				t.Errorf("%s: %v", a.Name, err)
			}
		})
	}
}

// refusesAtRegistration runs register, and reports an error unless it
// panicked with an error wrapping ErrConfig or failed its test.
func refusesAtRegistration(register func(testing.TB)) (err error) {
	ft := &fatalT{}
	defer func() {
		p := recover()
		switch {
		case p == errFatal:
			err = nil
		case p == nil:
			err = errors.New("accepted route options the Gate refuses")
		default:
			if e, ok := p.(error); !ok || !errors.Is(e, jwtgate.ErrConfig) {
				err = fmt.Errorf("panicked with %v, not an error wrapping jwtgate.ErrConfig", p)
			}
		}
	}()
	register(ft)
	return nil
}

var errFatal = errors.New("adaptertest: the registration failed its test")

// fatalT is a testing.TB that turns a failure into a panic, to see
// whether an adapter's registration fails.
type fatalT struct{ testing.TB }

func (*fatalT) Helper()                  {}
func (*fatalT) Fatal(...any)             { panic(errFatal) }
func (*fatalT) Fatalf(string, ...any)    { panic(errFatal) }
func (*fatalT) Error(...any)             { panic(errFatal) }
func (*fatalT) Errorf(string, ...any)    { panic(errFatal) }
func (*fatalT) FailNow()                 { panic(errFatal) }
func (*fatalT) Fail()                    { panic(errFatal) }
func (*fatalT) Log(...any)               {}
func (*fatalT) Logf(string, ...any)      {}
func (*fatalT) Cleanup(func())           {}
func (*fatalT) Name() string             { return "registration" }
func (*fatalT) Context() context.Context { return context.Background() }
func (*fatalT) TempDir() string          { panic(errFatal) }
func (*fatalT) Setenv(string, string)    { panic(errFatal) }
func (*fatalT) Skip(...any)              { panic(errFatal) }
func (*fatalT) Skipf(string, ...any)     { panic(errFatal) }
func (*fatalT) SkipNow()                 { panic(errFatal) }
func (*fatalT) Failed() bool             { return false }
func (*fatalT) Skipped() bool            { return false }
func (*fatalT) Chdir(string)             { panic(errFatal) }
func (*fatalT) Attr(string, string)      {}
func (*fatalT) Output() io.Writer        { return io.Discard }
func (*fatalT) ArtifactDir() string      { panic(errFatal) }
