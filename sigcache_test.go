package jwtgate

import (
	"context"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
)

// TestSignatureCacheGate: with the signature cache on, a token seen again
// is still checked for expiry and revocation, and a key dropped from the
// ring stops its tokens.
func TestSignatureCacheGate(t *testing.T) {
	key, err := newTestECKey()
	if err != nil {
		t.Fatal(err)
	}
	next, err := newTestECKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{}, key)
	if err != nil {
		t.Fatal(err)
	}
	now := testNow
	revoked := false
	g := testGate(t, func(c *Config) {
		c.SigningKey, c.Keys, c.EncodeKey = nil, ring, ring.EncodeKey
		c.Algorithm = "ES256"
		c.SignatureCache = 16
		c.Clock = func() time.Time { return now }
		c.IsRevoked = func(context.Context, *Token) (bool, error) { return revoked, nil }
	})
	tok := access(t, g, "alice")
	h := g.Required(echo(g))
	get := func() int {
		return serve(h, reqSpec{headers: map[string]string{"Authorization": "Bearer " + tok}}.build()).status
	}
	for i := range 3 {
		if s := get(); s != 200 {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	revoked = true
	if s := get(); s != 401 {
		t.Fatalf("revoked cached token: %d", s)
	}
	revoked = false
	now = now.Add(time.Hour)
	if s := get(); s != 401 {
		t.Fatalf("expired cached token: %d", s)
	}
	now = testNow
	oldKID := ring.SigningKey().ID()
	if err := ring.Rotate(next, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if s := get(); s != 200 {
		t.Fatalf("token of the retiring key: %d", s)
	}
	if err := ring.Remove(oldKID); err != nil {
		t.Fatal(err)
	}
	if s := get(); s != 401 {
		t.Fatalf("token of a removed key: %d", s)
	}
	if _, err := New(Config{SigningKey: key, SignatureCache: -1}); err == nil {
		t.Fatal("negative SignatureCache accepted")
	}
}
