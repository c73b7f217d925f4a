package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"
)

// payloadJSON is the fixed claims payload, byte for byte.
const payloadJSON = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

// The fixed payload's values, for libraries that build claims from fields.
const (
	wantSub   = "user-12345"
	claimIat  = 1767225600
	claimNbf  = 1767225600
	claimExp  = 1767229200
	claimJti  = "6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60"
	claimType = "access"
	claimCSRF = "0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a"
)

var claimRoles = []string{"admin", "user"}

// clockUnix is the fixed verification time, inside the token's validity.
const clockUnix = 1767227400

// fixedNow is the clock handed to every library's validation.
func fixedNow() time.Time { return time.Unix(clockUnix, 0) }

// appClaims are the payload's private claims, decoded next to each
// library's registered-claims type.
type appClaims struct {
	Type  string   `json:"type"`
	Fresh bool     `json:"fresh"`
	CSRF  string   `json:"csrf"`
	Roles []string `json:"roles"`
}

func newAppClaims() appClaims {
	return appClaims{Type: claimType, Fresh: false, CSRF: claimCSRF, Roles: claimRoles}
}

// benchAlgs are the benchmarked algorithms, in output order.
var benchAlgs = []string{"HS256", "RS256", "ES256", "EdDSA"}

// Names of the invalid tokens every full verifier must reject.
const (
	badTampered  = "tampered-signature"
	badExpired   = "expired"
	badNotYet    = "not-yet-valid"
	badIatFuture = "issued-in-future"
)

// algCase is one algorithm's key and its tokens.
type algCase struct {
	name string

	hmacKey []byte            // HS256
	rsaKey  *rsa.PrivateKey   // RS256, 2048-bit
	ecKey   *ecdsa.PrivateKey // ES256, P-256
	edKey   ed25519.PrivateKey

	// token is a valid compact JWS over payloadJSON with the header
	// {"alg":"<name>","typ":"JWT"}, made with the standard library.
	token string
	// bad maps the names above to tokens that must not verify.
	bad map[string]string
}

// signingKey returns the private key (or HMAC secret) as a library takes it.
func (c *algCase) signingKey() any {
	switch c.name {
	case "HS256":
		return c.hmacKey
	case "RS256":
		return c.rsaKey
	case "ES256":
		return c.ecKey
	default:
		return c.edKey
	}
}

// verifyKey returns the public key (or HMAC secret) as a library takes it.
func (c *algCase) verifyKey() any {
	switch c.name {
	case "HS256":
		return c.hmacKey
	case "RS256":
		return &c.rsaKey.PublicKey
	case "ES256":
		return &c.ecKey.PublicKey
	default:
		return c.edKey.Public().(ed25519.PublicKey)
	}
}

// jwsSign signs input the JWS way with the standard library (ES256
// signatures are r||s, 64 bytes).
func (c *algCase) jwsSign(input []byte) ([]byte, error) {
	switch c.name {
	case "HS256":
		m := hmac.New(sha256.New, c.hmacKey)
		m.Write(input)
		return m.Sum(nil), nil
	case "RS256":
		h := sha256.Sum256(input)
		return rsa.SignPKCS1v15(nil, c.rsaKey, crypto.SHA256, h[:])
	case "ES256":
		h := sha256.Sum256(input)
		der, err := ecdsa.SignASN1(rand.Reader, c.ecKey, h[:])
		if err != nil {
			return nil, err
		}
		return derToRaw(der, 32)
	case "EdDSA":
		return ed25519.Sign(c.edKey, input), nil
	}
	return nil, fmt.Errorf("unknown algorithm %s", c.name)
}

// jwsVerify checks a JWS signature over input with the standard library.
func (c *algCase) jwsVerify(input, sig []byte) error {
	ok := false
	switch c.name {
	case "HS256":
		m := hmac.New(sha256.New, c.hmacKey)
		m.Write(input)
		ok = hmac.Equal(m.Sum(nil), sig)
	case "RS256":
		h := sha256.Sum256(input)
		ok = rsa.VerifyPKCS1v15(&c.rsaKey.PublicKey, crypto.SHA256, h[:], sig) == nil
	case "ES256":
		der, err := rawToDER(sig)
		if err != nil {
			return err
		}
		h := sha256.Sum256(input)
		ok = ecdsa.VerifyASN1(&c.ecKey.PublicKey, h[:], der)
	case "EdDSA":
		ok = ed25519.Verify(c.edKey.Public().(ed25519.PublicKey), input, sig)
	}
	if !ok {
		return errors.New("signature does not verify")
	}
	return nil
}

