package server

import (
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limiter limits failed login attempts per key (a client address or a
// username) with a token bucket whose tokens only failures spend. An
// attempt reserves a token before its credential check (Take), atomically,
// so that attempts in flight at once are all counted, and settles when it
// is done (Settle): a failure spends the token, anything else gives it
// back. A bucket whose tokens are all held by attempts in flight answers
// that it is busy rather than spent, so that the server can wait for them
// to settle instead of refusing: a right password is never refused while
// failures have not spent the budget. The server uses one in memory by
// default; with Redis (NewRedisLimiter) every instance shares the same
// budget.
//
// A reservation that is never settled (its instance died mid-attempt)
// expires after attemptTTL, longer than any login may take, and its token
// is back; a failure settled after that still spends one.
type Limiter interface {
	// Take reserves a token of key's bucket for the attempt id, a value
	// unique to the attempt, and says what it found. Nothing is reserved
	// unless the Grant is Taken, except by a Take that answers an error
	// after its context was cancelled: the Server gives such a
	// reservation back with Settle (failed false), which must accept an
	// id it does not hold.
	Take(ctx context.Context, key, id string) (Grant, error)
	// Settle ends the attempt id on key: failed spends a token (floored at
	// zero, even if the reservation has expired), otherwise the token is
	// given back.
	Settle(ctx context.Context, key, id string, failed bool) error
}

// Grant is a Limiter's answer to Take.
type Grant struct {
	// Taken: a token is reserved for the attempt until it settles.
	Taken bool
	// Busy (when not Taken): failures have not spent the budget, but
	// attempts in flight hold the tokens left; Take may succeed once one
	// of them settles.
	Busy bool
	// Wait (when neither): how long until failures give a token back.
	Wait time.Duration
}

// attemptTTL is how long a reservation lasts when it is never settled:
// longer than any login may take (requestTimeout), so that only the
// attempts of an instance that died expire.
const attemptTTL = requestTimeout + 5*time.Second

// Take implements Limiter.
func (l *limiter) Take(_ context.Context, key, id string) (Grant, error) {
	return l.take(key, id), nil
}

// Settle implements Limiter.
func (l *limiter) Settle(_ context.Context, key, id string, failed bool) error {
	l.settle(key, id, failed)
	return nil
}

// limiter is a token bucket per key (a client address or a username):
// burst failures at once, then one more per every, and the attempts in
// flight that hold tokens; take and settle are the Limiter's. It keeps at
// most maxKeys keys; when full, it forgets the keys whose buckets are full
// again with no attempt in flight, and if none is, it refuses new keys
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
	tokens float64              // failures not yet spent, refilled over time
	last   time.Time            // when tokens was computed
	held   map[string]time.Time // attempts in flight: id -> expiry
}

// newLimiter returns a limiter in this process's memory: burst failures
// at once then one more per every, for at most maxKeys keys, on the clock
// now.
func newLimiter(burst int, every time.Duration, maxKeys int, now func() time.Time) *limiter {
	return &limiter{burst: float64(burst), every: every, maxKeys: maxKeys, now: now, buckets: map[string]*bucket{}}
}

// get returns key's bucket, refilled and without expired reservations,
// making it if create is set; nil if there is none, or if there is no room
// for a new one.
func (l *limiter) get(key string, now time.Time, create bool) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		if !create {
			return nil
		}
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
			if len(l.buckets) >= l.maxKeys {
				return nil
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.fresh(b, now)
	return b
}

// take reserves a token of key's bucket for the attempt id if failures
// have not spent them and attempts in flight do not hold them.
func (l *limiter) take(key, id string) Grant {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.get(key, now, true)
	if b == nil {
		return Grant{Wait: l.every} // fail closed while the table is full
	}
	if b.tokens < 1 {
		return Grant{Wait: time.Duration((1 - b.tokens) * float64(l.every))}
	}
	if b.tokens-float64(len(b.held)) < 1 {
		return Grant{Busy: true}
	}
	if b.held == nil {
		b.held = map[string]time.Time{}
	}
	b.held[id] = now.Add(attemptTTL)
	return Grant{Taken: true}
}

// settle ends the attempt id on key; failed spends a token.
func (l *limiter) settle(key, id string, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, l.now(), failed)
	if b == nil {
		return // nothing held; or a failure while the table is full, which take refuses anyway
	}
	delete(b.held, id)
	if failed {
		b.tokens = max(0, b.tokens-1)
	}
}

