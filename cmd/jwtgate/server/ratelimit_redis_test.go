package server

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"errors"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
)

// These tests run against a real Redis, at 127.0.0.1:6379 or
// $JWTGATE_REDIS_ADDR. Without one they are skipped, or fail when
// JWTGATE_REQUIRE_SERVICES=1. None of them measures the wall clock: the
// refill test polls a bounded number of times.

// redisLimiterPrefix returns a key prefix of the test's own, whose keys
// are deleted (SCAN and DEL through c) when the test ends.
func redisLimiterPrefix(t testing.TB, c rueidis.Client) string {
	t.Helper()
	p := "jwtgate-test-rl-" + crand.Text() + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var cursor uint64
		for {
			e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(p+"*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				t.Errorf("cleanup of %s*: %v", p, err)
				return
			}
			if len(e.Elements) > 0 {
				if err := c.Do(ctx, c.B().Del().Key(e.Elements...).Build()).Error(); err != nil {
					t.Errorf("cleanup of %s*: %v", p, err)
					return
				}
			}
			if cursor = e.Cursor; cursor == 0 {
				return
			}
		}
	})
	return p
}

func newTestRedisLimiter(t testing.TB, c rueidis.Client, prefix string, burst int, every time.Duration) Limiter {
	t.Helper()
	l, err := NewRedisLimiter(c, prefix, burst, every)
	if err != nil {
		t.Fatalf("NewRedisLimiter(%d, %v): %v", burst, every, err)
	}
	return l
}

// redisLimiterCtx bounds one call, so that a broken client fails the test
// rather than hanging it; it is never an assertion on the time taken.
func redisLimiterCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func redisLimiterMustCheck(t testing.TB, l Limiter, key string) (bool, time.Duration) {
	t.Helper()
	ok, wait, err := cf(l).Check(redisLimiterCtx(t), key)
	if err != nil {
		t.Fatalf("Check(%.40q): %v", key, err)
	}
	return ok, wait
}

func redisLimiterMustFail(t testing.TB, l Limiter, key string) {
	t.Helper()
	if err := cf(l).Fail(redisLimiterCtx(t), key); err != nil {
		t.Fatalf("Fail(%.40q): %v", key, err)
	}
}

func TestRedisLimiterBurst(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	long := "user:" + strings.Repeat("\xff\x00{}*?[\r\n ", 25) + "!" // 256 bytes, not UTF-8
	tests := []struct {
		name       string
		burst      int
		every      time.Duration
		key, other string
	}{
		{"one", 1, time.Hour, "ip:192.0.2.1", "ip:192.0.2.2"},
		{"three", 3, 10 * time.Second, "user:alice", "user:bob"},
		{"namespaces", 2, time.Minute, "user:alice", "ip:alice"},
		{"bytes", 4, time.Hour, long, long[:255]},
		{"empty and prefix", 2, time.Hour, "", "rl:"},
		{"ipv6", 5, time.Second, "ip:2001:db8::1", "ip:2001:db8::"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestRedisLimiter(t, c, redisLimiterPrefix(t, c), tt.burst, tt.every)
			if ok, wait := redisLimiterMustCheck(t, l, "never:seen"); !ok || wait != 0 {
				t.Fatalf("unseen key: %v, wait %v; want ok, 0", ok, wait)
			}
			for i := range tt.burst {
				if ok, wait := redisLimiterMustCheck(t, l, tt.key); !ok || wait != 0 {
					t.Fatalf("attempt %d of a burst of %d refused (wait %v)", i+1, tt.burst, wait)
				}
				redisLimiterMustFail(t, l, tt.key)
			}
			ok, wait := redisLimiterMustCheck(t, l, tt.key)
			if ok || wait <= 0 || wait > tt.every {
				t.Fatalf("after %d failures: %v, wait %v; want refused with a wait in (0, %v]", tt.burst, ok, wait, tt.every)
			}
			// More failures stay floored at zero tokens.
			redisLimiterMustFail(t, l, tt.key)
			if ok, wait := redisLimiterMustCheck(t, l, tt.key); ok || wait <= 0 || wait > tt.every {
				t.Fatalf("after %d failures: %v, wait %v; want refused with a wait in (0, %v]", tt.burst+1, ok, wait, tt.every)
			}
			if ok, wait := redisLimiterMustCheck(t, l, tt.other); !ok || wait != 0 {
				t.Fatalf("another key %.40q: %v, wait %v; want ok, 0", tt.other, ok, wait)
			}
			if ok, wait := redisLimiterMustCheck(t, l, "never:seen"); !ok || wait != 0 {
				t.Fatalf("unseen key after failures elsewhere: %v, wait %v; want ok, 0", ok, wait)
			}
		})
	}
}

