package jwtgate

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
)

// oneTime is an in-memory dpop.ReplayStore; down makes it fail.
type oneTime struct {
	mu   sync.Mutex
	used map[string]bool
	down bool
}

func (s *oneTime) Use(_ context.Context, id string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return false, errors.New("store down")
	}
	if s.used == nil {
		s.used = map[string]bool{}
	}
	first := !s.used[id]
	s.used[id] = true
	return first, nil
}

func dpopGate(t testing.TB, store *oneTime, nonces *dpop.Nonces) *Gate {
	t.Helper()
	now := func() time.Time { return testNow.Add(300 * time.Millisecond) }
	v, err := dpop.NewVerifier(dpop.Options{Replay: store, Clock: now, Nonces: nonces, Algorithms: []jwt.Algorithm{jwt.ES256, jwt.EdDSA}})
	if err != nil {
		t.Fatal(err)
	}
	return testGate(t, func(c *Config) { c.DPoP = v })
}

func newProverAt(t *testing.T, at time.Time) *dpop.Prover {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.NewProver(k, jwt.ES256, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDPoPRoutes(t *testing.T) {
	store := &oneTime{}
	g := dpopGate(t, store, nil)
	p := newProverAt(t, testNow)
	other := newProverAt(t, testNow)
	bound := access(t, g, "alice", BindTo(p.Thumbprint()))
	plain := access(t, g, "alice")
	target := "http://api.example.com/orders?id=7"
	proof := func(p *dpop.Prover, method, uri, token string) string {
		u, _ := url.Parse(uri)
		s, err := p.Proof(method, u, token, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	replayed := proof(p, "GET", target, bound)
	type hdrs = map[string][]string
	type dpopCase struct {
		name      string
		policy    DPoPPolicy
		header    hdrs
		status    int
		code      string // the body's error
		challenge string // a prefix of the first WWW-Authenticate value
		second    string // the second WWW-Authenticate value, if any
	}
	tests := []dpopCase{
		{name: "bound token with its proof", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {replayed}}, status: 200},
		{name: "replayed proof", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {replayed}}, status: 401, code: "invalid_dpop_proof", challenge: `DPoP algs="ES256 EdDSA", error="invalid_dpop_proof"`},
		{name: "required: bound token", policy: DPoPRequired, header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(p, "GET", target, bound)}}, status: 200},
		{name: "bound token as bearer", header: hdrs{"Authorization": {"Bearer " + bound}}, status: 401, code: "invalid_token", challenge: `Bearer realm="jwtgate", error="invalid_token"`, second: `DPoP algs="ES256 EdDSA"`},
		{name: "unbound token as DPoP", header: hdrs{"Authorization": {"DPoP " + plain}, "Dpop": {proof(p, "GET", target, plain)}}, status: 401, code: "invalid_token", challenge: `DPoP algs="ES256 EdDSA", error="invalid_token"`},
		{name: "required: bearer token", policy: DPoPRequired, header: hdrs{"Authorization": {"Bearer " + plain}}, status: 401, code: "invalid_dpop_proof", challenge: `DPoP algs="ES256 EdDSA", error="invalid_dpop_proof"`},
		{name: "required: no token", policy: DPoPRequired, status: 401, code: "unauthorized", challenge: `DPoP algs="ES256 EdDSA"`},
		{name: "allowed: no token, both challenges", status: 401, code: "unauthorized", challenge: `Bearer realm="jwtgate"`, second: `DPoP algs="ES256 EdDSA"`},
		{name: "refused: DPoP", policy: DPoPRefused, header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(p, "GET", target, bound)}}, status: 400, code: "invalid_request"},
		{name: "refused: bearer", policy: DPoPRefused, header: hdrs{"Authorization": {"Bearer " + plain}}, status: 200},
		{name: "refused: bound token as bearer", policy: DPoPRefused, header: hdrs{"Authorization": {"Bearer " + bound}}, status: 401, code: "invalid_token", challenge: `Bearer realm="jwtgate", error="invalid_token"`},
		{name: "required: bound token as bearer", policy: DPoPRequired, header: hdrs{"Authorization": {"Bearer " + bound}}, status: 401, code: "invalid_token", challenge: `DPoP algs="ES256 EdDSA", error="invalid_token"`},
		{name: "no proof", header: hdrs{"Authorization": {"DPoP " + bound}}, status: 401, code: "invalid_dpop_proof"},
		{name: "two proofs", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(p, "GET", target, bound), proof(p, "GET", target, bound)}}, status: 401, code: "invalid_dpop_proof"},
		{name: "proof for another method", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(p, "POST", target, bound)}}, status: 401, code: "invalid_dpop_proof"},
		{name: "proof for another URI", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(p, "GET", "http://api.example.com/other", bound)}}, status: 401, code: "invalid_dpop_proof"},
		{name: "proof for another token", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(p, "GET", target, plain)}}, status: 401, code: "invalid_dpop_proof"},
		{name: "proof by another key", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(other, "GET", target, bound)}}, status: 401, code: "invalid_dpop_proof"},
		{name: "stale proof", header: hdrs{"Authorization": {"DPoP " + bound}, "Dpop": {proof(newProverAt(t, testNow.Add(-2*time.Minute)), "GET", target, bound)}}, status: 401, code: "invalid_dpop_proof"},
		{name: "DPoP scheme with two words", header: hdrs{"Authorization": {"DPoP " + bound + " x"}}, status: 400, code: "invalid_request"},
		{name: "DPoP scheme beside Bearer", header: hdrs{"Authorization": {"DPoP " + bound + ", Bearer " + plain}}, status: 400, code: "invalid_request"},
	}
	// Tokens whose cnf a Gate cannot check: refused, as bearer or DPoP
	// tokens, whatever the route's policy.
	for name, cnf := range map[string]any{
		"mTLS-bound (x5t#S256)":    map[string]string{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"},
		"key-bound (jwk)":          map[string]any{"jwk": map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}},
		"empty cnf":                map[string]any{},
		"cnf not an object":        "jkt",
		"jkt not a string":         map[string]any{"jkt": 7},
		"empty jkt":                map[string]any{"jkt": ""},
		"jkt beside another thing": map[string]any{"jkt": "", "x5t#S256": "x"},
	} {
		tok := access(t, g, "alice", WithClaims(map[string]any{"cnf": cnf}))
		pr := proof(p, "GET", target, tok)
		tests = append(tests,
			dpopCase{name: name + " as bearer", header: hdrs{"Authorization": {"Bearer " + tok}}, status: 401, code: "invalid_token", challenge: `Bearer realm="jwtgate", error="invalid_token"`, second: `DPoP algs="ES256 EdDSA"`},
			dpopCase{name: name + " as bearer, DPoP refused", policy: DPoPRefused, header: hdrs{"Authorization": {"Bearer " + tok}}, status: 401, code: "invalid_token"},
			dpopCase{name: name + " as bearer, DPoP required", policy: DPoPRequired, header: hdrs{"Authorization": {"Bearer " + tok}}, status: 401},
			dpopCase{name: name + " as DPoP", header: hdrs{"Authorization": {"DPoP " + tok}, "Dpop": {pr}}, status: 401, code: "invalid_token", challenge: `DPoP algs="ES256 EdDSA", error="invalid_token"`},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := g.Protect(RouteOptions{DPoP: tt.policy})(echo(g))
			r := httptest.NewRequest("GET", target, nil)
			for k, vs := range tt.header {
				r.Header[k] = vs
			}
			res := serve(h, r)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d (%v)", res.status, tt.status, res.body)
			}
			if tt.code != "" && res.body["error"] != tt.code {
				t.Errorf("error %v, want %s (%v)", res.body["error"], tt.code, res.body)
			}
			ch := res.header.Values("WWW-Authenticate")
			if tt.challenge != "" && (len(ch) == 0 || !strings.HasPrefix(ch[0], tt.challenge)) {
				t.Errorf("WWW-Authenticate %q, want it to start with %q", ch, tt.challenge)
			}
			if tt.second != "" && (len(ch) != 2 || ch[1] != tt.second) {
				t.Errorf("WWW-Authenticate %q, want a second challenge %q", ch, tt.second)
			}
			if tt.second == "" && len(ch) > 1 {
				t.Errorf("WWW-Authenticate %q: one challenge expected", ch)
			}
		})
	}

	// The token in the context says what it is bound to.
	r := httptest.NewRequest("GET", target, nil)
	r.Header.Set("Authorization", "DPoP "+bound)
	r.Header.Set("DPoP", proof(p, "GET", target, bound))
	rt, _ := g.Route(RouteOptions{})
	r2, err := rt.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if tk, _ := TokenFrom(r2.Context()); tk.Thumbprint() != p.Thumbprint() {
		t.Errorf("Thumbprint %q, want %q", tk.Thumbprint(), p.Thumbprint())
	}
	// Outside a request a bound token cannot be proven.
	if _, err := rt.VerifyToken(context.Background(), bound); !errors.Is(err, ErrInvalid) {
		t.Errorf("VerifyToken(bound) = %v, want ErrInvalid", err)
	}

	// A replay store that cannot answer fails closed.
	store.down = true
	r = httptest.NewRequest("GET", target, nil)
	r.Header.Set("Authorization", "DPoP "+bound)
	r.Header.Set("DPoP", proof(p, "GET", target, bound))
	if res := serve(g.Required(echo(g)), r); res.status != http.StatusServiceUnavailable {
		t.Errorf("store down: %d, want 503", res.status)
	}
}

