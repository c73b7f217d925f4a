package jwk

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/b64url"
)

// keySeeds returns JWKs for the seed corpora: every RFC key, with and
// without private members, with the optional members set, and a few near
// misses.
func keySeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, f := range []string{fixRSA, fixRSA2, fixP256, fixP521, fixEd25519, fixOct32, fixOct64, "rfc7515-a4.json", "rfc7638-3.1.json"} {
		m := jwkOf(t, f)
		out = append(out,
			with(t, m),
			with(t, publicOf(m)),
			with(t, m, "kid", "k\u00e9y", "use", "sig"),
			with(t, m, "key_ops", []string{"sign", "verify"}),
			with(t, m, "use", "enc", "key_ops", []string{"encrypt"}),
			with(t, m, "kty", "XYZ"),
		)
	}
	out = append(out,
		with(t, publicOf(jwkOf(t, fixP256)), "x5c", []string{stdB64(selfSigned(t, signingKeyOf(t, fixP256), "seed").Raw)}),
		[]byte(`{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`),
		[]byte(`{"kty":"oct","k":"AAAA","kty":"oct"}`),
		[]byte(`{"kty":"EC","crv":"P-256","x":"\ud800","y":""}`),
		[]byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","oth":[]}`),
	)
	// An RSA key with the ROCA fingerprint (refused), from ../testdata/roca.
	if k, err := ParsePEM(rocaPEM(t, "pubkey03.pem")); err == nil {
		t.Fatalf("the ROCA key was accepted: %v", k)
	}
	n, _ := new(big.Int).SetString(rocaModulusHex(t), 16)
	out = append(out, with(t, map[string]any{"kty": "RSA", "e": "AQAB", "n": b64url.EncodeToString(n.Bytes())}))
	return out
}

// rocaPEM returns a file of ../testdata/roca.
func rocaPEM(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "roca", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rocaModulusHex returns the fingerprinted modulus of ../testdata/roca in
// hexadecimal.
func rocaModulusHex(t testing.TB) string {
	return strings.TrimPrefix(strings.TrimSpace(string(rocaPEM(t, "mod03.txt"))), "0x")
}

func FuzzParseKey(f *testing.F) {
	for _, s := range keySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKey(data)
		if err != nil {
			if k != nil {
				t.Fatal("a key and an error")
			}
			return
		}
		checkRoundTrip(t, k)
		exercise(t, k)
	})
}

// exercise calls what a user would call on an accepted key.
func exercise(t *testing.T, k *Key) {
	if _, err := k.Thumbprint(0); err != nil {
		t.Fatalf("Thumbprint of an accepted key: %v", err)
	}
	if vk, err := k.VerificationKey(); err == nil {
		if vk.CanSign() && !vk.IsSymmetric() {
			t.Fatal("verification key with a private key")
		}
		if _, err := NewKey(vk); err != nil {
			t.Fatalf("NewKey of a verification key: %v", err)
		}
	}
	if sk, err := k.SigningKey(); err == nil {
		if !sk.CanSign() {
			t.Fatal("signing key cannot sign")
		}
	}
}

func FuzzParseSet(f *testing.F) {
	seeds := keySeeds(f)
	for _, s := range seeds {
		f.Add(jwks(s))
	}
	f.Add(jwks(seeds[0], seeds[12]))
	f.Add(jwks(seeds[6], seeds[1], with(f, jwkOf(f, fixEd25519), "kid", "x")))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":[{"kty":"x"}],"other":{"keys":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSet(data)
		if err != nil {
			return
		}
		for _, k := range s.Keys() {
			checkRoundTrip(t, k)
			exercise(t, k)
		}
		// Lookups never panic.
		ctx := context.Background()
		for _, alg := range jwt.Algorithms() {
			ks, err := s.LookupKeys(ctx, &jwt.Header{Alg: alg})
			if err == nil && len(ks) == 0 {
				t.Fatal("no keys and no error")
			}
		}
		for _, k := range s.Keys() {
			if _, verr := k.VerificationKey(); k.KeyID() == "" || verr != nil {
				continue
			}
			ks, err := s.LookupKeys(ctx, &jwt.Header{Alg: jwt.RS256, KeyID: k.KeyID()})
			if err != nil || !slices.ContainsFunc(ks, func(x *jwt.Key) bool { return x.ID() == k.KeyID() }) {
				t.Fatalf("kid %q: %v, %v", k.KeyID(), ks, err)
			}
		}
		// The published form holds the same public keys, parses as a
		// public set and is stable.
		out, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if hasPrivateMember(t, out) {
			t.Fatalf("MarshalJSON leaked a private member: %s", out)
		}
		pub, err := ParsePublicSet(out)
		if err != nil {
			t.Fatalf("ParsePublicSet(%s): %v", out, err)
		}
		var want []*Key
		for _, k := range s.Keys() {
			if !k.IsSymmetric() {
				want = append(want, k)
			}
		}
		if pub.Len() != len(want) {
			t.Fatalf("published %d keys, want %d", pub.Len(), len(want))
		}
		for i, k := range pub.Keys() {
			if msg := sameKey(want[i].Public(), k); msg != "" {
				t.Fatalf("published key %d: %s", i, msg)
			}
		}
		out2, _ := pub.MarshalJSON()
		if !bytes.Equal(out, out2) {
			t.Fatalf("published set not stable:\n%s\n%s", out, out2)
		}
	})
}

func FuzzParsePEM(f *testing.F) {
	for _, data := range pemFixtures(f) {
		f.Add(data)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"))
	f.Add(rocaPEM(f, "pubkey03.pem"))
	f.Add(rocaPEM(f, "privkey05.pem"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePEM(data)
		if err != nil {
			return
		}
		checkRoundTrip(t, k)
		checkPEMRoundTrip(t, k)
		exercise(t, k)
	})
}
