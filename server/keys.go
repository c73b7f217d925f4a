package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// fixed set of keys); a *LiveKeys follows a KeyStore shared by instances.
type KeySource interface {
	jwt.KeySet
	SigningKey() *jwt.Key
	CurrentSet() *jwk.Set
}

// KeyStore keeps the service's signing keys: a data directory (DataDir,
// the default) or a PostgreSQL database shared by every instance
// (SQLKeys).
type KeyStore interface {
	// LoadKeys returns the current keys at now, generating the first
	// signer for alg when the store has none. Of two processes starting at
	// once on an empty store, one key wins and both load it.
	LoadKeys(ctx context.Context, alg jwt.Algorithm, now time.Time) (Keys, error)
	// RotateKey adds a new signer for alg ("" for the current signer's
	// algorithm, which is the only one allowed: the service verifies one
	// algorithm) and keeps the current signer verifying until now plus
	// retireAfter. It returns the old and the new key IDs.
	RotateKey(ctx context.Context, alg jwt.Algorithm, retireAfter time.Duration, now time.Time) (oldKID, newKID string, err error)
}

// Keys is the content of a KeyStore at one time.
type Keys struct {
	// Signer signs new tokens with Algorithm.
	Signer    *jwt.Key
	Algorithm jwt.Algorithm
	// Retiring are former signers that verify until their RetireAt
	// (never dropped if zero).
	Retiring []RetiringKey
}

// RetiringKey is a former signer that still verifies.
type RetiringKey struct {
	Key      *jwt.Key
	RetireAt time.Time
}

// checkSigningAlg refuses algorithms the service cannot sign with: HMAC
// (the keys are published as a JWKS) and unknown ones.
func checkSigningAlg(alg jwt.Algorithm) error {
	if strings.HasPrefix(string(alg), "HS") || !alg.Known() {
		return fmt.Errorf("server: algorithm %q is not supported (use an asymmetric one, e.g. ES256)", alg)
	}
	return nil
}

// Ring returns a key ring of k: the signer and every retiring key,
// dropped at its RetireAt by clock (nil: time.Now).
func (k Keys) Ring(clock func() time.Time) (*jwk.Ring, error) {
	if k.Signer == nil {
		return nil, errors.New("server: no signing key")
	}
	if err := checkSigningAlg(k.Algorithm); err != nil {
		return nil, err
	}
	if !k.Signer.Allows(k.Algorithm) {
		return nil, fmt.Errorf("server: key %s cannot sign with %s", k.Signer.ID(), k.Algorithm)
	}
	ring, err := jwk.NewRingWithOptions(jwk.RingOptions{Clock: clock}, k.Signer)
	if err != nil {
		return nil, err
	}
	for _, r := range k.Retiring {
		if err := ring.Add(r.Key, r.RetireAt); err != nil {
			return nil, fmt.Errorf("server: key %s: %w", r.Key.ID(), err)
		}
	}
	return ring, nil
}

// fingerprint identifies the keys of k and their retire times. Key IDs
// are checked against the key material when a store loads them (they are
// RFC 7638 thumbprints unless a PEM file names its own).
func (k Keys) fingerprint() string {
	var b strings.Builder
	b.WriteString(string(k.Algorithm) + " " + k.Signer.ID())
	for _, r := range k.Retiring {
		fmt.Fprintf(&b, " %s@%d", r.Key.ID(), r.RetireAt.UnixMilli())
	}
	return b.String()
}

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
// the keys "jwtgate keys rotate" added, from any instance. Right after
// one instance rotates and signs with the new key, the others load it
// when its first token reaches them, unless another unknown kid caused a
// reload less than MinReload before: that token is then refused (401),
// and the next one after MinReload is not. A store that cannot answer
// makes such a lookup fail with jwtgate.ErrUnavailable (503). Each load
// has 1 s, so a request that meets an unknown kid while the store is
// frozen waits at most about 2 s (a reload already under way, then its
// own).
type LiveKeys struct {
	store KeyStore
	alg   jwt.Algorithm
	opts  LiveKeysOptions

	ring atomic.Pointer[jwk.Ring]

	sem      chan struct{} // capacity 1: one reload at a time
	loaded   string        // fingerprint of the Keys of ring; under sem
	lastMiss time.Time     // of the last reload caused by an unknown kid; under sem
}

// keysLoadTimeout bounds one load of the keys from the store (a few rows
// or files).
const keysLoadTimeout = time.Second

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
	l.alg = keys.Algorithm
	l.ring.Store(ring)
	l.loaded = keys.fingerprint()
	return l, nil
}

// Algorithm returns the algorithm the keys sign with.
func (l *LiveKeys) Algorithm() jwt.Algorithm { return l.alg }

// Ring returns the current key ring.
func (l *LiveKeys) Ring() *jwk.Ring { return l.ring.Load() }

// SigningKey implements KeySource.
func (l *LiveKeys) SigningKey() *jwt.Key { return l.ring.Load().SigningKey() }

// CurrentSet implements KeySource and jwk.SetSource.
func (l *LiveKeys) CurrentSet() *jwk.Set { return l.ring.Load().CurrentSet() }

// LookupKeys implements jwt.KeySet. A kid the ring does not know causes a
// reload (at most one per MinReload) before the lookup is answered.
func (l *LiveKeys) LookupKeys(ctx context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	keys, err := l.ring.Load().LookupKeys(ctx, h)
	if err == nil || !errors.Is(err, jwt.ErrKeyNotFound) || h.KeyID == "" {
		return keys, err
	}
	if rerr := l.reload(ctx, true); rerr != nil {
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

func (l *LiveKeys) reload(ctx context.Context, onMiss bool) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.sem }()
	now := l.opts.Clock()
	if onMiss {
		if !l.lastMiss.IsZero() && now.Sub(l.lastMiss) < l.opts.MinReload {
			return nil // reloaded for a miss just now
		}
		l.lastMiss = now
	}
	lctx, cancel := context.WithTimeout(ctx, keysLoadTimeout)
	defer cancel()
	keys, err := l.store.LoadKeys(lctx, l.alg, now)
	if err != nil {
		return err
	}
	if keys.Algorithm != l.alg {
		return fmt.Errorf("server: the key store's signer uses %s, this server %s: restart it", keys.Algorithm, l.alg)
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
	if old.SigningKey().ID() != ring.SigningKey().ID() {
		l.opts.Logger.Info("signing key changed", "kid", ring.SigningKey().ID(), "previous", old.SigningKey().ID())
	}
	return nil
}

// Run reloads the keys every interval until ctx is done, logging failures
// (the keys loaded last stay in use).
func (l *LiveKeys) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Reload(ctx); err != nil && ctx.Err() == nil {
				l.opts.Logger.Error("cannot reload the signing keys; keeping the current ones", "err", err)
			}
		}
	}
}
