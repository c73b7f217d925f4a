package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// Limits on what is parsed. They are checked before anything is decoded.
const (
	// MaxKeySize is the longest JWK or PEM input accepted, in bytes.
	MaxKeySize = 1 << 20
	// MaxSetSize is the longest JWK Set accepted, in bytes.
	MaxSetSize = 1 << 20
	// MaxSetKeys is the largest number of keys in a JWK Set.
	MaxSetKeys = 1000
	// MaxRSABits is the largest RSA modulus accepted. Larger keys are
	// refused (ErrUnsupported) so that a key cannot make validation or
	// verification arbitrarily slow.
	MaxRSABits = 16384
)

// Key types: the values of the kty member.
const (
	KeyTypeRSA = "RSA" // RSA (RFC 7518 section 6.3)
	KeyTypeEC  = "EC"  // elliptic curve: P-256, P-384, P-521 (RFC 7518 section 6.2)
	KeyTypeOKP = "OKP" // octet key pair: Ed25519 only (RFC 8037)
	KeyTypeOct = "oct" // symmetric secret (RFC 7518 section 6.4)
)

// Key is a parsed and validated JSON Web Key (RFC 7517): key material that
// package jwt accepts, plus the JWK members that say how it may be used.
// A Key is immutable and safe for concurrent use.
//
// Get a Key from ParseKey, ParsePEM, NewKey or a Set, and a *jwt.Key from
// it with VerificationKey or SigningKey, which honour use, key_ops and alg.
type Key struct {
	kty     string
	crv     string
	kid     string
	alg     string
	use     string
	ops     []string
	hasOps  bool // key_ops is present (it may be empty)
	x5u     string
	x5c     []*x509.Certificate
	x5t     []byte
	x5tS256 []byte
	key     *jwt.Key // the material; no ID; narrowed to alg when alg is a JWS algorithm
}

// ParseKey parses a JWK: a JSON object of at most MaxKeySize bytes, parsed
// strictly (see the package documentation). Errors wrap ErrInvalidKey,
// ErrUnsupported or ErrTooLarge.
func ParseKey(data []byte) (*Key, error) {
	if len(data) > MaxKeySize {
		return nil, fmt.Errorf("%w: JWK is %d bytes, the limit is %d", ErrTooLarge, len(data), MaxKeySize)
	}
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	if v.Kind != strictjson.KindObject {
		return nil, fmt.Errorf("%w: a JWK is a JSON object, not a JSON %s", ErrInvalidKey, v.Kind)
	}
	return keyFromObject(v.Obj)
}

// knownKeyType reports whether kty is one of the four key types of RFC 7518
// and RFC 8037.
func knownKeyType(kty string) bool {
	switch kty {
	case KeyTypeRSA, KeyTypeEC, KeyTypeOKP, KeyTypeOct:
		return true
	}
	return false
}

func keyFromObject(o strictjson.Object) (*Key, error) {
	kty, ok, err := getString(o, "kty")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: missing required member \"kty\"", ErrInvalidKey)
	}
	if !knownKeyType(kty) {
		return nil, fmt.Errorf("%w: unknown kty %q", ErrUnsupported, kty)
	}
	k := &Key{kty: kty}
	if err := k.parseCommon(o); err != nil {
		return nil, err
	}
	var algs []jwt.Algorithm
	if jwt.Algorithm(k.alg).Known() {
		algs = []jwt.Algorithm{jwt.Algorithm(k.alg)}
	}
	switch kty {
	case KeyTypeRSA:
		err = k.parseRSA(o, algs)
	case KeyTypeEC:
		err = k.parseEC(o, algs)
	case KeyTypeOKP:
		err = k.parseOKP(o, algs)
	case KeyTypeOct:
		err = k.parseOct(o, algs)
	}
	if err != nil {
		return nil, err
	}
	if err := k.parseX509(o); err != nil {
		return nil, err
	}
	return k, nil
}

