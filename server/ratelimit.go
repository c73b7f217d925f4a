package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limiter limits login attempts per key (a client address or a
// username) with a token bucket: Take a token before a credential check,
// atomically, so that attempts in flight at once are all counted, and
// Refund it when the credentials were right (or were never checked), so
// that only failures spend the budget. The server uses one in memory by
// default; with Redis (NewRedisLimiter) every instance shares the same
// budget.
type Limiter interface {
	// Take takes a token of key's bucket for an attempt: ok, or how long
	// until the bucket has one (nothing is taken then).
	Take(ctx context.Context, key string) (ok bool, wait time.Duration, err error)
	// Refund gives back the token of an attempt that did not fail.
	Refund(ctx context.Context, key string) error
}

// NewMemoryLimiter returns a Limiter in this process's memory: a token
// bucket per key, burst attempts at once then one per every, for at most
// maxKeys keys (see the fail-closed rule of limiter). clock may be nil
// (time.Now).
func NewMemoryLimiter(burst int, every time.Duration, maxKeys int, clock func() time.Time) Limiter {
	if clock == nil {
		clock = time.Now
	}
	return newLimiter(burst, every, maxKeys, clock)
}

// Take implements Limiter.
func (l *limiter) Take(_ context.Context, key string) (bool, time.Duration, error) {
	ok, wait := l.take(key)
	return ok, wait, nil
}

// Refund implements Limiter.
func (l *limiter) Refund(_ context.Context, key string) error {
	l.refund(key)
	return nil
}

// limiter is a token bucket per key (a client address or a username):
// burst attempts at once, then one per every; take and refund are the
// Limiter's. It keeps at most maxKeys keys; when full, it forgets the keys
// whose buckets are full again, and if none is, it refuses new keys
// (fails closed) until one is.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	maxKeys int
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(burst int, every time.Duration, maxKeys int, now func() time.Time) *limiter {
	return &limiter{burst: float64(burst), every: every, maxKeys: maxKeys, now: now, buckets: map[string]*bucket{}}
}

// take takes a token from key's bucket if it has one (ok), or reports how
// long until it has one.
func (l *limiter) take(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
			if len(l.buckets) >= l.maxKeys {
				return false, l.every // fail closed while the table is full
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return true, 0
}

// refund gives a token back to key's bucket.
func (l *limiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		l.refill(b, l.now())
		b.tokens = min(l.burst, b.tokens+1)
	}
}

func (l *limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)/float64(l.every))
		b.last = now
	}
}

// sweep forgets the buckets that are full: they hold no information.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// clientKey is the client's IP address: the connection's, or, when the
// connection comes from a trusted proxy (Config.TrustedProxies), the
// rightmost address of X-Forwarded-For that is not a trusted proxy's.
// Addresses are normalised (IPv4 in IPv6 unmapped), so one client has one
// key, and an IPv6 client is keyed by its /64 (clientAddrKey).
func (s *Server) clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if !s.trusted(addr) {
		return clientAddrKey(addr)
	}
	// Walk X-Forwarded-For from the right: each proxy appends the address
	// it received the request from. The first one not trusted is the
	// client; anything left of it may be forged.
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return clientAddrKey(addr) // unreadable: limit the proxy itself
			}
			a = a.Unmap()
			if !s.trusted(a) {
				return clientAddrKey(a)
			}
			addr = a
		}
	}
	return clientAddrKey(addr)
}

// clientAddrKey is the rate-limit key of a client address: the address
// itself for IPv4, its /64 for IPv6, since one client commonly holds a
// whole /64 and could otherwise take a new budget per address.
func clientAddrKey(a netip.Addr) string {
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limiterTimeout bounds each use of the Limiter: one that does not
// answer in time refuses the login (503).
const limiterTimeout = time.Second

// reserve takes a token for a login attempt from the client address's
// bucket and the username's, or answers 429 (or 503 if the limiter cannot
// answer) and reports false. The caller calls spent if the credentials
// were wrong (the tokens stay taken) and release in every case (it gives
// back tokens not spent).
func (s *Server) reserve(w http.ResponseWriter, r *http.Request, username string) (spent, release func(), ok bool) {
	if s.limitIP == nil {
		return func() {}, func() {}, true
	}
	ip := "ip:" + s.clientKey(r)
	user := "user:" + username
	ctx, cancel := context.WithTimeout(r.Context(), limiterTimeout)
	defer cancel()
	okIP, waitIP, err := s.limitIP.Take(ctx, ip)
	if err != nil {
		s.limiterDown(w, err)
		return nil, nil, false
	}
	okUser, waitUser := false, time.Duration(0)
	if okIP {
		if okUser, waitUser, err = s.limitUser.Take(ctx, user); err != nil {
			s.refund(r.Context(), s.limitIP, ip)
			s.limiterDown(w, err)
			return nil, nil, false
		}
		if !okUser {
			s.refund(r.Context(), s.limitIP, ip)
		}
	}
	if !okIP || !okUser {
		secs := int(max(waitIP, waitUser)/time.Second) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.log.Warn("too many login attempts", "client", s.clientKey(r), "username", username, "by_client", !okIP, "by_username", okIP && !okUser)
		writeError(w, http.StatusTooManyRequests, "slow_down", "too many login attempts; retry in "+strconv.Itoa(secs)+" s")
		return nil, nil, false
	}
	kept := false
	spent = func() { kept = true }
	release = func() {
		if !kept {
			s.refund(r.Context(), s.limitIP, ip)
			s.refund(r.Context(), s.limitUser, user)
		}
	}
	return spent, release, true
}

// refund gives a token back, even when the request has ended.
func (s *Server) refund(ctx context.Context, l Limiter, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limiterTimeout)
	defer cancel()
	if err := l.Refund(ctx, key); err != nil {
		s.log.Error("login rate limiter", "err", err)
	}
}

func (s *Server) limiterDown(w http.ResponseWriter, err error) {
	s.log.Error("login rate limiter", "err", err)
	writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the login rate limiter cannot answer")
}
