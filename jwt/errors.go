package jwt

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error returned by this package wraps one of them
// (and often a more precise cause), so callers test with errors.Is.
var (
	// ErrTooLarge: the token is longer than the verifier's size limit.
	// It is checked before anything is decoded.
	ErrTooLarge = errors.New("jwt: token too large")

	// ErrMalformed: the token is not a well-formed compact JWS: wrong number
	// of segments, non-canonical base64url, a header or payload that is not
	// a strict JSON object, or a registered member of the wrong type.
	ErrMalformed = errors.New("jwt: malformed token")

	// ErrAlgorithm: the header's alg is missing, unknown, "none", or not
	// allowed by the key or by the verifier.
	ErrAlgorithm = errors.New("jwt: algorithm not allowed")

	// ErrNotJWS: the header has a JWE parameter, enc or zip, so it
	// describes an encrypted token (RFC 7516 section 9), which is not
	// verified as a signed one; RFC 7515 has no zip for JWS. Errors that
	// wrap it also wrap ErrMalformed.
	ErrNotJWS = errors.New("jwt: header describes a JWE, not a JWS")

	// ErrCritical: the header's crit parameter names an extension this
	// verifier does not understand, or is itself malformed.
	ErrCritical = errors.New("jwt: unsupported critical header")

	// ErrKeyNotFound: no key of the key set can verify this token.
	ErrKeyNotFound = errors.New("jwt: no key for token")

	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jwt: signature invalid")

	// ErrExpired: the exp claim is at or before now (minus leeway).
	ErrExpired = errors.New("jwt: token expired")

	// ErrNotYetValid: the nbf claim is after now (plus leeway).
	ErrNotYetValid = errors.New("jwt: token not valid yet")

	// ErrIssuedInFuture: the iat claim is after now (plus leeway).
	ErrIssuedInFuture = errors.New("jwt: token issued in the future")

	// ErrAudience: the aud claim does not name an expected audience, or is
	// present when the verifier expects none.
	ErrAudience = errors.New("jwt: audience not accepted")

	// ErrIssuer: the iss claim is not one of the expected issuers.
	ErrIssuer = errors.New("jwt: issuer not accepted")

	// ErrMissingClaim: a required claim is absent.
	ErrMissingClaim = errors.New("jwt: required claim missing")

	// ErrInvalidKey: a key cannot be used: wrong type, too short or too
	// small, not allowed for the algorithm, or a public key used to sign.
	ErrInvalidKey = errors.New("jwt: invalid key")

	// ErrInvalidOption: a Verifier or Signer option is inconsistent.
	ErrInvalidOption = errors.New("jwt: invalid option")
)

// ClaimError is the error of a claim check: the claim is absent, or its
// value is refused. It wraps the sentinel of the check (ErrMissingClaim,
// ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrIssuer or
// ErrAudience), so errors.Is keeps working; errors.As gives the claim and
// the reason without reading the message:
//
//	var ce *jwt.ClaimError
//	if errors.As(err, &ce) && ce.Reason == jwt.ClaimMissing {
//		log.Printf("token without %s", ce.Claim)
//	}
type ClaimError struct {
	Claim  string      // the claim's name: "exp", "aud", "sub", ...
	Reason ClaimReason // why it was refused
	Err    error       // the sentinel
	Detail string      // what was found, for logs ("exp 2024-01-02T03:04:05Z, now ...")
}

func (e *ClaimError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

// Unwrap returns the sentinel.
func (e *ClaimError) Unwrap() error { return e.Err }

// ClaimReason says why a claim was refused.
type ClaimReason uint8

// The reasons of a ClaimError.
const (
	// ClaimMissing: the claim is absent, and required (by
	// RequiredClaims, Issuers or Audiences).
	ClaimMissing ClaimReason = iota + 1
	// ClaimExpired: exp is at or before now (minus leeway).
	ClaimExpired
	// ClaimNotYetValid: nbf is after now (plus leeway).
	ClaimNotYetValid
	// ClaimIssuedInFuture: iat is after now (plus leeway).
	ClaimIssuedInFuture
	// ClaimNotAccepted: iss or aud names no expected value.
	ClaimNotAccepted
	// ClaimUnexpected: aud is present and the verifier expects none.
	ClaimUnexpected
)

func (r ClaimReason) String() string {
	switch r {
	case ClaimMissing:
		return "missing"
	case ClaimExpired:
		return "expired"
	case ClaimNotYetValid:
		return "not yet valid"
	case ClaimIssuedInFuture:
		return "issued in the future"
	case ClaimNotAccepted:
		return "not accepted"
	case ClaimUnexpected:
		return "unexpected"
	}
	return "ClaimReason(" + strconv.Itoa(int(r)) + ")"
}
