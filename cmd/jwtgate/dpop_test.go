package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// dpopCall posts a form to endpoint with Basic credentials, the given
// headers (name, value pairs) and returns the answer and its DPoP-Nonce.
func dpopCall(t *testing.T, method, endpoint, body string, hdr ...string) (answer, string) {
	t.Helper()
	req, err := http.NewRequest(method, endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a, resp.Header.Get("DPoP-Nonce")
}

// TestDPoPTwoInstances runs two instances sharing PostgreSQL and Redis,
// behind the same public address (a trusted proxy's forwarding headers):
// the nonce of one is valid on the other, a proof used on one is a
// replay on the other, and a token bound on one works on the other only
// with a proof by its key.
func TestDPoPTwoInstances(t *testing.T) {
	env := sharedStores(t)
	dir := t.TempDir()
	unused := filepath.Join(dir, "unused")
	out := runEnv(t, dir, env, "", "clients", "add", "svc", "--data-dir", unused, "--scopes", "read")
	id, secret := field(out.stdout, "client_id"), field(out.stdout, "client_secret")
	if out.code != 0 || id == "" || secret == "" {
		t.Fatalf("clients add: %d %s %s", out.code, out.stdout, out.stderr)
	}
	// Without the secret file, nonces on shared stores are refused.
	r := runEnv(t, dir, env, "", "serve", "-addr", "127.0.0.1:0", "-data-dir", unused, "-issuer", "https://auth.example", "-dpop-nonce")
	if r.code == 0 || !strings.Contains(r.stderr, "dpop-nonce-secret-file") {
		t.Fatalf("serve --dpop-nonce on shared stores without a secret: %d %s", r.code, r.stderr)
	}
	secretFile := filepath.Join(dir, "nonce.key")
	if err := os.WriteFile(secretFile, []byte(rand.Text()+rand.Text()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-keys-reload", "1h",
		"-dpop-nonce", "-dpop-nonce-secret-file", secretFile, "-trusted-proxies", "127.0.0.1,::1"}
	a := startServe(t, env, args...)
	b := startServe(t, env, args...)

	p := newProver(t)
	public, _ := url.Parse("https://auth.example/oauth/token")
	proxied := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "auth.example"}
	auth := "Basic " + basicCreds(id, secret)
	form := "grant_type=client_credentials"

	proof, err := p.Proof("POST", public, "", "")
	if err != nil {
		t.Fatal(err)
	}
	res, nonce := dpopCall(t, "POST", a.url+"/oauth/token", form, append(proxied, "Authorization", auth, "DPoP", proof)...)
	if res.status != 400 || str(res, "error") != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("no nonce on A: %d %s (nonce %q)", res.status, res.raw, nonce)
	}
	// A's nonce on B.
	proof, _ = p.Proof("POST", public, "", nonce)
	res, _ = dpopCall(t, "POST", b.url+"/oauth/token", form, append(proxied, "Authorization", auth, "DPoP", proof)...)
	expect(t, "A's nonce on B", res, 200)
	if str(res, "token_type") != "DPoP" {
		t.Fatalf("token_type: %s", res.raw)
	}
	// The same proof on A: a replay, whichever instance saw it first.
	res, _ = dpopCall(t, "POST", a.url+"/oauth/token", form, append(proxied, "Authorization", auth, "DPoP", proof)...)
	if res.status != 400 || str(res, "error") != "invalid_dpop_proof" {
		t.Fatalf("proof of B replayed on A: %d %s", res.status, res.raw)
	}

	// A bound token of a login on A, used on B with a proof by its key.
	pw := logField(a.Logs(), "password", "username=admin")
	if pw == "" {
		pw = logField(b.Logs(), "password", "username=admin")
	}
	login, _ := url.Parse("https://auth.example/login")
	proof, _ = p.Proof("POST", login, "", nonce)
	access := dpopLogin(t, a.url, pw, proof, proxied...)
	ui, _ := url.Parse("https://auth.example/userinfo")
	proof, _ = p.Proof("GET", ui, access, nonce)
	res, _ = dpopCall(t, "GET", b.url+"/userinfo", "", append(proxied, "Authorization", "DPoP "+access, "DPoP", proof)...)
	expect(t, "bound token on B", res, 200)
	res, _ = dpopCall(t, "GET", a.url+"/userinfo", "", append(proxied, "Authorization", "DPoP "+access, "DPoP", proof)...)
	expect(t, "proof of B replayed on A", res, 401)
	res, _ = dpopCall(t, "GET", b.url+"/userinfo", "", append(proxied, "Authorization", "Bearer "+access)...)
	expect(t, "bound token as bearer on B", res, 401)
}