// getString returns the string member name. A member of another JSON type
// is an error.
func getString(o strictjson.Object, name string) (string, bool, error) {
	v := o.Get(name)
	if v == nil {
		return "", false, nil
	}
	if v.Kind != strictjson.KindString {
		return "", true, fmt.Errorf("%w: %q is a JSON %s, not a string", ErrInvalidKey, name, v.Kind)
	}
	return v.Str, true, nil
}

// getBytes returns the base64url member name, decoded.
func getBytes(o strictjson.Object, name string) ([]byte, bool, error) {
	s, ok, err := getString(o, name)
	if !ok || err != nil {
		return nil, ok, err
	}
	b, err := b64url.DecodeString(s)
	if err != nil {
		return nil, true, fmt.Errorf("%w: %q: %w", ErrInvalidKey, name, err)
	}
	return b, true, nil
}

// requireBytes returns the base64url member name, which must be present and
// not empty.
func requireBytes(o strictjson.Object, kty, name string) ([]byte, error) {
	b, ok, err := getBytes(o, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s key: missing required member %q", ErrInvalidKey, kty, name)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: %s key: %q is empty", ErrInvalidKey, kty, name)
	}
	return b, nil
}

// The registered key_ops values (RFC 7517 section 4.3).
const (
	opSign       = "sign"
	opVerify     = "verify"
	opEncrypt    = "encrypt"
	opDecrypt    = "decrypt"
	opWrapKey    = "wrapKey"
	opUnwrapKey  = "unwrapKey"
	opDeriveKey  = "deriveKey"
	opDeriveBits = "deriveBits"
)

func isSigOp(op string) bool { return op == opSign || op == opVerify }

func knownOp(op string) bool {
	switch op {
	case opSign, opVerify, opEncrypt, opDecrypt, opWrapKey, opUnwrapKey, opDeriveKey, opDeriveBits:
		return true
	}
	return false
}

// parseCommon reads the members every key type shares: kid, use, key_ops and
// alg, and checks that they agree with each other.
func (k *Key) parseCommon(o strictjson.Object) error {
	var err error
	var ok bool
	if k.kid, ok, err = getString(o, "kid"); err != nil {
		return err
	} else if ok && k.kid == "" {
		return fmt.Errorf("%w: \"kid\" is empty", ErrInvalidKey)
	}
	if k.use, ok, err = getString(o, "use"); err != nil {
		return err
	} else if ok && k.use == "" {
		return fmt.Errorf("%w: \"use\" is empty", ErrInvalidKey)
	}
	if v := o.Get("key_ops"); v != nil {
		if v.Kind != strictjson.KindArray {
			return fmt.Errorf("%w: \"key_ops\" is a JSON %s, not an array", ErrInvalidKey, v.Kind)
		}
		k.hasOps = true
		k.ops = make([]string, 0, len(v.Arr))
		for _, e := range v.Arr {
			if e.Kind != strictjson.KindString {
				return fmt.Errorf("%w: \"key_ops\" holds a JSON %s, not a string", ErrInvalidKey, e.Kind)
			}
			if !knownOp(e.Str) {
				return fmt.Errorf("%w: unknown key_ops value %q", ErrInvalidKey, e.Str)
			}
			if slices.Contains(k.ops, e.Str) {
				return fmt.Errorf("%w: key_ops lists %q twice", ErrInvalidKey, e.Str)
			}
			k.ops = append(k.ops, e.Str)
		}
	}
	if k.alg, ok, err = getString(o, "alg"); err != nil {
		return err
	} else if ok {
		if err := checkAlg(k.kty, k.alg); err != nil {
			return err
		}
	}
	return checkPurpose(k.use, k.ops, k.alg)
}

