package interop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
)

// JWK is a JSON Web Key (RFC 7517) as a JSON object, the form in which the
// key material is handed to peers outside Go (PyJWT, Node's jose).
type JWK map[string]any

// PrivateJWK returns the key as a JWK that can sign: an "oct" key for HMAC,
// an RSA key with its CRT parameters, an EC key with "d", or an OKP
// (Ed25519) key with "d". The JWK carries the "alg" of the key pair.
func (k *KeyPair) PrivateJWK() (JWK, error) {
	return k.jwk(true)
}

// PublicJWK returns the key as a JWK that can only verify. For HMAC, which
// has no public half, it is the same "oct" key as PrivateJWK.
func (k *KeyPair) PublicJWK() (JWK, error) {
	return k.jwk(false)
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// b64uInt encodes a non-negative integer as RFC 7518's Base64urlUInt: the
// shortest big-endian octets (one zero octet for zero).
func b64uInt(n *big.Int) string {
	b := n.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	return b64u(b)
}

func (k *KeyPair) jwk(private bool) (JWK, error) {
	if k.Secret != nil {
		return JWK{"kty": "oct", "alg": k.Alg, "k": b64u(k.Secret)}, nil
	}
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		j := JWK{"kty": "RSA", "alg": k.Alg, "n": b64uInt(pub.N), "e": b64uInt(big.NewInt(int64(pub.E)))}
		if private {
			priv, ok := k.Private.(*rsa.PrivateKey)
			if !ok || len(priv.Primes) != 2 {
				return nil, fmt.Errorf("interop: %s: need a two-prime *rsa.PrivateKey, have %T", k.Alg, k.Private)
			}
			// The CRT values are computed here rather than read from
			// Precomputed, so that a shared key is never written to.
			p, q, one := priv.Primes[0], priv.Primes[1], big.NewInt(1)
			j["d"] = b64uInt(priv.D)
			j["p"] = b64uInt(p)
			j["q"] = b64uInt(q)
			j["dp"] = b64uInt(new(big.Int).Mod(priv.D, new(big.Int).Sub(p, one)))
			j["dq"] = b64uInt(new(big.Int).Mod(priv.D, new(big.Int).Sub(q, one)))
			j["qi"] = b64uInt(new(big.Int).ModInverse(q, p))
		}
		return j, nil
	case *ecdsa.PublicKey:
		crv := map[int]string{256: "P-256", 384: "P-384", 521: "P-521"}[pub.Params().BitSize]
		point, err := pub.Bytes() // 0x04 || X || Y, each coordinate fixed-length
		if err != nil {
			return nil, fmt.Errorf("interop: %s: %w", k.Alg, err)
		}
		size := (len(point) - 1) / 2
		j := JWK{"kty": "EC", "alg": k.Alg, "crv": crv, "x": b64u(point[1 : 1+size]), "y": b64u(point[1+size:])}
		if private {
			priv, ok := k.Private.(*ecdsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("interop: %s: need an *ecdsa.PrivateKey, have %T", k.Alg, k.Private)
			}
			d, err := priv.Bytes()
			if err != nil {
				return nil, fmt.Errorf("interop: %s: %w", k.Alg, err)
			}
			j["d"] = b64u(d)
		}
		return j, nil
	case ed25519.PublicKey:
		j := JWK{"kty": "OKP", "alg": k.Alg, "crv": "Ed25519", "x": b64u(pub)}
		if private {
			priv, ok := k.Private.(ed25519.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("interop: %s: need an ed25519.PrivateKey, have %T", k.Alg, k.Private)
			}
			j["d"] = b64u(priv.Seed())
		}
		return j, nil
	}
	return nil, fmt.Errorf("interop: %s: unsupported key type %T", k.Alg, k.Public)
}
