package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// KeySource gives the server its keys: the signer, the keys that verify,
// and the set published at /.well-known/jwks.json. A *jwk.Ring is one (a
// fixed set of keys); a *KeyRing holds keys with activation and retire
// times; a *LiveKeys follows a KeyStore shared by instances.
type KeySource interface {
	jwt.KeySet
	SigningKey() *jwt.Key
	CurrentSet() *jwk.Set
}

// KeyStore keeps the service's signing keys: a data directory (DataDir,
// the default) or a PostgreSQL database shared by every instance
// (SQLKeys).
type KeyStore interface {
	// LoadKeys returns the keys not retired at now, generating the first
	// signer for alg when the store has none. Of two processes starting at
	// once on an empty store, one key wins and both load it.
	LoadKeys(ctx context.Context, alg jwt.Algorithm, now time.Time) (Keys, error)
	// RotateKey adds a new key as r says: published at once, signing from
	// now plus r.ActivateAfter. Every key that had no retire time retires
	// r.RetireAfter after the new key activates, so that the tokens it
	// signed until then stay valid until they expire. It returns the key
	// that signs at now and the new key's ID.
	RotateKey(ctx context.Context, r Rotation, now time.Time) (oldKID, newKID string, err error)
}

// Rotation says how RotateKey makes the next key.
type Rotation struct {
	// Alg is the new key's algorithm: "" for the current signer's. Each
	// key keeps its own, so a rotation may change it.
	Alg jwt.Algorithm
	// ActivateAfter is how long the new key is published before it signs:
	// KeyActivationDelay of the service's settings, or 0 in an emergency.
	ActivateAfter time.Duration
	// RetireAfter is how long the former signers verify after the new key
	// activates: the longest token lifetime (the refresh TTL), or longer.
	RetireAfter time.Duration
}

// KeyActivationDelay is how long a new key is published before it signs.
// An instance that reloads its keys every keysReload publishes the key at
// most keysReload after the rotation; a verifier that fetched the JWKS
// from it just before keeps that copy for jwksMaxAge (its Cache-Control
// max-age), then fetches the set again, with the key. After both, no
// verifier that honours max-age meets a token of a key it does not have.
func KeyActivationDelay(jwksMaxAge, keysReload time.Duration) time.Duration {
	return jwksMaxAge + keysReload
}

// Keys is the content of a KeyStore at one time.
type Keys struct {
	// Keys are the keys not retired, oldest first: every one is published
	// and verifies; the signer is the newest one active (see Signer).
	Keys []StoredKey
}

// StoredKey is one key of a KeyStore.
type StoredKey struct {
	// Key is the private key, bound to Alg alone (it signs and verifies
	// with no other algorithm), with its kid.
	Key *jwt.Key
	Alg jwt.Algorithm
	// ActivateAt is when the key starts to sign (zero: since it was made).
	ActivateAt time.Time
	// RetireAt is when it stops verifying and is no longer published
	// (zero: never).
	RetireAt time.Time
}

func (k StoredKey) activeAt(now time.Time) bool {
	return !now.Before(k.ActivateAt) && !k.retiredAt(now)
}

func (k StoredKey) retiredAt(now time.Time) bool {
	return !k.RetireAt.IsZero() && !now.Before(k.RetireAt)
}

// signer returns the index in k.Keys of the key that signs at now: the
// newest whose activation time has come, or -1.
func (k Keys) signer(now time.Time) int {
	for i := len(k.Keys) - 1; i >= 0; i-- {
		if k.Keys[i].activeAt(now) {
			return i
		}
	}
	return -1
}

// bindKey returns key bound to alg alone, after checking that the service
// may sign with alg and that key allows it.
func bindKey(key *jwt.Key, alg jwt.Algorithm) (*jwt.Key, error) {
	if err := checkSigningAlg(alg); err != nil {
		return nil, fmt.Errorf("server: key %s: %w", key.ID(), err)
	}
	if !key.Allows(alg) {
		return nil, fmt.Errorf("server: key %s cannot sign with %s (it allows %v)", key.ID(), alg, key.Algorithms())
	}
	return key.WithAlgorithms(alg)
}

// ErrUnsupportedAlgorithm is returned for an algorithm the service cannot
// sign with.
var ErrUnsupportedAlgorithm = errors.New("algorithm not supported by the token service")

// checkSigningAlg refuses algorithms the service cannot sign with: HMAC
// (the keys are published as a JWKS, and a secret cannot be) and unknown
// ones.
func checkSigningAlg(alg jwt.Algorithm) error {
	if strings.HasPrefix(string(alg), "HS") {
		return fmt.Errorf("%w: %s is an HMAC algorithm, whose secret key cannot be published in the JWKS; "+
			"use an asymmetric one: ES256, ES384, ES512, EdDSA, RS256..RS512 or PS256..PS512", ErrUnsupportedAlgorithm, alg)
	}
	if !alg.Known() {
		return fmt.Errorf("%w: %q is unknown; use ES256, ES384, ES512, EdDSA, RS256..RS512 or PS256..PS512", ErrUnsupportedAlgorithm, alg)
	}
	return nil
}