// dpopLogin signs admin in at base with a DPoP proof and the given
// headers (name, value pairs), and returns the bound access token.
func dpopLogin(t *testing.T, base, password, proof string, hdr ...string) string {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/login", strings.NewReader(`{"username":"admin","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	access, _ := body["access_token"].(string)
	if resp.StatusCode != 200 || access == "" {
		t.Fatalf("login with a DPoP proof at %s: %d %v", base, resp.StatusCode, body)
	}
	return access
}

// revocationStores are the two servers that keep the revocations and the
// used single-use ids (DPoP proofs) of instances sharing them: Redis
// (beside PostgreSQL), or PostgreSQL alone (serve --database-url without
// --redis). env returns the instances' environment, the address of that
// server, and the environment of an instance that reaches it at another
// address (a proxy's) instead.
var revocationStores = []struct {
	name string
	env  func(t *testing.T) (env []string, server string, via func(addr string) []string)
}{
	{"Redis", func(t *testing.T) ([]string, string, func(string) []string) {
		env := sharedStores(t)
		return env, redistest.RedisAddr(), func(addr string) []string {
			return append(env[:len(env):len(env)], "JWTGATE_REDIS="+addr)
		}
	}},
	{"PostgreSQL", func(t *testing.T) ([]string, string, func(string) []string) {
		u, err := url.Parse(pgSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		env := []string{"JWTGATE_DATABASE_URL=" + u.String(), "JWTGATE_REDIS="}
		return env, u.Host, func(addr string) []string {
			v := *u
			v.Host = addr
			return []string{"JWTGATE_DATABASE_URL=" + v.String(), "JWTGATE_REDIS="}
		}
	}},
}

// TestDPoPReplayRace: a proof captured on its way is sent many times at
// once to two instances sharing the store of used proofs (Redis, or
// PostgreSQL alone), as a thief racing the client would: one copy is
// taken, every other refused, on a route with a bound token and at the
// token endpoint, round after round.
func TestDPoPReplayRace(t *testing.T) {
	for _, st := range revocationStores {
		t.Run(st.name, func(t *testing.T) {
			env, _, _ := st.env(t)
			testDPoPReplayRace(t, env)
		})
	}
}

func testDPoPReplayRace(t *testing.T, env []string) {
	dir := t.TempDir()
	unused := filepath.Join(dir, "unused")
	out := runEnv(t, dir, env, "", "clients", "add", "svc", "--data-dir", unused, "--scopes", "read")
	id, secret := field(out.stdout, "client_id"), field(out.stdout, "client_secret")
	if out.code != 0 || id == "" || secret == "" {
		t.Fatalf("clients add: %d %s %s", out.code, out.stdout, out.stderr)
	}
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-keys-reload", "1h", "-trusted-proxies", "127.0.0.1,::1"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	if pw == "" {
		pw = logField(b.Logs(), "password", "username=admin")
	}
	p := newProver(t)
	proxied := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "auth.example"}
	login, _ := url.Parse("https://auth.example/login")
	loginProof, err := p.Proof("POST", login, "", "")
	if err != nil {
		t.Fatal(err)
	}
	access := dpopLogin(t, a.url, pw, loginProof, proxied...)

	const copies = 16 // half to each instance
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: copies}}
	t.Cleanup(client.CloseIdleConnections)
	send := func(method, base, path, body string, hdr ...string) (int, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	tests := []struct {
		name, method, path, body, auth, token string
		taken, refused                        int
		rounds                                int
	}{
		{"route", "GET", "/userinfo", "", "DPoP " + access, access, 200, 401, 10},
		{"token endpoint", "POST", "/oauth/token", "grant_type=client_credentials", "Basic " + basicCreds(id, secret), "", 200, 400, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, _ := url.Parse("https://auth.example" + tt.path)
			for round := range tt.rounds {
				proof, err := p.Proof(tt.method, target, tt.token, "")
				if err != nil {
					t.Fatal(err)
				}
				hdr := append(proxied[:len(proxied):len(proxied)], "Authorization", tt.auth, "DPoP", proof)
				codes := make([]int, copies)
				errs := make([]error, copies)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range copies {
					base := a.url
					if i%2 == 1 {
						base = b.url
					}
					wg.Go(func() {
						<-start
						codes[i], errs[i] = send(tt.method, base, tt.path, tt.body, hdr...)
					})
				}
				close(start)
				wg.Wait()
				// A copy may also be refused because a store did not answer
				// in time (503: instances starting cold on PostgreSQL open
				// connections for the burst); then none need be taken.
				taken, unavailable := 0, 0
				for i, code := range codes {
					switch {
					case errs[i] != nil:
						t.Fatal(errs[i])
					case code == tt.taken:
						taken++
					case code == 503:
						unavailable++
					case code != tt.refused:
						t.Errorf("round %d, copy %d: %d, want %d, %d or 503", round, i, code, tt.taken, tt.refused)
					}
				}
				if taken > 1 || (taken == 0 && unavailable == 0) {
					t.Fatalf("round %d: one proof taken %d times of %d copies sent at once: %v", round, taken, copies, codes)
				}
				if unavailable > 0 {
					t.Logf("round %d: %d copies refused as the stores did not answer in time: %v", round, unavailable, codes)
				}
			}
		})
	}
	a.stop(t)
	b.stop(t)
}

