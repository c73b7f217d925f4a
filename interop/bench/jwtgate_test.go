package bench

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// jwtgateClaims is the typed claims struct for signing with jwtgate.
type jwtgateClaims struct {
	jwt.Claims
	appClaims
}

// jwtgateImpl is impl=jwtgate: verification checks the signature and the
// registered claims, which is all a Verifier parses (custom claims are
// decoded only when asked); signing encodes a typed struct embedding
// jwt.Claims with encoding/json, as the peers' struct rows do.
func jwtgateImpl() impl {
	return impl{
		name:     "jwtgate",
		verifier: jwtgateVerifier(false),
		signer:   jwtgateSigner(false),
	}
}

// jwtgateDecodeImpl is impl=jwtgate-decode: verification that also
// decodes the custom claims into a struct, as the peers that decode
// everything do.
func jwtgateDecodeImpl() impl {
	return impl{name: "jwtgate-decode", verifier: jwtgateVerifier(true)}
}

// jwtgateRawImpl is impl=jwtgate-raw: signing the payload as ready JSON
// bytes (Signer.Sign([]byte)), which still checks it strictly.
func jwtgateRawImpl() impl {
	return impl{name: "jwtgate-raw", signer: jwtgateSigner(true)}
}

func jwtgateVerifier(decode bool) func(c *algCase, token string) (verifyFunc, error) {
	return func(c *algCase, token string) (verifyFunc, error) {
		alg := jwt.Algorithm(c.name)
		var key *jwt.Key
		var err error
		if c.name == "HS256" {
			key, err = jwt.NewHMACKey(c.hmacKey, alg)
		} else {
			key, err = jwt.NewPublicKey(c.verifyKey().(crypto.PublicKey), alg)
		}
		if err != nil {
			return nil, err
		}
		v, err := jwt.NewVerifier(key, jwt.VerifierOptions{
			Algorithms: []jwt.Algorithm{alg},
			Clock:      fixedNow,
		})
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		return func() (string, error) {
			tok, err := v.Verify(ctx, token)
			if err != nil {
				return "", err
			}
			if decode {
				var app appClaims
				if err := tok.Decode(&app); err != nil {
					return "", err
				}
			}
			return tok.Claims.Subject, nil
		}, nil
	}
}

func jwtgateSigner(raw bool) func(c *algCase) (func() error, func() error, error) {
	return func(c *algCase) (func() error, func() error, error) {
		alg := jwt.Algorithm(c.name)
		var key *jwt.Key
		var err error
		if c.name == "HS256" {
			key, err = jwt.NewHMACKey(c.hmacKey, alg)
		} else {
			signer, ok := c.signingKey().(crypto.Signer)
			if !ok {
				return nil, nil, errors.New("jwtgate: private key is not a crypto.Signer")
			}
			key, err = jwt.NewPrivateKey(signer, alg)
		}
		if err != nil {
			return nil, nil, err
		}
		s, err := jwt.NewSigner(key, alg, jwt.SignerOptions{})
		if err != nil {
			return nil, nil, err
		}
		claims := &jwtgateClaims{
			Claims: jwt.Claims{
				Subject:   wantSub,
				IssuedAt:  jwt.NewNumericDate(time.Unix(claimIat, 0)),
				NotBefore: jwt.NewNumericDate(time.Unix(claimNbf, 0)),
				ExpiresAt: jwt.NewNumericDate(time.Unix(claimExp, 0)),
				ID:        claimJti,
			},
			appClaims: newAppClaims(),
		}
		var payload any = claims
		if raw {
			b, err := json.Marshal(claims)
			if err != nil {
				return nil, nil, err
			}
			payload = b
		}
		var out string
		sign := func() (err error) {
			out, err = s.Sign(payload)
			return err
		}
		return sign, func() error { return c.checkToken(out) }, nil
	}
}
