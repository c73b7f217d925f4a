package server

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"golang.org/x/crypto/argon2"

	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
)

// The login limiter counts failures only: attempts in flight hold tokens
// only while they are in flight, and a login short of nothing else waits
// for them instead of being refused. These tests run every limiter the
// server can have: in memory, in Redis, and in Redis shared by two
// instances (Redis ones skip without a Redis, or fail with
// JWTGATE_REQUIRE_SERVICES=1).

// limitKind makes the servers of one login budget: one server, or two
// instances sharing a Redis limiter.
type limitKind struct {
	name    string
	servers func(t *testing.T, burst int) []*Server
}

var limitKinds = []limitKind{
	{"memory", func(t *testing.T, burst int) []*Server {
		return []*Server{newBudgetServer(t, burst, nil)}
	}},
	{"redis", func(t *testing.T, burst int) []*Server {
		c := redistest.Redis(t, rueidis.ClientOption{})
		return []*Server{newBudgetServer(t, burst, newTestRedisLimiter(t, c, redisLimiterPrefix(t, c), burst, 6*time.Second))}
	}},
	{"redis, two instances", func(t *testing.T, burst int) []*Server {
		a, b := redistest.Redis(t, rueidis.ClientOption{}), redistest.Redis(t, rueidis.ClientOption{})
		p := redisLimiterPrefix(t, a)
		return []*Server{
			newBudgetServer(t, burst, newTestRedisLimiter(t, a, p, burst, 6*time.Second)),
			newBudgetServer(t, burst, newTestRedisLimiter(t, b, p, burst, 6*time.Second)),
		}
	}},
}

// newBudgetServer returns a Server of testConfig whose login budget is
// burst failures, kept by lim (nil: in memory).
func newBudgetServer(t *testing.T, burst int, lim Limiter) *Server {
	t.Helper()
	cfg, _ := testConfig(t)
	cfg.LoginBurst, cfg.Limiter = burst, lim
	cfg.Users = cheapHashes{cfg.Users}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// countChecks makes s count its password checks, right and wrong.
func countChecks(s *Server, right, wrong *atomic.Int64) {
	s.verifyPassword = func(hash, pw string) (bool, error) {
		if pw == testPassword {
			right.Add(1)
		} else {
			wrong.Add(1)
		}
		return VerifyPassword(hash, pw)
	}
}

// TestLoginInFlight: logins sent all at once from one address for one
// user, more of them than the budget: right passwords all get in while
// failures have not spent the budget, and wrong ones are checked at most
// budget times.
func TestLoginInFlight(t *testing.T) {
	const burst = 10 // the default
	tests := []struct {
		name         string
		right, wrong int
		check        func(t *testing.T, right, wrong map[int]int, wrongChecks int64)
	}{
		{"20 right", 20, 0, func(t *testing.T, right, _ map[int]int, _ int64) {
			if right[200] != 20 {
				t.Errorf("20 concurrent right passwords: %v, want 20 × 200", right)
			}
		}},
		{"20 wrong", 0, 20, func(t *testing.T, _, wrong map[int]int, checks int64) {
			if wrong[401] != burst || wrong[429] != 20-burst || checks != burst {
				t.Errorf("20 concurrent wrong passwords: %v, %d checked; want %d × 401, %d × 429, %d checked",
					wrong, checks, burst, 20-burst, burst)
			}
		}},
		{"11 right, 9 wrong", 11, 9, func(t *testing.T, right, wrong map[int]int, _ int64) {
			// 9 failures never spend a budget of 10: every right password gets in.
			if right[200] != 11 || wrong[401] != 9 {
				t.Errorf("right %v, wrong %v; want 11 × 200 and 9 × 401", right, wrong)
			}
		}},
		{"5 right, 15 wrong", 5, 15, func(t *testing.T, right, wrong map[int]int, checks int64) {
			// The failures spend the budget: some right passwords may come
			// too late, but no guess beyond the budget is checked.
			if wrong[401] != burst || wrong[429] != 15-burst || checks != burst {
				t.Errorf("wrong %v, %d checked; want %d × 401, %d × 429, %d checked", wrong, checks, burst, 15-burst, burst)
			}
			if right[200]+right[429] != 5 {
				t.Errorf("right %v; want only 200 or 429", right)
			}
		}},
	}
	for _, kind := range limitKinds {
		for _, tc := range tests {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				servers := kind.servers(t, burst)
				var rightChecks, wrongChecks atomic.Int64
				for _, s := range servers {
					countChecks(s, &rightChecks, &wrongChecks)
				}
				type result struct {
					right bool
					code  int
					took  time.Duration
				}
				results := make(chan result, tc.right+tc.wrong)
				start := make(chan struct{})
				var wg sync.WaitGroup
				rights := make([]bool, tc.right+tc.wrong)
				for i := range tc.right {
					rights[i] = true
				}
				mrand.Shuffle(len(rights), func(i, j int) { rights[i], rights[j] = rights[j], rights[i] })
				for i, right := range rights {
					s := servers[i%len(servers)]
					wg.Go(func() {
						pw := "wrong"
						if right {
							pw = testPassword
						}
						<-start
						t0 := time.Now()
						w := authFrom(s, "10.0.0.1", "alice", pw)
						results <- result{right, w.Code, time.Since(t0)}
					})
				}
				close(start)
				wg.Wait()
				close(results)
				rightCodes, wrongCodes := map[int]int{}, map[int]int{}
				var slowest time.Duration
				for r := range results {
					if r.right {
						rightCodes[r.code]++
					} else {
						wrongCodes[r.code]++
					}
					slowest = max(slowest, r.took)
				}
				t.Logf("right %v, wrong %v, %d wrong passwords checked; slowest answer %v", rightCodes, wrongCodes, wrongChecks.Load(), slowest)
				if n := rightCodes[200] + rightCodes[429] + wrongCodes[401] + wrongCodes[429]; n != tc.right+tc.wrong {
					t.Errorf("unexpected answers: right %v, wrong %v", rightCodes, wrongCodes)
				}
				tc.check(t, rightCodes, wrongCodes, wrongChecks.Load())
				if wrongChecks.Load() > burst {
					t.Errorf("%d wrong passwords checked, budget %d", wrongChecks.Load(), burst)
				}
			})
		}
	}
}

