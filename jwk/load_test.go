package jwk

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"slices"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

func TestLoad(t *testing.T) {
	fx := pemFixtures(t)
	rsaPriv := jwkOf(t, fixRSA)
	for _, c := range []struct {
		name     string
		data     []byte
		keys     int
		canSign  bool
		wantErr  error
		signWith jwt.Algorithm
	}{
		{"JWK private", with(t, rsaPriv), 1, true, nil, jwt.RS256},
		{"JWK public", with(t, publicOf(rsaPriv)), 1, false, nil, ""},
		{"JWK secret", with(t, jwkOf(t, fixOct32)), 1, true, nil, jwt.HS256},
		{"JWKS", jwks(with(t, publicOf(rsaPriv), "kid", "a"), with(t, jwkOf(t, fixP256), "kid", "b")), 2, true, nil, jwt.ES256},
		{"PEM PKCS#8", fx["PKCS#8 Ed25519"], 1, true, nil, jwt.EdDSA},
		{"PEM SEC 1 with params", fx["SEC 1 with params"], 1, true, nil, jwt.ES256},
		{"PEM certificate", fx["certificate RSA"], 1, false, nil, ""},
		{"PEM with leading white space", append([]byte("\n\n"), fx["SPKI P-256"]...), 1, false, nil, ""},
		{"both keys and kty", []byte(`{"kty":"oct","keys":[]}`), 0, false, ErrInvalidSet, ""},
		{"bad JWK", with(t, rsaPriv, "e", "AAEAAQ"), 0, false, ErrInvalidKey, ""},
		{"bad JWKS", jwks(with(t, rsaPriv, "e", "AAEAAQ")), 0, false, ErrInvalidSet, ""},
		{"unknown kty", []byte(`{"kty":"XYZ"}`), 0, false, ErrUnsupported, ""},
		{"bad JSON", []byte(`{"kty":`), 0, false, ErrInvalidKey, ""},
		{"bad PEM", append(bytes.Clone(fx["SPKI P-256"]), 'x'), 0, false, ErrInvalidKey, ""},
		{"raw secret", bytes.Repeat([]byte("s"), 32), 0, false, ErrInvalidKey, ""},
		{"empty", nil, 0, false, ErrInvalidKey, ""},
		{"too large JSON", append([]byte(`{"keys":[],"x":"`), bytes.Repeat([]byte("a"), MaxSetSize)...), 0, false, ErrTooLarge, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			set, err := Load(c.data)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("Load: %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if set.Len() != c.keys {
				t.Errorf("%d keys, want %d", set.Len(), c.keys)
			}
			sk, err := set.SigningKey("")
			if c.canSign != (err == nil) {
				t.Fatalf("SigningKey: %v, want ok=%v", err, c.canSign)
			}
			if !c.canSign {
				return
			}
			// What the set signs, the set verifies; the token names the key.
			signer, err := jwt.NewSigner(sk, c.signWith)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := signer.Sign(jwt.Claims{Subject: "u"})
			if err != nil {
				t.Fatal(err)
			}
			ver, _ := jwt.NewVerifier(set, jwt.VerifierOptions{})
			got, err := ver.Verify(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if got.Header.KeyID == "" || got.Header.KeyID != sk.ID() {
				t.Errorf("kid %q, signing key ID %q", got.Header.KeyID, sk.ID())
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	for _, alg := range jwt.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k, err := Generate(alg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(k.Algorithms(), []jwt.Algorithm{alg}) || !k.CanSign() {
				t.Errorf("algorithms %v", k.Algorithms())
			}
			jk, err := NewKey(k)
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, jk)
			if !k.IsSymmetric() {
				checkPEMRoundTrip(t, jk)
			}
			signer, err := jwt.NewSigner(k, alg)
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := signer.Sign(jwt.Claims{})
			if _, err := jwt.Verify(t.Context(), tok, k); err != nil {
				t.Error(err)
			}
		})
	}
	for _, c := range []struct {
		name string
		gen  func() (*jwt.Key, error)
		ok   bool
	}{
		{"RSA 1024", func() (*jwt.Key, error) { return GenerateRSA(1024) }, false},
		{"RSA 2047", func() (*jwt.Key, error) { return GenerateRSA(2047) }, false},
		{"RSA too large", func() (*jwt.Key, error) { return GenerateRSA(MaxRSABits + 1) }, false},
		{"RSA negative", func() (*jwt.Key, error) { return GenerateRSA(-1) }, false},
		{"EC P-384", func() (*jwt.Key, error) { return GenerateEC("P-384") }, true},
		{"EC P-224", func() (*jwt.Key, error) { return GenerateEC("P-224") }, false},
		{"EC secp256k1", func() (*jwt.Key, error) { return GenerateEC("secp256k1") }, false},
		{"HMAC 31 bytes", func() (*jwt.Key, error) { return GenerateHMAC(jwt.HS256, 31) }, false},
		{"HMAC HS512 32 bytes", func() (*jwt.Key, error) { return GenerateHMAC(jwt.HS512, 32) }, false},
		{"HMAC HS256 64 bytes", func() (*jwt.Key, error) { return GenerateHMAC(jwt.HS256, 64) }, true},
		{"HMAC too large", func() (*jwt.Key, error) { return GenerateHMAC(jwt.HS256, 1025) }, false},
		{"HMAC for RS256", func() (*jwt.Key, error) { return GenerateHMAC(jwt.RS256, 0) }, false},
		{"none", func() (*jwt.Key, error) { return Generate("none", 0) }, false},
		{"ES256 with a size", func() (*jwt.Key, error) { return Generate(jwt.ES256, 256) }, false},
		{"PS256 1024", func() (*jwt.Key, error) { return Generate(jwt.PS256, 1024) }, false},
		{"HS384 with 100 bytes", func() (*jwt.Key, error) { return Generate(jwt.HS384, 100) }, true},
	} {
		k, err := c.gen()
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v wraps no sentinel", c.name, err)
		}
		if err == nil && !k.CanSign() {
			t.Errorf("%s: cannot sign", c.name)
		}
	}
	k, err := GenerateRSA(0)
	if err != nil {
		t.Fatal(err)
	}
	if n := k.PrivateKey().(*rsa.PrivateKey).N.BitLen(); n != DefaultRSABits {
		t.Errorf("default RSA key has %d bits", n)
	}
	if k, _ := GenerateEC("P-521"); k.PublicKey().(*ecdsa.PublicKey).Curve.Params().Name != "P-521" {
		t.Error("P-521")
	}
	if k, _ := GenerateHMAC(jwt.HS384, 0); len(k.Secret()) != 48 {
		t.Error("HS384 secret size")
	}
}
