package jwk

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// BenchmarkRemoteVerify compares verifying an ES256 token with a static
// key and with a key of a remote set whose cache is warm: the difference
// is the cost of the remote set's lookup.
func BenchmarkRemoteVerify(b *testing.B) {
	key := mustGenerate(b, jwt.ES256).WithID("bench")
	token := signWith(b, key, jwt.ES256, jwt.Claims{Subject: "alice", Issuer: "https://issuer.example"})
	srv := httptest.NewServer(JWKSHandler(mustSet(b, key), HandlerOptions{}))
	defer srv.Close()
	remote, err := NewRemoteSet(srv.URL, RemoteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer remote.Close()
	if err := remote.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name string
		keys jwt.KeySet
	}{
		{"static", key.Public()},
		{"remote", remote},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			v, err := jwt.NewVerifier(impl.keys, jwt.VerifierOptions{Issuers: []string{"https://issuer.example"}})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if n := remote.Fetches(); n != 1 {
		b.Fatalf("%d fetches during the benchmark, want 1", n)
	}
}

func mustSet(tb testing.TB, keys ...*jwt.Key) *Set {
	tb.Helper()
	s, err := NewSet(keys...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkKeyLookup measures the key lookup alone: a static key, a Ring
// and a remote set with a warm cache.
func BenchmarkKeyLookup(b *testing.B) {
	key := mustGenerate(b, jwt.ES256).WithID("bench")
	srv := httptest.NewServer(JWKSHandler(mustSet(b, key), HandlerOptions{}))
	defer srv.Close()
	remote, err := NewRemoteSet(srv.URL, RemoteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer remote.Close()
	if err := remote.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	ring, err := NewRing(RingOptions{}, key)
	if err != nil {
		b.Fatal(err)
	}
	h := &jwt.Header{Alg: jwt.ES256, KeyID: "bench"}
	for _, impl := range []struct {
		name string
		keys jwt.KeySet
	}{
		{"static", key.Public()},
		{"ring", ring},
		{"remote", remote},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.keys.LookupKeys(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