// fresh brings b up to now: tokens refilled, expired reservations gone.
func (l *limiter) fresh(b *bucket, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)/float64(l.every))
		b.last = now
	}
	for id, until := range b.held {
		if !now.Before(until) {
			delete(b.held, id)
		}
	}
}

// sweep forgets the buckets that are full with no attempt in flight: they
// hold no information.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		l.fresh(b, now)
		if b.tokens >= l.burst && len(b.held) == 0 {
			delete(l.buckets, k)
		}
	}
}

// clientKey is the rate-limit key of the request's client
// (clientAddrKey of clientAddr), or the connection's unparsed address.
func (s *Server) clientKey(r *http.Request) string {
	a, ok := s.clientAddr(r)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	return clientAddrKey(a)
}

// clientAddr is the client's IP address: the connection's, or, when the
// connection comes from a trusted proxy (Config.TrustedProxies), the
// rightmost address of X-Forwarded-For that is not a trusted proxy's.
// Addresses are normalised (IPv4 in IPv6 unmapped), so one client has one
// address. ok is false when the connection's address cannot be read.
func (s *Server) clientAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	if !s.trusted(addr) {
		return addr, true
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
				return addr, true // unreadable: the proxy itself
			}
			a = a.Unmap()
			if !s.trusted(a) {
				return a, true
			}
			addr = a
		}
	}
	return addr, true
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

// Time limits of the login limiter.
const (
	// limiterTimeout bounds each use of the Limiter: one that does not
	// answer in time refuses the login (503).
	limiterTimeout = time.Second
	// loginWaitMax bounds how long a login waits for attempts in flight
	// to settle (then 503), leaving the rest of requestTimeout to the
	// login itself.
	loginWaitMax = requestTimeout / 2
	// loginPoll is the base interval at which a waiting login asks the
	// Limiter again (jittered up to twice that): attempts settled by this
	// process wake it at once, those of other instances sharing a Redis
	// limiter are seen by asking.
	loginPoll = 20 * time.Millisecond
)

// settleSignal wakes the logins waiting for attempts in flight whenever
// one of this process's attempts settles.
type settleSignal struct {
	mu sync.Mutex
	ch chan struct{} // closed and replaced on each settle
}

func newSettleSignal() *settleSignal { return &settleSignal{ch: make(chan struct{})} }

// next returns a channel closed at the next settle.
func (s *settleSignal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *settleSignal) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// reserve reserves a token for a login attempt in the client address's
// bucket and in the username's, or answers the request and reports false:
// 429 when failures have spent either budget, 503 if the limiter cannot
// answer. While the only thing short is tokens held by attempts in
// flight, it waits for them to settle (at most loginWaitMax, then 503).
// The caller calls settle exactly once, with failed true if the
// credentials were checked and wrong.
func (s *Server) reserve(w http.ResponseWriter, r *http.Request, username string) (settle func(failed bool), ok bool) {
	return s.reserveKey(w, r, "user:"+username, username)
}

