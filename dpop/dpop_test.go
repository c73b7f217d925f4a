package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

var testNow = time.Unix(1767225600, 0)

// replay is an in-memory ReplayStore for the tests; down makes it fail.
type replay struct {
	mu   sync.Mutex
	used map[string]time.Time
	down bool
}

func (r *replay) Use(_ context.Context, id string, until time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return false, errors.New("store down")
	}
	if r.used == nil {
		r.used = map[string]time.Time{}
	}
	if _, ok := r.used[id]; ok {
		return false, nil
	}
	r.used[id] = until
	return true, nil
}

func newVerifier(t testing.TB, store dpop.ReplayStore, mutate func(*dpop.Options)) *dpop.Verifier {
	t.Helper()
	opts := dpop.Options{Replay: store, Clock: func() time.Time { return testNow }}
	if mutate != nil {
		mutate(&opts)
	}
	v, err := dpop.NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newProver(t testing.TB, key *ecdsa.PrivateKey, at time.Time) *dpop.Prover {
	t.Helper()
	p, err := dpop.NewProver(key, jwt.ES256, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// sign makes a proof with any header members and claims, for the bad
// cases a Prover would not make.
func sign(t testing.TB, key *jwt.Key, alg jwt.Algorithm, header map[string]any, claims map[string]any) string {
	t.Helper()
	typ := "dpop+jwt"
	if v, ok := header["typ"]; ok {
		typ = v.(string)
		delete(header, "typ")
	}
	s, err := jwt.NewSigner(key, alg, jwt.SignerOptions{Type: typ, Header: header})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func publicJWK(t testing.TB, pub any, alg jwt.Algorithm) json.RawMessage {
	t.Helper()
	k, err := jwt.NewPublicKey(pub, alg)
	if err != nil {
		t.Fatal(err)
	}
	jk, err := jwk.NewKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jk.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	key := ecKey(t)
	other := ecKey(t)
	p := newProver(t, key, testNow)
	target := mustURL("https://api.example.com/orders/7?page=2#x")
	const token = "the.access.token"
	good := func() string {
		s, err := p.Proof("POST", target, token, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signer, err := jwt.NewPrivateKey(key, jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"jti": "j-" + rand.Text(), "htm": "POST", "htu": "https://api.example.com/orders/7", "iat": testNow.Unix(), "ath": dpop.AccessTokenHash(token)}
		if edit != nil {
			edit(c)
		}
		return c
	}
	withJWK := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"jwk": publicJWK(t, &key.PublicKey, jwt.ES256)}
		if edit != nil {
			edit(h)
		}
		return h
	}
	hmacKey, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	octJWK, _ := json.Marshal(map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
	privJWK := func() json.RawMessage {
		k, _ := jwt.NewPrivateKey(key, jwt.ES256)
		jk, err := jwk.NewKey(k)
		if err != nil {
			t.Fatal(err)
		}
		b, err := jk.MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpop+jwt","jwk":`+string(publicJWK(t, &key.PublicKey, jwt.ES256))+`}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"n","htm":"POST","htu":"https://api.example.com/orders/7","iat":1767225600}`)) + "."
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edSigner, _ := jwt.NewPrivateKey(edPriv, jwt.EdDSA)

	boundToOther := func() string {
		po := newProver(t, other, testNow)
		return po.Thumbprint()
	}()

	tests := []struct {
		name  string
		proof string
		req   dpop.Request
		want  error // nil: accepted
	}{
		{name: "good", proof: good(), req: dpop.Request{Method: "POST", URL: target, AccessToken: token, Thumbprint: p.Thumbprint()}},
		{name: "good without token", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { delete(c, "ath") })), req: dpop.Request{Method: "POST", URL: target}},
		{name: "EdDSA", proof: sign(t, edSigner, jwt.EdDSA, map[string]any{"jwk": publicJWK(t, edPriv.Public(), jwt.EdDSA)}, claims(nil)), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}},
		{name: "normalised URI", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "HTTPS://API.example.com:443/a/../orders/%37" })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}},
		{name: "empty", proof: "", req: dpop.Request{Method: "POST", URL: target}, want: dpop.ErrInvalidProof},
		{name: "other method", proof: good(), req: dpop.Request{Method: "GET", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "method case", proof: good(), req: dpop.Request{Method: "post", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "other path", proof: good(), req: dpop.Request{Method: "POST", URL: mustURL("https://api.example.com/orders/8"), AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "other host", proof: good(), req: dpop.Request{Method: "POST", URL: mustURL("https://evil.example.com/orders/7"), AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "other scheme", proof: good(), req: dpop.Request{Method: "POST", URL: mustURL("http://api.example.com/orders/7"), AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "other port", proof: good(), req: dpop.Request{Method: "POST", URL: mustURL("https://api.example.com:8443/orders/7"), AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "htu with query", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "https://api.example.com/orders/7?x=1" })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "htu with fragment", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "https://api.example.com/orders/7#" })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "htu with userinfo", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "https://api.example.com@evil.example.com/orders/7" })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "htu relative", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "/orders/7" })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "htu not a string", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = []string{"https://api.example.com/orders/7"} })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "stale iat", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["iat"] = testNow.Add(-61 * time.Second).Unix() })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "future iat", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["iat"] = testNow.Add(6 * time.Second).Unix() })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "iat within leeway", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["iat"] = testNow.Add(4 * time.Second).Unix() })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}},
		{name: "no iat", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { delete(c, "iat") })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "no jti", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { delete(c, "jti") })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "long jti", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["jti"] = strings.Repeat("j", 257) })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "HS256", proof: sign(t, hmacKey, jwt.HS256, map[string]any{"jwk": json.RawMessage(octJWK)}, claims(nil)), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "none", proof: none, req: dpop.Request{Method: "POST", URL: target}, want: dpop.ErrInvalidProof},
		{name: "private jwk", proof: sign(t, signer, jwt.ES256, map[string]any{"jwk": privJWK}, claims(nil)), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "no jwk", proof: sign(t, signer, jwt.ES256, map[string]any{}, claims(nil)), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "jwk of another key", proof: sign(t, signer, jwt.ES256, map[string]any{"jwk": publicJWK(t, &other.PublicKey, jwt.ES256)}, claims(nil)), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "wrong typ", proof: sign(t, signer, jwt.ES256, withJWK(func(h map[string]any) { h["typ"] = "JWT" }), claims(nil)), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "missing ath", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { delete(c, "ath") })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "wrong ath", proof: good(), req: dpop.Request{Method: "POST", URL: target, AccessToken: token + "x"}, want: dpop.ErrInvalidProof},
		{name: "token bound to another key", proof: good(), req: dpop.Request{Method: "POST", URL: target, AccessToken: token, Thumbprint: boundToOther}, want: dpop.ErrInvalidProof},
		{name: "over 8 KiB", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["pad"] = strings.Repeat("p", 8<<10) })), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "two proofs", proof: good() + "," + good(), req: dpop.Request{Method: "POST", URL: target, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "garbage", proof: "not a proof", req: dpop.Request{Method: "POST", URL: target}, want: dpop.ErrInvalidProof},
		// A request's host comes from the client (an RPC's :authority, which
		// gRPC servers do not check): one that is not a host makes no URI.
		{name: "request host with a path", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "https://api.example.com/orders/7" })), req: dpop.Request{Method: "POST", URL: &url.URL{Scheme: "https", Host: "api.example.com/orders", Path: "/7"}, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "request host with user information", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "https://u@api.example.com/orders/7" })), req: dpop.Request{Method: "POST", URL: &url.URL{Scheme: "https", Host: "u@api.example.com", Path: "/orders/7"}, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "request path without its slash", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "https://api.example.com/orders/7" })), req: dpop.Request{Method: "POST", URL: &url.URL{Scheme: "https", Host: "api.example", Path: ".com/orders/7"}, AccessToken: token}, want: dpop.ErrInvalidProof},
		{name: "request host in Unicode", proof: sign(t, signer, jwt.ES256, withJWK(nil), claims(func(c map[string]any) { c["htu"] = "https://bücher.example/orders/7" })), req: dpop.Request{Method: "POST", URL: &url.URL{Scheme: "https", Host: "bücher.example", Path: "/orders/7"}, AccessToken: token}},
	}
	for _, kind := range storeKinds {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				store, _ := kind.make()
				v := newVerifier(t, store, nil)
				got, err := v.Verify(ctx, tt.proof, tt.req)
				if tt.want == nil {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					if got.Thumbprint == "" || got.Method != "POST" || got.Key == nil || got.ID == "" {
						t.Fatalf("Proof = %+v", got)
					}
					return
				}
				if !errors.Is(err, tt.want) {
					t.Fatalf("Verify error = %v, want %v", err, tt.want)
				}
				t.Log(err)
			})
		}
	}
}

