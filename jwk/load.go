package jwk

import (
	"bytes"
	"fmt"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// Load reads a key file whatever its format: a JWK Set, a JWK, or PEM (a
// key or a certificate chain, see ParsePEM). It returns a Set, which is a
// jwt.KeySet; Set.SigningKey gives the signing key when the file holds a
// private or secret key. A JSON object with a "keys" member is a JWK Set,
// any other JSON object a JWK. Raw secrets are not a key file format: wrap
// them in an oct JWK. Errors wrap ErrInvalidKey, ErrInvalidSet,
// ErrUnsupported or ErrTooLarge.
//
// A file that holds one key without kid (PEM, which has no kid, or a JWK
// without "kid") is a single key: the returned set finds it for any kid a
// token names (Set.AnyKeyID), so tokens of an identity provider whose key
// was handed over as a PEM file verify whatever kid the provider gives it.
// The key's ID, for signing and in the set, is still its RFC 7638 SHA-256
// thumbprint (KeyID). A JWK Set keeps exact kid lookup, even with one key.
func Load(data []byte) (*Set, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		if len(data) > MaxSetSize {
			return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxSetSize)
		}
		v, err := strictjson.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		if v.Obj.Get("keys") != nil {
			if v.Obj.Get("kty") != nil {
				return nil, fmt.Errorf("%w: the JSON object has both \"keys\" and \"kty\": neither a JWK Set nor a JWK", ErrInvalidSet)
			}
			return setFromObject(v.Obj, false)
		}
		k, err := keyFromObject(v.Obj)
		if err != nil {
			return nil, err
		}
		return loneKeySet(k)
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN ")):
		k, err := ParsePEM(data)
		if err != nil {
			return nil, err
		}
		return loneKeySet(k)
	}
	return nil, fmt.Errorf("%w: neither a JWK, a JWK Set nor PEM", ErrInvalidKey)
}

// loneKeySet returns the set of one key read on its own: without kid, it is
// found for any kid (see Load).
func loneKeySet(k *Key) (*Set, error) {
	s, err := newSet([]*Key{k})
	if err != nil {
		return nil, err
	}
	if k.kid == "" {
		s.anyID = s.ids[0]
	}
	return s, nil
}
