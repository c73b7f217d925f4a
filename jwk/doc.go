// Package jwk reads, writes and serves the keys of package jwt: JSON Web
// Keys and JWK Sets (RFC 7517, RFC 7518 section 6, RFC 8037), PEM files,
// RFC 7638 thumbprints, and key sets that implement jwt.KeySet.
//
// # What it does
//
//   - ParseKey, ParseSet and ParsePublicSet parse JWKs and JWK Sets of RSA,
//     EC (P-256, P-384, P-521), OKP (Ed25519) and oct keys, public and
//     private; Key.MarshalJSON and Set.MarshalJSON write public keys only,
//     Key.MarshalPrivate writes private and secret members on purpose.
//   - ParsePEM reads PKCS #1, PKCS #8, SEC 1 and SPKI keys and X.509
//     certificates; MarshalPrivatePEM and MarshalPublicPEM write PKCS #8 and
//     SPKI. Load takes any of these formats, for the command line.
//   - Key.VerificationKey and Key.SigningKey turn a JWK into a *jwt.Key,
//     bound to the JWK's alg, only when use and key_ops allow it.
//   - Set finds keys by kid, or by alg for tokens without kid, without
//     allocating; NewSet builds one from jwtgate's own *jwt.Keys.
//   - Thumbprint, KeyID and EnsureKeyID compute RFC 7638 thumbprints, which
//     jwtgate uses as the kid of keys that have none.
//   - Generate and its variants make new RSA, ECDSA, Ed25519 and HMAC keys.
//   - Ring rotates keys: one active signing key (SigningKey, EncodeKey)
//     and verify-only keys that are dropped when the tokens they signed
//     have expired, changed atomically under concurrent lookups.
//   - JWKSHandler serves the public keys of a Set or Ring (ETag, 304,
//     Cache-Control); DiscoveryHandler serves an OpenID discovery document.
//   - NewRemoteSet and NewIssuerSet verify with keys fetched from a JWKS URL
//     or an issuer's discovery document, cached with a timeout (300 s by
//     default), refreshed in the background, shared by concurrent lookups
//     and bounded against slow, huge, malformed and misdirecting providers;
//     CachedKeys caches the keys of any callback the same way. Issuers
//     routes each token to the keys and audiences of the issuer its iss
//     names.
//
// # What it refuses, and why
//
// A key that is accepted here is one that package jwt can use safely and
// that has exactly one spelling, so that its thumbprint, its kid and the
// keys derived from it cannot be confused. Everything else is an error that
// wraps ErrInvalidKey, ErrUnsupported, ErrInvalidSet, ErrTooLarge or
// ErrKeyUse, and, where package jwt found the problem, jwt's sentinel too:
//
//   - Input larger than MaxKeySize or MaxSetSize, or a set of more than
//     MaxSetKeys keys, before anything is decoded: parsing is bounded.
//   - JSON that is not strict: invalid UTF-8, a duplicate member name (which
//     encoding/json would resolve silently, so two parsers could see two
//     different keys), nesting deeper than MaxJSONDepth, trailing data, a
//     member of the wrong JSON type (a number for kid, null for d).
//   - Base64url that is not canonical: padding, white space, characters of
//     another alphabet, non-zero trailing bits. Integers with leading zero
//     octets (RFC 7518 section 6.3.1.1) and EC and Ed25519 values that are
//     not exactly the curve's length (RFC 7518 section 6.2.1.2, RFC 8037).
//   - Weak or invalid material: RSA moduli under 2048 bits (or over
//     MaxRSABits) or with the ROCA fingerprint (CVE-2017-15361, keys that
//     can be factored), even or oversized exponents, RSA private keys whose n, e,
//     d, p, q, dp, dq and qi are inconsistent (crypto/rsa validates them),
//     EC points off the curve and private scalars that do not match them,
//     Ed25519 public keys that are of small order or not canonical, Ed25519
//     seeds that do not match x, HMAC secrets under 32 bytes.
//   - A missing required member, an unknown kty, an unsupported curve
//     (X25519, X448, Ed448, secp256k1, P-224), multi-prime RSA ("oth") and
//     RSA private keys given by d alone (all but the first:
//     ErrUnsupported). Inside a JWK Set, keys of an unknown kty and
//     unsupported public keys are skipped instead, as RFC 7517 section 5
//     recommends, but malformed or weak keys of a known type reject the
//     whole set.
//   - An alg that does not fit the key (ES384 on a P-256 key, HS256 on an
//     RSA key), "none", or an alg nobody registered. Registered encryption
//     algorithms (RSA-OAEP, ECDH-ES, A256KW, ...) are accepted, but such a
//     key never signs or verifies.
//   - use and key_ops that contradict each other or alg (RFC 7517 section
//     4.3), unknown or repeated key_ops values. A key whose use is not
//     "sig", whose key_ops lack "verify" (or "sign"), or whose alg is an
//     encryption algorithm is never converted to a *jwt.Key for that
//     operation (ErrKeyUse).
//   - An x5c whose first certificate does not hold the key, x5t or x5t#S256
//     that do not match it. Certificate chains are not verified: x5c is
//     carried, not trusted, and x5u is never fetched.
//   - In a set: two keys with the same kid, and secret keys mixed with
//     asymmetric ones (one set, one kind of trust). ParsePublicSet, for sets
//     fetched over the network, also refuses private and secret keys.
//   - In PEM: encrypted blocks, unknown block types, PEM headers, and any
//     text before, between or after the blocks.
//
// # Constructors
//
// As in package jwt, each concept has one constructor with one plain
// options value whose zero value is the default: NewRing([RingOptions],
// signer, verifyOnly...), NewIssuers([jwt.VerifierOptions], issuers...),
// NewRemoteSet(url, [RemoteOptions]), NewCachedSet(fetch, [CacheOptions]).
// The options come before a variadic list of keys or issuers, and last
// otherwise. A struct of options can be filled from configuration, stored
// and printed, and its fields are documented in one place.
//
// Marshalling never widens a key: a *jwt.Key narrowed to some but not all
// of its algorithms cannot be written as a JWK, whose alg names one.
package jwk
