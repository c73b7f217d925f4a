package jwk

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// Ring is a rotating key ring: one active signing key and any number of
// verify-only keys, each of which may have a time after which it is
// dropped. It implements jwt.KeySet (every key of the ring verifies) and
// gives the active key to sign with (SigningKey, EncodeKey).
//
// Every key has a kid: its own ID, or its RFC 7638 thumbprint (see
// EnsureKeyID), so tokens signed with the ring name the key that verifies
// them.
//
// Rotation: Rotate makes a new key the signer and keeps the previous
// signer verifying until a given time (the lifetime of the longest token
// it signed); Add and Remove manage verify-only keys. Changes replace an
// immutable snapshot atomically, so concurrent lookups never lock, never
// see a half-made change and allocate nothing. A key whose time has come
// is dropped by the first lookup after it (or by Prune).
//
// With a Gate:
//
//	jwtgate.Config{Keys: ring, EncodeKey: ring.EncodeKey, Algorithm: jwt.ES256}
type Ring struct {
	mu    sync.Mutex // serializes changes
	snap  atomic.Pointer[ringSnapshot]
	clock func() time.Time
}

// ringSnapshot is one immutable state of a Ring.
type ringSnapshot struct {
	signer  *jwt.Key     // with its ID
	members []ringMember // signer first
	set     *Set         // every member
	next    time.Time    // earliest drop time of a member, or zero
}

type ringMember struct {
	key    *jwt.Key  // with its ID
	dropAt time.Time // zero: never
}

