package server

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a token bucket per client address for failed credential
// checks: Burst failures at once, then one per Every; successful logins
// take nothing. It keeps at most maxKeys
// clients; when full, it forgets the clients whose buckets are full again,
// and if none is, it refuses new clients (fails closed) until one is.
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

// check reports whether key may make an attempt (it has a token left),
// or how long it must wait for one. It takes no token: fail does.
func (l *limiter) check(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
			if len(l.buckets) >= l.maxKeys {
				return false, l.every
			}
		}
		return true, 0
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	return true, 0
}

// fail takes a token from key's bucket: a failed attempt.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
			if len(l.buckets) >= l.maxKeys {
				return // check refuses unknown clients while the table is full
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	b.tokens = max(0, b.tokens-1)
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

// clientKey is the client's IP address as the connection shows it
// (X-Forwarded-For is not trusted: put a proxy's own limits in front).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limited answers 429 and reports true when the client has used up its
// failed credential attempts.
func (s *Server) limited(w http.ResponseWriter, r *http.Request) bool {
	if s.limit == nil {
		return false
	}
	ok, wait := s.limit.check(clientKey(r))
	if ok {
		return false
	}
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.log.Warn("too many login attempts", "client", clientKey(r))
	writeError(w, http.StatusTooManyRequests, "slow_down", "too many login attempts; retry in "+strconv.Itoa(secs)+" s")
	return true
}
