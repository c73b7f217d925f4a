package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"fmt"
	"hash"
	"slices"
	"sync"
)

// MinRSABits is the smallest RSA modulus accepted, for signing and for
// verifying (RFC 7518 section 3.3 requires 2048 bits).
const MinRSABits = 2048

// Key is a key bound to the algorithms it may be used with. A Key is
// immutable and safe for concurrent use.
//
// The algorithms are fixed when the key is made: an HMAC secret allows
// HS256, HS384 and HS512 as far as it is at least as long as the hash output,
// an RSA key allows RS* and PS*, an ECDSA key the one algorithm of its curve
// (P-256: ES256, P-384: ES384, P-521: ES512) and an Ed25519 key EdDSA. A
// constructor may narrow that set but never widen it, so a token's header can
// never make a key serve an algorithm of another family (the classic
// RS256-to-HS256 confusion is impossible by construction).
type Key struct {
	id     string
	algs   []Algorithm
	fam    family // famRSA stands for RSA keys (RS* and PS*)
	secret []byte
	pub    crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	priv   crypto.Signer    // nil for a verification-only key
	ecSize int              // byte length of an ECDSA coordinate
	macs   [3]*sync.Pool    // HMAC states by algorithm (HS256, HS384, HS512)
	self   []*Key           // this key as a one-element key set
}

// NewHMACKey returns a key for HMAC with the given secret. Without algs it
// allows every HS algorithm whose hash output is not longer than the secret;
// a secret shorter than 32 bytes is refused (RFC 7518 section 3.2). The
// secret is copied.
func NewHMACKey(secret []byte, algs ...Algorithm) (*Key, error) {
	var allowed []Algorithm
	for _, a := range []Algorithm{HS256, HS384, HS512} {
		if len(secret) >= a.info().hash.Size() {
			allowed = append(allowed, a)
		}
	}
	if len(allowed) == 0 {
		return nil, fmt.Errorf("%w: HMAC secret is %d bytes, at least 32 are required", ErrInvalidKey, len(secret))
	}
	algs, err := narrow("HMAC secret", allowed, algs)
	if err != nil {
		return nil, err
	}
	k := &Key{algs: algs, fam: famHMAC, secret: slices.Clone(secret)}
	return k.init(), nil
}

// NewPublicKey returns a verification-only key for an *rsa.PublicKey,
// *ecdsa.PublicKey or ed25519.PublicKey. Without algs it allows every
// algorithm the key type allows. RSA keys under MinRSABits, and RSA keys
// whose modulus has the ROCA fingerprint (CVE-2017-15361: keys of
// Infineon's flawed generator, which can be factored), are refused with
// ErrInvalidKey; so are they by NewPrivateKey.
func NewPublicKey(pub crypto.PublicKey, algs ...Algorithm) (*Key, error) {
	k := &Key{}
	if err := k.setPublic(pub); err != nil {
		return nil, err
	}
	var err error
	if k.algs, err = narrow(keyKind(pub), k.algs, algs); err != nil {
		return nil, err
	}
	return k.init(), nil
}

// NewPrivateKey returns a key that signs and verifies, for an
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey. Without algs it
// allows every algorithm the key type allows.
func NewPrivateKey(priv crypto.Signer, algs ...Algorithm) (*Key, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrInvalidKey)
	}
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: RSA private key: %w", ErrInvalidKey, err)
		}
	case *ecdsa.PrivateKey:
		//lint:ignore SA1019 a key built by hand may have a nil or out-of-range D; refuse it before the standard library sees it
		if p.D == nil || p.D.Sign() <= 0 || p.Curve == nil || p.D.Cmp(p.Curve.Params().N) >= 0 {
			return nil, fmt.Errorf("%w: ECDSA private scalar out of range", ErrInvalidKey)
		}
		if _, err := p.ECDH(); err != nil {
			return nil, fmt.Errorf("%w: ECDSA private key: %w", ErrInvalidKey, err)
		}
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: Ed25519 private key is %d bytes, want %d", ErrInvalidKey, len(p), ed25519.PrivateKeySize)
		}
		// The public half stored in the key must match the seed.
		if !ed25519.NewKeyFromSeed(p.Seed()).Public().(ed25519.PublicKey).Equal(p.Public()) {
			return nil, fmt.Errorf("%w: Ed25519 private key: public half does not match the seed", ErrInvalidKey)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrInvalidKey, priv)
	}
	k := &Key{priv: priv}
	if err := k.setPublic(priv.Public()); err != nil {
		return nil, err
	}
	var err error
	if k.algs, err = narrow(keyKind(priv.Public()), k.algs, algs); err != nil {
		return nil, err
	}
	return k.init(), nil
}

