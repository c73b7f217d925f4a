package jwtgate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"

	"github.com/jwtgate/jwtgate/jwt"
)

func newTestECKey() (*jwt.Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return jwt.NewPrivateKey(priv)
}
