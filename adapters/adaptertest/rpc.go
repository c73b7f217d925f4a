package adaptertest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/jwtgate/jwtgate"
)

// Metadata are the values of a call's metadata by key, in lower case:
// "authorization" and "dpop" in a call, "dpop-nonce" in its answer.
type Metadata map[string][]string

// RPC describes an RPC adapter (a gRPC or Connect interceptor, say): the
// token comes in the authorization metadata, and a refusal is a code,
// not an HTTP response.
type RPC struct {
	// Name names the adapter in messages.
	Name string

	// Call makes one call through the adapter protecting the method with
	// opts on g (a Gate whose only location is the Authorization header),
	// with md as the call's metadata: the values of authorization (none,
	// one or several) and of dpop, the DPoP proofs. It returns what the
	// handler saw through the adapter's accessors, nil if the handler did
	// not run, the metadata of the answer (headers and trailers; at least
	// dpop-nonce, where the adapter puts the nonce of a refusal wrapping
	// jwtgate.ErrDPoPNonce), and the error the caller got. Call may fail
	// the test (t.Fatal) on options the Gate accepts.
	Call func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md Metadata) (*Seen, Metadata, error)

	// URL is the URL the calls are addressed to as the adapter's server
	// computes it for DPoP proofs (htu): for gRPC, the origin and the
	// full method; for Connect, the origin and the procedure. The DPoP
	// scenarios fail without it.
	URL string

	// Method is the HTTP method of the calls (htm); POST when empty.
	Method string

	// Code returns the code the adapter answers a refusal wrapping sentinel
	// (jwtgate.ErrNoToken, jwtgate.ErrExpired, ...) with, and CodeOf the
	// code of an error that Call returned. The suite checks that a refused
	// call's CodeOf is the Code of the sentinel the Gate refused the same
	// request with. When Code is nil, the suite checks instead that the
	// error Call returned wraps that sentinel (errors.Is).
	Code   func(sentinel error) any
	CodeOf func(err error) any
}

// Sentinels are the sentinel errors of the Gate's refusals, in the order
// Sentinel tries them.
var Sentinels = []error{
	jwtgate.ErrNoToken, jwtgate.ErrBadHeader, jwtgate.ErrExpired, jwtgate.ErrWrongType, jwtgate.ErrNotFresh,
	jwtgate.ErrRevoked, jwtgate.ErrCSRF, jwtgate.ErrInsufficientScope, jwtgate.ErrClaims, jwtgate.ErrUserLoad, jwtgate.ErrUnavailable, jwtgate.ErrInvalid,
}

// Sentinel returns the sentinel error that err wraps: the Kind of a
// *jwtgate.Error, else the first of Sentinels it wraps, else nil.
func Sentinel(err error) error {
	var e *jwtgate.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	for _, s := range Sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// rpcSkip returns why sc does not apply to RPC adapters, or "".
func rpcSkip(sc Scenario) string {
	r := sc.Route
	switch {
	case sc.HTTPOnly != "":
		return sc.HTTPOnly
	case sc.Where != nil && reflect.TypeOf(sc.Where) != reflect.TypeOf(jwtgate.InHeader{}):
		return fmt.Sprintf("the token is sent in %s, not the authorization metadata", sc.Where)
	case len(r.Locations) > 0:
		return "the route lists its own locations"
	case r.WebSocket:
		return "a WebSocket route"
	}
	return ""
}

// RunRPC runs the scenarios that apply to RPC adapters (the token in the
// Authorization header, and DPoP proofs in the DPoP header, nothing else
// of the request read) through a and through the Gate's VerifyRequest,
// and fails the test where the outcomes differ: the handler ran with the
// same token and user, or the call was refused with the code of the
// Gate's sentinel error, and the answer has the Gate's DPoP nonce in
// dpop-nonce when it refused for want of one (and none otherwise). More
// than one authorization value is refused with the code of
// ErrBadHeader. The other scenarios are skipped, saying why.
func RunRPC(t *testing.T, a RPC) {
	t.Helper()
	if a.Call == nil || (a.Code == nil) != (a.CodeOf == nil) {
		t.Fatal("adaptertest: RPC needs Call, and Code and CodeOf together or neither")
	}
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			if why := rpcSkip(sc); why != "" {
				t.Skipf("does not apply to RPC adapters: %s", why)
			}
			for _, d := range CompareRPC(t, a, sc) {
				t.Error(d)
			}
		})
	}
}

