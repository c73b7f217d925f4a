package jwk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// ErrFetch: a key set could not be fetched or refreshed (the provider is
// down, slow, redirects elsewhere, or answers with something that is not a
// valid key set). LookupKeys returns it, wrapped with the cause, only when
// it has no usable keys; otherwise it keeps verifying with the last good
// ones (see CacheOptions.MaxStale).
var ErrFetch = errors.New("jwk: cannot fetch key set")

// Defaults of CacheOptions.
const (
	DefaultTTL                = DefaultMaxAge
	DefaultMinRefreshInterval = 5 * time.Second
	DefaultMaxStale           = time.Hour
	DefaultFetchTimeout       = 10 * time.Second
)

// FetchFunc fetches a key set: jwtgate's *Set, a *Ring, or any jwt.KeySet.
type FetchFunc func(ctx context.Context) (jwt.KeySet, error)

// CacheOptions configures a CachedSet.
type CacheOptions struct {
	// TTL is how long fetched keys are used before they are fetched again;
	// 0 means DefaultTTL (300 s, flask_jwtlib's
	// VERIFICATION_KEY_CACHE_TIMEOUT). A refresh starts in the background
	// when three quarters of it have passed, so that lookups do not wait.
	TTL time.Duration

	// MinRefreshInterval is the shortest time between two fetches that
	// lookups cause: a token with an unknown kid triggers at most one
	// refresh per interval, and so does a failed fetch, so that tokens
	// with made-up kids cannot hammer the provider. 0 means
	// DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration

	// MaxStale is how long after TTL the last good keys stay in use while
	// fetches fail; 0 means DefaultMaxStale, a negative value none.
	MaxStale time.Duration

	// FetchTimeout bounds one fetch; 0 means DefaultFetchTimeout. A lookup
	// waits for a fetch no longer than its own context allows.
	FetchTimeout time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

func (o *CacheOptions) setDefaults() {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MinRefreshInterval <= 0 {
		o.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if o.MaxStale == 0 {
		o.MaxStale = DefaultMaxStale
	} else if o.MaxStale < 0 {
		o.MaxStale = 0
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

// CachedSet is a jwt.KeySet whose keys come from a fetch function and are
// cached: the key callback of flask_jwtlib (retrieve_verification_key with
// VERIFICATION_KEY_CACHE_TIMEOUT), and the base of remote key sets
// (NewRemoteSet, NewIssuerSet).
//
// Lookups with cached keys take no lock and allocate nothing. Fetches are
// shared: concurrent lookups that need keys wait for one fetch (single
// flight), which runs on its own context, bounded by FetchTimeout, so that
// one cancelled request does not fail the others. A failed fetch keeps the
// last good keys (up to MaxStale after they expire) and its error is
// returned only to lookups that have no usable keys.
//
// A CachedSet may start goroutines (fetches, background refreshes); Close
// stops them and waits for them to end.
type CachedSet struct {
	fetch FetchFunc
	opts  CacheOptions

	state atomic.Pointer[cacheState]

	mu          sync.Mutex
	flight      atomic.Pointer[fetchCall] // the fetch under way; set under mu
	nextTry     atomic.Int64              // Unix ns before which lookups start no fetch
	lastAttempt time.Time                 // start of the last fetch
	lastErr     error                     // error of the last fetch, nil if it succeeded
	failing     atomic.Bool               // the last fetch failed
	closed      bool

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	fetches atomic.Int64
	onClose func() // run by Close after the fetches end, or nil
}

// cacheState is the last good key set.
type cacheState struct {
	keys    jwt.KeySet
	fetched time.Time
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// CachedKeys returns a CachedSet that fetches its keys with fetch and
// keeps them for ttl (0: DefaultTTL), with the other options' defaults.
func CachedKeys(fetch FetchFunc, ttl time.Duration) *CachedSet {
	return NewCachedSet(fetch, CacheOptions{TTL: ttl})
}

// NewCachedSet returns a CachedSet that fetches its keys with fetch. The
// first fetch happens at the first lookup (or Refresh).
func NewCachedSet(fetch FetchFunc, opts CacheOptions) *CachedSet {
	opts.setDefaults()
	c := &CachedSet{fetch: fetch, opts: opts}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Fetches returns the number of fetches started so far.
func (c *CachedSet) Fetches() int64 { return c.fetches.Load() }

// Close stops background refreshes, waits for running fetches to end and
// closes the idle connections of a remote set's own HTTP transport.
// Lookups after Close never fetch: they use the cached keys while they
// are usable (TTL, then MaxStale) and otherwise fail. Close returns nil.
func (c *CachedSet) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.onClose != nil {
		c.onClose()
	}
	return nil
}

// Refresh fetches the keys now (or joins a fetch under way) and returns
// its error; the previous keys stay when it fails.
func (c *CachedSet) Refresh(ctx context.Context) error {
	return c.wait(ctx, c.start(time.Time{}, true))
}

// LookupKeys implements jwt.KeySet with the cached keys, fetching them
// when there are none, they have expired, or the token's kid is unknown
// (at most once per MinRefreshInterval). Errors wrap jwt.ErrKeyNotFound
// when the keys are known but none fits, and ErrFetch when no usable keys
// could be had.
func (c *CachedSet) LookupKeys(ctx context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	s := c.state.Load()
	if s != nil {
		now := c.opts.Clock()
		age := now.Sub(s.fetched)
		if age < c.opts.TTL {
			if age >= c.opts.TTL-c.opts.TTL/4 && c.mayStart(now) {
				c.start(s.fetched, false) // refresh ahead, in the background
			}
			keys, err := s.keys.LookupKeys(ctx, h)
			if err == nil || !errors.Is(err, jwt.ErrKeyNotFound) {
				return keys, err
			}
			return c.lookupUnknown(ctx, h, s, now, err)
		}
	}
	return c.lookupExpired(ctx, h, s)
}

// mayStart reports, without locking, whether a lookup at now may start a
// fetch: none is under way and the rate limit allows one. Floods of
// lookups that may not (made-up kids, a provider that is down) take no
// lock.
func (c *CachedSet) mayStart(now time.Time) bool {
	return c.flight.Load() == nil && now.UnixNano() >= c.nextTry.Load()
}

// lookupUnknown handles a kid the fresh keys do not know: one refresh per
// MinRefreshInterval, then a second lookup.
func (c *CachedSet) lookupUnknown(ctx context.Context, h *jwt.Header, s *cacheState, now time.Time, notFound error) ([]*jwt.Key, error) {
	f := c.flight.Load() // join a fetch under way: it may bring the kid
	if f == nil {
		if now.UnixNano() < c.nextTry.Load() {
			return nil, notFound
		}
		f = c.start(s.fetched, false)
	}
	if f == nil {
		return nil, notFound
	}
	if err := c.wait(ctx, f); err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if s2 := c.state.Load(); s2 != s {
		return s2.keys.LookupKeys(ctx, h)
	}
	return nil, notFound
}

// lookupExpired handles missing or expired keys: wait for a fetch (rate
// limited), else fall back on stale keys while MaxStale allows. While the
// provider is failing, lookups that have stale keys do not wait for it:
// they use the stale keys and leave the fetch to the background.
func (c *CachedSet) lookupExpired(ctx context.Context, h *jwt.Header, s *cacheState) ([]*jwt.Key, error) {
	var fetched time.Time
	if s != nil {
		fetched = s.fetched
		now := c.opts.Clock()
		if c.failing.Load() && now.Sub(s.fetched) < c.opts.TTL+c.opts.MaxStale {
			if c.mayStart(now) {
				c.start(fetched, false)
			}
			return s.keys.LookupKeys(ctx, h)
		}
	}
	err := c.wait(ctx, c.start(fetched, false))
	if s2 := c.state.Load(); s2 != nil && s2 != s {
		return s2.keys.LookupKeys(ctx, h)
	}
	if s != nil && c.opts.Clock().Sub(s.fetched) < c.opts.TTL+c.opts.MaxStale {
		return s.keys.LookupKeys(ctx, h)
	}
	if err == nil {
		c.mu.Lock()
		err = c.lastErr
		c.mu.Unlock()
		if err == nil {
			err = errors.New("no key set fetched yet")
		}
	}
	if errors.Is(err, ErrFetch) {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %w", ErrFetch, err)
}

// start starts a fetch unless one is under way (then it returns that one)
// or the rate limit forbids it (then it returns nil). seen is the fetch
// time of the keys the caller saw: if newer keys have arrived meanwhile,
// no fetch is needed. force ignores the rate limit.
func (c *CachedSet) start(seen time.Time, force bool) *fetchCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flight.Load(); f != nil {
		return f
	}
	if c.closed {
		return &fetchCall{done: closedChan, err: fmt.Errorf("%w: key set closed", ErrFetch)}
	}
	if s := c.state.Load(); s != nil && s.fetched.After(seen) && !force {
		return nil
	}
	now := c.opts.Clock()
	if !force && !c.lastAttempt.IsZero() && now.Sub(c.lastAttempt) < c.opts.MinRefreshInterval {
		return nil
	}
	c.lastAttempt = now
	c.nextTry.Store(now.Add(c.opts.MinRefreshInterval).UnixNano())
	f := &fetchCall{done: make(chan struct{})}
	c.flight.Store(f)
	c.fetches.Add(1)
	c.wg.Add(1)
	go c.run(f)
	return f
}

var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

func (c *CachedSet) run(f *fetchCall) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.FetchTimeout)
	keys, err := c.safeFetch(ctx)
	cancel()
	if err == nil && keys == nil {
		err = errors.New("the fetch returned no key set")
	}
	c.mu.Lock()
	if err == nil {
		c.state.Store(&cacheState{keys: keys, fetched: c.opts.Clock()})
		c.lastErr = nil
		c.failing.Store(false)
	} else {
		if !errors.Is(err, ErrFetch) {
			err = fmt.Errorf("%w: %w", ErrFetch, err)
		}
		c.lastErr = err
		c.failing.Store(true)
	}
	f.err = err
	c.flight.Store(nil)
	c.mu.Unlock()
	close(f.done)
}

func (c *CachedSet) safeFetch(ctx context.Context) (keys jwt.KeySet, err error) {
	defer func() {
		if p := recover(); p != nil {
			keys, err = nil, fmt.Errorf("the fetch function panicked: %v", p)
		}
	}()
	return c.fetch(ctx)
}

// wait waits for f (nil: nothing to wait for) or the end of ctx.
func (c *CachedSet) wait(ctx context.Context, f *fetchCall) error {
	if f == nil {
		return nil
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for the key set: %w", ErrFetch, ctx.Err())
	}
}
