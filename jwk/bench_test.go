package jwk

import (
	"context"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

func BenchmarkSetLookup(b *testing.B) {
	s, err := ParseSet(jwks(with(b, jwkOf(b, fixRSA), "kid", "a"), with(b, publicOf(jwkOf(b, fixRSA2)), "kid", "b"),
		with(b, publicOf(jwkOf(b, fixP256)), "kid", "c")))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		h    *jwt.Header
	}{
		{"kid", &jwt.Header{KeyID: "b", Alg: jwt.RS256}},
		{"alg", &jwt.Header{Alg: jwt.ES256}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.LookupKeys(ctx, c.h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseKey(b *testing.B) {
	for _, f := range []string{fixRSA, fixP256, fixEd25519, fixOct32} {
		for _, private := range []bool{false, true} {
			m := jwkOf(b, f)
			if !private {
				if f == fixOct32 {
					continue
				}
				m = publicOf(m)
			}
			data := with(b, m)
			name := f
			if private {
				name += "/private"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := ParseKey(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
