package jwk

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// provider is a key provider for the tests: it serves a body, or fails,
// or is slow, and counts its requests.
type provider struct {
	mu     sync.Mutex
	body   []byte
	status int           // 0: 200
	delay  time.Duration // before answering, cut short by the request's end
	block  chan struct{} // if set, answers wait for it to close
	chunk  bool          // send without Content-Length
	hits   atomic.Int64
}

func (p *provider) set(f func(p *provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	p.mu.Lock()
	body, status, delay, block, chunk := p.body, p.status, p.delay, p.block, p.chunk
	p.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if chunk {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i < len(body); i += 1024 {
			_, _ = w.Write(body[i:min(i+1024, len(body))])
			w.(http.Flusher).Flush()
		}
		return
	}
	_, _ = w.Write(body)
}

// testKeys are ES256 keys with IDs k0, k1, ...
func testKeys(t testing.TB, n int) []*jwt.Key {
	t.Helper()
	ks := make([]*jwt.Key, n)
	for i := range ks {
		ks[i] = mustGenerate(t, jwt.ES256).WithID(fmt.Sprintf("k%d", i))
	}
	return ks
}

func jwksOf(t testing.TB, keys ...*jwt.Key) []byte {
	t.Helper()
	s, err := NewSet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type remoteFixture struct {
	t    *testing.T
	clk  *fakeClock
	p    *provider
	srv  *httptest.Server
	set  *CachedSet
	ver  *jwt.Verifier
	keys []*jwt.Key
}

func newRemoteFixture(t *testing.T, opts RemoteOptions) *remoteFixture {
	t.Helper()
	f := &remoteFixture{t: t, clk: newFakeClock(), p: &provider{}, keys: testKeys(t, 3)}
	f.p.body = jwksOf(t, f.keys[0])
	f.srv = httptest.NewServer(f.p)
	t.Cleanup(f.srv.Close)
	if opts.Clock == nil {
		opts.Clock = f.clk.Now
	}
	var err error
	f.set, err = NewRemoteSet(f.srv.URL+"/jwks.json", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.set.Close() })
	f.ver, err = jwt.NewVerifier(f.set, jwt.VerifierOptions{Clock: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *remoteFixture) token(i int) string {
	return signWith(f.t, f.keys[i], jwt.ES256, jwt.Claims{Subject: "u"})
}

func (f *remoteFixture) verify(i int) error {
	_, err := f.ver.Verify(context.Background(), f.token(i))
	return err
}

func TestRemoteRotationMidRun(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{})
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	// The provider adds k1; tokens signed with it arrive at once.
	f.p.set(func(p *provider) { p.body = jwksOf(t, f.keys[0], f.keys[1]) })
	if err := f.verify(1); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("unknown kid within the refresh interval: %v", err)
	}
	if n := f.set.Fetches(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	f.clk.Advance(DefaultMinRefreshInterval)
	if err := f.verify(1); err != nil {
		t.Fatalf("new key after one interval: %v", err)
	}
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	// The provider drops k0: it still verifies until the cache expires.
	f.p.set(func(p *provider) { p.body = jwksOf(t, f.keys[1]) })
	f.clk.Advance(DefaultTTL / 2)
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(DefaultTTL / 2)
	if err := f.verify(0); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("dropped key after the TTL: %v", err)
	}
	if err := f.verify(1); err != nil {
		t.Fatal(err)
	}
	if n := f.set.Fetches(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
}

func TestRemoteKidFlood(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{})
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	flood := func() {
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := &jwt.Header{Alg: jwt.ES256, KeyID: fmt.Sprintf("made-up-%d", i)}
				if _, err := f.set.LookupKeys(context.Background(), h); !errors.Is(err, jwt.ErrKeyNotFound) {
					t.Errorf("made-up kid: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	flood()
	if n := f.p.hits.Load(); n != 1 {
		t.Fatalf("flood within the interval: %d fetches, want 1", n)
	}
	f.clk.Advance(DefaultMinRefreshInterval)
	flood()
	if n := f.p.hits.Load(); n != 2 {
		t.Fatalf("flood after one interval: %d fetches, want 2", n)
	}
	flood()
	if n := f.p.hits.Load(); n != 2 {
		t.Fatalf("second flood in the same interval: %d fetches, want 2", n)
	}
}

func TestRemoteSingleFlight(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{})
	block := make(chan struct{})
	f.p.set(func(p *provider) { p.block = block })
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.verify(0)
		}()
	}
	// Bounded polling: wait until the one fetch has reached the provider.
	for i := 0; f.p.hits.Load() == 0; i++ {
		if i > 500 {
			t.Fatal("no fetch reached the provider")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(block)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

func TestRemoteProviderDownAndBack(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{CacheOptions: CacheOptions{MaxStale: 10 * time.Minute}})
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	f.p.set(func(p *provider) { p.status = http.StatusServiceUnavailable })
	f.clk.Advance(DefaultTTL)
	if err := f.verify(0); err != nil {
		t.Fatalf("stale keys while the provider is down: %v", err)
	}
	if err := f.set.Refresh(context.Background()); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Refresh while down: %v", err)
	}
	f.clk.Advance(10 * time.Minute)
	err := f.verify(0)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("beyond MaxStale: %v, want ErrFetch with the status", err)
	}
	// Within the interval the dead provider is not asked again.
	hits := f.p.hits.Load()
	for range 10 {
		_ = f.verify(0)
	}
	if f.p.hits.Load() != hits {
		t.Fatalf("a failing provider was asked %d more times", f.p.hits.Load()-hits)
	}
	f.p.set(func(p *provider) { p.status = 0 })
	f.clk.Advance(DefaultMinRefreshInterval)
	if err := f.verify(0); err != nil {
		t.Fatalf("after the provider came back: %v", err)
	}
}

func TestRemoteProviderGone(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{CacheOptions: CacheOptions{MaxStale: -1}})
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	f.clk.Advance(DefaultTTL)
	if err := f.verify(0); !errors.Is(err, ErrFetch) {
		t.Fatalf("provider gone, no staleness allowed: %v", err)
	}
}

