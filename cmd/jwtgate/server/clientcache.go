package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// clientCacheTTL is how long the token endpoint trusts a client read from
// the registry: a change made by the clients commands (a new secret, a
// disabled or deleted client, other scopes) reaches every instance within
// it. Absent clients are remembered as long, so that made-up client ids
// cost one lookup each per period at most.
const clientCacheTTL = 5 * time.Second

// clientCacheMax bounds the clients remembered; when full, the memory is
// cleared.
const clientCacheMax = 10_000

// remoteSetsMax bounds the jwks_uri key sets kept at once.
const remoteSetsMax = 1000

// assertionMaxSize bounds a client assertion.
const assertionMaxSize = 8 << 10

// clientCache answers client lookups from memory for clientCacheTTL, and
// keeps each client's private_key_jwt verifier.
type clientCache struct {
	store ClientStore
	clock func() time.Time
	// verifier options of assertions: audiences are the issuer and the
	// token endpoint.
	audiences []string

	mu      sync.Mutex
	entries map[string]*clientEntry
	asking  map[string]*clientCall
	remote  map[string]*jwk.CachedSet // by jwks_uri
	closed  bool
}

type clientEntry struct {
	c *Client // nil: no such client
	// read is when the lookup began: the client is as the store had it
	// at that time or later.
	read  time.Time
	until time.Time
	// keys is the assertion verifier, shared by the entries of a client
	// whose keys did not change.
	keys *verifierSlot
}

type verifierSlot struct {
	once sync.Once
	v    *jwt.Verifier
	verr error
}

func newClientCache(store ClientStore, clock func() time.Time, audiences []string) *clientCache {
	return &clientCache{store: store, clock: clock, audiences: audiences,
		entries: map[string]*clientEntry{}, asking: map[string]*clientCall{}, remote: map[string]*jwk.CachedSet{}}
}

// lookup returns the entry of client id (its c is nil when there is no
// such client). Requests that find the entry expired while another one
// asks the store wait for that answer rather than ask too.
func (cc *clientCache) lookup(ctx context.Context, id string) (*clientEntry, error) {
	now := cc.clock()
	cc.mu.Lock()
	e, ok := cc.entries[id]
	if ok && now.Before(e.until) {
		cc.mu.Unlock()
		return e, nil
	}
	if call, asking := cc.asking[id]; asking {
		cc.mu.Unlock()
		select {
		case <-call.done:
			return call.e, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	call := &clientCall{done: make(chan struct{}), err: errors.New("client lookup ended without an answer")}
	cc.asking[id] = call
	cc.mu.Unlock()
	defer func() {
		cc.mu.Lock()
		delete(cc.asking, id)
		if call.err == nil {
			if len(cc.entries) >= clientCacheMax {
				clear(cc.entries)
			}
			cc.entries[id] = call.e
		}
		cc.mu.Unlock()
		close(call.done)
	}()
	// The lookup is every waiter's: it does not end with the request
	// that started it, only with its own deadline.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	c, found, err := cc.store.Client(sctx, id)
	if err != nil {
		call.err = err
		return nil, err
	}
	if !found {
		c = nil
	}
	if ok && e.c != nil && c != nil && sameKeys(e.c, c) {
		// Same keys: keep the verifier made for them.
		call.e = &clientEntry{c: c, read: now, until: now.Add(clientCacheTTL), keys: e.keys}
	} else {
		call.e = &clientEntry{c: c, read: now, until: now.Add(clientCacheTTL), keys: &verifierSlot{}}
	}
	call.err = nil
	return call.e, nil
}

// forget drops what the cache knows of client id (its entry, not a
// lookup under way), after a change made on this instance.
func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	delete(cc.entries, id)
	cc.mu.Unlock()
}

// clientCall is a lookup under way.
type clientCall struct {
	done chan struct{}
	e    *clientEntry
	err  error
}

func sameKeys(a, b *Client) bool { return a.JWKS == b.JWKS && a.JWKSURI == b.JWKSURI }

// asymmetric are the algorithms client assertions may use: never HMAC
// (RFC 7523's private_key_jwt is signed with the client's private key)
// and never none.
var asymmetric = func() []jwt.Algorithm {
	var out []jwt.Algorithm
	for _, a := range jwt.Algorithms() {
		if !strings.HasPrefix(string(a), "HS") && !strings.EqualFold(string(a), "none") {
			out = append(out, a)
		}
	}
	return out
}()

// errNoKeys: the client has registered no keys for private_key_jwt.
var errNoKeys = errors.New("the client has no keys for private_key_jwt")

// verifier returns the verifier of the client's assertions.
func (cc *clientCache) verifier(entry *clientEntry) (*jwt.Verifier, error) {
	e := entry.keys
	e.once.Do(func() {
		c := entry.c
		var keys jwt.KeySet
		switch {
		case c.JWKS != "":
			set, err := parseClientJWKS(c.JWKS)
			if err != nil {
				e.verr = err
				return
			}
			keys = set
		case c.JWKSURI != "":
			set, err := cc.remoteSet(c.JWKSURI)
			if err != nil {
				e.verr = err
				return
			}
			keys = set
		default:
			e.verr = errNoKeys
			return
		}
		e.v, e.verr = jwt.NewVerifier(keys, jwt.VerifierOptions{
			Algorithms:     asymmetric,
			Leeway:         clockSkew,
			Clock:          cc.clock,
			Issuers:        []string{c.ID},
			Audiences:      cc.audiences,
			RequiredClaims: []string{"iss", "sub", "aud", "exp", "jti"},
			MaxSize:        assertionMaxSize,
		})
	})
	return e.v, e.verr
}

// remoteSet returns the cached key set at uri: fetched with the jwk
// package's cache (5 minutes, a refresh at most every 30 s when an
// unknown kid appears, 10 s per fetch, 1 MiB at most).
func (cc *clientCache) remoteSet(uri string) (*jwk.CachedSet, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.closed {
		return nil, errors.New("server closed")
	}
	if s, ok := cc.remote[uri]; ok {
		return s, nil
	}
	if len(cc.remote) >= remoteSetsMax {
		for u, s := range cc.remote {
			s.Close()
			delete(cc.remote, u)
		}
	}
	s, err := jwk.NewRemoteSet(uri, jwk.RemoteOptions{CacheOptions: jwk.CacheOptions{
		MinRefreshInterval: 30 * time.Second, FetchTimeout: 10 * time.Second, Clock: cc.clock,
	}, MaxResponseSize: 1 << 20})
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	cc.remote[uri] = s
	return s, nil
}

// close stops the fetches of the remote key sets.
func (cc *clientCache) close() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.closed = true
	for u, s := range cc.remote {
		s.Close()
		delete(cc.remote, u)
	}
}