func TestDPoPWithoutConfig(t *testing.T) {
	g := testGate(t, nil)
	p := newProverAt(t, testNow)
	bound := access(t, g, "alice", BindTo(p.Thumbprint()))
	r := reqSpec{headers: map[string]string{"Authorization": "Bearer " + bound}}.build()
	res := serve(g.Required(echo(g)), r)
	if res.status != 401 || !strings.Contains(res.body["error_description"].(string), "does not take DPoP") {
		t.Errorf("bound token on a Gate without DPoP: %d %v", res.status, res.body)
	}
	// The DPoP scheme is not read.
	r = reqSpec{headers: map[string]string{"Authorization": "DPoP " + bound}}.build()
	if res := serve(g.Required(echo(g)), r); res.status != 401 || len(res.header.Values("WWW-Authenticate")) != 1 {
		t.Errorf("DPoP scheme on a Gate without DPoP: %d %v", res.status, res.header)
	}
	for name, opts := range map[string]RouteOptions{
		"required without Config.DPoP": {DPoP: DPoPRequired},
		"unknown policy":               {DPoP: 9},
	} {
		if _, err := g.Route(opts); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	gd := dpopGate(t, &oneTime{}, nil)
	if _, err := gd.Route(RouteOptions{DPoP: DPoPRequired, Locations: []Location{InQuery{}}}); !errors.Is(err, ErrConfig) {
		t.Errorf("DPoPRequired without the Authorization header: %v, want ErrConfig", err)
	}
	if _, err := gd.Route(RouteOptions{DPoP: DPoPRequired, Locations: []Location{InHeader{Name: "X-Token", NoScheme: true}}}); !errors.Is(err, ErrConfig) {
		t.Errorf("DPoPRequired on a header without scheme: %v, want ErrConfig", err)
	}
}

// TestDPoPNonceAndTransport: a real client (dpop.Transport) against a
// Gate-protected server requiring nonces: refused once with
// use_dpop_nonce and a DPoP-Nonce, then accepted.
func TestDPoPNonceAndTransport(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a nonce secret of thirty-two by."), Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := dpop.NewVerifier(dpop.Options{Replay: &oneTime{}, Nonces: nonces})
	if err != nil {
		t.Fatal(err)
	}
	g := testGate(t, func(c *Config) { c.DPoP = v; c.Clock = nil })
	var refusals int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.Protect(RouteOptions{DPoP: DPoPRequired})(echo(g)).ServeHTTP(&countNonce{ResponseWriter: w, n: &refusals, mu: &mu}, r)
	}))
	defer srv.Close()
	p, err := dpop.NewProver(mustECKey(t), jwt.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	token := access(t, g, "alice", BindTo(p.Thumbprint()))

	// By hand first: the refusal carries the nonce.
	u, _ := url.Parse(srv.URL + "/x")
	first, _ := p.Proof("GET", u, token, "")
	req, _ := http.NewRequest("GET", u.String(), nil)
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", first)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("DPoP-Nonce") == "" ||
		!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `DPoP algs="`) || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("without nonce: %d %v", resp.StatusCode, resp.Header)
	}

	client := &http.Client{Transport: &dpop.Transport{Prover: p, Token: func(context.Context) (string, error) { return token, nil }}}
	for range 3 {
		resp, err := client.Get(srv.URL + "/x?y=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"identity":"alice"`) {
			t.Fatalf("through the Transport: %d %s", resp.StatusCode, b)
		}
	}
	if refusals != 2 {
		t.Errorf("%d use_dpop_nonce refusals, want 2 (by hand, then the Transport's first request)", refusals)
	}
}

