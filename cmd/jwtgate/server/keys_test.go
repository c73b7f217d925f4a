package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// keysFixture is a Server on a data directory whose keys follow a test
// clock, and the means to rotate them.
type keysFixture struct {
	srv   *httptest.Server
	data  *DataDir
	keys  *LiveKeys
	clock *testClock
}

const (
	testMaxAge = 300 * time.Second
	testReload = 30 * time.Second
)

func newKeysFixture(t *testing.T) *keysFixture {
	t.Helper()
	ctx := context.Background()
	data, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	if err := data.Users.Add(ctx, "alice", testPassword); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Now()}
	log := slog.New(slog.DiscardHandler)
	data.Logger = log
	keys, err := NewLiveKeys(ctx, data, jwt.ES256, LiveKeysOptions{Clock: clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f := &keysFixture{srv: httptest.NewServer(mux), data: data, keys: keys, clock: clock}
	t.Cleanup(f.srv.Close)
	s, err := New(Config{
		Users: data.Users, Revocations: data.Revocations, Keys: keys, Algorithm: keys.Algorithm(),
		Issuer: f.srv.URL, Logger: log, Clock: clock.Now, LoginBurst: -1, JWKSMaxAge: testMaxAge,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", s)
	return f
}

func (f *keysFixture) get(t *testing.T, path, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func (f *keysFixture) login(t *testing.T) string {
	t.Helper()
	resp, err := f.srv.Client().Post(f.srv.URL+"/login", "application/json",
		strings.NewReader(`{"username":"alice","password":"`+testPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Access string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.Access == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return body.Access
}

// header returns the kid and alg of a token.
func header(t *testing.T, tok string) (kid string, alg jwt.Algorithm) {
	t.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string        `json:"kid"`
		Alg jwt.Algorithm `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid, h.Alg
}

// cachingVerifier is a resource server that verifies tokens with the
// service's JWKS and caches the set as long as its Cache-Control max-age
// says, and no longer: it fetches again only when the copy has expired.
type cachingVerifier struct {
	f       *keysFixture
	fetched time.Time
	maxAge  time.Duration
	set     *jwk.Set
}

func (v *cachingVerifier) fetch(t *testing.T) {
	t.Helper()
	status, hdr, body := v.f.get(t, "/.well-known/jwks.json", "")
	if status != 200 {
		t.Fatalf("jwks: %d", status)
	}
	cc := hdr.Get("Cache-Control")
	_, age, ok := strings.Cut(cc, "max-age=")
	secs, err := strconv.Atoi(age)
	if !ok || err != nil {
		t.Fatalf("jwks Cache-Control %q", cc)
	}
	set, err := jwk.ParsePublicSet(body)
	if err != nil {
		t.Fatal(err)
	}
	v.set, v.maxAge, v.fetched = set, time.Duration(secs)*time.Second, v.f.clock.Now()
}

// verify verifies tok with the cached set, fetched again first if it has
// expired.
func (v *cachingVerifier) verify(t *testing.T, tok string) error {
	t.Helper()
	if v.set == nil || v.f.clock.Now().Sub(v.fetched) >= v.maxAge {
		v.fetch(t)
	}
	// The service's access tokens carry aud: its issuer by default.
	ver, err := jwt.NewVerifier(v.set, jwt.VerifierOptions{Audiences: []string{v.f.srv.URL}, Clock: v.f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ver.Verify(context.Background(), tok)
	return err
}

// TestKeysPublishedBeforeUse rotates the key of a running server with the
// activation delay of its settings: the JWKS lists the new key after the
// next reload while tokens still carry the old kid; at the activation
// time, with no reload, tokens switch; no verifier that honours the
// JWKS's max-age ever meets a kid it does not have, whenever it fetched
// the set; the old key keeps verifying. A rotation with no delay (--now)
// shows what the delay prevents.
func TestKeysPublishedBeforeUse(t *testing.T) {
	ctx := context.Background()
	f := newKeysFixture(t)
	start := f.clock.Now()
	old := f.keys.SigningKey().ID()
	tok0 := f.login(t)
	if kid, alg := header(t, tok0); kid != old || alg != jwt.ES256 {
		t.Fatalf("first token: kid %s alg %s", kid, alg)
	}
	// Resource servers that fetch the JWKS at different times, the worst
	// one just before the instance reloads its keys.
	verifiers := map[string]*cachingVerifier{}
	fetchAt := func(name string) {
		v := &cachingVerifier{f: f}
		v.fetch(t)
		verifiers[name] = v
	}
	fetchAt("at start")

	delay := KeyActivationDelay(testMaxAge, testReload)
	f.clock.Advance(10 * time.Second)
	rotated := f.clock.Now()
	_, next, err := f.data.RotateKey(ctx, Rotation{Alg: jwt.EdDSA, ActivateAfter: delay, RetireAfter: time.Hour}, rotated)
	if err != nil {
		t.Fatal(err)
	}
	fetchAt("after the rotation, before the reload")
	f.clock.Advance(testReload - time.Second)
	fetchAt("just before the reload")
	if err := f.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	fetchAt("just after the reload")

	// Published, not active.
	if got := jwksKids(t, f); !slices.Equal(got, sorted(old, next)) {
		t.Fatalf("JWKS after the reload: %v, want %s and %s", got, old, next)
	}
	if kid, _ := header(t, f.login(t)); kid != old {
		t.Fatalf("a token signed with %s before the activation", kid)
	}

	switched := time.Time{}
	for f.clock.Now().Before(rotated.Add(delay + testMaxAge + time.Minute)) {
		f.clock.Advance(7 * time.Second)
		tok := f.login(t)
		kid, alg := header(t, tok)
		switch {
		case f.clock.Now().Before(rotated.Add(delay)):
			if kid != old || alg != jwt.ES256 {
				t.Fatalf("at %v after the rotation, before its activation: kid %s alg %s", f.clock.Now().Sub(rotated), kid, alg)
			}
		default:
			if kid != next || alg != jwt.EdDSA {
				t.Fatalf("at %v after the rotation, after its activation: kid %s alg %s", f.clock.Now().Sub(rotated), kid, alg)
			}
			if switched.IsZero() {
				switched = f.clock.Now()
			}
		}
		for name, v := range verifiers {
			if err := v.verify(t, tok); err != nil {
				t.Fatalf("verifier that fetched the JWKS %s, at %v after the rotation: %v", name, f.clock.Now().Sub(rotated), err)
			}
		}
		// The old key's token still verifies at the service.
		if status, _, body := f.get(t, "/userinfo", tok0); status != 200 {
			t.Fatalf("a token of the old key: %d %s", status, body)
		}
	}
	if switched.IsZero() {
		t.Fatal("the new key never signed")
	}
	t.Logf("the new key signed %v after the rotation (activation delay %v), %v after the server started", switched.Sub(rotated), delay, switched.Sub(start))

	// An emergency rotation (no delay): a verifier that fetched the JWKS
	// before the reload meets the new kid before its copy expires.
	fetchAt("before an emergency rotation")
	_, now, err := f.data.RotateKey(ctx, Rotation{RetireAfter: time.Hour}, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	tok := f.login(t)
	if kid, alg := header(t, tok); kid != now || alg != jwt.EdDSA {
		t.Fatalf("after an emergency rotation and a reload: kid %s alg %s, want %s", kid, alg, now)
	}
	if err := verifiers["before an emergency rotation"].verify(t, tok); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("a verifier with a JWKS from before an emergency rotation: %v, want an unknown kid", err)
	}
}

func jwksKids(t *testing.T, f *keysFixture) []string {
	t.Helper()
	status, _, body := f.get(t, "/.well-known/jwks.json", "")
	if status != 200 {
		t.Fatalf("jwks: %d", status)
	}
	set, err := jwk.ParsePublicSet(body)
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys() {
		kids = append(kids, k.KeyID())
	}
	slices.Sort(kids)
	return kids
}

// TestKeysBoundToAlgorithm: each key of a KeyRing verifies only its own
// algorithm, whatever its type allows, and the service refuses HMAC.
func TestKeysBoundToAlgorithm(t *testing.T) {
	rsa, err := jwk.GenerateRSA(0) // allows RS256..PS512, as a PEM file loads

	if err != nil {
		t.Fatal(err)
	}
	if rsa, err = jwk.EnsureKeyID(rsa); err != nil {
		t.Fatal(err)
	}
	if _, err := (Keys{Keys: []StoredKey{{Key: rsa, Alg: jwt.PS256}}}).Ring(nil); err == nil {
		t.Fatal("a ring of a key not bound to its algorithm")
	}
	bound, err := bindKey(rsa, jwt.PS256)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := Keys{Keys: []StoredKey{{Key: bound, Alg: jwt.PS256}}}.Ring(nil)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := jwt.NewVerifier(ring, jwt.VerifierOptions{Algorithms: serviceAlgorithms()})
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []jwt.Algorithm{jwt.PS256, jwt.RS256, jwt.PS384} {
		s, err := jwt.NewSigner(rsa, alg)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign([]byte(`{"sub":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ver.Verify(context.Background(), tok)
		if (err == nil) != (alg == jwt.PS256) {
			t.Errorf("a token of the PS256 key signed with %s: %v", alg, err)
		}
	}
	for _, alg := range []jwt.Algorithm{jwt.HS256, jwt.HS384, jwt.HS512, "none", ""} {
		if slices.Contains(serviceAlgorithms(), alg) {
			t.Errorf("the service allows %q", alg)
		}
		d := &DataDir{Path: t.TempDir()}
		if _, err := d.LoadKeys(context.Background(), alg, time.Now()); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("a first key for %q: %v", alg, err)
		}
	}
	// A *jwk.Ring is not bound: the server needs its Algorithm.
	cfg, _ := testConfig(t)
	plain, err := jwk.NewRing(bound)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = plain
	cfg.Algorithm = ""
	if _, err := New(cfg); err == nil {
		t.Fatal("a server of a *jwk.Ring without Algorithm")
	}
	cfg.Algorithm = jwt.HS256
	if _, err := New(cfg); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Fatalf("a server for HS256: %v", err)
	}
}

// TestIssuerSetFindsServiceKeys: a verifier that knows only the issuer
// finds the service's keys through its RFC 8414 metadata (there is no
// OpenID Connect document) and verifies its tokens.
func TestIssuerSetFindsServiceKeys(t *testing.T) {
	f := newKeysFixture(t)
	set, err := jwk.NewIssuerSet(f.srv.URL, jwk.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	v, err := jwt.NewVerifier(set, jwt.VerifierOptions{Issuers: []string{f.srv.URL}, Audiences: []string{f.srv.URL}, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), f.login(t)); err != nil {
		t.Fatal(err)
	}
}

// stuckKeyStore is a KeyStore whose loads, once stuck is set, do not
// return until release is closed, whatever their context says: a file
// system that hangs.
type stuckKeyStore struct {
	KeyStore
	stuck   atomic.Bool
	release chan struct{}
}

func (s *stuckKeyStore) LoadKeys(ctx context.Context, alg jwt.Algorithm, now time.Time) (Keys, error) {
	if s.stuck.Load() {
		<-s.release
	}
	return s.KeyStore.LoadKeys(ctx, alg, now)
}

// TestUnknownKidStoreHangs: a token naming a kid this instance does not
// know makes it reload the keys; when the key store hangs (a load that
// ignores its context, and the periodic reload stuck in one), the request
// still ends, with 503 (jwtgate.ErrUnavailable), instead of waiting for
// the store. The test waits a generous minute before it counts the
// lookup stuck.
func TestUnknownKidStoreHangs(t *testing.T) {
	ctx := context.Background()
	data, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	store := &stuckKeyStore{KeyStore: data, release: make(chan struct{})}
	defer close(store.release)
	keys, err := NewLiveKeys(ctx, store, jwt.ES256, LiveKeysOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	store.stuck.Store(true)
	go keys.Reload(ctx) // the periodic reload, stuck
	for _, what := range []string{"while another reload is stuck", "the next one"} {
		done := make(chan error, 1)
		go func() {
			_, err := keys.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: "unknown-" + what})
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, jwtgate.ErrUnavailable) {
				t.Fatalf("%s: lookup of an unknown kid: %v, want ErrUnavailable", what, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: the lookup of an unknown kid still waits for a hung key store after a minute", what)
		}
	}
}
