package jwk_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// TestGateWithRing wires a Ring to a Gate through Config.Keys and
// Config.EncodeKey and rotates it while the Gate runs.
func TestGateWithRing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	k1, err := jwk.GenerateEC("P-256")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{Clock: clock}, k1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{
		Keys: ring, EncodeKey: ring.EncodeKey, Algorithm: jwt.ES256,
		AccessTTL: 15 * time.Minute, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old, err := g.CreateAccessToken(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := jwtgate.UnverifiedHeader(old)
	if hdr["kid"] != ring.SigningKey().ID() || hdr["alg"] != "ES256" {
		t.Fatalf("header %v", hdr)
	}
	k2, err := jwk.GenerateEC("P-256")
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate(k2, now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	fresh, err := g.CreateAccessToken(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := jwtgate.UnverifiedHeader(fresh); h["kid"] == hdr["kid"] {
		t.Fatal("new tokens still carry the old kid")
	}
	protected := g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtgate.TokenFrom(r.Context())
		_, _ = w.Write([]byte(tok.Identity))
	}))
	call := func(token string) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		protected.ServeHTTP(w, r)
		return w.Code
	}
	if call(old) != 200 || call(fresh) != 200 {
		t.Fatal("tokens of both keys should pass during the overlap")
	}
	now = now.Add(10 * time.Minute)
	if call(old) != 200 {
		t.Fatal("old token refused before it expired")
	}
	now = now.Add(5 * time.Minute)
	later, err := g.CreateAccessToken(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if call(old) != 401 || call(later) != 200 {
		t.Fatal("after the overlap, only the new key verifies")
	}
	if _, err := g.DecodeToken(ctx, old, jwtgate.DecodeOptions{AllowExpired: true}); !errors.Is(err, jwtgate.ErrInvalid) {
		t.Fatalf("old key after retirement: %v", err)
	}
}

// TestGateWithIssuers verifies the tokens of two issuers in one Gate
// through Config.DecodeKey.
func TestGateWithIssuers(t *testing.T) {
	ka, _ := jwk.GenerateEC("P-256")
	kb, _ := jwk.Generate(jwt.EdDSA, 0)
	setA, _ := jwk.NewSet(ka)
	setB, _ := jwk.NewSet(kb)
	iss, err := jwk.NewIssuers(jwt.VerifierOptions{},
		jwk.TrustedIssuer{Issuer: "https://a.example", Keys: setA, Audiences: []string{"api-a"}},
		jwk.TrustedIssuer{Issuer: "https://b.example", Keys: setB, Audiences: []string{"api-b"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{
		DecodeKey:         iss.DecodeKey,
		Algorithms:        []jwt.Algorithm{jwt.ES256, jwt.EdDSA},
		ExpectedIssuers:   []string{"https://a.example", "https://b.example"},
		ExpectedAudiences: []string{"api-a", "api-b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(key *jwt.Key, alg jwt.Algorithm, issuer, aud string) string {
		key, _ = jwk.EnsureKeyID(key)
		s, err := jwt.NewSigner(key, alg, jwt.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign(map[string]any{"sub": "u", "iss": issuer, "aud": aud, "type": "access", "exp": time.Now().Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ctx := context.Background()
	for _, c := range []struct {
		tok string
		ok  bool
	}{
		{sign(ka, jwt.ES256, "https://a.example", "api-a"), true},
		{sign(kb, jwt.EdDSA, "https://b.example", "api-b"), true},
		{sign(kb, jwt.EdDSA, "https://a.example", "api-a"), false}, // B's key, A's name
		{sign(ka, jwt.ES256, "https://a.example", "api-b"), false}, // B's audience at A
		{sign(ka, jwt.ES256, "https://c.example", "api-a"), false}, // untrusted
	} {
		_, err := g.DecodeToken(ctx, c.tok)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.tok[len(c.tok)-10:], err)
		}
	}
}