func keyKind(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA key"
	case *ecdsa.PublicKey:
		return "ECDSA key"
	case ed25519.PublicKey:
		return "Ed25519 key"
	}
	return "key"
}

func (k *Key) setPublic(pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return fmt.Errorf("%w: nil RSA key", ErrInvalidKey)
		}
		if n := p.N.BitLen(); n < MinRSABits {
			return fmt.Errorf("%w: RSA key is %d bits, at least %d are required", ErrInvalidKey, n, MinRSABits)
		}
		if p.E < 3 || p.E%2 == 0 {
			return fmt.Errorf("%w: RSA public exponent %d is not an odd number above 1", ErrInvalidKey, p.E)
		}
		if hasROCAFingerprint(p.N) {
			return fmt.Errorf("%w: RSA modulus has the ROCA fingerprint (CVE-2017-15361): its factors can be computed; replace the key", ErrInvalidKey)
		}
		k.fam = famRSA
		k.algs = []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512}
	case *ecdsa.PublicKey:
		//lint:ignore SA1019 a key built by hand may have nil coordinates; refuse it before the standard library sees it
		if p == nil || p.Curve == nil || p.X == nil || p.Y == nil {
			return fmt.Errorf("%w: incomplete ECDSA key", ErrInvalidKey)
		}
		var alg Algorithm
		switch p.Curve {
		case elliptic.P256():
			alg = ES256
		case elliptic.P384():
			alg = ES384
		case elliptic.P521():
			alg = ES512
		default:
			return fmt.Errorf("%w: unsupported ECDSA curve %s", ErrInvalidKey, p.Curve.Params().Name)
		}
		if _, err := p.ECDH(); err != nil {
			return fmt.Errorf("%w: ECDSA public key is not a valid point: %w", ErrInvalidKey, err)
		}
		k.fam = famECDSA
		k.ecSize = (p.Curve.Params().BitSize + 7) / 8
		k.algs = []Algorithm{alg}
	case ed25519.PublicKey:
		if err := checkEd25519Public(p); err != nil {
			return err
		}
		k.fam = famEdDSA
		k.algs = []Algorithm{EdDSA}
	default:
		return fmt.Errorf("%w: unsupported key type %T", ErrInvalidKey, pub)
	}
	k.pub = pub
	return nil
}