// checkPurpose checks that use, key_ops and alg agree (RFC 7517 section
// 4.3: use and key_ops MUST be consistent).
func checkPurpose(use string, ops []string, alg string) error {
	for _, op := range ops {
		switch {
		case use == "sig" && !isSigOp(op):
			return fmt.Errorf("%w: use \"sig\" and key_ops %q are inconsistent", ErrInvalidKey, op)
		case use != "" && use != "sig" && isSigOp(op):
			return fmt.Errorf("%w: use %q and key_ops %q are inconsistent", ErrInvalidKey, use, op)
		}
	}
	if alg == "" {
		return nil
	}
	sig := jwt.Algorithm(alg).Known()
	if use != "" && (use == "sig") != sig {
		return fmt.Errorf("%w: use %q and alg %q are inconsistent", ErrInvalidKey, use, alg)
	}
	for _, op := range ops {
		if isSigOp(op) != sig {
			return fmt.Errorf("%w: key_ops %q and alg %q are inconsistent", ErrInvalidKey, op, alg)
		}
	}
	return nil
}

// checkAlg checks an alg member against the key type. JWS algorithms must
// fit the key; the registered JWE algorithms (RFC 7518 section 4 and 5) are
// accepted on keys of the right type but make the key unusable for
// signatures; anything else, "none" included, is refused.
func checkAlg(kty, alg string) error {
	if strings.EqualFold(alg, "none") {
		return fmt.Errorf("%w: %w: alg %q is never allowed", ErrInvalidKey, jwt.ErrAlgorithm, alg)
	}
	want := ""
	switch a := jwt.Algorithm(alg); a {
	case jwt.HS256, jwt.HS384, jwt.HS512:
		want = KeyTypeOct
	case jwt.RS256, jwt.RS384, jwt.RS512, jwt.PS256, jwt.PS384, jwt.PS512:
		want = KeyTypeRSA
	case jwt.ES256, jwt.ES384, jwt.ES512:
		want = KeyTypeEC
	case jwt.EdDSA:
		want = KeyTypeOKP
	default:
		switch alg {
		case "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512":
			want = KeyTypeRSA
		case "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW":
			want = KeyTypeEC
		case "A128KW", "A192KW", "A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW", "dir",
			"PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW",
			"A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512":
			want = KeyTypeOct
		default:
			return fmt.Errorf("%w: unknown alg %q", ErrInvalidKey, alg)
		}
	}
	if want != kty {
		return fmt.Errorf("%w: alg %q cannot be used with kty %q", ErrInvalidKey, alg, kty)
	}
	return nil
}

// curveOfAlg returns the curve an ECDSA algorithm requires.
func curveOfAlg(alg string) string {
	switch jwt.Algorithm(alg) {
	case jwt.ES256:
		return "P-256"
	case jwt.ES384:
		return "P-384"
	case jwt.ES512:
		return "P-521"
	}
	return ""
}