func TestRemoteSlow(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{CacheOptions: CacheOptions{FetchTimeout: 100 * time.Millisecond}})
	f.p.set(func(p *provider) { p.delay = 10 * time.Second })
	err := f.verify(0)
	if !errors.Is(err, ErrFetch) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow provider: %v", err)
	}
	// A request's own deadline bounds its wait for a fetch.
	f.clk.Advance(DefaultMinRefreshInterval)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = f.ver.Verify(ctx, f.token(0))
	if !errors.Is(err, ErrFetch) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request deadline: %v", err)
	}
	// Once it answers in time, the keys arrive; later slowness keeps them.
	// (Refresh joins the fetch still under way, which times out.)
	if err := f.set.Refresh(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Refresh: %v", err)
	}
	f.p.set(func(p *provider) { p.delay = 0 })
	f.clk.Advance(DefaultMinRefreshInterval)
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	f.p.set(func(p *provider) { p.delay = 10 * time.Second })
	f.clk.Advance(DefaultTTL)
	if err := f.verify(0); err != nil {
		t.Fatalf("stale keys while the provider is slow: %v", err)
	}
}

// TestRemoteStaleDoesNotWait: once the provider is known to fail, lookups
// that have usable stale keys answer at once, while a fetch still hangs.
func TestRemoteStaleDoesNotWait(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{CacheOptions: CacheOptions{FetchTimeout: 30 * time.Second}})
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	f.p.set(func(p *provider) { p.status = http.StatusBadGateway })
	f.clk.Advance(DefaultTTL)
	if err := f.verify(0); err != nil { // waits for the failing fetch, then stale keys
		t.Fatal(err)
	}
	block := make(chan struct{})
	defer close(block)
	f.p.set(func(p *provider) { p.status, p.block = 0, block })
	for i := range 3 {
		f.clk.Advance(DefaultMinRefreshInterval)
		hits := f.p.hits.Load()
		if err := f.verify(0); err != nil {
			t.Fatalf("stale keys while a fetch hangs: %v", err)
		}
		if f.set.flight.Load() == nil {
			t.Fatalf("lookup %d returned after the fetch ended: it waited for a failing provider", i)
		}
		if i == 0 {
			// Bounded polling: the background fetch reaches the provider.
			for j := 0; f.p.hits.Load() == hits; j++ {
				if j > 500 {
					t.Fatal("no background fetch")
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	if n := f.p.hits.Load(); n != 3 {
		t.Fatalf("%d requests to the provider, want 3 (one hangs)", n)
	}
}

func TestRemoteHugeResponse(t *testing.T) {
	for _, chunk := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunk), func(t *testing.T) {
			f := newRemoteFixture(t, RemoteOptions{MaxResponseSize: 4096})
			if err := f.verify(0); err != nil {
				t.Fatal(err)
			}
			huge := []byte(`{"keys":[],"pad":"` + strings.Repeat("x", 1<<20) + `"}`)
			f.p.set(func(p *provider) { p.body, p.chunk = huge, chunk })
			err := f.set.Refresh(context.Background())
			if !errors.Is(err, ErrFetch) || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("huge response: %v", err)
			}
			if err := f.verify(0); err != nil {
				t.Fatalf("previous keys after a huge response: %v", err)
			}
		})
	}
}

