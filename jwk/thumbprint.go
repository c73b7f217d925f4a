package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"math/big"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/b64url"
)

// Thumbprint returns the RFC 7638 JWK thumbprint of key: the hash h of the
// key's required public members (for an oct key, of its secret) as a JSON
// object with sorted member names and no white space. h == 0 means
// crypto.SHA256, the hash RFC 7638 and jwtgate use by default; the hash
// must be linked into the binary (crypto.Hash.Available).
func Thumbprint(key *jwt.Key, h crypto.Hash) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if h == 0 {
		h = crypto.SHA256
	}
	if !h.Available() {
		return nil, fmt.Errorf("%w: hash function %v is not available", ErrUnsupported, h)
	}
	in, err := thumbprintInput(key)
	if err != nil {
		return nil, err
	}
	hh := h.New()
	hh.Write(in)
	return hh.Sum(nil), nil
}

// ThumbprintBase64 returns Thumbprint(key, h) in base64url, the form RFC
// 7638 prints and jwtgate uses as a key ID.
func ThumbprintBase64(key *jwt.Key, h crypto.Hash) (string, error) {
	t, err := Thumbprint(key, h)
	if err != nil {
		return "", err
	}
	return b64url.EncodeToString(t), nil
}

// thumbprintInput returns the JSON that RFC 7638 section 3.2 hashes. All
// values are base64url or fixed names, which need no escaping.
func thumbprintInput(key *jwt.Key) ([]byte, error) {
	switch pub := key.PublicKey().(type) {
	case *rsa.PublicKey:
		return fmt.Appendf(nil, `{"e":"%s","kty":"RSA","n":"%s"}`,
			b64url.EncodeToString(big.NewInt(int64(pub.E)).Bytes()), b64url.EncodeToString(pub.N.Bytes())), nil
	case *ecdsa.PublicKey:
		x, y := ecPoint(pub)
		crv := curveName(pub.Curve)
		if x == nil || crv == "" {
			return nil, fmt.Errorf("%w: unsupported ECDSA key", ErrUnsupported)
		}
		return fmt.Appendf(nil, `{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, crv, b64url.EncodeToString(x), b64url.EncodeToString(y)), nil
	case ed25519.PublicKey:
		return fmt.Appendf(nil, `{"crv":"Ed25519","kty":"OKP","x":"%s"}`, b64url.EncodeToString(pub)), nil
	case nil:
		if key.IsSymmetric() {
			return fmt.Appendf(nil, `{"k":"%s","kty":"oct"}`, b64url.EncodeToString(key.Secret())), nil
		}
	}
	return nil, fmt.Errorf("%w: key type %T", ErrUnsupported, key.PublicKey())
}

// Thumbprint returns the RFC 7638 thumbprint of k with hash h (0 means
// SHA-256). It depends only on the key material, not on kid, use or alg.
func (k *Key) Thumbprint(h crypto.Hash) ([]byte, error) { return Thumbprint(k.key, h) }

// ThumbprintBase64 returns k's thumbprint in base64url.
func (k *Key) ThumbprintBase64(h crypto.Hash) (string, error) { return ThumbprintBase64(k.key, h) }

// KeyID returns the key's ID, or, if it has none, its RFC 7638 SHA-256
// thumbprint in base64url: the key ID jwtgate uses wherever one is needed
// (the kid header of signed tokens, a published JWK Set).
func KeyID(key *jwt.Key) (string, error) {
	if key == nil {
		return "", fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if id := key.ID(); id != "" {
		return id, nil
	}
	return ThumbprintBase64(key, crypto.SHA256)
}

// EnsureKeyID returns key if it has an ID, and otherwise a copy of key whose
// ID is its SHA-256 thumbprint (see KeyID).
func EnsureKeyID(key *jwt.Key) (*jwt.Key, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if key.ID() != "" {
		return key, nil
	}
	id, err := KeyID(key)
	if err != nil {
		return nil, err
	}
	return key.WithID(id), nil
}
