// Package interop holds differential-testing helpers that sign and verify
// JWTs with other Go JWT libraries ("peers"), so that jwtgate's output can be
// checked against them and theirs against jwtgate.
//
// It lives in its own module so that the peers never enter the main module's
// go.mod.
//
// The tests also drive two implementations outside Go through small
// scripts that sign and verify on request: PyJWT (python/pyjwt_tool.py, run
// by /usr/bin/python3, which sees Debian's python3-jwt and
// python3-cryptography) and Node's jose package (node/jose_tool.mjs, with
// jose pinned in node/package-lock.json and installed by
// `npm ci --prefix interop/node`). .ci/interop-deps.sh installs both. When one
// is missing its tests are skipped, or fail if JWTGATE_REQUIRE_SERVICES=1 or
// CI=true. JWTGATE_PYTHON and JWTGATE_NODE select other interpreters.
package interop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	xjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// Algorithms returns the JWS algorithms the differential helpers cover.
func Algorithms() []string {
	return []string{
		"HS256", "HS384", "HS512",
		"RS256", "RS384", "RS512",
		"PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512",
		"EdDSA",
	}
}

// KeyPair is the key material for one algorithm. For HMAC algorithms only
// Secret is set; for the others Private and Public are.
type KeyPair struct {
	Alg     string
	Secret  []byte
	Private crypto.Signer
	Public  crypto.PublicKey
}

// RSABits is the modulus size NewKeyPair uses for RS* and PS* keys.
const RSABits = 2048

