// Package jwt signs and verifies JSON Web Tokens in the JWS compact
// serialization (RFC 7515, RFC 7519) with HS256/384/512, RS256/384/512,
// PS256/384/512, ES256/384/512 and EdDSA (Ed25519), on the Go standard
// library's crypto alone.
//
// # What it refuses
//
// The package is strict by design; everything below is an error, never a
// silent fix-up:
//
//   - A key is bound to its algorithms when it is made (see [Key]); the
//     header's alg must be allowed by the key and by the verifier's
//     allowlist. "none", in any letter case, is never accepted. HMAC secrets
//     shorter than the hash output, RSA keys under 2048 bits and RSA keys
//     with the ROCA fingerprint (CVE-2017-15361) are refused.
//   - Tokens longer than [VerifierOptions.MaxSize] (8 KiB by default) are
//     refused before anything is decoded; a token has exactly three
//     segments of canonical, unpadded base64url (no '=', '+', '/',
//     whitespace or non-zero trailing bits).
//   - Header and payload must be JSON objects of valid UTF-8 with no
//     duplicate member names at any depth, no lone surrogates and at most
//     [MaxJSONDepth] levels of nesting.
//   - crit must be a non-empty list of extensions the caller declared in
//     [VerifierOptions.Critical], none of them a registered header; b64:false
//     (RFC 7797) is refused, and so is a header with enc or zip, which
//     describes a JWE ([ErrNotJWS]). jku, x5u, x5c and jwk never choose a
//     key; kid only looks one up in the verifier's own [KeySet].
//   - ECDSA signatures are the fixed-length R||S of RFC 7518, with r and s
//     in [1, N-1]; DER is refused. RSA-PSS uses a salt as long as the hash.
//   - exp, nbf and iat are JSON numbers: strings, null, booleans, negative
//     values and values beyond the range of time.Time are malformed, and
//     fractions are kept to the nanosecond. exp is exclusive (a token whose
//     exp equals now has expired), nbf inclusive, both with the configured
//     leeway; an iat in the future beyond the leeway is refused. A token
//     that carries aud is refused by a verifier that expects no audience
//     (RFC 7519 section 4.1.3).
//
// The signature is verified before the payload is decoded, so a forger
// cannot make the verifier parse claims it did not sign. The one
// exception is asked for by name: [Verifier.Precheck] runs every other
// check, with the same parser and rules, on a token whose signature is not
// checked yet, for a caller that starts slow work (a network round trip)
// while Verify checks the signature.
//
// # Speed
//
// Verification parses only the registered claims, with a scanner that
// allocates nothing, and keeps one pool of HMAC states per key; custom
// claims are decoded only when [Token.Decode] is called. Verifying an HS256
// token costs one allocation (the Token, with its payload in the same
// block up to 408 bytes; a larger payload is a second), and a token
// refused before its signature verified costs none. Decode fills a flat
// struct (strings, numbers, booleans, string slices, json.RawMessage)
// with a plan the Verifier keeps per type, from the claims set the
// verifier has already checked, and gives exactly encoding/json's result;
// other types go through encoding/json. docs/BENCHMARKS.md compares it
// with the other Go JWT libraries and with the bare standard-library
// crypto.
//
// # Constructors
//
// Each concept has one constructor, which takes what it cannot do without
// and one plain options value: [NewSigner] (key, algorithm,
// [SignerOptions]) and [NewVerifier] (keys, [VerifierOptions]). The zero
// options value is the default, so a call states every choice it makes;
// an options struct can be built from a configuration file, stored,
// compared and printed, which a list of option functions cannot, and the
// fields' documentation is in one place. Keys take their algorithms as a
// variadic list instead, because a list of algorithms is all they take.
//
// # Errors
//
// Every error wraps one of the sentinel errors ([ErrMalformed],
// [ErrSignature], [ErrExpired], ...) with a precise reason; test them with
// errors.Is. A refused claim (absent, expired, not yet valid, an issuer or
// audience not accepted) is a [*ClaimError]: errors.As gives the claim's
// name and the [ClaimReason], so callers never read error texts.
package jwt