// countNonce counts the use_dpop_nonce refusals written through it.
type countNonce struct {
	http.ResponseWriter
	n  *int
	mu *sync.Mutex
}

func (c *countNonce) WriteHeader(code int) {
	if strings.Contains(c.Header().Get("WWW-Authenticate"), "use_dpop_nonce") {
		c.mu.Lock()
		*c.n++
		c.mu.Unlock()
	}
	c.ResponseWriter.WriteHeader(code)
}

func mustECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzDPoPRequest: any Authorization and DPoP headers, method and path
// get an answer from a DPoP Gate, never a panic: 200 only for a bound
// token with a proof that verifies.
func FuzzDPoPRequest(f *testing.F) {
	g := dpopGate(f, &oneTime{}, nil)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p, _ := dpop.NewProver(k, jwt.ES256, func() time.Time { return testNow })
	bound, _ := g.CreateAccessToken(context.Background(), "alice", BindTo(p.Thumbprint()))
	u, _ := url.Parse("http://example.com/x")
	proof, _ := p.Proof("GET", u, bound, "")
	f.Add("DPoP "+bound, proof, "GET", "/x")
	f.Add("dpop  "+bound, proof+","+proof, "POST", "/x/../x")
	f.Add("DPoP ", "a.b.c", "GET", "/")
	f.Add("Bearer "+bound, "", "GET", "/x")
	h := g.Required(echo(g))
	f.Fuzz(func(t *testing.T, auth, proof, method, path string) {
		if !validMethod(method) {
			method = "GET"
		}
		r := httptest.NewRequest("GET", "http://example.com/", nil)
		r.Method = method
		if pu, err := url.Parse(path); err == nil {
			r.URL.Path, r.URL.RawPath = pu.Path, pu.RawPath
		}
		r.Header.Set("Authorization", auth)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		res := serve(h, r)
		switch res.status {
		case 200, 400, 401:
		default:
			t.Fatalf("status %d", res.status)
		}
	})
}

