// Package dpop implements OAuth 2.0 Demonstrating Proof of Possession
// (DPoP, RFC 9449): checking the proofs a client sends in the DPoP header
// (Verifier), the server nonces of sections 8 and 9 (Nonces), and making
// proofs on the client side (Prover, and Transport, an http.RoundTripper
// that adds them and answers nonce challenges).
//
// A DPoP proof is a JWT signed by a key the client holds, whose public
// half it carries in its header. A resource server that receives an
// access token bound to that key (the token's cnf.jkt is the key's RFC
// 7638 thumbprint) together with a valid proof knows that the caller holds
// the key, so a stolen token is of no use on its own. Package jwtgate
// checks the binding on its routes (Config.DPoP); this package checks the
// proof.
//
// # What Verify checks
//
// In the order of RFC 9449 section 4.3: the proof is at most MaxProofSize
// bytes and one compact JWS; typ is dpop+jwt; alg is an asymmetric
// algorithm of Options.Algorithms (never none, never HMAC); the header's
// jwk is a public key (a private or symmetric one is refused) and the
// signature verifies with it; jti, htm, htu and iat are present; htm is
// the request's method; htu is the request's URI without query and
// fragment, compared after RFC 3986 normalisation (a proof whose htu
// carries a query, a fragment or user information is refused), and with
// Options.Origins the request's URI is at one of them; iat is within
// Options.MaxAge in the past and Options.Leeway in the future; the
// nonce, when Options.Nonces is set, is one it issued and still valid;
// with an access token, ath is its SHA-256 hash; with a bound token, the
// proof's key is the one it names. Last, the proof's jti is recorded in
// Options.Replay, shared by every instance, so that each proof is used
// once; a store that cannot answer refuses the proof (fail closed).
//
// A replay store across the network (Redis, SQL) costs a round trip as
// long as an ES256 signature check, so Verify overlaps the two: it
// parses the proof with the same strict rules without its signature
// (jwt.Verifier.Precheck), runs every other check above on it, and only
// then records the jti while the signature is checked; the proof is
// accepted if both succeed. A proof that fails any other check writes
// nothing; one with a bad signature can write its own jti, on a request
// whose access token verified and is bound to the proof's key, as a
// valid proof would. A store that answers in process (revoke.NonBlocking,
// the memory store) is called after the signature, as the list says.
package dpop