func (k *Key) parseX509(o strictjson.Object) error {
	if s, ok, err := getString(o, "x5u"); err != nil {
		return err
	} else if ok {
		k.x5u = s
	}
	if v := o.Get("x5c"); v != nil {
		if k.kty == KeyTypeOct {
			return fmt.Errorf("%w: \"x5c\" on a secret (oct) key", ErrInvalidKey)
		}
		if v.Kind != strictjson.KindArray {
			return fmt.Errorf("%w: \"x5c\" is a JSON %s, not an array", ErrInvalidKey, v.Kind)
		}
		if len(v.Arr) == 0 {
			return fmt.Errorf("%w: \"x5c\" is empty", ErrInvalidKey)
		}
		for i, e := range v.Arr {
			if e.Kind != strictjson.KindString {
				return fmt.Errorf("%w: x5c[%d] is a JSON %s, not a string", ErrInvalidKey, i, e.Kind)
			}
			der, err := decodeB64Std(e.Str)
			if err != nil {
				return fmt.Errorf("%w: x5c[%d]: %w", ErrInvalidKey, i, err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return fmt.Errorf("%w: x5c[%d]: %w", ErrInvalidKey, i, err)
			}
			k.x5c = append(k.x5c, cert)
		}
		if err := k.checkLeaf(k.x5c[0]); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		name string
		size int
		dst  *[]byte
		sum  func([]byte) []byte
	}{
		{"x5t", sha1.Size, &k.x5t, func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
		{"x5t#S256", sha256.Size, &k.x5tS256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
	} {
		b, ok, err := getBytes(o, t.name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if k.kty == KeyTypeOct {
			return fmt.Errorf("%w: %q on a secret (oct) key", ErrInvalidKey, t.name)
		}
		if len(b) != t.size {
			return fmt.Errorf("%w: %q is %d bytes, want %d", ErrInvalidKey, t.name, len(b), t.size)
		}
		if len(k.x5c) > 0 && !slices.Equal(b, t.sum(k.x5c[0].Raw)) {
			return fmt.Errorf("%w: %q does not match the certificate in x5c", ErrInvalidKey, t.name)
		}
		*t.dst = b
	}
	return nil
}

// checkLeaf checks that a certificate holds the key's public key (RFC 7517
// section 4.7: it MUST match).
func (k *Key) checkLeaf(cert *x509.Certificate) error {
	pub, ok := k.key.PublicKey().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return fmt.Errorf("%w: the public key of the first x5c certificate does not match the key", ErrInvalidKey)
	}
	return nil
}

// KeyType returns the key type: KeyTypeRSA, KeyTypeEC, KeyTypeOKP or
// KeyTypeOct.
func (k *Key) KeyType() string { return k.kty }

// Curve returns the crv member ("P-256", "P-384", "P-521", "Ed25519"), or ""
// for RSA and oct keys.
func (k *Key) Curve() string { return k.crv }

// KeyID returns the kid member, or "".
func (k *Key) KeyID() string { return k.kid }

// WithID returns a copy of k whose kid is kid ("" removes it), for example
// a key without kid named by its thumbprint (see KeyID). kid must be valid
// UTF-8 (ErrInvalidKey).
func (k *Key) WithID(kid string) (*Key, error) {
	if !utf8.ValidString(kid) {
		return nil, fmt.Errorf("%w: key ID is not valid UTF-8", ErrInvalidKey)
	}
	c := *k
	c.kid = kid
	return &c, nil
}

// Algorithm returns the alg member, or "". It is a JWS algorithm, or a JWE
// algorithm for a key that cannot be used with JWS.
func (k *Key) Algorithm() string { return k.alg }

// Use returns the use member ("sig", "enc", ...), or "".
func (k *Key) Use() string { return k.use }

// KeyOps returns the key_ops member, and whether it is present.
func (k *Key) KeyOps() ([]string, bool) { return slices.Clone(k.ops), k.hasOps }

// X509URL returns the x5u member, or "". It is kept for marshalling and
// never fetched.
func (k *Key) X509URL() string { return k.x5u }

// Certificates returns the x5c chain, leaf first, or nil. The leaf's public
// key is the key's; the chain itself is not verified. The certificates must
// not be modified.
func (k *Key) Certificates() []*x509.Certificate { return slices.Clone(k.x5c) }

// IsPrivate reports whether k holds private or secret material.
func (k *Key) IsPrivate() bool { return k.key.CanSign() }

// IsSymmetric reports whether k is a secret (oct) key.
func (k *Key) IsSymmetric() bool { return k.kty == KeyTypeOct }

// PublicKey returns the public key (*rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey), or nil for an oct key.
func (k *Key) PublicKey() crypto.PublicKey { return k.key.PublicKey() }

// PrivateKey returns the private key (*rsa.PrivateKey, *ecdsa.PrivateKey or
// ed25519.PrivateKey), or nil.
func (k *Key) PrivateKey() crypto.Signer { return k.key.PrivateKey() }

// Secret returns a copy of an oct key's secret, or nil.
func (k *Key) Secret() []byte { return k.key.Secret() }

// Public returns the public half of an asymmetric key: k itself if it is
// public, nil for an oct key. The key_ops of a private key become those of
// its public half: sign becomes verify, decrypt encrypt and unwrapKey
// wrapKey.
func (k *Key) Public() *Key {
	if k.kty == KeyTypeOct {
		return nil
	}
	if !k.key.CanSign() {
		return k
	}
	c := *k
	c.key = k.key.Public()
	if k.hasOps {
		c.ops = make([]string, 0, len(k.ops))
		for _, op := range k.ops {
			switch op {
			case opSign:
				op = opVerify
			case opDecrypt:
				op = opEncrypt
			case opUnwrapKey:
				op = opWrapKey
			}
			if !slices.Contains(c.ops, op) {
				c.ops = append(c.ops, op)
			}
		}
	}
	return &c
}

// allows checks that use, key_ops and alg allow op ("sign" or "verify").
func (k *Key) allows(op string) error {
	if k.use != "" && k.use != "sig" {
		return fmt.Errorf("%w: %w: the key has use %q, not \"sig\"", ErrKeyUse, jwt.ErrInvalidKey, k.use)
	}
	if k.alg != "" && !jwt.Algorithm(k.alg).Known() {
		return fmt.Errorf("%w: %w: the key has alg %q, which is not a JWS algorithm", ErrKeyUse, jwt.ErrInvalidKey, k.alg)
	}
	if k.hasOps && !slices.Contains(k.ops, op) {
		return fmt.Errorf("%w: %w: the key's key_ops %q do not include %q", ErrKeyUse, jwt.ErrInvalidKey, k.ops, op)
	}
	return nil
}

// VerificationKey returns the *jwt.Key that verifies signatures with k: the
// public half of an asymmetric key or the secret of an oct key, with k's
// kid as ID and narrowed to k's alg when it has one. It fails with
// ErrKeyUse when use, key_ops or alg say the key is not for verifying
// signatures: a use other than "sig", key_ops without "verify" (for a
// private key: without "verify" or "sign", see Public), or a JWE alg.
func (k *Key) VerificationKey() (*jwt.Key, error) {
	pk := k
	if k.kty != KeyTypeOct {
		pk = k.Public()
	}
	if err := pk.allows(opVerify); err != nil {
		return nil, err
	}
	if k.kid != "" {
		return pk.key.WithID(k.kid), nil
	}
	return pk.key, nil
}

// SigningKey returns the *jwt.Key that signs with k, with k's kid as ID and
// narrowed to k's alg when it has one. It fails with ErrKeyUse for a public
// key, and when use, key_ops or alg say the key is not for signing (use
// other than "sig", key_ops without "sign", or a JWE alg).
func (k *Key) SigningKey() (*jwt.Key, error) {
	if !k.key.CanSign() {
		return nil, fmt.Errorf("%w: %w: a public key cannot sign", ErrKeyUse, jwt.ErrInvalidKey)
	}
	if err := k.allows(opSign); err != nil {
		return nil, err
	}
	if k.kid != "" {
		return k.key.WithID(k.kid), nil
	}
	return k.key, nil
}

// NewKey returns the JWK form of a *jwt.Key: its ID becomes kid, and its
// algorithm becomes alg if the key was narrowed to one algorithm. A key
// narrowed to several algorithms but not all those its type allows cannot be
// expressed as a JWK (alg names one algorithm) and is refused rather than
// widened. The key has no use or key_ops.
func NewKey(key *jwt.Key) (*Key, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	kid := key.ID()
	if !utf8.ValidString(kid) {
		return nil, fmt.Errorf("%w: key ID is not valid UTF-8", ErrInvalidKey)
	}
	k := &Key{kid: kid}
	var defaults []jwt.Algorithm
	switch pub := key.PublicKey().(type) {
	case nil:
		if !key.IsSymmetric() {
			return nil, fmt.Errorf("%w: key has no material", ErrInvalidKey)
		}
		k.kty = KeyTypeOct
		n := len(key.Secret())
		for _, a := range []jwt.Algorithm{jwt.HS256, jwt.HS384, jwt.HS512} {
			if n >= hashOf(a).Size() {
				defaults = append(defaults, a)
			}
		}
	case *rsa.PublicKey:
		k.kty = KeyTypeRSA
		if n := pub.N.BitLen(); n > MaxRSABits {
			return nil, fmt.Errorf("%w: RSA key is %d bits, the limit is %d", ErrUnsupported, n, MaxRSABits)
		}
		if priv, ok := key.PrivateKey().(*rsa.PrivateKey); ok && len(priv.Primes) != 2 {
			return nil, fmt.Errorf("%w: multi-prime RSA key (%d primes)", ErrUnsupported, len(priv.Primes))
		}
		defaults = []jwt.Algorithm{jwt.RS256, jwt.RS384, jwt.RS512, jwt.PS256, jwt.PS384, jwt.PS512}
	case *ecdsa.PublicKey:
		k.kty = KeyTypeEC
		k.crv = curveName(pub.Curve)
		defaults = []jwt.Algorithm{algOfCurve(k.crv)}
	case ed25519.PublicKey:
		k.kty = KeyTypeOKP
		k.crv = "Ed25519"
		defaults = []jwt.Algorithm{jwt.EdDSA}
	default:
		return nil, fmt.Errorf("%w: key type %T", ErrUnsupported, pub)
	}
	algs := key.Algorithms()
	switch {
	case len(algs) == len(defaults):
		// A key is never wider than its type allows, so this is all of them.
	case len(algs) == 1:
		k.alg = string(algs[0])
	default:
		return nil, fmt.Errorf("%w: the key allows %v: a JWK can name one algorithm (alg) or leave it out, which allows %v",
			ErrUnsupported, algs, defaults)
	}
	k.key = key.WithID("")
	return k, nil
}

func hashOf(a jwt.Algorithm) crypto.Hash {
	switch a {
	case jwt.HS384:
		return crypto.SHA384
	case jwt.HS512:
		return crypto.SHA512
	}
	return crypto.SHA256
}

func curveName(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "P-256"
	case elliptic.P384():
		return "P-384"
	case elliptic.P521():
		return "P-521"
	}
	return ""
}

func algOfCurve(crv string) jwt.Algorithm {
	switch crv {
	case "P-256":
		return jwt.ES256
	case "P-384":
		return jwt.ES384
	}
	return jwt.ES512
}

// MarshalJSON implements json.Marshaler with the public form of the key
// (Public): never a private member. It fails for an oct key, which has no
// public form; use MarshalPrivate to write secrets on purpose.
func (k *Key) MarshalJSON() ([]byte, error) {
	if k == nil || k.key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if k.kty == KeyTypeOct {
		return nil, fmt.Errorf("%w: a secret (oct) key has no public form; use MarshalPrivate", ErrKeyUse)
	}
	return k.Public().appendJSON(nil, false), nil
}

// MarshalPrivate returns the JWK with its private or secret members (d, p,
// q, dp, dq, qi; d; k), for storing a key. Never publish its output.
func (k *Key) MarshalPrivate() ([]byte, error) {
	if k == nil || k.key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	return k.appendJSON(nil, true), nil
}

func (k *Key) appendJSON(b []byte, private bool) []byte {
	b = append(b, '{')
	b = appendMember(b, "kty", k.kty)
	if k.kid != "" {
		b = appendMember(b, "kid", k.kid)
	}
	if k.use != "" {
		b = appendMember(b, "use", k.use)
	}
	if k.hasOps {
		b = append(b, `,"key_ops":[`...)
		for i, op := range k.ops {
			if i > 0 {
				b = append(b, ',')
			}
			b = strictjson.AppendHTMLSafeString(b, op)
		}
		b = append(b, ']')
	}
	if k.alg != "" {
		b = appendMember(b, "alg", k.alg)
	}
	b = appendMaterial(b, k.key, private)
	if k.x5u != "" {
		b = appendMember(b, "x5u", k.x5u)
	}
	if len(k.x5c) > 0 {
		b = append(b, `,"x5c":[`...)
		for i, c := range k.x5c {
			if i > 0 {
				b = append(b, ',')
			}
			b = strictjson.AppendHTMLSafeString(b, stdB64(c.Raw))
		}
		b = append(b, ']')
	}
	if k.x5t != nil {
		b = appendMember(b, "x5t", b64url.EncodeToString(k.x5t))
	}
	if k.x5tS256 != nil {
		b = appendMember(b, "x5t#S256", b64url.EncodeToString(k.x5tS256))
	}
	return append(b, '}')
}