// TestWriteErrorDPoPWithoutConfig: WriteError given a DPoP error by
// application code, on a Gate without Config.DPoP, answers without a
// nonce or a DPoP challenge, and does not panic.
func TestWriteErrorDPoPWithoutConfig(t *testing.T) {
	g := testGate(t, nil)
	for _, kind := range []error{ErrDPoPNonce, ErrDPoP} {
		w := httptest.NewRecorder()
		g.WriteError(w, httptest.NewRequest("GET", "/", nil), NewError(kind, "from the application", nil))
		if w.Code != http.StatusUnauthorized || w.Header().Get("DPoP-Nonce") != "" ||
			!strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%v: %d %v", kind, w.Code, w.Header())
		}
	}
}

// TestVerifyCall: DPoP on a call that is not an *http.Request (an RPC),
// with the rules of the middleware.
func TestVerifyCall(t *testing.T) {
	store := &oneTime{}
	g := dpopGate(t, store, nil)
	p := newProverAt(t, testNow)
	other := newProverAt(t, testNow)
	bound := access(t, g, "alice", BindTo(p.Thumbprint()))
	plain := access(t, g, "alice")
	target, _ := url.Parse("https://api.example.com/shop.Orders/Get")
	proof := func(p *dpop.Prover, method, uri, token string) string {
		u, _ := url.Parse(uri)
		s, err := p.Proof(method, u, token, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func() []string { return []string{proof(p, "POST", target.String(), bound)} }
	replayed := valid()
	tests := []struct {
		name   string
		policy DPoPPolicy
		call   Call
		want   error // nil: accepted
	}{
		{name: "bound token with its proof", call: Call{Scheme: "DPoP", Token: bound, Proofs: replayed}},
		{name: "scheme in another case", call: Call{Scheme: "dpop", Token: bound, Proofs: valid()}},
		{name: "replayed proof", call: Call{Scheme: "DPoP", Token: bound, Proofs: replayed}, want: ErrDPoP},
		{name: "proof for another method", call: Call{Scheme: "DPoP", Token: bound, Proofs: []string{proof(p, "GET", target.String(), bound)}}, want: ErrDPoP},
		{name: "proof for another URL", call: Call{Scheme: "DPoP", Token: bound, Proofs: []string{proof(p, "POST", "https://api.example.com/shop.Orders/Cancel", bound)}}, want: ErrDPoP},
		{name: "proof for another origin", call: Call{Scheme: "DPoP", Token: bound, Proofs: []string{proof(p, "POST", "http://api.example.com/shop.Orders/Get", bound)}}, want: ErrDPoP},
		{name: "proof by another key", call: Call{Scheme: "DPoP", Token: bound, Proofs: []string{proof(other, "POST", target.String(), bound)}}, want: ErrDPoP},
		{name: "proof for another token", call: Call{Scheme: "DPoP", Token: bound, Proofs: []string{proof(p, "POST", target.String(), plain)}}, want: ErrDPoP},
		{name: "missing proof", call: Call{Scheme: "DPoP", Token: bound}, want: ErrDPoP},
		{name: "two proofs", call: Call{Scheme: "DPoP", Token: bound, Proofs: append(valid(), valid()...)}, want: ErrDPoP},
		{name: "no URL", call: Call{Scheme: "DPoP", Token: bound, Proofs: valid(), URL: nil}, want: ErrDPoP},
		{name: "bound token as bearer", call: Call{Scheme: "Bearer", Token: bound}, want: ErrInvalid},
		{name: "unbound token as DPoP", call: Call{Scheme: "DPoP", Token: plain, Proofs: []string{proof(p, "POST", target.String(), plain)}}, want: ErrInvalid},
		{name: "bearer token", call: Call{Scheme: "Bearer", Token: plain}},
		{name: "refused: DPoP", policy: DPoPRefused, call: Call{Scheme: "DPoP", Token: bound, Proofs: valid()}, want: ErrBadHeader},
		{name: "refused: bearer", policy: DPoPRefused, call: Call{Scheme: "Bearer", Token: plain}},
		{name: "refused: bound token as bearer", policy: DPoPRefused, call: Call{Scheme: "Bearer", Token: bound}, want: ErrInvalid},
		{name: "required: bound token as bearer", policy: DPoPRequired, call: Call{Scheme: "Bearer", Token: bound}, want: ErrInvalid},
		{name: "required: bound token", policy: DPoPRequired, call: Call{Scheme: "DPoP", Token: bound, Proofs: valid()}},
		{name: "required: bearer token", policy: DPoPRequired, call: Call{Scheme: "Bearer", Token: plain}, want: ErrDPoP},
		{name: "no token", call: Call{Scheme: "DPoP"}, want: ErrNoToken},
		{name: "another scheme", call: Call{Scheme: "Basic", Token: plain}, want: ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := g.Route(RouteOptions{DPoP: tt.policy})
			if err != nil {
				t.Fatal(err)
			}
			c := tt.call
			c.Method = "POST"
			if tt.name != "no URL" {
				c.URL = target
			}
			ctx, tok, err := rt.VerifyCall(context.Background(), &c)
			if tt.want != nil {
				if !errors.Is(err, tt.want) || ctx != nil || tok != nil {
					t.Fatalf("VerifyCall = %v, %v, %v; want %v", ctx, tok, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := TokenFrom(ctx); !ok || got != tok || got.Identity != "alice" {
				t.Errorf("TokenFrom: %v, %v", got, ok)
			}
			if c.Scheme != "Bearer" && tok.Thumbprint() != p.Thumbprint() {
				t.Errorf("Thumbprint %q, want %q", tok.Thumbprint(), p.Thumbprint())
			}
		})
	}

	// A replay store that cannot answer fails closed.
	rt, _ := g.Route(RouteOptions{})
	store.down = true
	_, _, err := rt.VerifyCall(context.Background(), &Call{Scheme: "DPoP", Token: bound, Proofs: valid(), Method: "POST", URL: target})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("store down: %v, want ErrUnavailable", err)
	}

	// No call at all is a call without a token, not a panic.
	if _, _, err := rt.VerifyCall(context.Background(), nil); !errors.Is(err, ErrNoToken) {
		t.Errorf("nil call: %v, want ErrNoToken", err)
	}
}

// TestVerifyCallNonce: with server nonces, a proof without one is refused
// with ErrDPoPNonce; a proof with Gate.DPoPNonce passes.
func TestVerifyCallNonce(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a nonce secret of thirty-two by."), Clock: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	g := dpopGate(t, &oneTime{}, nonces)
	p := newProverAt(t, testNow)
	bound := access(t, g, "alice", BindTo(p.Thumbprint()))
	target, _ := url.Parse("http://127.0.0.1:8080/shop.Orders/Get")
	rt, _ := g.Route(RouteOptions{DPoP: DPoPRequired})
	call := func(nonce string) error {
		s, err := p.Proof("POST", target, bound, nonce)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = rt.VerifyCall(context.Background(), &Call{Scheme: "DPoP", Token: bound, Proofs: []string{s}, Method: "POST", URL: target})
		return err
	}
	if err := call(""); !errors.Is(err, ErrDPoPNonce) {
		t.Fatalf("without nonce: %v, want ErrDPoPNonce", err)
	}
	if err := call("bm9uY2U"); !errors.Is(err, ErrDPoPNonce) {
		t.Fatalf("with a made-up nonce: %v, want ErrDPoPNonce", err)
	}
	n := g.DPoPNonce()
	if n == "" {
		t.Fatal("DPoPNonce is empty on a Gate with nonces")
	}
	if err := call(n); err != nil {
		t.Fatalf("with the nonce: %v", err)
	}
	if n := testGate(t, nil).DPoPNonce(); n != "" {
		t.Errorf("DPoPNonce without Config.DPoP = %q", n)
	}
}

// TestVerifyCallWithoutConfig: on a Gate without Config.DPoP the DPoP
// scheme is not taken, and a bound token is refused as for HTTP.
func TestVerifyCallWithoutConfig(t *testing.T) {
	g := testGate(t, nil)
	p := newProverAt(t, testNow)
	bound := access(t, g, "alice", BindTo(p.Thumbprint()))
	rt, _ := g.Route(RouteOptions{})
	target, _ := url.Parse("https://api.example.com/shop.Orders/Get")
	s, _ := p.Proof("POST", target, bound, "")
	if _, _, err := rt.VerifyCall(context.Background(), &Call{Scheme: "DPoP", Token: bound, Proofs: []string{s}, Method: "POST", URL: target}); !errors.Is(err, ErrBadHeader) {
		t.Errorf("DPoP scheme: %v, want ErrBadHeader", err)
	}
	if _, _, err := rt.VerifyCall(context.Background(), &Call{Scheme: "Bearer", Token: bound}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bound token as bearer: %v, want ErrInvalid", err)
	}
}