func TestReplay(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, c := kind.make()
			testReplay(t, s, c.s.(*replay))
		})
	}
}

func testReplay(t *testing.T, s dpop.ReplayStore, store *replay) {
	ctx := context.Background()
	a := newVerifier(t, s, nil)
	b := newVerifier(t, s, nil) // another instance sharing the store
	p := newProver(t, ecKey(t), testNow)
	u := mustURL("https://api.example.com/x")
	proof, err := p.Proof("GET", u, "", "")
	if err != nil {
		t.Fatal(err)
	}
	req := dpop.Request{Method: "GET", URL: u}
	if _, err := a.Verify(ctx, proof, req); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*dpop.Verifier{a, b} {
		if _, err := v.Verify(ctx, proof, req); !errors.Is(err, dpop.ErrInvalidProof) || !strings.Contains(err.Error(), "used before") {
			t.Fatalf("replay: %v, want ErrInvalidProof (used before)", err)
		}
	}
	// A store that cannot answer refuses the proof.
	store.down = true
	fresh, _ := p.Proof("GET", u, "", "")
	if _, err := a.Verify(ctx, fresh, req); !errors.Is(err, dpop.ErrUnavailable) {
		t.Fatalf("store down: %v, want ErrUnavailable", err)
	}
	// The proof is kept for MaxAge plus Leeway after its iat.
	store.down = false
	if _, err := a.Verify(ctx, fresh, req); err != nil {
		t.Fatalf("after the store came back: %v", err)
	}
	for id, until := range store.used {
		if want := testNow.Add(65 * time.Second); !until.Equal(want) {
			t.Errorf("%s kept until %v, want %v", id, until, want)
		}
	}
}

