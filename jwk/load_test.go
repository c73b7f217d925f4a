package jwk

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"slices"
	"strings"
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
			signer, err := jwt.NewSigner(sk, c.signWith, jwt.SignerOptions{})
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
			signer, err := jwt.NewSigner(k, alg, jwt.SignerOptions{})
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

// A file of one key without kid is a single key, found for any kid; a JWK
// Set, even of one key, and a key with a kid keep exact kid lookup.
func TestLoadLoneKeyAnyKeyID(t *testing.T) {
	fx := pemFixtures(t)
	ec := jwkOf(t, fixP256)
	ecPub := publicOf(ec)
	ecKey, err := ParseKey(with(t, ecPub))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := ecKey.ThumbprintBase64(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	type lookup struct {
		kid  string
		want error
	}
	anyKid := []lookup{{"", nil}, {"idp-key-1", nil}, {tp, nil}, {strings.Repeat("k", 300), nil}}
	exact := []lookup{{"", nil}, {tp, nil}, {"idp-key-1", jwt.ErrKeyNotFound}}
	tests := []struct {
		name    string
		load    func() (*Set, error)
		anyID   bool
		lookups []lookup
	}{
		{"PEM SPKI", func() (*Set, error) { return Load(fx["SPKI P-256"]) }, true, anyKid},
		{"PEM SEC 1 private", func() (*Set, error) { return Load(fx["SEC 1 with params"]) }, true, anyKid[1:2]},
		{"PEM certificate", func() (*Set, error) { return Load(fx["certificate RSA"]) }, true, anyKid[1:2]},
		{"JWK without kid", func() (*Set, error) { return Load(with(t, ecPub)) }, true, anyKid},
		{"private JWK without kid", func() (*Set, error) { return Load(with(t, ec)) }, true, anyKid},
		{"secret JWK without kid", func() (*Set, error) { return Load(with(t, jwkOf(t, fixOct32), "kid", del{})) }, true, []lookup{{"idp-key-1", nil}}},
		{"JWK with kid", func() (*Set, error) { return Load(with(t, ecPub, "kid", "a")) }, false,
			[]lookup{{"a", nil}, {"", nil}, {"idp-key-1", jwt.ErrKeyNotFound}, {tp, jwt.ErrKeyNotFound}}},
		{"JWK without kid for encryption", func() (*Set, error) { return Load(with(t, ecPub, "use", "enc")) }, true,
			[]lookup{{"idp-key-1", jwt.ErrKeyNotFound}, {tp, jwt.ErrKeyNotFound}}},
		{"JWK Set of one key without kid", func() (*Set, error) { return Load(jwks(with(t, ecPub))) }, false, exact},
		{"ParseSet of one key", func() (*Set, error) { return ParseSet(jwks(with(t, ecPub))) }, false, exact},
		{"NewSetFromKeys of one key", func() (*Set, error) { return NewSetFromKeys(ecKey) }, false, exact},
		{"NewSet of one key", func() (*Set, error) {
			vk, err := ecKey.VerificationKey()
			if err != nil {
				return nil, err
			}
			return NewSet(vk)
		}, false, exact},
		{"JWK Set of two keys", func() (*Set, error) {
			return Load(jwks(with(t, ecPub), with(t, publicOf(jwkOf(t, fixRSA)), "kid", "rsa")))
		}, false, exact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.load()
			if err != nil {
				t.Fatal(err)
			}
			if s.AnyKeyID() != tt.anyID {
				t.Errorf("AnyKeyID %v, want %v", s.AnyKeyID(), tt.anyID)
			}
			alg := jwt.ES256
			if k := s.Keys()[0]; k.KeyType() != KeyTypeEC {
				alg = jwt.Algorithm(map[string]string{KeyTypeRSA: "RS256", KeyTypeOct: "HS256"}[k.KeyType()])
			}
			for _, l := range tt.lookups {
				ks, err := s.LookupKeys(t.Context(), &jwt.Header{Alg: alg, KeyID: l.kid})
				if !errors.Is(err, l.want) || (l.want == nil) != (len(ks) > 0) {
					t.Errorf("kid %.20q: %d keys, error %v; want %v", l.kid, len(ks), err, l.want)
				}
			}
		})
	}
	var nilSet *Set
	if nilSet.AnyKeyID() {
		t.Error("a nil set finds keys for any kid")
	}
}

// A token of an identity provider that names its key "idp-key-1" verifies
// with the provider's key as a PEM file, and the kid is kept; a JWK Set of
// that key without the kid refuses it.
func TestLoadPEMVerifiesAnyKid(t *testing.T) {
	fx := pemFixtures(t)
	set, err := Load(fx["SEC 1 with params"])
	if err != nil {
		t.Fatal(err)
	}
	sk, err := set.SigningKey("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewSigner(sk.WithID("idp-key-1"), jwt.ES256, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(jwt.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := jwt.NewVerifier(set, jwt.VerifierOptions{})
	got, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("PEM key, token kid idp-key-1: %v", err)
	}
	if got.Header.KeyID != "idp-key-1" {
		t.Errorf("kid %q", got.Header.KeyID)
	}
	pub, err := json.Marshal(set) // the public JWK Set, without kid
	if err != nil {
		t.Fatal(err)
	}
	jset, err := ParseSet(pub)
	if err != nil {
		t.Fatal(err)
	}
	v, _ = jwt.NewVerifier(jset, jwt.VerifierOptions{})
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Errorf("JWK Set without the kid: %v, want ErrKeyNotFound", err)
	}
}
