package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
)

// testConfig returns the Config of a Server over a fresh data directory
// holding the user alice, and the directory.
func testConfig(t *testing.T) (Config, *DataDir) {
	t.Helper()
	ctx := context.Background()
	data, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	ring, _, err := data.keyRing(jwt.ES256, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := data.Users.Add(ctx, "alice", testPassword); err != nil {
		t.Fatal(err)
	}
	return Config{
		Users: data.Users, Revocations: data.Revocations, Keys: ring, Algorithm: jwt.ES256,
		Issuer: "https://auth.example", Logger: slog.New(slog.DiscardHandler),
	}, data
}

// newLimitServer returns a Server of testConfig with lim as its login
// limiter (nil: in memory, burst 3).
func newLimitServer(t *testing.T, lim Limiter) *Server {
	t.Helper()
	cfg, _ := testConfig(t)
	cfg.LoginBurst, cfg.Limiter = 3, lim
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authFrom posts credentials to /auth from the client address ip.
func authFrom(s *Server, ip, user, pw string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/auth", strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = ip + ":40000"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// TestLoginLimitPerUser: failures against one username from many
// addresses exhaust the username's budget, for a user that exists and for
// one that does not alike, while other users and addresses are unaffected.
func TestLoginLimitPerUser(t *testing.T) {
	s := newLimitServer(t, nil)
	for _, user := range []string{"alice", "nobody"} {
		for i := range 3 {
			if w := authFrom(s, fmt.Sprintf("10.0.%d.%d", len(user), i), user, "wrong"); w.Code != 401 {
				t.Fatalf("%s failure %d: %d %s", user, i, w.Code, w.Body)
			}
		}
		w := authFrom(s, "10.9.9.9", user, testPassword)
		if w.Code != 429 || w.Header().Get("Retry-After") == "" {
			t.Fatalf("%s after 3 failures from other addresses: %d %v", user, w.Code, w.Header())
		}
	}
	// 10.9.9.9 has failed nothing, and alice's limit does not touch bob.
	if w := authFrom(s, "10.9.9.9", "bob", "wrong"); w.Code != 401 {
		t.Fatalf("another user: %d", w.Code)
	}
	// One address spending its budget on many names is limited too.
	for i := range 2 {
		authFrom(s, "10.8.8.8", fmt.Sprint("user", i), "wrong")
	}
	if w := authFrom(s, "10.8.8.8", "user-new", "wrong"); w.Code != 401 {
		t.Fatalf("third failure of an address: %d", w.Code)
	}
	if w := authFrom(s, "10.8.8.8", "user-newer", "wrong"); w.Code != 429 {
		t.Fatalf("fourth failure of an address: %d", w.Code)
	}
}

type brokenLimiter struct{ failTake bool }

var errLimiterDown = errors.New("limiter down")

func (b brokenLimiter) Take(context.Context, string, string) (Grant, error) {
	if b.failTake {
		return Grant{}, errLimiterDown
	}
	return Grant{Taken: true}, nil
}

func (b brokenLimiter) Settle(context.Context, string, string, bool) error { return errLimiterDown }

// TestLoginLimiterDown: a limiter that cannot answer refuses logins with
// 503 (it fails closed); one that cannot settle an attempt still answers.
func TestLoginLimiterDown(t *testing.T) {
	s := newLimitServer(t, brokenLimiter{failTake: true})
	if w := authFrom(s, "10.0.0.1", "alice", testPassword); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("limiter down: %d (Retry-After %q) %s; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	s = newLimitServer(t, brokenLimiter{})
	if w := authFrom(s, "10.0.0.1", "alice", "wrong"); w.Code != 401 {
		t.Fatalf("limiter cannot settle: %d %s", w.Code, w.Body)
	}
	if w := authFrom(s, "10.0.0.1", "alice", testPassword); w.Code != 200 {
		t.Fatalf("good login with a limiter that cannot settle: %d %s", w.Code, w.Body)
	}
}

// TestDeletedUserCache: a user deleted from the store without revoking
// its sessions is refused once userCacheTTL has passed since its last
// lookup.
func TestDeletedUserCache(t *testing.T) {
	ctx := context.Background()
	cfg, data := testConfig(t)
	now := time.Now()
	var mu sync.Mutex
	cfg.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := authFrom(s, "10.0.0.1", "alice", testPassword)
	if w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var tok struct {
		Access string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	userinfo := func() int {
		r := httptest.NewRequest("GET", "/userinfo", nil)
		r.Header.Set("Authorization", "Bearer "+tok.Access)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	if c := userinfo(); c != 200 {
		t.Fatalf("userinfo: %d", c)
	}
	if err := data.Users.Delete(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(userCacheTTL + time.Second)
	mu.Unlock()
	if c := userinfo(); c != 401 {
		t.Fatalf("userinfo %v after the deletion: %d, want 401", userCacheTTL, c)
	}
}

// TestMissingUserCostsAHash: a login for a user that does not exist
// verifies a password hash with the same parameters as a wrong password
// for one that does, so both take as long.
func TestMissingUserCostsAHash(t *testing.T) {
	s := newLimitServer(t, nil)
	var hashes []string
	s.verifyPassword = func(hash, pw string) (bool, error) {
		hashes = append(hashes, hash)
		return VerifyPassword(hash, pw)
	}
	if w := authFrom(s, "10.0.0.1", "alice", "wrong"); w.Code != 401 {
		t.Fatalf("wrong password: %d", w.Code)
	}
	if w := authFrom(s, "10.0.0.2", "nobody", "wrong"); w.Code != 401 {
		t.Fatalf("missing user: %d", w.Code)
	}
	if len(hashes) != 2 {
		t.Fatalf("%d password checks, want one per login", len(hashes))
	}
	params := func(h string) string { return h[:strings.LastIndex(h[:strings.LastIndex(h, "$")], "$")] }
	if params(hashes[0]) != params(hashes[1]) || hashes[0] == hashes[1] {
		t.Fatalf("hash parameters differ: %q and %q", params(hashes[0]), params(hashes[1]))
	}
	w1, w2 := authFrom(s, "10.0.0.3", "alice", "wrong"), authFrom(s, "10.0.0.4", "nobody", "wrong")
	if w1.Body.String() != w2.Body.String() {
		t.Fatalf("different answers: %s and %s", w1.Body, w2.Body)
	}
}

// TestPresenceOneAsk: concurrent requests for a user the memory has
// forgotten make one query; a failed or cancelled ask is not remembered.
func TestPresenceOneAsk(t *testing.T) {
	p := &presence{ttl: time.Minute, max: 10, until: map[string]time.Time{}}
	var mu sync.Mutex
	asks := 0
	release := make(chan struct{})
	ask := func(ctx context.Context, user string) (bool, error) {
		mu.Lock()
		asks++
		mu.Unlock()
		<-release
		return user == "alice", nil
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make(chan bool, 20)
	for range 20 {
		wg.Go(func() {
			ok, err := p.exists(ctx, "alice", time.Now, ask)
			if err != nil {
				t.Error(err)
			}
			results <- ok
		})
	}
	// Let the goroutines pile up behind the first ask, then answer.
	for {
		p.mu.Lock()
		n := len(p.asking)
		p.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(results)
	for ok := range results {
		if !ok {
			t.Fatal("alice not found")
		}
	}
	if asks != 1 {
		t.Fatalf("%d asks for 20 concurrent requests, want 1", asks)
	}
	first := asks
	if ok, _ := p.exists(ctx, "alice", time.Now, ask); !ok || asks != first {
		t.Fatalf("remembered answer: %v, %d asks", ok, asks)
	}
	// Failures are not remembered.
	bad := func(context.Context, string) (bool, error) { return false, errLimiterDown }
	if _, err := p.exists(ctx, "bob", time.Now, bad); !errors.Is(err, errLimiterDown) {
		t.Fatalf("failed ask: %v", err)
	}
	if _, ok := p.until["bob"]; ok {
		t.Fatal("a failed ask was remembered")
	}
}

// TestAuthPathAndKeys: Flask-JWT's endpoint takes its path and member
// names from the Config; /login keeps its own.
func TestAuthPathAndKeys(t *testing.T) {
	base, _ := testConfig(t)
	cfg := base
	cfg.AuthPath, cfg.AuthUsernameKey, cfg.AuthPasswordKey = "/api/token", "email", "secret"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, body string) int {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "10.1.1.1:1"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{"/api/token", `{"email":"alice","secret":"` + testPassword + `"}`, 200},
		{"/api/token", `{"secret":"` + testPassword + `","email":"alice"}`, 200},
		{"/api/token", `{"username":"alice","password":"` + testPassword + `"}`, 400},
		{"/api/token", `{"email":"alice","email":"bob","secret":"x"}`, 400},
		{"/api/token", `{"email":"alice","secret":null}`, 400},
		{"/api/token", `{"email":"alice","secret":1}`, 400},
		{"/auth", `{"email":"alice","secret":"` + testPassword + `"}`, 404},
		{"/login", `{"username":"alice","password":"` + testPassword + `"}`, 200},
		{"/login", `{"email":"alice","secret":"` + testPassword + `"}`, 400},
	} {
		if got := post(tc.path, tc.body); got != tc.want {
			t.Errorf("POST %s %s: %d, want %d", tc.path, tc.body, got, tc.want)
		}
	}
	for _, bad := range []Config{
		{AuthPath: "auth"}, {AuthPath: "/login"}, {AuthPath: "/a b"}, {AuthPath: "/{x}"}, {AuthPath: "//x"},
		{AuthUsernameKey: "k", AuthPasswordKey: "k"}, {AuthUsernameKey: strings.Repeat("k", 65)},
	} {
		cfg := base
		cfg.AuthPath, cfg.AuthUsernameKey, cfg.AuthPasswordKey = bad.AuthPath, bad.AuthUsernameKey, bad.AuthPasswordKey
		if _, err := New(cfg); err == nil {
			t.Errorf("New accepted %+v", bad)
		}
	}
}

func TestClientKey(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	}}}
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.7:5000", nil, "203.0.113.7"},
		{"203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"}, // not from a proxy: ignored
		{"10.1.2.3:5000", nil, "10.1.2.3"},
		{"10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"}, // the left part may be forged
		{"10.1.2.3:5000", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"10.1.2.3:5000", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"10.1.2.3:5000", []string{"10.5.5.5, 10.9.9.9"}, "10.5.5.5"}, // all proxies: the leftmost
		{"10.1.2.3:5000", []string{"not-an-ip"}, "10.1.2.3"},
		{"[::1]:5000", []string{"2001:db8::1"}, "2001:db8::/64"},
		{"[2001:db8:0:1:aaaa::1]:5000", nil, "2001:db8:0:1::/64"},
		{"[::ffff:203.0.113.7]:5000", nil, "203.0.113.7"},
		{"10.1.2.3:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
	} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientKey(r); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	// Without trusted proxies the header never counts.
	plain := &Server{}
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = "10.1.2.3:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := plain.clientKey(r); got != "10.1.2.3" {
		t.Fatalf("no trusted proxies: %s", got)
	}
}

// TestLoginLimitConcurrent: guesses sent at once are all counted when
// they arrive, not when their hash is done: with a budget of 3, 40
// concurrent wrong passwords get three 401s and 429 for the rest; right
// passwords spend nothing.
func TestLoginLimitConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  func(t *testing.T) Limiter
	}{
		{"memory", func(*testing.T) Limiter { return nil }},
		{"redis", func(t *testing.T) Limiter {
			c := redistest.Redis(t, rueidis.ClientOption{})
			l, err := NewRedisLimiter(c, redisLimiterPrefix(t, c), 3, 6*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLimitServer(t, tc.lim(t))
			for i := range 6 {
				if w := authFrom(s, "10.0.0.9", "alice", testPassword); w.Code != 200 {
					t.Fatalf("right password %d: %d", i, w.Code)
				}
			}
			codes := make(chan int, 40)
			var wg sync.WaitGroup
			for range 40 {
				wg.Go(func() { codes <- authFrom(s, "10.0.0.1", "alice", "wrong").Code })
			}
			wg.Wait()
			close(codes)
			n := map[int]int{}
			for c := range codes {
				n[c]++
			}
			if n[401] != 3 || n[429] != 37 {
				t.Fatalf("40 concurrent guesses: %v, want 3 × 401 and 37 × 429", n)
			}
		})
	}
}

// stallingStore is a KeyStore that answers its first load, then fails or
// hangs until the context ends.
type stallingStore struct {
	KeyStore
	loads atomic.Int32
	hang  bool
}

func (s *stallingStore) LoadKeys(ctx context.Context, alg jwt.Algorithm, now time.Time) (Keys, error) {
	if s.loads.Add(1) == 1 {
		return s.KeyStore.LoadKeys(ctx, alg, now)
	}
	if s.hang {
		<-ctx.Done()
		return Keys{}, ctx.Err()
	}
	return Keys{}, errLimiterDown
}

// TestLiveKeysStoreDown: a reload the store cannot answer makes the
// lookup of an unknown kid 503-class, not "no such key", and a hung store
// holds no lookup past its context.
func TestLiveKeysStoreDown(t *testing.T) {
	ctx := context.Background()
	data, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	failing := &stallingStore{KeyStore: data}
	live, err := NewLiveKeys(ctx, failing, jwt.ES256, LiveKeysOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = live.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: "rotated-elsewhere"})
	if !errors.Is(err, jwtgate.ErrUnavailable) || errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("lookup while the store fails: %v", err)
	}

	hung := &stallingStore{KeyStore: data, hang: true}
	live, err = NewLiveKeys(ctx, hung, jwt.ES256, LiveKeysOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// A periodic reload hangs on the store (holding the reload slot)...
	bg, stop := context.WithCancel(ctx)
	defer stop()
	go live.Reload(bg)
	for hung.loads.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// ...and a lookup of an unknown kid gives up with its own context.
	lctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = live.LookupKeys(lctx, &jwt.Header{Alg: jwt.ES256, KeyID: "x"})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, jwtgate.ErrUnavailable) {
		t.Fatalf("lookup during a hung reload: %v", err)
	}
	// Known kids never wait.
	if _, err := live.LookupKeys(lctx, &jwt.Header{Alg: jwt.ES256, KeyID: live.SigningKey().ID()}); err != nil {
		t.Fatalf("known kid during a hung reload: %v", err)
	}
}

// TestPresencePanickingAsk: a lookup that panics does not leave its user
// behind: the request that asked gets the panic, a request that came
// meanwhile gets an answer (an error if it waited on the panicked lookup,
// its own lookup's if it came after), and the next request asks again.
func TestPresencePanickingAsk(t *testing.T) {
	p := &presence{ttl: time.Minute, max: 10, until: map[string]time.Time{}}
	started, release := make(chan struct{}), make(chan struct{})
	boom := func(context.Context, string) (bool, error) {
		close(started)
		<-release
		panic("store driver bug")
	}
	fine := func(context.Context, string) (bool, error) { return true, nil }
	ctx := context.Background()
	asked := make(chan any, 1)
	go func() {
		defer func() { asked <- recover() }()
		p.exists(ctx, "alice", time.Now, boom)
	}()
	<-started
	meanwhile := make(chan error, 1)
	go func() {
		// A generous deadline, so that a lookup left behind fails the test
		// below instead of hanging it.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ok, err := p.exists(wctx, "alice", time.Now, fine)
		if err == nil && !ok {
			err = errors.New("its own lookup said no")
		}
		meanwhile <- err
	}()
	close(release)
	if v := <-asked; v == nil {
		t.Fatal("the asking request did not get the panic")
	}
	if err := <-meanwhile; err != nil {
		t.Logf("the request that came meanwhile waited on the panicked lookup: %v", err)
	}
	p.mu.Lock()
	left := p.asking["alice"]
	p.mu.Unlock()
	if left != nil {
		t.Fatal("a panicked lookup is still registered: every later request would wait on it")
	}
	if ok, err := p.exists(ctx, "alice", time.Now, fine); err != nil || !ok {
		t.Fatalf("the next lookup after a panic: %v, %v; want it asked again", ok, err)
	}
}

// cutShortLimiter reserves in its inner limiter, then, the first time for
// a key with prefix cut, reports the request's cancellation as its answer:
// a Take that reached the store but whose caller stopped waiting for the
// answer.
type cutShortLimiter struct {
	Limiter
	cut   string
	done  *atomic.Bool
	taken chan struct{}
}

func (c cutShortLimiter) Take(ctx context.Context, key, id string) (Grant, error) {
	g, err := c.Limiter.Take(context.WithoutCancel(ctx), key, id)
	if err != nil || !strings.HasPrefix(key, c.cut) || c.done.Swap(true) {
		return g, err
	}
	c.taken <- struct{}{}
	<-ctx.Done()
	return Grant{}, fmt.Errorf("cut short: %w", ctx.Err())
}

// TestLoginCutShortTake: a client that leaves while its attempt's
// reservation is being taken leaves no reservation behind, in the
// address's bucket or the username's, though the limiter may have written
// it: with a budget of one, the right password signs in at once after.
func TestLoginCutShortTake(t *testing.T) {
	for _, cut := range []string{"ip:", "user:"} {
		t.Run(cut, func(t *testing.T) {
			inner := newLimiter(1, time.Minute, 100, time.Now)
			lim := cutShortLimiter{Limiter: inner, cut: cut, done: new(atomic.Bool), taken: make(chan struct{}, 1)}
			cfg, _ := testConfig(t)
			cfg.LoginBurst, cfg.Limiter = 1, lim
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			r := httptest.NewRequest("POST", "/auth", strings.NewReader(`{"username":"alice","password":"wrong"}`)).WithContext(ctx)
			r.Header.Set("Content-Type", "application/json")
			r.RemoteAddr = "10.0.0.1:40000"
			done := make(chan *httptest.ResponseRecorder)
			go func() {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				done <- w
			}()
			<-lim.taken
			cancel()
			if w := <-done; w.Code != http.StatusServiceUnavailable {
				t.Errorf("the attempt whose client left during Take: %d %s, want 503", w.Code, w.Body)
			}
			for _, key := range []string{"ip:10.0.0.1", "user:alice"} {
				g, err := inner.Take(context.Background(), key, "probe")
				if err != nil || !g.Taken {
					t.Errorf("%s after the client left: %+v, %v; want its one token free", key, g, err)
				}
				inner.Settle(context.Background(), key, "probe", false)
			}
			if w := authFrom(s, "10.0.0.1", "alice", testPassword); w.Code != 200 {
				t.Errorf("the right password after the client left: %d %s", w.Code, w.Body)
			}
		})
	}
}