// TestDPoPReplayStoreFrozen: one of two instances reaches the server
// where the used proofs are kept (Redis, or PostgreSQL alone) through a
// proxy that freezes (no FIN, no RST). A proof sent to the partitioned
// instance is refused (503: its use cannot be recorded), at the token
// endpoint and with a bound token on a route, never accepted unchecked;
// the token endpoint's refusal is the replay check's, which comes first.
// The same proof is then taken once on the other instance, and refused by
// the partitioned one once its store is back. On Redis, --redis-bound is
// longer than the replay check's deadline, so the route's revocation
// check still answers from its cache and the replay check is the one that
// refuses.
func TestDPoPReplayStoreFrozen(t *testing.T) {
	for _, st := range revocationStores {
		t.Run(st.name, func(t *testing.T) {
			env, server, via := st.env(t)
			testDPoPReplayStoreFrozen(t, env, server, via)
		})
	}
}

func testDPoPReplayStoreFrozen(t *testing.T, env []string, server string, via func(addr string) []string) {
	dir := t.TempDir()
	unused := filepath.Join(dir, "unused")
	out := runEnv(t, dir, env, "", "clients", "add", "svc", "--data-dir", unused, "--scopes", "read")
	id, secret := field(out.stdout, "client_id"), field(out.stdout, "client_secret")
	if out.code != 0 || id == "" || secret == "" {
		t.Fatalf("clients add: %d %s %s", out.code, out.stdout, out.stderr)
	}
	proxy := storetest.NewProxy(t, server)
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-keys-reload", "1h",
		"-login-burst", "-1", "-redis-bound", "10s", "-trusted-proxies", "127.0.0.1,::1"}
	a := startServe(t, via(proxy.Addr()), args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	if pw == "" {
		pw = logField(b.Logs(), "password", "username=admin")
	}

	p := newProver(t)
	proxied := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "auth.example"}
	tokenURL, _ := url.Parse("https://auth.example/oauth/token")
	userinfo, _ := url.Parse("https://auth.example/userinfo")
	login, _ := url.Parse("https://auth.example/login")
	mustProof := func(method string, u *url.URL, token string) string {
		t.Helper()
		proof, err := p.Proof(method, u, token, "")
		if err != nil {
			t.Fatal(err)
		}
		return proof
	}
	tokenCall := func(base, proof string) answer {
		t.Helper()
		res, _ := dpopCall(t, "POST", base+"/oauth/token", "grant_type=client_credentials",
			append(proxied, "Authorization", "Basic "+basicCreds(id, secret), "DPoP", proof)...)
		return res
	}
	userinfoCall := func(base, access string) answer {
		t.Helper()
		res, _ := dpopCall(t, "GET", base+"/userinfo", "",
			append(proxied, "Authorization", "DPoP "+access, "DPoP", mustProof("GET", userinfo, access))...)
		return res
	}

	// A bound token, seen by A (its revocation answer cached), and A's
	// connection to Redis in use.
	access := dpopLogin(t, b.url, pw, mustProof("POST", login, ""), proxied...)
	for range 2 {
		expect(t, "bound token on A before the freeze", userinfoCall(a.url, access), 200)
	}
	expect(t, "token endpoint on A before the freeze", tokenCall(a.url, mustProof("POST", tokenURL, "")), 200)

	proxy.Freeze()
	expect(t, "bound token on the partitioned A", userinfoCall(a.url, access), 503)
	proof := mustProof("POST", tokenURL, "")
	if res := tokenCall(a.url, proof); res.status != 503 || str(res, "error") != "temporarily_unavailable" ||
		!strings.Contains(str(res, "error_description"), "used DPoP proofs") {
		t.Fatalf("a proof on the partitioned A: %d %s, want 503 temporarily_unavailable from the replay check", res.status, res.raw)
	}
	expect(t, "the same proof on B", tokenCall(b.url, proof), 200)
	if res := tokenCall(b.url, proof); res.status != 400 || str(res, "error") != "invalid_dpop_proof" {
		t.Fatalf("the same proof replayed on B: %d %s", res.status, res.raw)
	}

	proxy.Thaw()
	// A may answer 503 a little longer while its connection recovers;
	// never 200.
	for i := 0; ; i++ {
		res := tokenCall(a.url, proof)
		if res.status == 400 && str(res, "error") == "invalid_dpop_proof" {
			break
		}
		if res.status != 503 || i == 400 {
			t.Fatalf("the proof used on B, on A after the thaw: %d %s", res.status, res.raw)
		}
		time.Sleep(25 * time.Millisecond)
	}
	expect(t, "a new proof on A after the thaw", tokenCall(a.url, mustProof("POST", tokenURL, "")), 200)
	expect(t, "bound token on A after the thaw", userinfoCall(a.url, access), 200)
	a.stop(t)
	b.stop(t)
}

