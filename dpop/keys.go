package dpop

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// maxCachedKeys bounds the keys headerKeys remembers; past it the cache
// starts again.
const maxCachedKeys = 4096

// headerKeys is the jwt.KeySet of proofs: the key is the public JWK in the
// proof's own header, bound to the header's alg. Parsed keys are kept by
// header text, which determines them.
type headerKeys struct {
	algs  []jwt.Algorithm
	cache sync.Map // header text -> *jwt.Key
	n     atomic.Int32
}

func (k *headerKeys) LookupKeys(_ context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	raw := h.Raw()
	if key, ok := k.cache.Load(raw); ok {
		return []*jwt.Key{key.(*jwt.Key)}, nil
	}
	key, err := k.parse(h)
	if err != nil {
		return nil, err
	}
	if k.n.Add(1) > maxCachedKeys {
		k.cache.Clear()
		k.n.Store(1)
	}
	k.cache.Store(raw, key)
	return []*jwt.Key{key}, nil
}

func (k *headerKeys) parse(h *jwt.Header) (*jwt.Key, error) {
	if !slices.Contains(k.algs, h.Alg) {
		return nil, fmt.Errorf("%w: alg %q is not an accepted proof algorithm", ErrInvalidProof, h.Alg)
	}
	var hdr struct {
		JWK json.RawMessage `json:"jwk"`
	}
	if err := h.Decode(&hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrInvalidProof, err)
	}
	if len(hdr.JWK) == 0 || string(hdr.JWK) == "null" {
		return nil, fmt.Errorf("%w: the header has no jwk", ErrInvalidProof)
	}
	jk, err := jwk.ParseKey(hdr.JWK)
	if err != nil {
		return nil, fmt.Errorf("%w: header jwk: %w", ErrInvalidProof, err)
	}
	switch {
	case jk.IsSymmetric():
		return nil, fmt.Errorf("%w: header jwk is a symmetric key", ErrInvalidProof)
	case jk.IsPrivate():
		return nil, fmt.Errorf("%w: header jwk holds a private key", ErrInvalidProof)
	case jk.Algorithm() != "" && jk.Algorithm() != string(h.Alg):
		return nil, fmt.Errorf("%w: header jwk is for %s, the proof uses %s", ErrInvalidProof, jk.Algorithm(), h.Alg)
	}
	if _, err := jk.VerificationKey(); err != nil {
		return nil, fmt.Errorf("%w: header jwk: %w", ErrInvalidProof, err)
	}
	key, err := jwt.NewPublicKey(jk.PublicKey(), h.Alg)
	if err != nil {
		return nil, fmt.Errorf("%w: header jwk: %w", ErrInvalidProof, err)
	}
	return key, nil
}