// CheckSigningAlgorithm returns an error wrapping ErrUnsupportedAlgorithm,
// which says why, when the service cannot sign with alg: an HMAC
// algorithm (its secret cannot be published in the JWKS) or an unknown
// one.
func CheckSigningAlgorithm(alg jwt.Algorithm) error { return checkSigningAlg(alg) }

// serviceAlgorithms are the algorithms the service may sign and verify
// with: every asymmetric one.
func serviceAlgorithms() []jwt.Algorithm {
	var out []jwt.Algorithm
	for _, a := range jwt.Algorithms() {
		if checkSigningAlg(a) == nil {
			out = append(out, a)
		}
	}
	return out
}

// Ring returns a KeyRing of k whose signer and published keys follow
// clock (nil: time.Now).
func (k Keys) Ring(clock func() time.Time) (*KeyRing, error) {
	if clock == nil {
		clock = time.Now
	}
	for _, sk := range k.Keys {
		if sk.Key == nil || !sk.Key.CanSign() {
			return nil, errors.New("server: a stored key without its private half")
		}
		if algs := sk.Key.Algorithms(); len(algs) != 1 || algs[0] != sk.Alg {
			return nil, fmt.Errorf("server: key %s is not bound to %s alone", sk.Key.ID(), sk.Alg)
		}
		if err := checkSigningAlg(sk.Alg); err != nil {
			return nil, fmt.Errorf("server: key %s: %w", sk.Key.ID(), err)
		}
	}
	r := &KeyRing{keys: slices.Clone(k.Keys), clock: clock}
	st, err := r.stateAt(clock())
	if err != nil {
		return nil, err
	}
	r.state.Store(st)
	return r, nil
}

// fingerprint identifies the keys of k and their times. Key IDs are
// checked against the key material when a store loads them (they are RFC
// 7638 thumbprints unless a PEM file names its own).
func (k Keys) fingerprint() string {
	var b strings.Builder
	for _, sk := range k.Keys {
		fmt.Fprintf(&b, "%s %s %d %d;", sk.Key.ID(), sk.Alg, sk.ActivateAt.UnixMilli(), sk.RetireAt.UnixMilli())
	}
	return b.String()
}

// KeyRing is a KeySource of stored keys, each bound to its own algorithm,
// with activation and retire times: it publishes and verifies with every
// key not retired, and signs with the newest key whose activation time has
// come. Both are decided by the clock at each call, so a key published
// ahead signs from its activation time on without any reload, and a key
// retired stops verifying at its time. Lookups allocate nothing, except
// the first one after an activation or a retirement.
type KeyRing struct {
	keys  []StoredKey // oldest first; immutable
	clock func() time.Time
	state atomic.Pointer[ringState]
}

// ringState is what a KeyRing gives until its next event.
type ringState struct {
	signer *jwt.Key
	alg    jwt.Algorithm
	set    *jwk.Set  // the keys not retired
	until  time.Time // the next activation or retirement; zero: none
}

// stateAt computes the state of the ring at now.
func (r *KeyRing) stateAt(now time.Time) (*ringState, error) {
	ks := Keys{Keys: r.keys}
	si := ks.signer(now)
	if si < 0 {
		return nil, fmt.Errorf("server: no signing key is active at %s", now.UTC().Format(time.RFC3339))
	}
	st := &ringState{signer: r.keys[si].Key, alg: r.keys[si].Alg}
	var published []*jwt.Key
	for _, k := range r.keys {
		for _, t := range []time.Time{k.ActivateAt, k.RetireAt} {
			if t.After(now) && (st.until.IsZero() || t.Before(st.until)) {
				st.until = t
			}
		}
		if !k.retiredAt(now) {
			published = append(published, k.Key)
		}
	}
	set, err := jwk.NewSet(published...)
	if err != nil {
		return nil, err
	}
	st.set = set
	return st, nil
}

// current returns the state at the clock's time.
func (r *KeyRing) current() *ringState {
	st := r.state.Load()
	if st.until.IsZero() {
		return st
	}
	now := r.clock()
	if now.Before(st.until) {
		return st
	}
	next, err := r.stateAt(now)
	if err != nil {
		// Cannot happen: a key that retires has a successor active by
		// then (RotateKey); keep signing with the last signer.
		return st
	}
	r.state.CompareAndSwap(st, next)
	return next
}

