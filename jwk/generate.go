package jwk

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/jwtgate/jwtgate/jwt"
)

// DefaultRSABits is the RSA key size GenerateRSA uses when asked for 0 bits.
const DefaultRSABits = 2048

// GenerateRSA returns a new RSA private key of the given size in bits: 0
// means DefaultRSABits; fewer than jwt.MinRSABits (2048) or more than
// MaxRSABits is an error. The key allows RS256..RS512 and PS256..PS512.
func GenerateRSA(bits int) (*jwt.Key, error) {
	if bits == 0 {
		bits = DefaultRSABits
	}
	if bits < jwt.MinRSABits || bits > MaxRSABits {
		return nil, fmt.Errorf("%w: RSA key size %d bits: want %d to %d", ErrInvalidKey, bits, jwt.MinRSABits, MaxRSABits)
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return jwt.NewPrivateKey(priv)
}

// GenerateEC returns a new ECDSA private key on crv ("P-256", "P-384" or
// "P-521"), which allows the one algorithm of its curve (ES256, ES384,
// ES512).
func GenerateEC(crv string) (*jwt.Key, error) {
	_, curve, _ := ecCurve(crv)
	if curve == nil {
		return nil, fmt.Errorf("%w: EC curve %q (P-256, P-384 and P-521 are supported)", ErrUnsupported, crv)
	}
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return jwt.NewPrivateKey(priv)
}

// GenerateEd25519 returns a new Ed25519 private key (EdDSA).
func GenerateEd25519() (*jwt.Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return jwt.NewPrivateKey(priv)
}

// GenerateHMAC returns a new random HMAC secret of size bytes for alg
// (HS256, HS384 or HS512), narrowed to alg. Size 0 means the hash size of
// alg (32, 48 or 64 bytes); a smaller size is an error (RFC 7518 section
// 3.2), and so is one above 1024.
func GenerateHMAC(alg jwt.Algorithm, size int) (*jwt.Key, error) {
	switch alg {
	case jwt.HS256, jwt.HS384, jwt.HS512:
	default:
		return nil, fmt.Errorf("%w: %q is not an HMAC algorithm", ErrInvalidKey, alg)
	}
	minSize := hashOf(alg).Size()
	if size == 0 {
		size = minSize
	}
	if size < minSize || size > 1024 {
		return nil, fmt.Errorf("%w: %s secret of %d bytes: want %d to 1024", ErrInvalidKey, alg, size, minSize)
	}
	secret := make([]byte, size)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return jwt.NewHMACKey(secret, alg)
}

// Generate returns a new key for alg, narrowed to alg: an RSA key of size
// bits for RS* and PS*, an ECDSA key on the algorithm's curve for ES*, an
// Ed25519 key for EdDSA, an HMAC secret of size bytes for HS* (size 0: the
// default of GenerateRSA or GenerateHMAC). size must be 0 for ES* and EdDSA.
func Generate(alg jwt.Algorithm, size int) (*jwt.Key, error) {
	var key *jwt.Key
	var err error
	switch alg {
	case jwt.HS256, jwt.HS384, jwt.HS512:
		return GenerateHMAC(alg, size)
	case jwt.RS256, jwt.RS384, jwt.RS512, jwt.PS256, jwt.PS384, jwt.PS512:
		key, err = GenerateRSA(size)
	case jwt.ES256, jwt.ES384, jwt.ES512, jwt.EdDSA:
		if size != 0 {
			return nil, fmt.Errorf("%w: %s keys have a fixed size", ErrInvalidKey, alg)
		}
		if alg == jwt.EdDSA {
			key, err = GenerateEd25519()
		} else {
			key, err = GenerateEC(curveOfAlg(string(alg)))
		}
	default:
		return nil, fmt.Errorf("%w: %w: unknown algorithm %q", ErrInvalidKey, jwt.ErrAlgorithm, alg)
	}
	if err != nil {
		return nil, err
	}
	return key.WithAlgorithms(alg)
}