// RingOptions configures a Ring.
type RingOptions struct {
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// NewRing returns a ring that signs with signer (which must hold a private
// key or a secret) and also verifies with verifyOnly, which never expire
// unless removed. Keys without ID get their thumbprint as ID; IDs must be
// unique, and secret and asymmetric keys cannot be mixed (see NewSet). The
// zero RingOptions are the defaults; opts comes first because the keys
// are variadic.
func NewRing(opts RingOptions, signer *jwt.Key, verifyOnly ...*jwt.Key) (*Ring, error) {
	r := &Ring{clock: opts.Clock}
	if r.clock == nil {
		r.clock = time.Now
	}
	s, err := ensureSigner(signer)
	if err != nil {
		return nil, err
	}
	members := []ringMember{{key: s}}
	for i, k := range verifyOnly {
		if k == nil {
			return nil, fmt.Errorf("%w: verify-only key %d is nil", ErrInvalidKey, i)
		}
		k, err := EnsureKeyID(k)
		if err != nil {
			return nil, err
		}
		members = append(members, ringMember{key: k})
	}
	snap, err := newRingSnapshot(s, members)
	if err != nil {
		return nil, err
	}
	r.snap.Store(snap)
	return r, nil
}

func ensureSigner(k *jwt.Key) (*jwt.Key, error) {
	if k == nil || !k.CanSign() {
		return nil, fmt.Errorf("%w: a ring's signing key must hold a private key or a secret", ErrKeyUse)
	}
	return EnsureKeyID(k)
}

func newRingSnapshot(signer *jwt.Key, members []ringMember) (*ringSnapshot, error) {
	keys := make([]*jwt.Key, len(members))
	var next time.Time
	for i, m := range members {
		keys[i] = m.key
		if !m.dropAt.IsZero() && (next.IsZero() || m.dropAt.Before(next)) {
			next = m.dropAt
		}
	}
	set, err := NewSet(keys...)
	if err != nil {
		return nil, err
	}
	return &ringSnapshot{signer: signer, members: members, set: set, next: next}, nil
}

// current returns the snapshot, dropping the keys whose time has passed.
func (r *Ring) current() *ringSnapshot {
	s := r.snap.Load()
	if !s.next.IsZero() && !r.clock().Before(s.next) {
		r.Prune()
		s = r.snap.Load()
	}
	return s
}

// LookupKeys implements jwt.KeySet with every key of the ring (public
// halves of asymmetric keys). It allocates nothing when it succeeds.
func (r *Ring) LookupKeys(ctx context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	return r.current().set.LookupKeys(ctx, h)
}

// SigningKey returns the active signing key, with its ID.
func (r *Ring) SigningKey() *jwt.Key { return r.snap.Load().signer }

// EncodeKey returns the active signing key. Its signature is that of
// jwtgate's Config.EncodeKey hook.
func (r *Ring) EncodeKey(context.Context, any) (*jwt.Key, error) {
	return r.SigningKey(), nil
}

// Set returns the ring's keys as a Set (for example to publish them: its
// MarshalJSON writes public keys only). It is a snapshot: later changes to
// the ring do not change it.
func (r *Ring) Set() *Set { return r.current().set }

// KeyIDs returns the IDs of the ring's keys, the signer's first.
func (r *Ring) KeyIDs() []string {
	s := r.current()
	ids := make([]string, len(s.members))
	for i, m := range s.members {
		ids[i] = m.key.ID()
	}
	return ids
}

// Rotate makes next the signing key. The previous signer stays in the ring
// as a verify-only key until retireAt (give it the time the longest-lived
// token it signed expires: now plus the longest TTL plus leeway), or until
// Remove if retireAt is zero. next may already be in the ring as a
// verify-only key (pre-published, so that caches of the JWKS know it
// before tokens signed with it arrive): it is then promoted.
func (r *Ring) Rotate(next *jwt.Key, retireAt time.Time) error {
	n, err := ensureSigner(next)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	members := make([]ringMember, 0, len(old.members)+1)
	members = append(members, ringMember{key: n})
	for i, m := range old.members {
		if m.key.ID() == n.ID() {
			continue
		}
		if i == 0 {
			m.dropAt = retireAt
		}
		members = append(members, m)
	}
	s, err := newRingSnapshot(n, members)
	if err != nil {
		return err
	}
	r.snap.Store(s)
	return nil
}

// Add adds a verify-only key, dropped at dropAt (never if zero). Its ID
// must not be in the ring yet.
func (r *Ring) Add(key *jwt.Key, dropAt time.Time) error {
	if key == nil {
		return fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	k, err := EnsureKeyID(key)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	members := append(slices.Clip(old.members), ringMember{key: k, dropAt: dropAt})
	s, err := newRingSnapshot(old.signer, members)
	if err != nil {
		return err
	}
	r.snap.Store(s)
	return nil
}

// Remove drops the verify-only key with ID kid at once. The signing key
// cannot be removed (Rotate first); an unknown kid is an error wrapping
// jwt.ErrKeyNotFound.
func (r *Ring) Remove(kid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	if old.signer.ID() == kid {
		return fmt.Errorf("%w: key %s is the signing key; rotate before removing it", ErrKeyUse, quoteID(kid))
	}
	i := slices.IndexFunc(old.members, func(m ringMember) bool { return m.key.ID() == kid })
	if i < 0 {
		return fmt.Errorf("%w: no key has kid %s", jwt.ErrKeyNotFound, quoteID(kid))
	}
	members := slices.Delete(slices.Clone(old.members), i, i+1)
	s, err := newRingSnapshot(old.signer, members)
	if err != nil {
		return err
	}
	r.snap.Store(s)
	return nil
}

// Prune drops the verify-only keys whose drop time has passed. Lookups do
// it on their own; call it to drop keys when there is no traffic.
func (r *Ring) Prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	if old.next.IsZero() {
		return
	}
	now := r.clock()
	members := make([]ringMember, 0, len(old.members))
	for i, m := range old.members {
		if i > 0 && !m.dropAt.IsZero() && !now.Before(m.dropAt) {
			continue
		}
		members = append(members, m)
	}
	if len(members) == len(old.members) {
		return
	}
	s, err := newRingSnapshot(old.signer, members)
	if err != nil {
		return // cannot happen: a subset of a valid set is valid
	}
	r.snap.Store(s)
}