// narrow intersects what a key type allows with what the caller asked for.
func narrow(kind string, allowed, asked []Algorithm) ([]Algorithm, error) {
	if len(asked) == 0 {
		return allowed, nil
	}
	out := make([]Algorithm, 0, len(asked))
	for _, a := range asked {
		if !slices.Contains(allowed, a) {
			if isNone(string(a)) {
				return nil, fmt.Errorf("%w: %q is never allowed", ErrAlgorithm, a)
			}
			return nil, fmt.Errorf("%w: %s cannot be used with %s (it allows %v)", ErrInvalidKey, kind, a, allowed)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (k *Key) init() *Key {
	k.self = []*Key{k}
	if k.fam == famHMAC {
		for _, a := range k.algs {
			info := a.info()
			newHash := hashFunc(info.hash)
			secret := k.secret
			k.macs[info.idx] = &sync.Pool{New: func() any {
				return &macState{h: hmac.New(newHash, secret)}
			}}
		}
	}
	return k
}

func hashFunc(h crypto.Hash) func() hash.Hash {
	return h.New
}

// WithID returns a copy of the key that carries the key ID kid. Signers put
// it in the kid header; key sets find keys by it.
func (k *Key) WithID(kid string) *Key {
	c := &Key{id: kid, algs: k.algs, fam: k.fam, secret: k.secret, pub: k.pub, priv: k.priv, ecSize: k.ecSize}
	return c.init()
}

// WithAlgorithms returns a copy of the key narrowed to algs, which must all
// be allowed by k.
func (k *Key) WithAlgorithms(algs ...Algorithm) (*Key, error) {
	narrowed, err := narrow("key", k.algs, algs)
	if err != nil {
		return nil, err
	}
	c := &Key{id: k.id, algs: narrowed, fam: k.fam, secret: k.secret, pub: k.pub, priv: k.priv, ecSize: k.ecSize}
	return c.init(), nil
}

// ID returns the key ID, or "".
func (k *Key) ID() string { return k.id }

// Algorithms returns the algorithms the key may be used with.
func (k *Key) Algorithms() []Algorithm { return slices.Clone(k.algs) }

// Allows reports whether the key may be used with alg.
func (k *Key) Allows(alg Algorithm) bool {
	for _, a := range k.algs {
		if a == alg {
			return true
		}
	}
	return false
}

// CanSign reports whether the key holds private (or secret) material.
func (k *Key) CanSign() bool { return k.fam == famHMAC || k.priv != nil }

// IsSymmetric reports whether the key is an HMAC secret.
func (k *Key) IsSymmetric() bool { return k.fam == famHMAC }

// Public returns the verification-only half of an asymmetric key (k itself
// if it has no private part). It returns nil for an HMAC key, which has no
// public half.
func (k *Key) Public() *Key {
	if k.fam == famHMAC {
		return nil
	}
	if k.priv == nil {
		return k
	}
	c := &Key{id: k.id, algs: k.algs, fam: k.fam, pub: k.pub, ecSize: k.ecSize}
	return c.init()
}

// PublicKey returns the public key material (*rsa.PublicKey,
// *ecdsa.PublicKey or ed25519.PublicKey), or nil for an HMAC key.
func (k *Key) PublicKey() crypto.PublicKey { return k.pub }

// PrivateKey returns the private key material, or nil.
func (k *Key) PrivateKey() crypto.Signer { return k.priv }

// Secret returns a copy of an HMAC key's secret, or nil.
func (k *Key) Secret() []byte { return slices.Clone(k.secret) }

// LookupKeys implements KeySet: a key given to a verifier directly is a
// single key, the one key for every token. A key without ID (a PEM key, a
// raw secret, a JWK without kid) is used whatever kid the token names, or
// none: an issuer may give its key any kid, and nothing says which here. A
// key with an ID is used for tokens that name that kid or no kid; a token
// naming another kid finds no key (ErrKeyNotFound).
func (k *Key) LookupKeys(_ context.Context, h *Header) ([]*Key, error) {
	if k.id != "" && h.KeyID != "" && h.KeyID != k.id {
		return nil, fmt.Errorf("%w: token kid %q, key kid %q", ErrKeyNotFound, h.KeyID, k.id)
	}
	return k.self, nil
}

// KeySet finds the keys that may verify a token. LookupKeys returns the
// candidates for a token header (its kid and alg); the verifier tries those
// that allow the header's algorithm, in order. It returns an error wrapping
// ErrKeyNotFound when it has none, and another error when it cannot answer
// (a remote key set that is down). The returned slice must not be modified
// by the caller and should not be allocated per call.
//
// A *Key is a single key: without an ID it verifies tokens whatever kid
// they name (see Key.LookupKeys). A key set of several keys, or a JWK Set
// (package jwk), looks a token's kid up exactly and refuses a kid it does
// not have: there, the kid is what chooses among the keys.
type KeySet interface {
	LookupKeys(ctx context.Context, h *Header) ([]*Key, error)
}
