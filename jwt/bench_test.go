package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/b64url"
)

// benchPayload is the fixed claims set the benchmarks sign and verify.
const benchPayload = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

var benchNow = time.Unix(1767227400, 0)

func benchKeys(tb testing.TB) map[Algorithm]*Key {
	tb.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	hk, err := NewHMACKey(secret)
	if err != nil {
		tb.Fatal(err)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[Algorithm]*Key{HS256: hk}
	for alg, s := range map[Algorithm]crypto.Signer{RS256: rk, ES256: ek, EdDSA: edk} {
		k, err := NewPrivateKey(s, alg)
		if err != nil {
			tb.Fatal(err)
		}
		keys[alg] = k
	}
	return keys
}

func BenchmarkVerify(b *testing.B) {
	keys := benchKeys(b)
	for _, alg := range []Algorithm{HS256, RS256, ES256, EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			s, err := NewSigner(keys[alg], alg, SignerOptions{})
			if err != nil {
				b.Fatal(err)
			}
			tok, err := s.Sign([]byte(benchPayload))
			if err != nil {
				b.Fatal(err)
			}
			v, err := NewVerifier(keys[alg], VerifierOptions{Clock: func() time.Time { return benchNow }})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if t, err := v.Verify(ctx, tok); err != nil || t.Claims.Subject != "user-12345" {
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
	b.Run("HS256-floor", func(b *testing.B) {
		s, _ := NewSigner(keys[HS256], HS256, SignerOptions{})
		tok, _ := s.Sign([]byte(benchPayload))
		i := len(tok) - 44
		input := []byte(tok[:i])
		sig := make([]byte, 32)
		b64url.Decode(sig, tok[i+1:])
		h := hmac.New(sha256.New, keys[HS256].secret)
		b.ReportAllocs()
		for b.Loop() {
			var buf [32]byte
			h.Reset()
			h.Write(input)
			if !hmac.Equal(h.Sum(buf[:0]), sig) {
				b.Fatal("bad")
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	keys := benchKeys(b)
	for _, alg := range []Algorithm{HS256, RS256, ES256, EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			s, err := NewSigner(keys[alg], alg, SignerOptions{})
			if err != nil {
				b.Fatal(err)
			}
			p := []byte(benchPayload)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchClaims are the benchmark payload's custom claims.
type benchClaims struct {
	Type  string   `json:"type"`
	Fresh bool     `json:"fresh"`
	CSRF  string   `json:"csrf"`
	Roles []string `json:"roles"`
}

// BenchmarkVerifyDecode measures HS256 verification with the registered
// claims only, then with the custom claims decoded into a struct by
// Token.Decode, and by encoding/json over the payload, side by side.
func BenchmarkVerifyDecode(b *testing.B) {
	keys := benchKeys(b)
	s, _ := NewSigner(keys[HS256], HS256, SignerOptions{})
	tok, _ := s.Sign([]byte(benchPayload))
	v, _ := NewVerifier(keys[HS256], VerifierOptions{Clock: func() time.Time { return benchNow }})
	ctx := context.Background()
	for _, mode := range []string{"registered", "decode", "encoding-json"} {
		b.Run("mode="+mode, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t, err := v.Verify(ctx, tok)
				if err != nil {
					b.Fatal(err)
				}
				var c benchClaims
				switch mode {
				case "decode":
					err = t.Decode(&c)
				case "encoding-json":
					err = slowDecode(t.payload, &c)
				}
				if err != nil || (mode != "registered" && len(c.Roles) != 2) {
					b.Fatal(err, c)
				}
			}
		})
	}
}

// BenchmarkVerifyParallel measures HS256 Verify serially and with
// b.RunParallel (one goroutine per GOMAXPROCS): the throughput ratio is
// the serial ns/op over the parallel ns/op.
func BenchmarkVerifyParallel(b *testing.B) {
	keys := benchKeys(b)
	s, _ := NewSigner(keys[HS256], HS256, SignerOptions{})
	tok, _ := s.Sign([]byte(benchPayload))
	v, _ := NewVerifier(keys[HS256], VerifierOptions{Clock: func() time.Time { return benchNow }})
	ctx := context.Background()
	b.Run("run=serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("run=parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkVerifyGarbage measures refusing tokens that are not JWS at
// all: 300 bytes without a dot, three segments of random base64url, and
// a header that is base64url but not JSON.
func BenchmarkVerifyGarbage(b *testing.B) {
	keys := benchKeys(b)
	v, _ := NewVerifier(keys[HS256], VerifierOptions{Clock: func() time.Time { return benchNow }})
	ctx := context.Background()
	for _, g := range garbageTokens() {
		b.Run("kind="+g.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, g.token); err == nil {
					b.Fatal("garbage accepted")
				}
			}
		})
	}
}

// garbageTokens are the inputs of BenchmarkVerifyGarbage, the same on
// every run.
func garbageTokens() []struct{ name, token string } {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	seq := func(n, seed int) string {
		b := make([]byte, n)
		x := uint32(seed)
		for i := range b {
			x = x*1664525 + 1013904223
			b[i] = alphabet[x>>26]
		}
		return string(b)
	}
	return []struct{ name, token string }{
		{"no-dots", seq(300, 1)},
		{"random-segments", seq(36, 2) + "." + seq(220, 3) + "." + seq(43, 4)},
		{"header-not-json", b64url.EncodeToString([]byte("not json at all")) + "." + seq(220, 3) + "." + seq(43, 4)},
	}
}