// limiterStep is one call of a Limiter in TestLimiterInFlight: Take (want
// the Grant's kind) or Settle.
type limiterStep struct {
	op   string // "take", "ok" (settle, right), "fail" (settle, wrong)
	id   string
	want string // for take: "taken", "busy" or "spent"
}

func grantKind(g Grant) string {
	switch {
	case g.Taken:
		return "taken"
	case g.Busy:
		return "busy"
	case g.Wait > 0:
		return "spent"
	}
	return "spent without a wait"
}

// TestLimiterInFlight: the memory and Redis limiters agree on what
// attempts in flight hold and what failures spend. No refill happens
// (every is an hour).
func TestLimiterInFlight(t *testing.T) {
	const every = time.Hour
	limiters := []struct {
		name string
		make func(t *testing.T, burst int) Limiter
	}{
		{"memory", func(_ *testing.T, burst int) Limiter { return newLimiter(burst, every, 100, time.Now) }},
		{"redis", func(t *testing.T, burst int) Limiter {
			c := redistest.Redis(t, rueidis.ClientOption{})
			return newTestRedisLimiter(t, c, redisLimiterPrefix(t, c), burst, every)
		}},
	}
	tests := []struct {
		name  string
		burst int
		steps []limiterStep
	}{
		{"right attempts give their tokens back", 2, []limiterStep{
			{op: "take", id: "a", want: "taken"},
			{op: "take", id: "b", want: "taken"},
			{op: "take", id: "c", want: "busy"},
			{op: "ok", id: "a"},
			{op: "take", id: "c", want: "taken"},
			{op: "ok", id: "b"},
			{op: "ok", id: "c"},
			{op: "take", id: "d", want: "taken"},
			{op: "take", id: "e", want: "taken"},
		}},
		{"failures spend the budget", 2, []limiterStep{
			{op: "take", id: "a", want: "taken"},
			{op: "take", id: "b", want: "taken"},
			{op: "fail", id: "a"},
			{op: "take", id: "c", want: "busy"}, // one token left, held by b
			{op: "fail", id: "b"},
			{op: "take", id: "c", want: "spent"},
			{op: "ok", id: "never-taken"},
			{op: "take", id: "c", want: "spent"},
		}},
		{"a failure spends even without its reservation", 1, []limiterStep{
			{op: "fail", id: "gone"},
			{op: "take", id: "a", want: "spent"},
		}},
		{"burst 1", 1, []limiterStep{
			{op: "take", id: "a", want: "taken"},
			{op: "take", id: "b", want: "busy"},
			{op: "ok", id: "a"},
			{op: "take", id: "b", want: "taken"},
			{op: "fail", id: "b"},
			{op: "take", id: "c", want: "spent"},
		}},
	}
	for _, lim := range limiters {
		for _, tc := range tests {
			t.Run(lim.name+"/"+tc.name, func(t *testing.T) {
				l := lim.make(t, tc.burst)
				ctx := redisLimiterCtx(t)
				for i, st := range tc.steps {
					switch st.op {
					case "take":
						g, err := l.Take(ctx, "user:judy", st.id)
						if err != nil {
							t.Fatalf("step %d: Take(%s): %v", i, st.id, err)
						}
						if got := grantKind(g); got != st.want {
							t.Fatalf("step %d: Take(%s) = %+v (%s), want %s", i, st.id, g, got, st.want)
						}
						if g.Wait < 0 || g.Wait > every {
							t.Fatalf("step %d: wait %v", i, g.Wait)
						}
					default:
						if err := l.Settle(ctx, "user:judy", st.id, st.op == "fail"); err != nil {
							t.Fatalf("step %d: Settle(%s): %v", i, st.id, err)
						}
					}
				}
				// Another key is another budget.
				if g, err := l.Take(ctx, "user:other", "x"); err != nil || !g.Taken {
					t.Fatalf("another key: %+v, %v", g, err)
				}
			})
		}
	}
}