// makeToken builds a compact JWS of payload with the standard library.
func (c *algCase) makeToken(payload string) (string, error) {
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString([]byte(`{"alg":"`+c.name+`","typ":"JWT"}`)) + "." + b64.EncodeToString([]byte(payload))
	sig, err := c.jwsSign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// ecdsaSig is the ASN.1 form of an ECDSA signature.
type ecdsaSig struct{ R, S *big.Int }

func derToRaw(der []byte, size int) ([]byte, error) {
	var s ecdsaSig
	rest, err := asn1.Unmarshal(der, &s)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("bad DER signature")
	}
	raw := make([]byte, 2*size)
	s.R.FillBytes(raw[:size])
	s.S.FillBytes(raw[size:])
	return raw, nil
}

func rawToDER(raw []byte) ([]byte, error) {
	if len(raw) != 64 {
		return nil, fmt.Errorf("ES256 signature is %d bytes, want 64", len(raw))
	}
	return asn1.Marshal(ecdsaSig{new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])})
}

// tamper changes one signature character so that the decoded signature
// bytes change (not just the unused trailing bits of the last character).
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 2
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// replaceClaim rewrites one numeric claim of payloadJSON.
func replaceClaim(name string, from, to int64) string {
	old := fmt.Sprintf(`"%s":%d`, name, from)
	if !strings.Contains(payloadJSON, old) {
		panic("payload has no " + old)
	}
	return strings.Replace(payloadJSON, old, fmt.Sprintf(`"%s":%d`, name, to), 1)
}

// checkToken reports whether token is a compact JWS of the fixed claims
// for c's algorithm with a signature the standard library accepts.
func (c *algCase) checkToken(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("token has %d segments: %q", len(parts), token)
	}
	b64 := base64.RawURLEncoding
	hdr, err := b64.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.Alg != c.name {
		return fmt.Errorf("header alg %q, want %q", h.Alg, c.name)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if err := c.jwsVerify([]byte(parts[0]+"."+parts[1]), sig); err != nil {
		return err
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(payload, &got); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if err := json.Unmarshal([]byte(payloadJSON), &want); err != nil {
		return err
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("payload %s, want the claims of %s", payload, payloadJSON)
	}
	return nil
}

// loadFixture reads the committed keys once and prepares every algorithm's
// tokens.
var loadFixture = sync.OnceValues(func() (map[string]*algCase, error) {
	dir := filepath.Join("..", "testdata")
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
	parsePEM := func(name string) (any, error) {
		b, err := read(name)
		if err != nil {
			return nil, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%s: no PKCS#8 PEM block", name)
		}
		return x509.ParsePKCS8PrivateKey(blk.Bytes)
	}

	hmacKey, err := read("hs256.key")
	if err != nil {
		return nil, err
	}
	if len(hmacKey) != 32 {
		return nil, fmt.Errorf("hs256.key is %d bytes, want 32", len(hmacKey))
	}
	k, err := parsePEM("rsa2048.pem")
	if err != nil {
		return nil, err
	}
	rsaKey, ok := k.(*rsa.PrivateKey)
	if !ok || rsaKey.N.BitLen() != 2048 {
		return nil, errors.New("rsa2048.pem is not a 2048-bit RSA key")
	}
	if k, err = parsePEM("p256.pem"); err != nil {
		return nil, err
	}
	ecKey, ok := k.(*ecdsa.PrivateKey)
	if !ok || ecKey.Curve.Params().Name != "P-256" {
		return nil, errors.New("p256.pem is not a P-256 key")
	}
	if k, err = parsePEM("ed25519.pem"); err != nil {
		return nil, err
	}
	edKey, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("ed25519.pem is not an Ed25519 key")
	}

	cases := make(map[string]*algCase, len(benchAlgs))
	for _, alg := range benchAlgs {
		c := &algCase{name: alg, hmacKey: hmacKey, rsaKey: rsaKey, ecKey: ecKey, edKey: edKey}
		if c.token, err = c.makeToken(payloadJSON); err != nil {
			return nil, err
		}
		c.bad = map[string]string{badTampered: tamper(c.token)}
		for name, payload := range map[string]string{
			badExpired:   replaceClaim("exp", claimExp, clockUnix-1),
			badNotYet:    replaceClaim("nbf", claimNbf, clockUnix+60),
			badIatFuture: replaceClaim("iat", claimIat, clockUnix+60),
		} {
			if c.bad[name], err = c.makeToken(payload); err != nil {
				return nil, err
			}
		}
		if err := c.checkToken(c.token); err != nil {
			return nil, fmt.Errorf("%s: reference token: %w", alg, err)
		}
		if err := c.checkToken(c.bad[badTampered]); err == nil {
			return nil, fmt.Errorf("%s: tampered token still verifies", alg)
		}
		cases[alg] = c
	}
	return cases, nil
})