func TestRemoteMalformed(t *testing.T) {
	k := testKeys(t, 1)[0]
	priv, err := NewKey(k)
	if err != nil {
		t.Fatal(err)
	}
	privJSON, err := priv.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	pub := string(jwksOf(t, k))
	pubKey := pub[len(`{"keys":[`) : len(pub)-2]
	bad := map[string]string{
		"not json":         `<html>oops</html>`,
		"array":            `[]`,
		"no keys":          `{"kees":[]}`,
		"private key":      `{"keys":[` + string(privJSON) + `]}`,
		"secret key":       `{"keys":[{"kty":"oct","k":"` + strings.Repeat("A", 43) + `"}]}`,
		"duplicate kid":    `{"keys":[` + pubKey + `,` + pubKey + `]}`,
		"bad point":        strings.Replace(pub, `"x":"`, `"x":"AA`, 1),
		"duplicate member": `{"keys":[],"keys":[]}`,
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			f := newRemoteFixture(t, RemoteOptions{})
			if err := f.verify(0); err != nil {
				t.Fatal(err)
			}
			f.p.set(func(p *provider) { p.body = []byte(body) })
			err := f.set.Refresh(context.Background())
			if !errors.Is(err, ErrFetch) || !errors.Is(err, ErrInvalidSet) {
				t.Fatalf("Refresh: %v, want ErrFetch and ErrInvalidSet", err)
			}
			if err := f.verify(0); err != nil {
				t.Fatalf("previous keys after a malformed set: %v", err)
			}
		})
	}
}