// SigningKey implements KeySource: the newest active key.
func (r *KeyRing) SigningKey() *jwt.Key { return r.current().signer }

// Algorithm returns the algorithm of the signing key.
func (r *KeyRing) Algorithm() jwt.Algorithm { return r.current().alg }

// CurrentSet implements KeySource and jwk.SetSource: every key not
// retired, active or not yet.
func (r *KeyRing) CurrentSet() *jwk.Set { return r.current().set }

// LookupKeys implements jwt.KeySet with the published keys; each verifies
// only the algorithm it is bound to.
func (r *KeyRing) LookupKeys(ctx context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	return r.current().set.LookupKeys(ctx, h)
}

// KeyIDs returns the IDs of the published keys, oldest first.
func (r *KeyRing) KeyIDs() []string {
	now := r.clock()
	var ids []string
	for _, k := range r.keys {
		if !k.retiredAt(now) {
			ids = append(ids, k.Key.ID())
		}
	}
	return ids
}

// Keys returns the keys of the ring with their times, oldest first,
// retired ones included.
func (r *KeyRing) Keys() []StoredKey { return slices.Clone(r.keys) }

// bound marks the key sources whose keys are each bound to one algorithm.
func (r *KeyRing) bound() {}

// LiveKeysOptions configure NewLiveKeys.
type LiveKeysOptions struct {
	// Clock: time.Now when nil.
	Clock func() time.Time
	// MinReload is the shortest time between two reloads caused by a
	// token naming an unknown kid: 1 s by default. It bounds the store
	// queries that tokens with made-up kids can cause to one per
	// MinReload.
	MinReload time.Duration
	// Logger: slog.Default() when nil.
	Logger *slog.Logger
}

// LiveKeys is a KeySource that follows a KeyStore: Reload (run by Run
// every few seconds, and by a lookup that meets an unknown kid) picks up
// the keys "jwtgate keys rotate" added, from any instance. A new key is
// published by every instance within one reload interval, and signs from
// its activation time on (see KeyRing): with an activation delay of
// KeyActivationDelay, no verifier that honours the JWKS's max-age meets
// its kid before it has the key. A token naming a kid this instance has
// not loaded (a key rotated with an activation of 0, used by an instance
// that reloaded first) makes it reload, unless another unknown kid caused
// a reload less than MinReload before: that token is then refused (401),
// and the next one after MinReload is not. A store that cannot answer
// makes such a lookup fail with jwtgate.ErrUnavailable (503). Each load
// has 1 s, and a request that meets an unknown kid waits at most 2 s for
// the keys (a reload already under way, then its own), even on a store
// that does not heed its deadline (a file system that hangs).
type LiveKeys struct {
	store KeyStore
	alg   jwt.Algorithm // of a first key
	opts  LiveKeysOptions

	ring atomic.Pointer[KeyRing]

	sem      chan struct{} // capacity 1: one reload at a time
	loaded   string        // fingerprint of the Keys of ring; under sem
	lastMiss time.Time     // of the last reload caused by an unknown kid; under sem
}

// keysLoadTimeout bounds one load of the keys from the store (a few rows
// or files).
const keysLoadTimeout = time.Second

// keysMissWait bounds how long a lookup that meets an unknown kid waits
// for the keys: a load under way, then its own.
const keysMissWait = 2 * keysLoadTimeout

