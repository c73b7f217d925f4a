package jwk

import "errors"

// Sentinel errors. Every error returned by this package wraps at least one of
// them (and usually a more precise cause), so callers test with errors.Is.
// Errors that come from package jwt keep wrapping jwt's sentinels too
// (jwt.ErrInvalidKey, jwt.ErrAlgorithm, jwt.ErrKeyNotFound).
var (
	// ErrInvalidKey: a JWK or PEM key is malformed or its parameters are
	// invalid: a missing or mistyped member, non-canonical base64url, a
	// point off the curve, a non-minimal integer, inconsistent private
	// parameters, a key too small, an alg that does not fit the key, and so
	// on.
	ErrInvalidKey = errors.New("jwk: invalid key")

	// ErrUnsupported: a well-formed key this package does not handle: an
	// unknown kty, an OKP curve other than Ed25519 (X25519, X448, Ed448),
	// an EC curve other than P-256, P-384 and P-521, multi-prime RSA, an
	// RSA private key without its primes, an encrypted PEM block.
	ErrUnsupported = errors.New("jwk: unsupported key")

	// ErrInvalidSet: a JWK Set is malformed, holds a malformed key, has two
	// keys with the same kid, or mixes secret and asymmetric keys.
	ErrInvalidSet = errors.New("jwk: invalid key set")

	// ErrTooLarge: the input is longer than MaxKeySize or MaxSetSize, or a
	// set has more than MaxSetKeys keys. It is checked before anything is
	// decoded.
	ErrTooLarge = errors.New("jwk: input too large")

	// ErrKeyUse: the key's use, key_ops or alg member forbids the
	// requested operation (for example a key with "use":"enc" asked to
	// verify a signature), or a public key was asked to sign.
	ErrKeyUse = errors.New("jwk: key use not allowed")
)