// TestMemoryLimiterReservationExpiry: an attempt never settled holds its
// token for attemptTTL, not forever.
func TestMemoryLimiterReservationExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	l := newLimiter(2, time.Hour, 10, clock)
	for _, id := range []string{"dead-1", "dead-2"} {
		if g := l.take("user:kim", id); !g.Taken {
			t.Fatalf("take %s: %+v", id, g)
		}
	}
	if g := l.take("user:kim", "live"); !g.Busy {
		t.Fatalf("tokens held by two attempts: %+v, want busy", g)
	}
	advance(attemptTTL - time.Millisecond)
	if g := l.take("user:kim", "live"); !g.Busy {
		t.Fatalf("just before the reservations expire: %+v, want busy", g)
	}
	advance(time.Millisecond)
	if g := l.take("user:kim", "live"); !g.Taken {
		t.Fatalf("after the reservations expired: %+v, want taken", g)
	}
	// A failure settled late still counts; a success settled late gives
	// nothing more back.
	l.settle("user:kim", "dead-1", true)
	l.settle("user:kim", "dead-2", false)
	if g := l.take("user:kim", "next"); !g.Busy {
		t.Fatalf("one failure and one attempt in flight, burst 2: %+v, want busy", g)
	}
	// The table keeps a bucket whose tokens are full while an attempt is in
	// flight, and forgets it once the attempt expires.
	l2 := newLimiter(1, time.Second, 1, clock)
	if g := l2.take("a", "x"); !g.Taken {
		t.Fatalf("take: %+v", g)
	}
	if g := l2.take("b", "y"); g.Taken || g.Busy {
		t.Fatalf("full table: %+v, want refused", g)
	}
	advance(attemptTTL)
	if g := l2.take("b", "y"); !g.Taken {
		t.Fatalf("after the attempt in flight expired: %+v, want taken", g)
	}
}