// NewLiveKeys loads the keys of store (generating the first signer for
// alg if it has none) and returns them as a LiveKeys.
func NewLiveKeys(ctx context.Context, store KeyStore, alg jwt.Algorithm, opts LiveKeysOptions) (*LiveKeys, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MinReload <= 0 {
		opts.MinReload = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l := &LiveKeys{store: store, alg: alg, opts: opts, sem: make(chan struct{}, 1)}
	keys, err := store.LoadKeys(ctx, alg, opts.Clock())
	if err != nil {
		return nil, err
	}
	ring, err := keys.Ring(opts.Clock)
	if err != nil {
		return nil, err
	}
	l.ring.Store(ring)
	l.loaded = keys.fingerprint()
	return l, nil
}

// Algorithm returns the algorithm of the current signing key.
func (l *LiveKeys) Algorithm() jwt.Algorithm { return l.ring.Load().Algorithm() }

// Ring returns the current key ring.
func (l *LiveKeys) Ring() *KeyRing { return l.ring.Load() }

// SigningKey implements KeySource.
func (l *LiveKeys) SigningKey() *jwt.Key { return l.ring.Load().SigningKey() }

// CurrentSet implements KeySource and jwk.SetSource.
func (l *LiveKeys) CurrentSet() *jwk.Set { return l.ring.Load().CurrentSet() }

func (l *LiveKeys) bound() {}

// LookupKeys implements jwt.KeySet. A kid the ring does not know causes a
// reload (at most one per MinReload) before the lookup is answered.
func (l *LiveKeys) LookupKeys(ctx context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	keys, err := l.ring.Load().LookupKeys(ctx, h)
	if err == nil || !errors.Is(err, jwt.ErrKeyNotFound) || h.KeyID == "" {
		return keys, err
	}
	// Bounded whatever ctx says: a reload under way, then this one.
	rctx, cancel := context.WithTimeout(ctx, keysMissWait)
	defer cancel()
	if rerr := l.reload(rctx, true); rerr != nil {
		// The token may be good: the store could not say (503, not 401).
		return nil, jwtgate.NewError(jwtgate.ErrUnavailable, "the key store cannot answer",
			fmt.Errorf("no key has kid %q here, and reloading the keys failed: %w", h.KeyID, rerr))
	}
	return l.ring.Load().LookupKeys(ctx, h)
}

// Probe implements revoke.Prober: the Probe of the KeyStore, when it has
// one (DataDir and SQLKeys do: a read), else nothing.
func (l *LiveKeys) Probe(ctx context.Context) error {
	if p, ok := l.store.(revoke.Prober); ok {
		return p.Probe(ctx)
	}
	return nil
}

// Reload loads the keys from the store now.
func (l *LiveKeys) Reload(ctx context.Context) error { return l.reload(ctx, false) }

// reload loads the keys, one load at a time. It returns when the load
// ends or ctx does: a store that ignores its deadline (a file system that
// hangs) keeps its load, which holds the turn of every other reload until
// it returns, but not the caller.
func (l *LiveKeys) reload(ctx context.Context, onMiss bool) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	now := l.opts.Clock()
	if onMiss {
		if !l.lastMiss.IsZero() && now.Sub(l.lastMiss) < l.opts.MinReload {
			<-l.sem
			return nil // reloaded for a miss just now
		}
		l.lastMiss = now
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-l.sem }()
		// The load is everyone's: it does not end with the caller.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keysLoadTimeout)
		defer cancel()
		done <- l.load(lctx, now)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w (the key store has not answered a load of the keys)", ctx.Err())
	}
}

// load loads the keys at now and makes them the ring's if they changed.
// Under sem.
func (l *LiveKeys) load(ctx context.Context, now time.Time) error {
	keys, err := l.store.LoadKeys(ctx, l.alg, now)
	if err != nil {
		return err
	}
	fp := keys.fingerprint()
	if fp == l.loaded {
		// Unchanged: keep the ring, whose *jwt.Key values the signature
		// cache of the verifier knows.
		return nil
	}
	ring, err := keys.Ring(l.opts.Clock)
	if err != nil {
		return err
	}
	old := l.ring.Swap(ring)
	l.loaded = fp
	known := map[string]bool{}
	for _, id := range old.KeyIDs() {
		known[id] = true
	}
	for _, k := range keys.Keys {
		if !known[k.Key.ID()] {
			l.opts.Logger.Info("signing key published", "kid", k.Key.ID(), "alg", string(k.Alg), "signs_from", k.ActivateAt.UTC())
		}
	}
	return nil
}

// Run reloads the keys every interval until ctx is done, logging failures
// (the keys loaded last stay in use) and, at the first reload after it,
// a change of the signing key (by a reload or by an activation time).
func (l *LiveKeys) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	signer := l.SigningKey().ID()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Reload(ctx); err != nil && ctx.Err() == nil {
				l.opts.Logger.Error("cannot reload the signing keys; keeping the current ones", "err", err)
			}
			if now := l.SigningKey().ID(); now != signer {
				l.opts.Logger.Info("signing key changed", "kid", now, "alg", string(l.Algorithm()), "previous", signer)
				signer = now
			}
		}
	}
}

// verifyAlgorithms returns the algorithms the Gate of cfg accepts. The
// keys of a *KeyRing or *LiveKeys are each bound to one algorithm, so
// every algorithm the service supports is allowed and each key decides:
// a token verifies only with the algorithm of the key its kid names. Any
// other KeySource verifies cfg.Algorithm alone.
func verifyAlgorithms(cfg Config) ([]jwt.Algorithm, error) {
	if _, ok := cfg.Keys.(interface{ bound() }); ok {
		if cfg.Algorithm != "" {
			if err := checkSigningAlg(cfg.Algorithm); err != nil {
				return nil, err
			}
		}
		return serviceAlgorithms(), nil
	}
	if cfg.Algorithm == "" {
		return nil, errors.New("server: Config needs Algorithm for keys that are not bound to one (a *jwk.Ring)")
	}
	if err := checkSigningAlg(cfg.Algorithm); err != nil {
		return nil, err
	}
	return []jwt.Algorithm{cfg.Algorithm}, nil
}