// TestRedisLimiterShared: two instances (two clients) on one prefix share
// each key's budget, and concurrent failures are each counted once.
func TestRedisLimiterShared(t *testing.T) {
	a, b := redistest.Redis(t, rueidis.ClientOption{}), redistest.Redis(t, rueidis.ClientOption{})
	p := redisLimiterPrefix(t, a)
	const burst = 3
	la := newTestRedisLimiter(t, a, p, burst, time.Hour)
	lb := newTestRedisLimiter(t, b, p, burst, time.Hour)
	redisLimiterMustFail(t, la, "user:carol")
	redisLimiterMustFail(t, lb, "user:carol")
	if ok, _ := redisLimiterMustCheck(t, la, "user:carol"); !ok {
		t.Fatal("2 failures of 3 refused on instance a")
	}
	redisLimiterMustFail(t, la, "user:carol")
	for name, l := range map[string]Limiter{"a": la, "b": lb} {
		if ok, wait := redisLimiterMustCheck(t, l, "user:carol"); ok || wait <= 0 {
			t.Errorf("instance %s after 3 failures on two instances: %v, wait %v; want refused", name, ok, wait)
		}
	}
	// Another prefix is another budget.
	other := newTestRedisLimiter(t, b, redisLimiterPrefix(t, b), burst, time.Hour)
	if ok, _ := redisLimiterMustCheck(t, other, "user:carol"); !ok {
		t.Error("a limiter on another prefix refused a key drained under the first")
	}

	// Concurrent failures from both instances: none lost.
	const big, n = 100, 60
	ca := newTestRedisLimiter(t, a, p, big, time.Hour)
	cb := newTestRedisLimiter(t, b, p, big, time.Hour)
	var wg sync.WaitGroup
	var errs atomic.Int64
	for i := range n {
		l := ca
		if i%2 == 1 {
			l = cb
		}
		wg.Go(func() {
			if err := cf(l).Fail(context.Background(), "ip:198.51.100.7"); err != nil {
				errs.Add(1)
			}
		})
	}
	wg.Wait()
	if e := errs.Load(); e != 0 {
		t.Fatalf("%d concurrent failures returned errors", e)
	}
	for i := range big - n {
		if ok, _ := redisLimiterMustCheck(t, ca, "ip:198.51.100.7"); !ok {
			t.Fatalf("refused after %d failures of %d (%d of them concurrent)", n+i, big, n)
		}
		redisLimiterMustFail(t, cb, "ip:198.51.100.7")
	}
	if ok, _ := redisLimiterMustCheck(t, cb, "ip:198.51.100.7"); ok {
		t.Fatalf("allowed after %d failures of %d: concurrent failures were lost", big, big)
	}
}

// TestRedisLimiterRefill: a drained bucket gets a token back after about
// every. Bounded polling, no wall-clock assertion.
func TestRedisLimiterRefill(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	tests := []struct {
		name  string
		burst int
		every time.Duration
	}{
		{"burst 1", 1, 200 * time.Millisecond},
		{"burst 2", 2, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestRedisLimiter(t, c, redisLimiterPrefix(t, c), tt.burst, tt.every)
			for range tt.burst {
				redisLimiterMustFail(t, l, "user:dave")
			}
			ok, wait := redisLimiterMustCheck(t, l, "user:dave")
			if ok || wait <= 0 || wait > tt.every {
				t.Fatalf("drained bucket: %v, wait %v; want refused with a wait in (0, %v]", ok, wait, tt.every)
			}
			const polls = 200
			for i := range polls {
				if ok, wait = redisLimiterMustCheck(t, l, "user:dave"); ok {
					t.Logf("token back after %d polls", i)
					break
				}
				if wait <= 0 || wait > tt.every {
					t.Fatalf("refused with a wait of %v; want one in (0, %v]", wait, tt.every)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !ok {
				t.Fatalf("no token back after %d polls 50 ms apart (every %v)", polls, tt.every)
			}
		})
	}
}

// TestRedisLimiterExpiry: a failure leaves a key that expires once its
// bucket would be full again; a check writes nothing.
func TestRedisLimiterExpiry(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	tests := []struct {
		burst int
		every time.Duration
	}{
		{1, 200 * time.Millisecond},
		{5, time.Minute},
		{10, time.Hour},
		{1, time.Microsecond}, // under a millisecond: still a TTL of 1 ms
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.burst)+"x"+tt.every.String(), func(t *testing.T) {
			p := redisLimiterPrefix(t, c)
			l := newTestRedisLimiter(t, c, p, tt.burst, tt.every)
			ctx := redisLimiterCtx(t)
			redisLimiterMustCheck(t, l, "user:erin")
			if n, err := c.Do(ctx, c.B().Exists().Key(p+"rl:user:erin").Build()).AsInt64(); err != nil || n != 0 {
				t.Fatalf("EXISTS after a check of an unseen key = %d, %v; want 0 (a check writes nothing)", n, err)
			}
			redisLimiterMustFail(t, l, "user:erin")
			ttl, err := c.Do(ctx, c.B().Pttl().Key(p+"rl:user:erin").Build()).AsInt64()
			if err != nil {
				t.Fatal(err)
			}
			limit := max(1, (time.Duration(tt.burst)*tt.every+time.Millisecond-1)/time.Millisecond)
			if tt.every < time.Millisecond {
				// The key may already be gone (-2), or expiring within the
				// millisecond (0).
				if ttl != -2 && (ttl < 0 || ttl > int64(limit)) {
					t.Fatalf("PTTL = %d ms; want gone or in [0, %d]", ttl, limit)
				}
				return
			}
			if ttl <= 0 || ttl > int64(limit) {
				t.Fatalf("PTTL = %d ms; want in (0, %d] (burst × every)", ttl, limit)
			}
			if tt.every >= time.Minute {
				fields, err := c.Do(ctx, c.B().Hgetall().Key(p+"rl:user:erin").Build()).AsStrMap()
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := fields["tokens"]; !ok || len(fields) != 2 || fields["last_us"] == "" {
					t.Fatalf("bucket hash = %v; want fields tokens and last_us", fields)
				}
			}
		})
	}
}