func TestRemoteRedirects(t *testing.T) {
	keys := testKeys(t, 1)
	other := httptest.NewServer(&provider{body: jwksOf(t, keys[0])})
	defer other.Close()
	mux := http.NewServeMux()
	mux.Handle("/jwks.json", &provider{body: jwksOf(t, keys[0])})
	mux.Handle("/same", http.RedirectHandler("/jwks.json", http.StatusFound))
	mux.Handle("/elsewhere", http.RedirectHandler(other.URL+"/jwks.json", http.StatusFound))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h := &jwt.Header{Alg: jwt.ES256, KeyID: "k0"}

	same, err := NewRemoteSet(srv.URL+"/same", RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer same.Close()
	if _, err := same.LookupKeys(context.Background(), h); err != nil {
		t.Fatalf("redirect on the same host: %v", err)
	}
	away, err := NewRemoteSet(srv.URL+"/elsewhere", RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer away.Close()
	_, err = away.LookupKeys(context.Background(), h)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("redirect to another host: %v", err)
	}
}

func TestRemoteURLPolicy(t *testing.T) {
	for _, u := range []string{"http://example.com/jwks", "ftp://example.com/jwks", "https://", "https://user:pw@example.com/jwks", "::"} {
		if s, err := NewRemoteSet(u, RemoteOptions{}); !errors.Is(err, ErrFetch) {
			t.Errorf("%s: %v, want ErrFetch", u, err)
			if s != nil {
				s.Close()
			}
		}
	}
	for _, u := range []string{"https://example.com/jwks", "http://127.0.0.1:1/jwks", "http://[::1]:1/jwks", "http://localhost/jwks"} {
		s, err := NewRemoteSet(u, RemoteOptions{})
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		s.Close()
	}
	s, err := NewRemoteSet("http://example.com/jwks", RemoteOptions{AllowHTTP: true})
	if err != nil {
		t.Fatalf("AllowHTTP: %v", err)
	}
	s.Close()
}

func TestRemoteBackgroundRefresh(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{})
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	f.p.set(func(p *provider) { p.body = jwksOf(t, f.keys[0], f.keys[2]) })
	f.clk.Advance(DefaultTTL * 3 / 4)
	// The lookup answers with the current keys and starts a refresh.
	if err := f.verify(0); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i > 500 {
			t.Fatal("no background refresh")
		}
		if _, err := f.set.LookupKeys(context.Background(), &jwt.Header{Alg: jwt.ES256, KeyID: "k2"}); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestRemoteCloseNoLeak checks that Close ends a fetch under way and that
// no goroutine of the set outlives it.
func TestRemoteCloseNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	p := &provider{block: make(chan struct{})}
	srv := httptest.NewServer(p)
	set, err := NewRemoteSet(srv.URL, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := set.LookupKeys(context.Background(), &jwt.Header{Alg: jwt.ES256, KeyID: "k0"})
		done <- err
	}()
	for i := 0; p.hits.Load() == 0; i++ {
		if i > 500 {
			t.Fatal("no fetch reached the provider")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := set.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrFetch) {
		t.Fatalf("lookup during Close: %v", err)
	}
	n := set.Fetches()
	if _, err := set.LookupKeys(context.Background(), &jwt.Header{Alg: jwt.ES256}); !errors.Is(err, ErrFetch) {
		t.Fatalf("lookup after Close: %v", err)
	}
	if set.Fetches() != n {
		t.Fatal("a closed set started a fetch")
	}
	srv.CloseClientConnections()
	srv.Close()
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i > 500 {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCachedKeys(t *testing.T) {
	clk := newFakeClock()
	keys := testKeys(t, 2)
	var calls atomic.Int64
	var current atomic.Pointer[jwt.Key]
	current.Store(keys[0])
	fetch := func(ctx context.Context) (jwt.KeySet, error) {
		calls.Add(1)
		return current.Load().Public(), nil
	}
	c := NewCachedSet(fetch, CacheOptions{TTL: time.Minute, Clock: clk.Now})
	defer c.Close()
	ctx := context.Background()
	h := &jwt.Header{Alg: jwt.ES256}
	for range 5 {
		ks, err := c.LookupKeys(ctx, h)
		if err != nil || ks[0].ID() != "k0" {
			t.Fatalf("%v %v", ks, err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
	current.Store(keys[1])
	clk.Advance(time.Minute)
	ks, err := c.LookupKeys(ctx, h)
	if err != nil || ks[0].ID() != "k1" || calls.Load() != 2 {
		t.Fatalf("after the TTL: %v %v, %d calls", ks, err, calls.Load())
	}
	// A panicking or failing callback is an error, not a crash.
	p := NewCachedSet(func(context.Context) (jwt.KeySet, error) { panic("boom") }, CacheOptions{Clock: clk.Now})
	defer p.Close()
	if _, err := p.LookupKeys(ctx, h); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panicking fetch: %v", err)
	}
	e := CachedKeys(func(context.Context) (jwt.KeySet, error) { return nil, errors.New("down") }, 0)
	defer e.Close()
	if _, err := e.LookupKeys(ctx, h); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "down") {
		t.Fatalf("failing fetch: %v", err)
	}
}

func TestRemoteLookupAllocs(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{})
	if err := f.set.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &jwt.Header{Alg: jwt.ES256, KeyID: "k0"}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() {
		if _, err := f.set.LookupKeys(ctx, h); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("a cache hit allocates %v times", n)
	}
}

// TestRemoteConcurrentChurn verifies on many goroutines while the clock
// runs past TTLs, the provider fails, recovers and rotates: a key the
// provider always publishes keeps verifying throughout.
func TestRemoteConcurrentChurn(t *testing.T) {
	f := newRemoteFixture(t, RemoteOptions{CacheOptions: CacheOptions{TTL: time.Minute, MinRefreshInterval: time.Second}})
	token := f.token(0)
	if err := f.verify(0); err != nil { // the first keys
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.ver.Verify(context.Background(), token); err != nil {
					t.Error(err)
					return
				}
				ok.Add(1)
			}
		}()
	}
	for i := range 100 {
		switch i % 4 {
		case 0:
			f.p.set(func(p *provider) { p.status = http.StatusInternalServerError })
		case 1:
			f.p.set(func(p *provider) { p.status, p.body = 0, jwksOf(t, f.keys[0], f.keys[1+i%2]) })
		case 2:
			f.p.set(func(p *provider) { p.body = []byte(`{"keys":"broken"}`) })
		case 3:
			f.p.set(func(p *provider) { p.body = jwksOf(t, f.keys[0]) })
		}
		f.clk.Advance(15 * time.Second)
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if ok.Load() == 0 {
		t.Fatal("nothing verified")
	}
	t.Logf("%d verifications, %d fetches", ok.Load(), f.set.Fetches())
}

// TestRemoteAlgorithmDowngrade: a key fetched from a remote set verifies
// only with the algorithms its JWK allows (its alg member, else its type's)
// and the verifier's allowlist. A forger who knows the published keys
// cannot make them verify an HMAC token keyed with their bytes, an
// unsecured token, another curve's algorithm, or RS256 for a key published
// for PS256; and a provider that then serves a set changing a key into one
// that would (alg none or HS256 on the RSA key; k0 a secret, beside k1 or
// alone) has the whole set refused, the last good one kept.
func TestRemoteAlgorithmDowngrade(t *testing.T) {
	ctx := context.Background()
	rsaKey, err := GenerateRSA(2048)
	if err != nil {
		t.Fatal(err)
	}
	pss, err := rsaKey.WithAlgorithms(jwt.PS256)
	if err != nil {
		t.Fatal(err)
	}
	pss = pss.WithID("k0")
	pkcs1, err := rsaKey.WithAlgorithms(jwt.RS256)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 = pkcs1.WithID("k0")
	ec := mustGenerate(t, jwt.ES256).WithID("k1")

	f := newRemoteFixture(t, RemoteOptions{})
	body := jwksOf(t, pss, ec)
	f.p.set(func(p *provider) { p.body = body })
	published, err := ParseSet(body)
	if err != nil {
		t.Fatal(err)
	}
	k0, _ := published.Key("k0")
	if k0.Algorithm() != string(jwt.PS256) {
		t.Fatalf("k0 published with alg %q, want PS256", k0.Algorithm())
	}
	k0JSON := must[[]byte](t)(k0.MarshalJSON())
	k1, _ := published.Key("k1")
	k1JSON := must[[]byte](t)(k1.MarshalJSON())
	spki := must[[]byte](t)(x509.MarshalPKIXPublicKey(rsaKey.PublicKey()))
	ecSPKI := must[[]byte](t)(x509.MarshalPKIXPublicKey(ec.PublicKey()))
	secrets := map[string][]byte{
		"the set": body, "k0's JWK": k0JSON, "k0's SPKI": spki, "k0's PEM": pemOf("PUBLIC KEY", spki),
		"k0's modulus": rsaKey.PublicKey().(*rsa.PublicKey).N.Bytes(),
	}
	ecSecrets := map[string][]byte{"k1's JWK": k1JSON, "k1's SPKI": ecSPKI, "k1's PEM": pemOf("PUBLIC KEY", ecSPKI)}

	claims := b64([]byte(`{"sub":"admin"}`))
	raw := func(hdr string, sig []byte) string { return b64([]byte(hdr)) + "." + claims + "." + b64(sig) }
	hmacOf := func(alg jwt.Algorithm, kid string, secret []byte) string {
		input := b64([]byte(`{"alg":"`+string(alg)+`","kid":"`+kid+`"}`)) + "." + claims
		h := map[jwt.Algorithm]func() hash.Hash{jwt.HS256: sha256.New, jwt.HS384: sha512.New384, jwt.HS512: sha512.New}[alg]
		m := hmac.New(h, secret)
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	}
	type forgery struct {
		name, token string
		ver         *jwt.Verifier
	}
	forgeries := func() []forgery {
		var fs []forgery
		for _, alg := range []jwt.Algorithm{jwt.HS256, jwt.HS384, jwt.HS512} {
			for name, secret := range secrets {
				fs = append(fs, forgery{fmt.Sprintf("%s keyed with %s", alg, name), hmacOf(alg, "k0", secret), f.ver})
			}
			for name, secret := range ecSecrets {
				fs = append(fs, forgery{fmt.Sprintf("%s keyed with %s", alg, name), hmacOf(alg, "k1", secret), f.ver})
			}
		}
		for _, none := range []string{"none", "None", "NONE"} {
			fs = append(fs,
				forgery{none + " for k0", raw(`{"alg":"`+none+`","kid":"k0"}`, nil), f.ver},
				forgery{none + " for k1, signed", raw(`{"alg":"`+none+`","kid":"k1"}`, make([]byte, 64)), f.ver})
		}
		fs = append(fs,
			forgery{"RS256 by k0's own private key", signWith(t, pkcs1, jwt.RS256, jwt.Claims{Subject: "admin"}), f.ver},
			forgery{"ES384 for the P-256 k1", raw(`{"alg":"ES384","kid":"k1"}`, make([]byte, 96)), f.ver},
			forgery{"PS256 past an ES256 allowlist", signWith(t, pss, jwt.PS256, jwt.Claims{Subject: "admin"}),
				must[*jwt.Verifier](t)(jwt.NewVerifier(f.set, jwt.VerifierOptions{Algorithms: []jwt.Algorithm{jwt.ES256}}))},
		)
		return fs
	}
	check := func(t *testing.T) {
		t.Helper()
		for _, k := range []*jwt.Key{pss, ec} {
			if _, err := f.ver.Verify(ctx, signWith(t, k, k.Algorithms()[0], jwt.Claims{Subject: "admin"})); err != nil {
				t.Fatalf("%s's own token: %v", k.ID(), err)
			}
		}
		for _, fg := range forgeries() {
			if _, err := fg.ver.Verify(ctx, fg.token); !errors.Is(err, jwt.ErrAlgorithm) {
				t.Errorf("%s: %v, want ErrAlgorithm", fg.name, err)
			}
		}
	}
	check(t)

	attackerSecret := []byte("0123456789abcdef0123456789abcdef")
	changed := map[string][]byte{
		"k0 alg none":   bytes.Replace(body, []byte(`"alg":"PS256"`), []byte(`"alg":"none"`), 1),
		"k0 alg HS256":  bytes.Replace(body, []byte(`"alg":"PS256"`), []byte(`"alg":"HS256"`), 1),
		"k0 a secret":   []byte(`{"keys":[{"kty":"oct","kid":"k0","alg":"HS256","k":"` + b64(attackerSecret) + `"},` + string(k1JSON) + `]}`),
		"only a secret": []byte(`{"keys":[{"kty":"oct","kid":"k0","alg":"HS256","k":"` + b64(attackerSecret) + `"}]}`),
	}
	for name, b := range changed {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(b, body) {
				t.Fatal("the change changed nothing")
			}
			f.p.set(func(p *provider) { p.body = b })
			if err := f.set.Refresh(ctx); !errors.Is(err, ErrFetch) || !errors.Is(err, ErrInvalidSet) {
				t.Fatalf("Refresh: %v, want ErrFetch and ErrInvalidSet", err)
			}
			check(t)
			if _, err := f.ver.Verify(ctx, hmacOf(jwt.HS256, "k0", attackerSecret)); !errors.Is(err, jwt.ErrAlgorithm) {
				t.Errorf("HS256 keyed with the secret the changed set names: %v, want ErrAlgorithm", err)
			}
		})
	}
}
