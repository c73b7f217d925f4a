package interop

import (
	"context"
	"fmt"

	"github.com/jwtgate/jwtgate/jwt"
)

// JwtgatePeer returns jwtgate itself as a Peer, for the differential
// matrix: append(Peers(), JwtgatePeer()).
func JwtgatePeer() Peer {
	return Peer{Name: "jwtgate", Sign: SignJwtgate, Verify: VerifyJwtgate}
}

// JwtgateSigningKey returns the key pair as a jwtgate signing key (the HMAC
// secret or the private key) that allows k.Alg only.
func (k *KeyPair) JwtgateSigningKey() (*jwt.Key, error) {
	alg := jwt.Algorithm(k.Alg)
	if k.Secret != nil {
		return jwt.NewHMACKey(k.Secret, alg)
	}
	return jwt.NewPrivateKey(k.Private, alg)
}

// JwtgateVerificationKey returns the key pair as a jwtgate verification key
// (the HMAC secret or the public key) that allows k.Alg only.
func (k *KeyPair) JwtgateVerificationKey() (*jwt.Key, error) {
	alg := jwt.Algorithm(k.Alg)
	if k.Secret != nil {
		return jwt.NewHMACKey(k.Secret, alg)
	}
	return jwt.NewPublicKey(k.Public, alg)
}

// SignJwtgate signs claims with jwtgate's Signer and the default header.
func SignJwtgate(k *KeyPair, claims map[string]any) (string, error) {
	key, err := k.JwtgateSigningKey()
	if err != nil {
		return "", err
	}
	s, err := jwt.NewSigner(key, jwt.Algorithm(k.Alg), jwt.SignerOptions{})
	if err != nil {
		return "", err
	}
	return s.Sign(claims)
}

// JwtgateVerifier returns a jwtgate Verifier for k that accepts only k.Alg
// and applies opts: the clock, the leeway, and the audience. jwtgate refuses
// a token that has an aud claim when it expects none (RFC 7519 section
// 4.1.3), so opts.Audience must be set to verify such tokens.
func JwtgateVerifier(k *KeyPair, opts VerifyOptions) (*jwt.Verifier, error) {
	key, err := k.JwtgateVerificationKey()
	if err != nil {
		return nil, err
	}
	vo := jwt.VerifierOptions{
		Algorithms: []jwt.Algorithm{jwt.Algorithm(k.Alg)},
		Leeway:     opts.Leeway,
		Clock:      opts.now,
	}
	if opts.Audience != "" {
		vo.Audiences = []string{opts.Audience}
	}
	return jwt.NewVerifier(key, vo)
}

// VerifyJwtgate verifies token with jwtgate (see JwtgateVerifier) and
// returns its claims set, normalized as Peer.Verify describes.
func VerifyJwtgate(k *KeyPair, token string, opts VerifyOptions) (map[string]any, error) {
	v, err := JwtgateVerifier(k, opts)
	if err != nil {
		return nil, err
	}
	t, err := v.Verify(context.Background(), token)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := t.Decode(&claims); err != nil {
		return nil, fmt.Errorf("jwtgate: decoding verified claims: %w", err)
	}
	return Normalize(claims)
}
