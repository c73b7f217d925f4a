package server

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// splitUsers is a UserStore that answers for alice from frozen (behind a
// proxy that can freeze) and for everyone else from local, and counts the
// lookups waiting on frozen.
type splitUsers struct {
	frozen, local UserStore
	waiting       atomic.Int32
}

func (u *splitUsers) store(name string) UserStore {
	if name == "alice" {
		return u.frozen
	}
	return u.local
}

func (u *splitUsers) PasswordHash(ctx context.Context, name string) (string, bool, error) {
	if name == "alice" {
		u.waiting.Add(1)
		defer u.waiting.Add(-1)
	}
	return u.store(name).PasswordHash(ctx, name)
}

func (u *splitUsers) Exists(ctx context.Context, name string) (bool, error) {
	return u.store(name).Exists(ctx, name)
}

func (u *splitUsers) Ping(ctx context.Context) error { return u.frozen.Ping(ctx) }

// TestLoginFrozenUserStore: with the user store's PostgreSQL behind a
// partition that closes nothing (storetest.Proxy.Freeze), /login answers
// 503 after userLookupTimeout instead of waiting for the request's
// deadline, and holds no hashing slot meanwhile: with a single slot, a
// user from another store logs in while the frozen logins wait. After
// Thaw, logins work again. Durations are logged, not asserted.
func TestLoginFrozenUserStore(t *testing.T) {
	ctx := context.Background()
	dsn := needPostgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	pg, err := newSQLUsers(ctx, openPG(t, u.String()), sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Add(ctx, "alice", testPassword); err != nil {
		t.Fatal(err)
	}
	cfg, data := testConfig(t)
	if err := data.Users.Add(ctx, "bob", testPassword); err != nil {
		t.Fatal(err)
	}
	users := &splitUsers{frozen: pg, local: data.Users}
	cfg.Users, cfg.MaxHashing = users, 1
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	retryAfter := map[string]string{} // the last answer's, by client
	var retryMu sync.Mutex
	login := func(ip, user string) (int, time.Duration) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"`+user+`","password":"`+testPassword+`"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = ip + ":40000"
		w := httptest.NewRecorder()
		t0 := time.Now()
		s.ServeHTTP(w, r)
		retryMu.Lock()
		retryAfter[ip] = w.Header().Get("Retry-After")
		retryMu.Unlock()
		return w.Code, time.Since(t0)
	}
	if code, _ := login("10.0.0.1", "alice"); code != 200 {
		t.Fatalf("login before the freeze: %d", code)
	}

	proxy.Freeze()
	const n = 3
	type result struct {
		code int
		took time.Duration
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code, took := login(fmt.Sprint("10.0.1.", i+1), "alice")
			results <- result{code, took}
		})
	}
	// Once the frozen logins wait on the store, no hashing slot is taken,
	// and bob, whose store answers, gets the only one.
	deadline := time.Now().Add(30 * time.Second)
	for users.waiting.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := users.waiting.Load(); got != n {
		t.Fatalf("%d logins waiting on the frozen store, want %d", got, n)
	}
	if held := len(s.hash); held != 0 {
		t.Errorf("%d hashing slots held while logins wait on a frozen store", held)
	}
	code, took := login("10.0.2.1", "bob")
	t.Logf("bob's login while alice's store is frozen: %d after %v", code, took)
	if code != 200 {
		t.Errorf("a login from another store while the frozen logins wait: %d, want 200", code)
	}
	wg.Wait()
	close(results)
	for r := range results {
		t.Logf("login on the frozen store: %d after %v (userLookupTimeout %v)", r.code, r.took, userLookupTimeout)
		if r.code != 503 {
			t.Errorf("login on the frozen store: %d, want 503", r.code)
		}
	}
	for i := range n {
		if ip := fmt.Sprint("10.0.1.", i+1); retryAfter[ip] == "" {
			t.Errorf("login on the frozen store from %s: 503 without Retry-After", ip)
		}
	}

	proxy.Thaw()
	for i := range 100 {
		if code, took = login("10.0.3.1", "alice"); code == 200 {
			t.Logf("login after the thaw: 200 at try %d (%v)", i+1, took)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != 200 {
		t.Fatalf("login after the thaw: %d, want 200", code)
	}
}

// TestLoginFrozenLimiter: with the Redis of the login limiter behind a
// frozen proxy, /login answers 503 after limiterTimeout, and logins work
// again after Thaw. Durations are logged, not asserted.
func TestLoginFrozenLimiter(t *testing.T) {
	proxy := storetest.NewProxy(t, redistest.RedisAddr())
	c := redistest.Redis(t, rueidis.ClientOption{InitAddress: []string{proxy.Addr()}})
	s := newBudgetServer(t, 10, newTestRedisLimiter(t, c, redisLimiterPrefix(t, redistest.Redis(t, rueidis.ClientOption{})), 10, 6*time.Second))
	login := func() (int, time.Duration) {
		t0 := time.Now()
		w := authFrom(s, "10.0.0.1", "alice", testPassword)
		return w.Code, time.Since(t0)
	}
	if code, _ := login(); code != 200 {
		t.Fatalf("login before the freeze: %d", code)
	}
	proxy.Freeze()
	code, took := login()
	t.Logf("login with a frozen limiter: %d after %v (limiterTimeout %v)", code, took, limiterTimeout)
	if code != 503 {
		t.Fatalf("login with a frozen limiter: %d, want 503", code)
	}
	proxy.Thaw()
	for i := range 100 {
		if code, took = login(); code == 200 {
			t.Logf("login after the thaw: 200 at try %d (%v)", i+1, took)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != 200 {
		t.Fatalf("login after the thaw: %d, want 200", code)
	}
}

// claimDeadline is a UserStore that records how long ClaimPassword's
// context leaves it.
type claimDeadline struct {
	*SQLUsers
	mu   sync.Mutex
	left []time.Duration // -1: no deadline
}

func (u *claimDeadline) ClaimPassword(ctx context.Context, name string) error {
	left := time.Duration(-1)
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	u.mu.Lock()
	u.left = append(u.left, left)
	u.mu.Unlock()
	return u.SQLUsers.ClaimPassword(ctx, name)
}

// TestLoginClaimBounded: the write that records a first sign-in
// (ClaimPassword) has a store deadline of its own, like every other store
// call of a login, not what is left of the login's 10 s: a user store
// that freezes after the password check cannot hold a login longer.
func TestLoginClaimBounded(t *testing.T) {
	f := newFixture(t)
	users := &claimDeadline{SQLUsers: f.data.Users}
	s, err := New(Config{Users: users, Revocations: f.rev, Keys: f.s.cfg.Keys, Algorithm: f.s.cfg.Algorithm,
		Issuer: f.srv.URL, Logger: f.s.log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	f.srv = srv
	f.login(t, "alice", testPassword)
	users.mu.Lock()
	defer users.mu.Unlock()
	if len(users.left) != 1 {
		t.Fatalf("ClaimPassword called %d times, want 1", len(users.left))
	}
	if left := users.left[0]; left < 0 || left > storeTimeout {
		t.Errorf("ClaimPassword's context leaves it %v (-1: no deadline), want at most storeTimeout (%v)", left, storeTimeout)
	}
}

// cutoffFails is a revocation store that cannot read cutoffs.
type cutoffFails struct{ revoke.Store }

func (cutoffFails) SubjectCutoff(context.Context, string) (time.Time, error) {
	return time.Time{}, errors.New("store down")
}

// TestLoginRevocationStoreDown: after a right password, a login whose
// revocation store cannot say whether the user's sessions ended meanwhile
// gets 503, and spends nothing of the failure budget.
func TestLoginRevocationStoreDown(t *testing.T) {
	f := newFixture(t)
	s, err := New(Config{Users: f.data.Users, Revocations: cutoffFails{f.rev}, Keys: f.s.cfg.Keys, Algorithm: f.s.cfg.Algorithm,
		Issuer: f.srv.URL, Logger: f.s.log, LoginBurst: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.s.mux = s.mux
	body := `{"username":"alice","password":"` + testPassword + `"}`
	for i := range 3 {
		r := f.do(t, "POST", "/login", "application/json", body)
		wantStatus(t, fmt.Sprint("login ", i), r, 503)
	}
}