// TestRedisLimiterErrors: an unreachable Redis, a closed client or a
// bucket Redis cannot read make Check and Fail return errors, not panic
// and not say ok.
func TestRedisLimiterErrors(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	p := redisLimiterPrefix(t, c)

	closed := redistest.Redis(t, rueidis.ClientOption{})
	closed.Close()

	// A client that reached Redis once, then loses it: its connections are
	// closed and every new one goes to 127.0.0.1:1, where nothing listens.
	var mu sync.Mutex
	var conns []net.Conn
	var down atomic.Bool
	unreachable := redistest.Redis(t, rueidis.ClientOption{
		DisableRetry: true,
		DialCtxFn: func(ctx context.Context, addr string, d *net.Dialer, _ *tls.Config) (net.Conn, error) {
			if down.Load() {
				addr = "127.0.0.1:1"
			}
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
			}
			return conn, err
		},
	})
	down.Store(true)
	mu.Lock()
	for _, conn := range conns {
		conn.Close()
	}
	mu.Unlock()

	ctx := redisLimiterCtx(t)
	garbage := map[string]rueidis.Completed{
		"user:string": c.B().Set().Key(p + "rl:user:string").Value("5").Ex(time.Minute).Build(),
		"user:words":  c.B().Hset().Key(p+"rl:user:words").FieldValue().FieldValue("tokens", "many").FieldValue("last_us", "1").Build(),
		"user:nan":    c.B().Hset().Key(p+"rl:user:nan").FieldValue().FieldValue("tokens", "nan").FieldValue("last_us", "1").Build(),
		"user:neg":    c.B().Hset().Key(p+"rl:user:neg").FieldValue().FieldValue("tokens", "-1").FieldValue("last_us", "1").Build(),
		"user:half":   c.B().Hset().Key(p+"rl:user:half").FieldValue().FieldValue("tokens", "1").Build(),
	}
	for _, cmd := range garbage {
		if err := c.Do(ctx, cmd).Error(); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name   string
		client rueidis.Client
		key    string
	}{
		{"closed client", closed, "user:frank"},
		{"unreachable", unreachable, "user:frank"},
		{"not a hash", c, "user:string"},
		{"unreadable tokens", c, "user:words"},
		{"nan tokens", c, "user:nan"},
		{"negative tokens", c, "user:neg"},
		{"missing field", c, "user:half"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestRedisLimiter(t, tt.client, p, 3, time.Hour)
			ok, _, err := cf(l).Check(redisLimiterCtx(t), tt.key)
			if err == nil {
				t.Errorf("Check: no error (ok %v)", ok)
			} else if !strings.Contains(err.Error(), "redis limiter: check") {
				t.Errorf("Check error %q does not say where it comes from", err)
			} else if ok {
				t.Errorf("Check returned an error and ok")
			}
			if err := cf(l).Fail(redisLimiterCtx(t), tt.key); err == nil {
				t.Error("Fail: no error")
			} else if !strings.Contains(err.Error(), "redis limiter: fail") {
				t.Errorf("Fail error %q does not say where it comes from", err)
			}
			t.Logf("error: %v", err)
		})
	}
	// The error wraps the client's (errors.Is works through it).
	l := newTestRedisLimiter(t, closed, p, 1, time.Hour)
	if _, _, err := cf(l).Check(redisLimiterCtx(t), "user:frank"); !errors.Is(err, rueidis.ErrClosing) {
		t.Errorf("Check on a closed client: %v; want it to wrap rueidis.ErrClosing", err)
	}
	// A canceled context is an error too.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	l = newTestRedisLimiter(t, c, p, 1, time.Hour)
	if _, _, err := cf(l).Check(canceled, "user:frank"); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a canceled context: %v; want context.Canceled", err)
	}
}

