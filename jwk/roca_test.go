package jwk

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// RSA keys with the ROCA fingerprint (CVE-2017-15361) are refused however
// they are loaded. The keys are the detector's test vectors in
// ../testdata/roca (see its README.md).
func TestROCAKeysRefused(t *testing.T) {
	privPEM, pubPEM := rocaPEM(t, "privkey05.pem"), rocaPEM(t, "pubkey03.pem")
	block, _ := pem.Decode(privPEM)
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := new(big.Int).SetString(rocaModulusHex(t), 16)
	if !ok {
		t.Fatal("mod03.txt: not hexadecimal")
	}
	b64 := func(i *big.Int) string { return base64.RawURLEncoding.EncodeToString(i.Bytes()) }
	marshal := func(m map[string]any) []byte {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pubJWK := marshal(map[string]any{"kty": "RSA", "kid": "roca", "n": b64(n), "e": "AQAB"})
	privJWK := marshal(map[string]any{
		"kty": "RSA", "n": b64(priv.N), "e": "AQAB", "d": b64(priv.D),
		"p": b64(priv.Primes[0]), "q": b64(priv.Primes[1]),
		"dp": b64(priv.Precomputed.Dp), "dq": b64(priv.Precomputed.Dq), "qi": b64(priv.Precomputed.Qinv),
	})
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8PEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	sound := with(t, publicOf(jwkOf(t, fixRSA)), "kid", "sound")

	tests := []struct {
		name  string
		parse func() error
		want  error
	}{
		{"JWK public", func() error { _, err := ParseKey(pubJWK); return err }, ErrInvalidKey},
		{"JWK private", func() error { _, err := ParseKey(privJWK); return err }, ErrInvalidKey},
		{"PEM PKIX public", func() error { _, err := ParsePEM(pubPEM); return err }, ErrInvalidKey},
		{"PEM PKCS #1 private", func() error { _, err := ParsePEM(privPEM); return err }, ErrInvalidKey},
		{"PEM PKCS #8 private", func() error { _, err := ParsePEM(pkcs8PEM); return err }, ErrInvalidKey},
		{"Load PEM", func() error { _, err := Load(pubPEM); return err }, ErrInvalidKey},
		{"Load JWK", func() error { _, err := Load(pubJWK); return err }, ErrInvalidKey},
		{"JWK Set beside a sound key", func() error { _, err := ParseSet(jwks(sound, pubJWK)); return err }, ErrInvalidSet},
		{"public JWK Set", func() error { _, err := ParsePublicSet(jwks(pubJWK)); return err }, ErrInvalidSet},
	}
	for _, tt := range tests {
		err := tt.parse()
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
			continue
		}
		if !errors.Is(err, jwt.ErrInvalidKey) || !strings.Contains(err.Error(), "ROCA") {
			t.Errorf("%s: %v does not say ROCA or does not wrap jwt.ErrInvalidKey", tt.name, err)
		}
	}
	// Sound RSA keys load: the fixtures and the RFC examples, in every
	// other test of this package.
	if _, err := ParseSet(jwks(sound)); err != nil {
		t.Errorf("a sound key: %v", err)
	}
}