func TestNonces(t *testing.T) {
	ctx := context.Background()
	secret := []byte("a shared nonce secret of 32 byte")
	now := testNow
	clock := func() time.Time { return now }
	mk := func() *dpop.Nonces {
		n, err := dpop.NewNonces(dpop.NonceOptions{Secret: secret, Lifetime: time.Minute, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1, n2 := mk(), mk()
	other, _ := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("another secret of at least 32 by"), Clock: clock})
	v := newVerifier(t, &replay{}, func(o *dpop.Options) { o.Nonces = n1; o.Clock = clock })
	key := ecKey(t)
	u := mustURL("https://api.example.com/x")
	req := dpop.Request{Method: "GET", URL: u}
	proof := func(nonce string) string {
		s, err := newProver(t, key, now).Proof("GET", u, "", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := v.Verify(ctx, proof(""), req); !errors.Is(err, dpop.ErrUseNonce) {
		t.Fatalf("no nonce: %v, want ErrUseNonce", err)
	}
	if _, err := v.Verify(ctx, proof(other.Current()), req); !errors.Is(err, dpop.ErrUseNonce) {
		t.Fatalf("foreign nonce: %v, want ErrUseNonce", err)
	}
	if _, err := v.Verify(ctx, proof("garbage"), req); !errors.Is(err, dpop.ErrUseNonce) {
		t.Fatalf("garbage nonce: %v, want ErrUseNonce", err)
	}
	// A nonce given by another instance with the same secret is valid.
	if _, err := v.Verify(ctx, proof(n2.Current()), req); err != nil {
		t.Fatalf("nonce of another instance: %v", err)
	}
	if v.Nonce() != n2.Current() {
		t.Error("two instances give different nonces in the same period")
	}
	// It rotates every half lifetime and expires after the lifetime.
	given := n1.Current()
	now = now.Add(30 * time.Second)
	if n1.Current() == given {
		t.Error("the nonce did not rotate after half its lifetime")
	}
	if !n1.Valid(given) {
		t.Error("a nonce expired before its lifetime")
	}
	now = now.Add(31 * time.Second)
	if n1.Valid(given) {
		t.Error("a nonce outlived its lifetime")
	}
	if _, err := v.Verify(ctx, proof(given), req); !errors.Is(err, dpop.ErrUseNonce) {
		t.Fatalf("expired nonce: %v, want ErrUseNonce", err)
	}
	if _, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("short")}); !errors.Is(err, dpop.ErrConfig) {
		t.Errorf("short secret: %v, want ErrConfig", err)
	}
}

func TestNewVerifierOptions(t *testing.T) {
	for name, opts := range map[string]dpop.Options{
		"no replay store":       {},
		"HS256":                 {Replay: &replay{}, Algorithms: []jwt.Algorithm{jwt.HS256}},
		"none":                  {Replay: &replay{}, Algorithms: []jwt.Algorithm{"none"}},
		"negative max":          {Replay: &replay{}, MaxAge: -time.Second},
		"origin without scheme": {Replay: &replay{}, Origins: []string{"api.example.com"}},
		"origin with a path":    {Replay: &replay{}, Origins: []string{"https://api.example.com/api"}},
		"origin with user":      {Replay: &replay{}, Origins: []string{"https://u@api.example.com"}},
	} {
		if _, err := dpop.NewVerifier(opts); !errors.Is(err, dpop.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	v := newVerifier(t, &replay{}, func(o *dpop.Options) { o.Algorithms = []jwt.Algorithm{jwt.ES256, jwt.EdDSA} })
	if v.AlgsParam() != "ES256 EdDSA" {
		t.Errorf("AlgsParam = %q", v.AlgsParam())
	}
	// An algorithm left out of Options.Algorithms is refused.
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	v = newVerifier(t, &replay{}, func(o *dpop.Options) { o.Algorithms = []jwt.Algorithm{jwt.ES256} })
	p, err := dpop.NewProver(edPriv, jwt.EdDSA, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	u := mustURL("https://a.example/")
	proof, _ := p.Proof("GET", u, "", "")
	if _, err := v.Verify(context.Background(), proof, dpop.Request{Method: "GET", URL: u}); !errors.Is(err, dpop.ErrInvalidProof) {
		t.Errorf("EdDSA proof on an ES256-only verifier: %v", err)
	}
}

// TestOrigins: a client picks the Host it sends, so without Origins a
// proof made for another service (which received it with the token, or
// a redirect) counts here when its sender names that service in Host;
// with Origins, a request to another origin is refused.
func TestOrigins(t *testing.T) {
	key := ecKey(t)
	p := newProver(t, key, testNow)
	const token = "the.access.token"
	origins := []string{"https://API.example.com:443", "http://localhost:8080"}
	for _, tt := range []struct {
		name    string
		origins []string
		target  string // the request's URI, Host included, and the proof's htu
		want    error
	}{
		{name: "listed origin", origins: origins, target: "https://api.example.com/orders/7"},
		{name: "listed origin with its port", origins: origins, target: "http://localhost:8080/orders/7"},
		{name: "another host", origins: origins, target: "https://evil.example/orders/7", want: dpop.ErrInvalidProof},
		{name: "another scheme", origins: origins, target: "http://api.example.com/orders/7", want: dpop.ErrInvalidProof},
		{name: "another port", origins: origins, target: "http://localhost:8081/orders/7", want: dpop.ErrInvalidProof},
		{name: "without Origins, any host", target: "https://evil.example/orders/7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, &replay{}, func(o *dpop.Options) { o.Origins = tt.origins })
			u := mustURL(tt.target)
			proof, err := p.Proof("POST", u, token, "")
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("POST", tt.target, nil)
			r.Header.Set("DPoP", proof)
			_, err = v.VerifyRequest(context.Background(), r, token, p.Thumbprint())
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifyRequest error = %v, want %v", err, tt.want)
			}
		})
	}
}
