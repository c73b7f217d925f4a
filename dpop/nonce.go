package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// NonceOptions configure Nonces.
type NonceOptions struct {
	// Secret keys the nonces' MACs: at least 32 random bytes, the same
	// on every instance, so that a nonce one instance gave is valid on
	// the others.
	Secret []byte

	// Lifetime is how long a nonce stays valid (5 minutes when zero). A
	// new nonce is given every half Lifetime, so a client that uses the
	// nonce it was last given always has at least half of it left.
	Lifetime time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Nonces makes and checks server nonces (RFC 9449 section 9) without
// storing them: a nonce is the start of the period it was given in and a
// MAC of it, so any instance with the same Secret checks any other's.
type Nonces struct {
	key      []byte
	lifetime time.Duration
	clock    func() time.Time
}

// nonceLen is the length of a decoded nonce: 8 bytes of time, 16 of MAC.
const nonceLen = 8 + 16

// NewNonces checks opts and returns Nonces.
func NewNonces(opts NonceOptions) (*Nonces, error) {
	if len(opts.Secret) < 32 {
		return nil, fmt.Errorf("%w: NonceOptions.Secret has %d bytes; use at least 32 random bytes", ErrConfig, len(opts.Secret))
	}
	switch {
	case opts.Lifetime == 0:
		opts.Lifetime = 5 * time.Minute
	case opts.Lifetime < 2*time.Second:
		return nil, fmt.Errorf("%w: NonceOptions.Lifetime %s is shorter than 2s", ErrConfig, opts.Lifetime)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Nonces{key: append([]byte(nil), opts.Secret...), lifetime: opts.Lifetime, clock: opts.Clock}, nil
}

func (n *Nonces) mac(start int64) []byte {
	m := hmac.New(sha256.New, n.key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(start))
	m.Write([]byte("jwtgate dpop nonce\x00"))
	m.Write(b[:])
	return m.Sum(nil)[:16]
}

// Current returns the nonce of the current period.
func (n *Nonces) Current() string {
	half := int64(n.lifetime / 2 / time.Millisecond)
	now := n.clock().UnixMilli()
	start := now - now%half
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(start))
	copy(b[8:], n.mac(start))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Valid reports whether s is a nonce of these Nonces that has not
// expired: given at most Lifetime ago (and at most a second ahead, for an
// instance whose clock runs ahead).
func (n *Nonces) Valid(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(nonceLen) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != nonceLen {
		return false
	}
	start := int64(binary.BigEndian.Uint64(b[:8]))
	if !hmac.Equal(b[8:], n.mac(start)) {
		return false
	}
	now := n.clock().UnixMilli()
	return start <= now+1000 && now-start < int64(n.lifetime/time.Millisecond)
}
