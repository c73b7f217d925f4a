package jwt

import (
	"crypto"
	"strings"
)

// Algorithm is a JWS signature algorithm name as registered in RFC 7518 and
// RFC 8037 ("HS256", "RS256", "EdDSA", ...).
type Algorithm string

// The supported algorithms. "none" is deliberately absent: it is never
// accepted and cannot be used to sign.
const (
	HS256 Algorithm = "HS256" // HMAC with SHA-256
	HS384 Algorithm = "HS384" // HMAC with SHA-384
	HS512 Algorithm = "HS512" // HMAC with SHA-512
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	RS384 Algorithm = "RS384" // RSASSA-PKCS1-v1_5 with SHA-384
	RS512 Algorithm = "RS512" // RSASSA-PKCS1-v1_5 with SHA-512
	PS256 Algorithm = "PS256" // RSASSA-PSS with SHA-256 and MGF1 with SHA-256
	PS384 Algorithm = "PS384" // RSASSA-PSS with SHA-384 and MGF1 with SHA-384
	PS512 Algorithm = "PS512" // RSASSA-PSS with SHA-512 and MGF1 with SHA-512
	ES256 Algorithm = "ES256" // ECDSA on P-256 with SHA-256
	ES384 Algorithm = "ES384" // ECDSA on P-384 with SHA-384
	ES512 Algorithm = "ES512" // ECDSA on P-521 with SHA-512
	EdDSA Algorithm = "EdDSA" // Ed25519 (RFC 8037)
)

// Algorithms lists every supported algorithm.
func Algorithms() []Algorithm {
	return []Algorithm{HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA}
}

type family uint8

const (
	famUnknown family = iota
	famHMAC
	famRSA
	famPSS
	famECDSA
	famEdDSA
)

type algInfo struct {
	fam  family
	hash crypto.Hash
	idx  int // index into Key.macs for HMAC
}

func (a Algorithm) info() algInfo {
	switch a {
	case HS256:
		return algInfo{famHMAC, crypto.SHA256, 0}
	case HS384:
		return algInfo{famHMAC, crypto.SHA384, 1}
	case HS512:
		return algInfo{famHMAC, crypto.SHA512, 2}
	case RS256:
		return algInfo{famRSA, crypto.SHA256, 0}
	case RS384:
		return algInfo{famRSA, crypto.SHA384, 0}
	case RS512:
		return algInfo{famRSA, crypto.SHA512, 0}
	case PS256:
		return algInfo{famPSS, crypto.SHA256, 0}
	case PS384:
		return algInfo{famPSS, crypto.SHA384, 0}
	case PS512:
		return algInfo{famPSS, crypto.SHA512, 0}
	case ES256:
		return algInfo{famECDSA, crypto.SHA256, 0}
	case ES384:
		return algInfo{famECDSA, crypto.SHA384, 0}
	case ES512:
		return algInfo{famECDSA, crypto.SHA512, 0}
	case EdDSA:
		return algInfo{famEdDSA, 0, 0}
	}
	return algInfo{}
}

// Known reports whether a is one of the supported algorithms.
func (a Algorithm) Known() bool { return a.info().fam != famUnknown }

// isNone reports whether a spells "none" in any letter case. Such an
// algorithm gets its own error message, since it is an attack, not a typo.
func isNone(a string) bool { return strings.EqualFold(a, "none") }
