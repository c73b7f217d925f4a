package jwk

import (
	"bytes"
	"fmt"
)

// Load reads a key file whatever its format: a JWK Set, a JWK, or PEM (a
// key or a certificate chain, see ParsePEM). It returns a Set, which is a
// jwt.KeySet; Set.SigningKey gives the signing key when the file holds a
// private or secret key. A JSON object with a "keys" member is a JWK Set,
// any other JSON object a JWK. Raw secrets are not a key file format: wrap
// them in an oct JWK. Errors wrap ErrInvalidKey, ErrInvalidSet,
// ErrUnsupported or ErrTooLarge.
func Load(data []byte) (*Set, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		if len(data) > MaxSetSize {
			return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxSetSize)
		}
		v, err := parseJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		if v.obj.get("keys") != nil {
			if v.obj.get("kty") != nil {
				return nil, fmt.Errorf("%w: the JSON object has both \"keys\" and \"kty\": neither a JWK Set nor a JWK", ErrInvalidSet)
			}
			return setFromObject(v.obj, false)
		}
		k, err := keyFromObject(v.obj)
		if err != nil {
			return nil, err
		}
		return newSet([]*Key{k})
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN ")):
		k, err := ParsePEM(data)
		if err != nil {
			return nil, err
		}
		return newSet([]*Key{k})
	}
	return nil, fmt.Errorf("%w: neither a JWK, a JWK Set nor PEM", ErrInvalidKey)
}