func TestRedisLimiterArgs(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	tests := []struct {
		name   string
		client rueidis.Client
		burst  int
		every  time.Duration
		ok     bool
	}{
		{"nil client", nil, 3, time.Second, false},
		{"zero burst", c, 0, time.Second, false},
		{"negative burst", c, -1, time.Second, false},
		{"zero every", c, 3, 0, false},
		{"negative every", c, 3, -time.Second, false},
		{"valid", c, 3, time.Second, true},
		{"huge", c, 1 << 40, 1 << 62, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewRedisLimiter(tt.client, "p:", tt.burst, tt.every)
			if tt.ok != (err == nil) || tt.ok != (l != nil) {
				t.Fatalf("NewRedisLimiter(%d, %v) = %v, %v; want ok %v", tt.burst, tt.every, l, err, tt.ok)
			}
		})
	}
	// Huge values still make a TTL Redis accepts.
	p := redisLimiterPrefix(t, c)
	l := newTestRedisLimiter(t, c, p, 1<<40, 1<<62)
	redisLimiterMustFail(t, l, "user:grace")
	if ok, _ := redisLimiterMustCheck(t, l, "user:grace"); !ok {
		t.Fatal("a burst of 2^40 refused after one failure")
	}
}

// TestRedisLimiterMatchesMemory: for the same random sequences of Check and
// Fail, the Redis limiter and the in-memory limiter agree on every answer.
// every is an hour, so no refill the test could see happens.
func TestRedisLimiterMatchesMemory(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	const every = time.Hour
	keys := []string{"ip:203.0.113.9", "user:heidi", "user:ivan", "user:\x00"}
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %x", seed)
	rng := mrand.New(mrand.NewChaCha8(seed))
	for run := range 20 {
		burst := 1 + rng.IntN(5)
		p := redisLimiterPrefix(t, c)
		rl := newTestRedisLimiter(t, c, p, burst, every)
		ml := newLimiter(burst, every, 1000, time.Now)
		ctx := redisLimiterCtx(t)
		var trace []string
		for i := range 80 {
			key := keys[rng.IntN(len(keys))]
			if rng.IntN(2) == 0 {
				trace = append(trace, "fail "+key)
				if err := cf(rl).Fail(ctx, key); err != nil {
					t.Fatalf("run %d, step %d: Redis Fail: %v", run, i, err)
				}
				if err := cf(ml).Fail(ctx, key); err != nil {
					t.Fatalf("run %d, step %d: memory Fail: %v", run, i, err)
				}
				continue
			}
			trace = append(trace, "check "+key)
			rok, rwait, err := cf(rl).Check(ctx, key)
			if err != nil {
				t.Fatalf("run %d, step %d: Redis Check: %v", run, i, err)
			}
			mok, mwait, _ := cf(ml).Check(ctx, key)
			if rok != mok {
				t.Fatalf("run %d (burst %d), step %d: Redis says %v (wait %v), memory says %v (wait %v); trace:\n%s",
					run, burst, i, rok, rwait, mok, mwait, strings.Join(trace, "\n"))
			}
			if !rok && (rwait <= 0 || rwait > every) {
				t.Fatalf("run %d, step %d: refused with a wait of %v; want one in (0, %v]", run, i, rwait, every)
			}
		}
	}
}

// checkFailer is what the tests read limiters with: Check looks at a
// bucket without taking from it, Fail takes a token, floored at zero
// (Take without the answer).
type checkFailer interface {
	Check(ctx context.Context, key string) (bool, time.Duration, error)
	Fail(ctx context.Context, key string) error
}

func cf(l Limiter) checkFailer { return l.(checkFailer) }

// Check and Fail give the memory limiter the same test surface.
func (l *limiter) Check(_ context.Context, key string) (bool, time.Duration, error) {
	ok, wait := l.check(key)
	return ok, wait, nil
}

func (l *limiter) Fail(_ context.Context, key string) error {
	l.fail(key)
	return nil
}

// check and fail observe and drain the memory limiter's buckets in tests;
// the server itself takes and settles.

// check reports whether key's failures have left a token, or how long
// until they have. It takes nothing and ignores attempts in flight.
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
	l.fresh(b, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	return true, 0
}

// fail spends a token of key's bucket: a failed attempt.
func (l *limiter) fail(key string) { l.settle(key, "", true) }