// CompareRPC makes one call of a scenario through a and one request
// through the Gate's VerifyRequest with the same authorization values
// (and DPoP proofs like them, for the adapter's URL and method), and
// returns the differences, each a sentence. A scenario whose request
// carries more than that is skipped (t.Skip).
func CompareRPC(t testing.TB, a RPC, sc Scenario) []string {
	t.Helper()
	env := newEnv(t, sc, jwtgate.ProfileRFC6750, true)
	spec := sc.Request(env)
	if spec.Method != "" || spec.Target != "" || spec.Header != nil || spec.Cookies != nil || spec.Body != "" {
		t.Skip("does not apply to RPC adapters: the request carries more than the authorization metadata")
	}
	g, opts := env.Gate, sc.Route
	method := a.Method
	if method == "" {
		method = http.MethodPost
	}
	var proofs func() []string
	replay := false
	if spec.DPoP != nil {
		if a.URL == "" {
			t.Fatalf("adaptertest: %s: RPC.URL is empty: the DPoP scenarios need the URL of the calls", a.Name)
		}
		u, err := url.Parse(a.URL)
		if err != nil {
			t.Fatalf("adaptertest: %s: RPC.URL: %v", a.Name, err)
		}
		proofs = func() []string { return spec.DPoP.make(env, method, u) }
		replay = spec.DPoP.Replay
	}

	var wantErr error
	var want *Seen
	wantNonce := ""
	if len(spec.Authorization) > 1 {
		wantErr = jwtgate.NewError(jwtgate.ErrBadHeader, "more than one authorization value", nil)
	} else {
		build := func(ps []string) *http.Request {
			r := Request{Method: method, Target: a.URL, Authorization: spec.Authorization}.build()
			for _, p := range ps {
				r.Header.Add("DPoP", p)
			}
			return r
		}
		var ps []string
		if proofs != nil {
			ps = proofs()
		}
		if replay {
			if _, err := g.VerifyRequest(build(ps), opts); err != nil {
				t.Fatalf("adaptertest: the Gate refused the first use of a proof (%v): the suite is out of date", err)
			}
		}
		r2, err := g.VerifyRequest(build(ps), opts)
		if err == nil {
			s := SeenFrom(r2.Context(), nil)
			want = &s
		}
		wantErr = err
		if errors.Is(err, jwtgate.ErrDPoPNonce) {
			wantNonce = g.DPoPNonce()
		}
	}

	md := Metadata{}
	if spec.Authorization != nil {
		md["authorization"] = spec.Authorization
	}
	if proofs != nil {
		if ps := proofs(); len(ps) > 0 {
			md["dpop"] = ps
		}
	}
	if replay {
		a.Call(t, g, opts, md)
	}
	got, gotMD, gotErr := a.Call(t, g, opts, md)
	var d []string
	add := func(format string, args ...any) { d = append(d, a.Name+": "+fmt.Sprintf(format, args...)) }
	if n := gotMD["dpop-nonce"]; wantNonce == "" && len(n) > 0 {
		add("answered with dpop-nonce %q, where the Gate gives none (%v)", n, wantErr)
	} else if wantNonce != "" && (len(n) != 1 || n[0] != wantNonce) {
		add("answered with dpop-nonce %q, want %q for the Gate's refusal (%v)", n, wantNonce, wantErr)
	}
	switch {
	case want != nil && got == nil:
		add("refused (%v) a call the Gate lets through", gotErr)
	case want == nil && got != nil:
		add("let through a call the Gate refuses (%v)", wantErr)
	case want != nil:
		if gotErr != nil {
			add("the handler ran but the call failed: %v", gotErr)
		}
		d = append(d, diffSeen(a.Name, *want, *got, false)...)
	case gotErr == nil:
		add("the handler did not run but the call succeeded; the Gate refuses it (%v)", wantErr)
	default:
		s := Sentinel(wantErr)
		if a.Code == nil {
			if !errors.Is(gotErr, s) {
				add("error %v does not wrap %v, the Gate's refusal (%v)", gotErr, s, wantErr)
			}
		} else if w, g := a.Code(s), a.CodeOf(gotErr); w != g {
			add("code %v (%v), want %v for the Gate's refusal (%v)", g, gotErr, w, wantErr)
		}
	}
	return d
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