// reserveKey is reserve for the bucket user (the username's, or an OAuth
// client's, "client:ID"), whose name the logs give as username.
func (s *Server) reserveKey(w http.ResponseWriter, r *http.Request, user, username string) (settle func(failed bool), ok bool) {
	if s.limitIP == nil {
		return func(bool) {}, true
	}
	ip := "ip:" + s.clientKey(r)
	id := rand.Text()
	wctx, cancel := context.WithTimeout(r.Context(), loginWaitMax)
	defer cancel()
	for waited := false; ; waited = true {
		woken := s.settled.next() // before Take, so no settle is missed
		g, byUser, err := s.takeBoth(r.Context(), ip, user, id)
		if err != nil && waited && wctx.Err() != nil {
			s.inFlightTooLong(w, r, username) // the wait ran out during Take
			return nil, false
		}
		if err != nil {
			s.limiterDown(w, err)
			return nil, false
		}
		if g.Taken {
			break
		}
		if !g.Busy {
			secs := int(g.Wait/time.Second) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.log.Warn("too many failed logins", "client", s.clientKey(r), "username", username, "by_client", !byUser, "by_username", byUser)
			writeError(w, http.StatusTooManyRequests, "slow_down", "too many failed logins; retry in "+strconv.Itoa(secs)+" s")
			return nil, false
		}
		poll := time.NewTimer(loginPoll + mrand.N(loginPoll))
		select {
		case <-woken:
		case <-poll.C:
		case <-wctx.Done():
		}
		poll.Stop()
		if wctx.Err() != nil {
			s.inFlightTooLong(w, r, username)
			return nil, false
		}
	}
	return func(failed bool) {
		// Both at once: a limiter that stopped answering mid-attempt delays
		// the answer by one limiterTimeout, not two.
		var wg sync.WaitGroup
		wg.Go(func() { s.settle(r.Context(), s.limitIP, ip, id, failed) })
		s.settle(r.Context(), s.limitUser, user, id, failed)
		wg.Wait()
		s.settled.wake()
	}, true
}

// takeBoth takes a token for the attempt id from the address's bucket,
// then the username's, within limiterTimeout; the Grant is the first
// that is not Taken (byUser: the username's), and no token stays taken
// then.
func (s *Server) takeBoth(ctx context.Context, ip, user, id string) (g Grant, byUser bool, err error) {
	tctx, cancel := context.WithTimeout(ctx, limiterTimeout)
	defer cancel()
	if g, err = s.limitIP.Take(tctx, ip, id); err != nil || !g.Taken {
		s.releaseCutShort(ctx, err, s.limitIP, ip, id)
		return g, false, err
	}
	if g, err = s.limitUser.Take(tctx, user, id); err != nil || !g.Taken {
		s.releaseCutShort(ctx, err, s.limitUser, user, id)
		s.settle(ctx, s.limitIP, ip, id, false)
		s.settled.wake()
	}
	return g, true, err
}

// releaseCutShort gives back the reservation a Take may have written
// although it answered an error because the client left (a store reached
// before the request was cancelled): without it the reservation would
// hold a token of the bucket until it expires, and the user's next
// attempts would wait for an attempt that no one is making. Only a
// request whose client has left runs it, so it delays no answer.
func (s *Server) releaseCutShort(ctx context.Context, err error, l Limiter, key, id string) {
	if err != nil && ctx.Err() != nil {
		s.settle(ctx, l, key, id, false)
	}
}

// settle settles an attempt, even when the request has ended.
func (s *Server) settle(ctx context.Context, l Limiter, key, id string, failed bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limiterTimeout)
	defer cancel()
	if err := l.Settle(ctx, key, id, failed); err != nil {
		s.log.Error("login rate limiter", "err", err)
	}
}

// inFlightTooLong answers a login that waited for attempts in flight
// until its deadline.
func (s *Server) inFlightTooLong(w http.ResponseWriter, r *http.Request, username string) {
	s.log.Warn("login attempts in flight did not settle in time", "client", s.clientKey(r), "username", username)
	unavailable(w, "too many login attempts in flight; retry")
}

func (s *Server) limiterDown(w http.ResponseWriter, err error) {
	s.log.Error("login rate limiter", "err", err)
	unavailable(w, "the login rate limiter cannot answer")
}
