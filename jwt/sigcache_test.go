package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"
)

// keyList is a key set whose keys the test changes.
type keyList struct{ keys []*Key }

func (l *keyList) LookupKeys(context.Context, *Header) ([]*Key, error) { return l.keys, nil }

func newES256(t testing.TB) *Key {
	t.Helper()
	pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewPrivateKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sigCacheLen(v *Verifier) int {
	v.sigs.mu.Lock()
	defer v.sigs.mu.Unlock()
	return len(v.sigs.cur) + len(v.sigs.old)
}

func TestSignatureCache(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	key := newES256(t)
	s, err := NewSigner(key, ES256, SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(exp time.Time, sub string) string {
		tok, err := s.Sign([]byte(fmt.Sprintf(`{"sub":%q,"exp":%d}`, sub, exp.Unix())))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	set := &keyList{keys: []*Key{key.Public()}}
	v, err := NewVerifier(set, VerifierOptions{SignatureCache: 4, Clock: fixedClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(now.Add(time.Minute), "alice")
	for range 3 {
		if got, err := v.Verify(ctx, tok); err != nil || got.Claims.Subject != "alice" {
			t.Fatalf("Verify: %v", err)
		}
	}
	if n := sigCacheLen(v); n != 1 {
		t.Fatalf("%d cache entries after one token, want 1", n)
	}

	// Any change to the token is a miss that fails verification; failures
	// never enter the cache.
	for i := range []int{0, len(tok) / 2, len(tok) - 2} {
		b := []byte(tok)
		b[i] ^= 1
		if _, err := v.Verify(ctx, string(b)); err == nil {
			t.Fatalf("tampered byte %d verified", i)
		}
	}
	if n := sigCacheLen(v); n != 1 {
		t.Fatalf("%d cache entries after tampered tokens, want 1", n)
	}

	// A key taken out of the set stops its tokens at once, cached or not.
	set.keys = []*Key{newES256(t).Public()}
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrSignature) {
		t.Fatalf("token of a removed key: %v", err)
	}
	// The same key material as a new *Key verifies again (a real check).
	set.keys = []*Key{key.Public()}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}

	// Claims are checked on every call: a cached token expires.
	late, err := NewVerifier(set, VerifierOptions{SignatureCache: 4, Clock: fixedClock(now.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	late.sigs = v.sigs
	if _, err := late.Verify(ctx, tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired cached token: %v", err)
	}

	// The cache stays bounded.
	for i := range 20 {
		if _, err := v.Verify(ctx, sign(now.Add(time.Minute), fmt.Sprint("user", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := sigCacheLen(v); n > 4 {
		t.Fatalf("%d cache entries, bound 4", n)
	}
}

func TestSignatureCacheSkipsHMAC(t *testing.T) {
	v, err := NewVerifier(testKey(t), VerifierOptions{SignatureCache: 8, Clock: fixedClock(time.Unix(1_800_000_000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), hsToken(`{"alg":"HS256"}`, `{"sub":"a"}`)); err != nil {
		t.Fatal(err)
	}
	if n := sigCacheLen(v); n != 0 {
		t.Fatalf("an HMAC token entered the signature cache (%d entries)", n)
	}
	if _, err := NewVerifier(testKey(t), VerifierOptions{SignatureCache: -1}); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("negative SignatureCache: %v", err)
	}
}

func BenchmarkVerifySignatureCache(b *testing.B) {
	keys := benchKeys(b)
	for _, alg := range []Algorithm{RS256, ES256, EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			s, err := NewSigner(keys[alg], alg, SignerOptions{})
			if err != nil {
				b.Fatal(err)
			}
			tok, err := s.Sign([]byte(benchPayload))
			if err != nil {
				b.Fatal(err)
			}
			v, err := NewVerifier(keys[alg], VerifierOptions{SignatureCache: 1024, Clock: func() time.Time { return benchNow }})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
