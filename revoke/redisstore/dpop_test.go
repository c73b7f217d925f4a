package redisstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
)

// TestDPoPReplay runs DPoP requests through two Gates sharing one Redis
// replay store, whose writes overlap the proofs' signature checks: a
// proof is accepted once across both, a forged proof is refused, and a
// forged proof does not stop the client's next proof.
func TestDPoPReplay(t *testing.T) {
	c := needRedis(t)
	ctx := context.Background()
	store := newStore(t, c, uniquePrefix(t, c))
	hkey, err := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	prover, err := dpop.NewProver(ck, jwt.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	gate := func() http.Handler {
		v, err := dpop.NewVerifier(dpop.Options{Replay: store})
		if err != nil {
			t.Fatal(err)
		}
		g, err := jwtgate.New(jwtgate.Config{SigningKey: hkey, DPoP: v})
		if err != nil {
			t.Fatal(err)
		}
		return g.Required(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	}
	a, b := gate(), gate()
	g, err := jwtgate.New(jwtgate.Config{SigningKey: hkey})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := g.CreateAccessToken(ctx, "alice", jwtgate.BindTo(prover.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse("http://api.example/orders")
	proof := func() string {
		p, err := prover.Proof("GET", target, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	send := func(h http.Handler, proof string) int {
		r := httptest.NewRequest("GET", target.String(), nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", proof)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	forge := func(p string) string {
		s := []byte(p)
		if i := len(s) - 20; s[i] == 'A' {
			s[i] = 'B'
		} else {
			s[i] = 'A'
		}
		return string(s)
	}

	p := proof()
	if code := send(a, p); code != http.StatusNoContent {
		t.Fatalf("first use on A: %d", code)
	}
	for name, h := range map[string]http.Handler{"A": a, "B": b} {
		if code := send(h, p); code != http.StatusUnauthorized {
			t.Fatalf("replay on %s: %d, want 401", name, code)
		}
	}
	if code := send(a, forge(proof())); code != http.StatusUnauthorized {
		t.Fatalf("forged proof: %d, want 401", code)
	}
	if code := send(b, proof()); code != http.StatusNoContent {
		t.Fatalf("a new proof after a forged one: %d", code)
	}
}
