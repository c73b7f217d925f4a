package dpop

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// Prover makes the DPoP proofs of a client: JWTs signed by its private
// key with the public key in their header. It is safe for concurrent use.
type Prover struct {
	signer     *jwt.Signer
	thumbprint string
	clock      func() time.Time
}

// NewProver returns a Prover signing with key (an *ecdsa.PrivateKey,
// ed25519.PrivateKey or *rsa.PrivateKey) and alg, an asymmetric algorithm
// the key allows. clock may be nil (time.Now).
func NewProver(key crypto.Signer, alg jwt.Algorithm, clock func() time.Time) (*Prover, error) {
	if !contains(defaultAlgorithms, alg) {
		return nil, fmt.Errorf("%w: algorithm %q: a proof must use an asymmetric algorithm", ErrConfig, alg)
	}
	priv, err := jwt.NewPrivateKey(key, alg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pub, err := jwt.NewPublicKey(key.Public(), alg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pk, err := jwk.NewKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pubJSON, err := pk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	tp, err := jwk.Thumbprint(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s, err := jwt.NewSigner(priv, alg, jwt.SignerOptions{Type: Type, Header: map[string]any{"jwk": json.RawMessage(pubJSON)}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if clock == nil {
		clock = time.Now
	}
	return &Prover{signer: s, thumbprint: base64.RawURLEncoding.EncodeToString(tp), clock: clock}, nil
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the prover's
// public key, base64url: the jkt that tokens bound to it carry.
func (p *Prover) Thumbprint() string { return p.thumbprint }

// Proof returns a proof for a request with method to u (its query and
// fragment are left out of htu), sent with accessToken if not empty (ath)
// and with nonce if not empty.
func (p *Prover) Proof(method string, u *url.URL, accessToken, nonce string) (string, error) {
	if u == nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("dpop: proof for %v: not an absolute http(s) URL", u)
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	htu := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	claims := struct {
		JTI   string `json:"jti"`
		HTM   string `json:"htm"`
		HTU   string `json:"htu"`
		IAT   int64  `json:"iat"`
		ATH   string `json:"ath,omitempty"`
		Nonce string `json:"nonce,omitempty"`
	}{
		JTI: base64.RawURLEncoding.EncodeToString(id[:]), HTM: method, HTU: htu.String(),
		IAT: p.clock().Unix(), Nonce: nonce,
	}
	if accessToken != "" {
		claims.ATH = AccessTokenHash(accessToken)
	}
	return p.signer.Sign(claims)
}

func contains(algs []jwt.Algorithm, a jwt.Algorithm) bool {
	for _, x := range algs {
		if x == a {
			return true
		}
	}
	return false
}