// newProver returns a DPoP prover with a new P-256 key.
func newProver(t *testing.T) *dpop.Prover {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.NewProver(k, jwt.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// basicCreds is the value of client_secret_basic credentials.
func basicCreds(id, secret string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// TestDPoPFlags: bad DPoP settings stop serve before it opens anything.
func TestDPoPFlags(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("too short"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-dpop=false", "-dpop-required"}, "need --dpop"},
		{[]string{"-dpop=false", "-dpop-nonce"}, "need --dpop"},
		{[]string{"-dpop-max-age", "0s"}, "--dpop-max-age"},
		{[]string{"-dpop-max-age", "2h"}, "--dpop-max-age"},
		{[]string{"-dpop-nonce", "-dpop-nonce-lifetime", "1s"}, "--dpop-nonce-lifetime"},
		{[]string{"-dpop-nonce-secret-file", short}, "without --dpop-nonce"},
		{[]string{"-dpop-nonce", "-dpop-nonce-secret-file", short}, "at least 32"},
		{[]string{"-dpop-nonce", "-dpop-nonce-secret-file", filepath.Join(dir, "missing")}, "dpop-nonce-secret-file"},
		{[]string{"-dpop=false", "-dpop-origins", "https://a.example"}, "--dpop-origins needs --dpop"},
		{[]string{"-dpop-origins", "*, https://a.example"}, "cannot be listed with others"},
		{[]string{"-dpop-origins", "ftp://a.example"}, "Origins"},
		{[]string{"-dpop-origins", "https://a.example/path"}, "Origins"},
		{[]string{"-issuer", "urn:example:issuer"}, "--dpop-origins"},
	}
	for _, tt := range tests {
		r := jwtgate(t, dir, "", append([]string{"serve", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "data")}, tt.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("serve %v: exit %d, stderr %q, want %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// blockedReplay is a replay store that answers only when its caller gives up.
type blockedReplay struct{}

func (blockedReplay) Use(ctx context.Context, _ string, _ time.Time) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

// TestReplayWithin: serve's replay check gives up when its deadline
// passes, refusing the proof, and passes answers through.
func TestReplayWithin(t *testing.T) {
	first, err := replayWithin{blockedReplay{}, time.Millisecond}.Use(context.Background(), "id", time.Now().Add(time.Minute))
	if first || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("blocked store: first %v, err %v", first, err)
	}
	mem := revoke.NewMemory(revoke.MemoryOptions{})
	r := replayWithin{mem, time.Second}
	for i, want := range []bool{true, false} {
		if first, err := r.Use(context.Background(), "id", time.Now().Add(time.Minute)); first != want || err != nil {
			t.Errorf("use %d: first %v, err %v", i, first, err)
		}
	}
}

// TestDPoPOrigins: serve takes proofs only at its own origins, so that a
// proof and token a client sent to another service cannot be replayed
// here in a request naming that service's host (Host, or a trusted
// proxy's X-Forwarded-Host). The origins are --dpop-origins, or else the
// issuer's; without --issuer, the bound address and its loopback names.
// Forwarding headers count only from --trusted-proxies.
func TestDPoPOrigins(t *testing.T) {
	p := newProver(t)
	const refused, taken = "invalid_dpop_proof", "use_dpop_nonce"
	type try struct {
		origin string // the proof's; "" for the bound address
		host   string // the request's Host, if not the dialled one
		fwd    bool   // the origin comes as X-Forwarded-Proto and -Host
		want   string
	}
	tests := []struct {
		name  string
		flags []string
		tries []try
	}{
		{"no issuer", nil, []try{
			{"", "", false, taken},
			{"http://localhost:PORT", "localhost:PORT", false, taken},
			{"http://[::1]:PORT", "[::1]:PORT", false, taken},
			{"http://evil.example", "evil.example", false, refused},
			{"http://localhost:1", "localhost:1", false, refused},
		}},
		{"issuer", []string{"-issuer", "https://auth.example/tenant", "-trusted-proxies", "127.0.0.1"}, []try{
			{"https://auth.example", "", true, taken},
			{"https://evil.example", "", true, refused},
			{"http://auth.example", "auth.example", false, refused},
			{"", "", false, refused},
			{"http://localhost:PORT", "localhost:PORT", false, refused},
		}},
		{"listed", []string{"-issuer", "https://auth.example", "-dpop-origins", "https://api.example, http://localhost:1", "-trusted-proxies", "127.0.0.1"}, []try{
			{"https://api.example", "", true, taken},
			{"http://localhost:1", "localhost:1", false, taken},
			{"https://auth.example", "", true, refused},
			{"", "", false, refused},
		}},
		{"any", []string{"-issuer", "https://auth.example", "-dpop-origins", "*"}, []try{
			{"http://evil.example", "evil.example", false, taken},
			{"", "", false, taken},
			// Forwarding headers from a peer that is not a trusted proxy
			// are ignored: the URI is the one the request itself names.
			{"https://evil.example", "", true, refused},
		}},
		{"issuer, no trusted proxy", []string{"-issuer", "https://auth.example"}, []try{
			{"https://auth.example", "", true, refused},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServe(t, nil, append([]string{"-data-dir", t.TempDir(), "-dpop-nonce"}, tt.flags...)...)
			port := s.url[strings.LastIndexByte(s.url, ':')+1:]
			for _, c := range tt.tries {
				origin := strings.ReplaceAll(c.origin, "PORT", port)
				if origin == "" {
					origin = s.url
				}
				u, _ := url.Parse(origin + "/oauth/token")
				proof, err := p.Proof("POST", u, "", "")
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest("POST", s.url+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("DPoP", proof)
				if c.host != "" {
					req.Host = strings.ReplaceAll(c.host, "PORT", port)
				}
				if c.fwd {
					req.Header.Set("X-Forwarded-Proto", u.Scheme)
					req.Header.Set("X-Forwarded-Host", u.Host)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body struct{ Error string }
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != 400 || body.Error != c.want {
					t.Errorf("proof for %s (Host %q, forwarded %v): %d %q, want 400 %q", origin, req.Host, c.fwd, resp.StatusCode, body.Error, c.want)
				}
			}
		})
	}
}

func TestDPoPOriginList(t *testing.T) {
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	any6 := &net.TCPAddr{IP: net.IPv6unspecified, Port: 9}
	public := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 443}
	tests := []struct {
		name, flag, issuer string
		on, defaulted      bool
		ln                 net.Addr
		want               []string
		err                string
	}{
		{"issuer given", "", "https://auth.example/tenant", true, false, loop, []string{"https://auth.example"}, ""},
		{"issuer with port", "", "http://auth.example:8443", true, false, public, []string{"http://auth.example:8443"}, ""},
		{"default on loopback", "", "http://127.0.0.1:8080", true, true, loop, []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"}, ""},
		{"default on any address", "", "http://[::]:9", true, true, any6, []string{"http://[::]:9", "http://localhost:9", "http://127.0.0.1:9", "http://[::1]:9"}, ""},
		{"default on a public address", "", "https://192.0.2.1:443", true, true, public, []string{"https://192.0.2.1:443"}, ""},
		{"listed", "https://a.example, https://b.example", "https://auth.example", true, false, loop, []string{"https://a.example", "https://b.example"}, ""},
		{"any", "*", "https://auth.example", true, false, loop, nil, ""},
		{"issuer not a URL", "", "urn:example:issuer", true, false, loop, nil, "set --dpop-origins"},
		{"issuer not a URL, listed", "https://a.example", "urn:example:issuer", true, false, loop, []string{"https://a.example"}, ""},
		{"DPoP off", "", "urn:example:issuer", false, false, loop, nil, ""},
		{"issuer on a zoned IPv6 address", "", "http://[fe80::1%25eth0]:8080/tenant", true, false, public, []string{"http://[fe80::1%25eth0]:8080"}, ""},
		{"issuer on a zoned IPv6 address, https", "", "https://[fe80::1%251]", true, false, public, []string{"https://[fe80::1%251]"}, ""},
		{"default on a zoned address", "", "http://[fe80::1%25eth0]:9", true, true, &net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0", Port: 9}, []string{"http://[fe80::1%25eth0]:9"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &dpopFlags{on: &tt.on, origins: &tt.flag}
			got, err := d.originList(tt.issuer, tt.defaulted, tt.ln)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// addrListener is a net.Listener that only has an address.
type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

// TestDefaultIssuer: without --issuer, the issuer is the URL of the
// address bound, which parses back to that address (the zone of an IPv6
// address escaped as %25), and DPoP takes proofs at its origin.
func TestDefaultIssuer(t *testing.T) {
	tests := []struct {
		addr *net.TCPAddr
		tls  bool
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, false, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9}, true, "https://[::]:9"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0", Port: 8080}, false, "http://[fe80::1%25eth0]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			issuer, dbURL := "", ""
			o := &serveOptions{issuer: &issuer, stores: &storeFlags{databaseURL: &dbURL}}
			var set serveSettings
			if tt.tls {
				set.tlsConfig = &tls.Config{}
			}
			defaultIssuer(o, set, addrListener{addr: tt.addr}, slog.New(slog.DiscardHandler))
			if issuer != tt.want {
				t.Fatalf("issuer %q, want %q", issuer, tt.want)
			}
			u, err := url.Parse(issuer)
			if err != nil || u.Host != tt.addr.String() {
				t.Fatalf("issuer %q parses to host %q, %v; want %q", issuer, u.Host, err, tt.addr.String())
			}
			on, flag := true, ""
			d := &dpopFlags{on: &on, origins: &flag}
			origins, err := d.originList(issuer, true, tt.addr)
			if err != nil || origins[0] != tt.want {
				t.Fatalf("origins %q, %v; want %q first", origins, err, tt.want)
			}
		})
	}
}