// NewKeyPair generates fresh key material suitable for alg: an HMAC secret
// as long as the hash output, a 2048-bit RSA key, an ECDSA key on the curve
// the algorithm names, or an Ed25519 key.
func NewKeyPair(alg string) (*KeyPair, error) {
	kp := &KeyPair{Alg: alg}
	var err error
	switch alg {
	case "HS256", "HS384", "HS512":
		n := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
		kp.Secret = make([]byte, n)
		_, err = rand.Read(kp.Secret)
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		var k *rsa.PrivateKey
		k, err = rsa.GenerateKey(rand.Reader, RSABits)
		if err == nil {
			kp.Private, kp.Public = k, &k.PublicKey
		}
	case "ES256", "ES384", "ES512":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		var k *ecdsa.PrivateKey
		k, err = ecdsa.GenerateKey(curve, rand.Reader)
		if err == nil {
			kp.Private, kp.Public = k, &k.PublicKey
		}
	case "EdDSA":
		var pub ed25519.PublicKey
		var priv ed25519.PrivateKey
		pub, priv, err = ed25519.GenerateKey(rand.Reader)
		kp.Private, kp.Public = priv, pub
	default:
		return nil, fmt.Errorf("interop: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("interop: generating %s key: %w", alg, err)
	}
	return kp, nil
}

// WithAlg returns a copy of k that claims to be for alg, with the same key
// material. It is meant for algorithm-confusion tests.
func (k *KeyPair) WithAlg(alg string) *KeyPair {
	c := *k
	c.Alg = alg
	return &c
}

// SigningKey returns the key in the form the peers take for signing: the
// secret for HMAC, the private key otherwise.
func (k *KeyPair) SigningKey() any {
	if k.Secret != nil {
		return k.Secret
	}
	return k.Private
}

// VerificationKey returns the key in the form the peers take for
// verifying: the secret for HMAC, the public key otherwise.
func (k *KeyPair) VerificationKey() any {
	if k.Secret != nil {
		return k.Secret
	}
	return k.Public
}

// VerifyOptions configures the registered-claim checks of a peer verifier.
// The algorithm a verifier accepts is always exactly KeyPair.Alg.
type VerifyOptions struct {
	// Now is the verification time; the zero value means time.Now().
	Now time.Time
	// Leeway is the clock skew tolerated for exp, nbf and iat.
	Leeway time.Duration
	// Audience, if not empty, must be one of the token's aud values. If
	// empty, golang-jwt and jwx do not look at aud, while jwtgate refuses
	// a token that has one (RFC 7519 section 4.1.3).
	Audience string
}

func (o VerifyOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Peer is one JWT library as seen by the differential tests.
//
// Sign produces a compact JWS of claims with the key's algorithm.
// Verify checks a compact JWS with the key, accepting only the key's
// algorithm, checking exp, nbf and iat (when present) against the options'
// clock and aud as VerifyOptions.Audience says, and returns the claims. The claims are normalized by a JSON round
// trip of the library's own claims value, so numbers come back as float64
// and strings arrays as []any, as encoding/json decodes them.
type Peer struct {
	Name   string
	Sign   func(k *KeyPair, claims map[string]any) (string, error)
	Verify func(k *KeyPair, token string, opts VerifyOptions) (map[string]any, error)
}

// Peers lists the peer libraries covered by the differential helpers.
// Tests in this package append jwtgate itself where they need it.
func Peers() []Peer {
	return []Peer{
		{Name: "golang-jwt", Sign: SignGolangJWT, Verify: VerifyGolangJWT},
		{Name: "jwx", Sign: SignJWX, Verify: VerifyJWX},
	}
}

// Normalize returns v after a round trip through encoding/json into a
// map[string]any, the form in which Peer.Verify returns claims.
func Normalize(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// ---- golang-jwt/jwt/v5 ----

// SignGolangJWT signs claims with github.com/golang-jwt/jwt/v5 as
// jwt.MapClaims.
func SignGolangJWT(k *KeyPair, claims map[string]any) (string, error) {
	m := gjwt.GetSigningMethod(k.Alg)
	if m == nil {
		return "", fmt.Errorf("golang-jwt: unknown algorithm %q", k.Alg)
	}
	mc := make(gjwt.MapClaims, len(claims))
	for name, v := range claims {
		mc[name] = v
	}
	return gjwt.NewWithClaims(m, mc).SignedString(k.SigningKey())
}

// VerifyGolangJWT verifies token with github.com/golang-jwt/jwt/v5,
// allowing only k.Alg and checking exp, nbf, iat and (if asked) aud.
func VerifyGolangJWT(k *KeyPair, token string, opts VerifyOptions) (map[string]any, error) {
	popts := []gjwt.ParserOption{
		gjwt.WithValidMethods([]string{k.Alg}),
		gjwt.WithIssuedAt(),
		gjwt.WithLeeway(opts.Leeway),
		gjwt.WithTimeFunc(opts.now),
	}
	if opts.Audience != "" {
		popts = append(popts, gjwt.WithAudience(opts.Audience))
	}
	p := gjwt.NewParser(popts...)
	t, err := p.Parse(token, func(*gjwt.Token) (any, error) {
		return k.VerificationKey(), nil
	})
	if err != nil {
		return nil, err
	}
	mc, ok := t.Claims.(gjwt.MapClaims)
	if !t.Valid || !ok {
		return nil, errors.New("golang-jwt: token not valid")
	}
	return Normalize(mc)
}

// ---- lestrrat-go/jwx/v3 ----

func jwxAlg(alg string) (jwa.SignatureAlgorithm, error) {
	a, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return a, fmt.Errorf("jwx: unknown algorithm %q", alg)
	}
	return a, nil
}

// SignJWX signs claims with github.com/lestrrat-go/jwx/v3, setting each
// claim on a jwt.Token.
func SignJWX(k *KeyPair, claims map[string]any) (string, error) {
	alg, err := jwxAlg(k.Alg)
	if err != nil {
		return "", err
	}
	t := xjwt.New()
	for name, v := range claims {
		if err := t.Set(name, v); err != nil {
			return "", fmt.Errorf("jwx: setting claim %q: %w", name, err)
		}
	}
	b, err := xjwt.Sign(t, xjwt.WithKey(alg, k.SigningKey()))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// VerifyJWX verifies token with github.com/lestrrat-go/jwx/v3, allowing
// only k.Alg and checking exp, nbf, iat and (if asked) aud.
func VerifyJWX(k *KeyPair, token string, opts VerifyOptions) (map[string]any, error) {
	alg, err := jwxAlg(k.Alg)
	if err != nil {
		return nil, err
	}
	popts := []xjwt.ParseOption{
		xjwt.WithKey(alg, k.VerificationKey()),
		xjwt.WithClock(xjwt.ClockFunc(opts.now)),
		xjwt.WithAcceptableSkew(opts.Leeway),
	}
	if opts.Audience != "" {
		popts = append(popts, xjwt.WithAudience(opts.Audience))
	}
	t, err := xjwt.Parse([]byte(token), popts...)
	if err != nil {
		return nil, err
	}
	return Normalize(t)
}