// TestRedisLimiterReservationExpiry: the reservations of an instance that
// died mid-attempt expire (on Redis's clock): here their expiry is moved
// into the past, as attemptTTL passing would. The key lives as long as its
// reservations.
func TestRedisLimiterReservationExpiry(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	p := redisLimiterPrefix(t, c)
	l := newTestRedisLimiter(t, c, p, 2, time.Millisecond) // full again after 2 ms
	ctx := redisLimiterCtx(t)
	for _, id := range []string{"dead-1", "dead-2"} {
		if g, err := l.Take(ctx, "user:kim", id); err != nil || !g.Taken {
			t.Fatalf("take %s: %+v, %v", id, g, err)
		}
	}
	key := p + "rl:user:kim"
	ttl, err := c.Do(ctx, c.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < (attemptTTL - 5*time.Second).Milliseconds() {
		t.Fatalf("PTTL %d ms with attempts in flight: want about attemptTTL (%v), not burst × every", ttl, attemptTTL)
	}
	if g, err := l.Take(ctx, "user:kim", "live"); err != nil || !g.Busy {
		t.Fatalf("tokens held by two attempts: %+v, %v; want busy", g, err)
	}
	fields, err := c.Do(ctx, c.B().Hgetall().Key(key).Build()).AsStrMap()
	if err != nil {
		t.Fatal(err)
	}
	if fields["a:dead-1"] == "" || fields["a:dead-2"] == "" {
		t.Fatalf("bucket hash %v: want a field per attempt in flight", fields)
	}
	// The instance is gone; attemptTTL passes.
	if err := c.Do(ctx, c.B().Hset().Key(key).FieldValue().FieldValue("a:dead-1", "1").FieldValue("a:dead-2", "1").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if g, err := l.Take(ctx, "user:kim", "live"); err != nil || !g.Taken {
		t.Fatalf("after the reservations expired: %+v, %v; want taken", g, err)
	}
	fields, err = c.Do(ctx, c.B().Hgetall().Key(key).Build()).AsStrMap()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fields["a:dead-1"]; ok || fields["a:live"] == "" {
		t.Fatalf("bucket hash %v: want the expired reservations gone and a:live there", fields)
	}
}

// TestLoginWaitsBounded: a login whose only obstacle is attempts in flight
// waits for them within its deadline: it gets 503 with Retry-After when
// they do not settle in time (never a hang, never 429), and gets in once
// they have expired.
func TestLoginWaitsBounded(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	p := redisLimiterPrefix(t, c)
	lim := newTestRedisLimiter(t, c, p, 2, 6*time.Second)
	s := newBudgetServer(t, 2, lim)
	ctx := redisLimiterCtx(t)
	// Another instance holds both tokens of the address, then dies.
	for _, id := range []string{"dead-1", "dead-2"} {
		if g, err := lim.Take(ctx, "ip:10.0.0.1", id); err != nil || !g.Taken {
			t.Fatalf("take %s: %+v, %v", id, g, err)
		}
	}
	login := func(timeout time.Duration) (int, string, time.Duration) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"alice","password":"`+testPassword+`"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "10.0.0.1:40000"
		rctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		w := httptest.NewRecorder()
		t0 := time.Now()
		s.ServeHTTP(w, r.WithContext(rctx))
		return w.Code, w.Header().Get("Retry-After"), time.Since(t0)
	}
	code, retry, took := login(300 * time.Millisecond)
	t.Logf("login behind attempts in flight, 300 ms deadline: %d after %v", code, took)
	if code != 503 || retry == "" {
		t.Fatalf("login behind attempts that never settle: %d (Retry-After %q), want 503 with Retry-After", code, retry)
	}
	key := p + "rl:ip:10.0.0.1"
	if err := c.Do(ctx, c.B().Hset().Key(key).FieldValue().FieldValue("a:dead-1", "1").FieldValue("a:dead-2", "1").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if code, _, took := login(requestTimeout); code != 200 {
		t.Fatalf("login after the reservations expired: %d (after %v)", code, took)
	}
}

// TestRedisLimiterTakeErrors: Take and Settle on a Redis that cannot
// answer, or on a bucket it cannot read, return errors that say where
// they come from.
func TestRedisLimiterTakeErrors(t *testing.T) {
	c := redistest.Redis(t, rueidis.ClientOption{})
	p := redisLimiterPrefix(t, c)
	closed := redistest.Redis(t, rueidis.ClientOption{})
	closed.Close()
	ctx := redisLimiterCtx(t)
	for _, cmd := range []rueidis.Completed{
		c.B().Hset().Key(p+"rl:user:res").FieldValue().FieldValue("tokens", "1").FieldValue("last_us", "1").FieldValue("a:x", "soon").Build(),
		c.B().Set().Key(p + "rl:user:string").Value("5").Ex(time.Minute).Build(),
	} {
		if err := c.Do(ctx, cmd).Error(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		client     rueidis.Client
		key        string
		settleFail bool // Settle of a right attempt only deletes a field: it may succeed
	}{
		{"closed client", closed, "user:frank", true},
		{"unreadable reservation", c, "user:res", false},
		{"not a hash", c, "user:string", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestRedisLimiter(t, tt.client, p, 3, time.Hour)
			g, err := l.Take(ctx, tt.key, "id")
			if err == nil || !strings.Contains(err.Error(), "redis limiter: take") || g.Taken {
				t.Errorf("Take: %+v, %v; want an error from take", g, err)
			}
			if err := l.Settle(ctx, tt.key, "id", true); err == nil || !strings.Contains(err.Error(), "redis limiter: settle") {
				t.Errorf("Settle (failed): %v; want an error from settle", err)
			}
			if err := l.Settle(ctx, tt.key, "id", false); tt.settleFail && err == nil {
				t.Errorf("Settle (right): no error")
			}
			t.Logf("take error: %v", err)
		})
	}
	l := newTestRedisLimiter(t, closed, p, 1, time.Hour)
	if _, err := l.Take(ctx, "user:frank", "id"); !errors.Is(err, rueidis.ErrClosing) {
		t.Errorf("Take on a closed client: %v; want it to wrap rueidis.ErrClosing", err)
	}
}

// cheapHashes gives the users' passwords argon2id hashes of the smallest
// cost (m=64 KiB, t=1) instead of the stored ones: these tests count what
// the limiter lets through, and with the race detector on a loaded
// machine twenty verifications at full cost can outlast the bounded wait
// for attempts in flight (loginWaitMax), which answers 503 by design.
type cheapHashes struct{ UserStore }

func (c cheapHashes) PasswordHash(ctx context.Context, username string) (string, bool, error) {
	_, ok, err := c.UserStore.PasswordHash(ctx, username)
	if !ok || err != nil {
		return "", ok, err
	}
	return cheapTestHash, true, nil
}

// cheapTestHash is the argon2id hash of testPassword with m=64, t=1, p=1.
var cheapTestHash = func() string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(testPassword), salt, 1, 64, 1, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=64,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(key))
}()
