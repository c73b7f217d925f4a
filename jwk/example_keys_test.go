package jwk_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// A Ring signs with its active key and verifies with every key it holds;
// Rotate keeps the previous signer verifying until its tokens expire.
func ExampleRing() {
	k1, _ := jwk.GenerateEC("P-256")
	ring, err := jwk.NewRing(jwk.RingOptions{}, k1.WithID("2026-01"))
	if err != nil {
		log.Fatal(err)
	}
	gate, err := jwtgate.New(jwtgate.Config{
		Keys:      ring,           // verifies with every key of the ring
		EncodeKey: ring.EncodeKey, // signs with the active key
		Algorithm: jwt.ES256,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	old, _ := gate.CreateAccessToken(ctx, "alice")

	k2, _ := jwk.GenerateEC("P-256")
	// Access tokens live 15 minutes (the default AccessTTL).
	if err := ring.Rotate(k2.WithID("2026-02"), time.Now().Add(15*time.Minute)); err != nil {
		log.Fatal(err)
	}
	fresh, _ := gate.CreateAccessToken(ctx, "bob")

	for _, tok := range []string{old, fresh} {
		t, err := gate.DecodeToken(ctx, tok)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.Identity, t.Header.KeyID)
	}
	fmt.Println(ring.KeyIDs())
	// Output:
	// alice 2026-01
	// bob 2026-02
	// [2026-02 2026-01]
}

// JWKSHandler publishes the public keys of a ring; a client that sends the
// ETag back gets 304 Not Modified.
func ExampleJWKSHandler() {
	k, _ := jwk.Generate(jwt.EdDSA, 0)
	ring, _ := jwk.NewRing(jwk.RingOptions{}, k.WithID("ed1"))
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", jwk.JWKSHandler(ring, jwk.HandlerOptions{}))

	r := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	set, _ := jwk.ParsePublicSet(w.Body.Bytes())
	fmt.Println(w.Code, w.Header().Get("Cache-Control"), set.Len(), set.Keys()[0].KeyID(), set.Keys()[0].IsPrivate())

	r.Header.Set("If-None-Match", w.Header().Get("ETag"))
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// 200 public, max-age=300 1 ed1 false
	// 304
}

// DiscoveryHandler serves the document through which NewIssuerSet finds
// the keys of an issuer.
func ExampleDiscoveryHandler() {
	h, err := jwk.DiscoveryHandler(jwk.Discovery{
		Issuer:     "https://auth.example.com",
		JWKSURI:    "https://auth.example.com/.well-known/jwks.json",
		Algorithms: []jwt.Algorithm{jwt.ES256},
	}, jwk.HandlerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	fmt.Println(w.Body.String())
	// Output:
	// {"id_token_signing_alg_values_supported":["ES256"],"issuer":"https://auth.example.com","jwks_uri":"https://auth.example.com/.well-known/jwks.json"}
}

// NewRemoteSet verifies tokens with the keys served at a JWKS URL, cached
// for five minutes and refreshed in the background.
func ExampleNewRemoteSet() {
	// The provider: its ring and its JWKS endpoint.
	k, _ := jwk.GenerateEC("P-256")
	ring, _ := jwk.NewRing(jwk.RingOptions{}, k.WithID("p1"))
	provider := httptest.NewServer(jwk.JWKSHandler(ring, jwk.HandlerOptions{}))
	defer provider.Close()
	signer, _ := jwt.NewSigner(ring.SigningKey(), jwt.ES256, jwt.SignerOptions{})
	token, _ := signer.Sign(jwt.Claims{Subject: "alice"})

	// The service: it knows the provider's URL only.
	keys, err := jwk.NewRemoteSet(provider.URL, jwk.RemoteOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	v, _ := jwt.NewVerifier(keys, jwt.VerifierOptions{})
	t, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Claims.Subject, t.Header.KeyID)
	// Output: alice p1
}

// NewIssuers accepts tokens from several issuers, each verified with its
// own keys and audiences.
func ExampleNewIssuers() {
	ka, _ := jwk.GenerateEC("P-256")
	kb, _ := jwk.Generate(jwt.EdDSA, 0)
	v, err := jwk.NewIssuers(jwt.VerifierOptions{},
		jwk.TrustedIssuer{Issuer: "https://a.example", Keys: ka.Public(), Audiences: []string{"api"}},
		jwk.TrustedIssuer{Issuer: "https://b.example", Keys: kb.Public(), Audiences: []string{"api"}},
	)
	if err != nil {
		log.Fatal(err)
	}
	sa, _ := jwt.NewSigner(ka, jwt.ES256, jwt.SignerOptions{})
	sb, _ := jwt.NewSigner(kb, jwt.EdDSA, jwt.SignerOptions{})
	ok, _ := sb.Sign(jwt.Claims{Issuer: "https://b.example", Audience: jwt.Audience{"api"}, Subject: "bob"})
	forged, _ := sa.Sign(jwt.Claims{Issuer: "https://b.example", Audience: jwt.Audience{"api"}, Subject: "eve"})
	for _, tok := range []string{ok, forged} {
		t, err := v.Verify(context.Background(), tok)
		if err != nil {
			fmt.Println("refused: A's key cannot verify a token that claims B")
			continue
		}
		fmt.Println(t.Claims.Issuer, t.Claims.Subject)
	}
	// Output:
	// https://b.example bob
	// refused: A's key cannot verify a token that claims B
}

// CachedKeys is flask_jwtlib's key callback with a cache timeout: the
// function runs at most once per TTL.
func ExampleCachedKeys() {
	k, _ := jwk.Generate(jwt.EdDSA, 0)
	calls := 0
	keys := jwk.CachedKeys(func(ctx context.Context) (jwt.KeySet, error) {
		calls++ // e.g. read the key from a secret store
		return k.Public(), nil
	}, 300*time.Second)
	defer keys.Close()
	v, _ := jwt.NewVerifier(keys, jwt.VerifierOptions{})
	s, _ := jwt.NewSigner(k, jwt.EdDSA, jwt.SignerOptions{})
	for range 3 {
		tok, _ := s.Sign(jwt.Claims{Subject: "alice"})
		if _, err := v.Verify(context.Background(), tok); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("fetches:", calls)
	// Output: fetches: 1
}
