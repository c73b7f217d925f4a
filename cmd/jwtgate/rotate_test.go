package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// jwksKids returns the sorted kids of the server's JWKS.
func jwksKids(t *testing.T, url string) []string {
	t.Helper()
	a := expect(t, "jwks", call(t, "GET", url+"/.well-known/jwks.json", "", ""), 200)
	keys, _ := a.body["keys"].([]any)
	var kids []string
	for _, k := range keys {
		kid, _ := k.(map[string]any)["kid"].(string)
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

// tokenKid returns the kid in the header of a JWS compact token.
func tokenKid(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr.Kid == "" {
		t.Fatalf("token header %s: %v", raw, err)
	}
	return hdr.Kid
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestKeysRotate rotates the signing key of a stopped server's data
// directory: tokens of the old key still verify, new tokens carry the new
// kid and the JWKS lists both, until the old key retires.
func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	if r := jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd); r.code == 0 {
		t.Fatalf("rotated a missing data directory: %s", r.stdout)
	}
	args := []string{"-data-dir", dd, "-issuer", "http://jwtgate.test"}
	p := startServe(t, nil, args...)
	pw := logField(p.Logs(), "password", "username=admin")
	creds := `{"username":"admin","password":"` + pw + `"}`
	kid0 := jwksKid(t, p.url)
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200)
	acc0, ref0 := str(login, "access_token"), str(login, "refresh_token")
	if tokenKid(t, acc0) != kid0 {
		t.Fatalf("token kid %s, JWKS kid %s", tokenKid(t, acc0), kid0)
	}
	p.stop(t)

	if r := jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd, "--alg", "HS256"); r.code != exitUsage || !strings.Contains(r.stderr, "JWKS") {
		t.Fatalf("rotated to HS256: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	// The server is stopped: --now, so that it signs with the new key as
	// soon as it starts.
	out := mustRun(t, dir, "", "keys", "rotate", "--data-dir", dd, "--now")
	kid1, _, _ := strings.Cut(strings.TrimPrefix(out, "new signing key "), "\n")
	if kid1 == "" || kid1 == kid0 || !strings.Contains(out, "old key "+kid0+" verifies until") {
		t.Fatalf("keys rotate: %q", out)
	}
	// The rotation is in the audit log, by the command.
	if d, err := server.OpenDataDir(context.Background(), dd); err != nil {
		t.Fatal(err)
	} else {
		events, err := d.Audit.Events(context.Background(), server.AuditFilter{Type: "key.rotate"})
		d.Close()
		if err != nil || len(events) != 1 || events[0].Actor != "cli" || events[0].Outcome != "success" {
			t.Fatalf("key.rotate events: %+v (%v), want one by cli", events, err)
		}
	}
	for _, f := range []string{"signing-key.pem", "keys.json", filepath.Join("keys", kid1+".pem")} {
		if fi, err := os.Stat(filepath.Join(dd, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}

	p = startServe(t, nil, args...)
	if got := jwksKids(t, p.url); !slices.Equal(got, sorted(kid0, kid1)) {
		t.Fatalf("JWKS after rotation: %v, want %s and %s", got, kid0, kid1)
	}
	expect(t, "token of the old key", call(t, "GET", p.url+"/userinfo", acc0, ""), 200)
	ref := expect(t, "refresh token of the old key", call(t, "POST", p.url+"/refresh", ref0, ""), 200)
	acc1 := str(expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200), "access_token")
	for _, tok := range []string{acc1, str(ref, "access_token"), str(ref, "refresh_token")} {
		if k := tokenKid(t, tok); k != kid1 {
			t.Fatalf("new token signed by %s, want %s", k, kid1)
		}
	}
	expect(t, "token of the new key", call(t, "GET", p.url+"/userinfo", acc1, ""), 200)
	p.stop(t)

	// Rotate again, retiring kid1 at once: kid0 still verifies until its
	// own retire time, kid1 is not loaded any more.
	out = mustRun(t, dir, "", "keys", "rotate", "--data-dir", dd, "--retire-after", "0s", "--now")
	kid2, _, _ := strings.Cut(strings.TrimPrefix(out, "new signing key "), "\n")
	p = startServe(t, nil, args...)
	if got := jwksKids(t, p.url); !slices.Equal(got, sorted(kid0, kid2)) {
		t.Fatalf("JWKS after the second rotation: %v, want %s and %s", got, kid0, kid2)
	}
	expect(t, "token of the retired key", call(t, "GET", p.url+"/userinfo", acc1, ""), 401)
	expect(t, "token of the first key", call(t, "GET", p.url+"/userinfo", acc0, ""), 200)
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dd, "keys", kid1+".pem")); err != nil {
		t.Fatalf("the retired key file was lost: %v", err)
	}

	r := jwtgate(t, dir, "", "keys", "rotate", "--help")
	for _, want := range []string{"--retire-after", "720h0m0s", "-data-dir", "JWTGATE_DATA_DIR", "-alg", "-now",
		"-jwks-max-age", "JWTGATE_JWKS_MAX_AGE", "5m0s", "-keys-reload", "JWTGATE_KEYS_RELOAD", "30s"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("keys rotate --help (exit %d) does not list %q:\n%s", r.code, want, r.stdout)
		}
	}
	if r := jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd, "--retire-after", "-1h"); r.code != exitUsage {
		t.Errorf("negative --retire-after: exit %d", r.code)
	}
	if r := jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd, "--jwks-max-age", "1500ms"); r.code != exitUsage {
		t.Errorf("--jwks-max-age 1500ms: exit %d", r.code)
	}
}

// decodeClaims returns the claims of a JWS compact token, unverified.
func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact token: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("token payload %s: %v", raw, err)
	}
	return c
}

// jwksClient is a resource server's view of the service's JWKS: it keeps
// the set for as long as the Cache-Control max-age says and fetches it
// again only when that has passed.
type jwksClient struct {
	url     string
	set     *jwk.Set
	fetched time.Time
	maxAge  time.Duration
	fetches int
}

// keys returns the cached set, fetched again if it has expired.
func (c *jwksClient) keys(t *testing.T) *jwk.Set {
	t.Helper()
	if c.set != nil && time.Since(c.fetched) < c.maxAge {
		return c.set
	}
	set, maxAge := fetchJWKS(t, c.url)
	c.set, c.maxAge, c.fetched = set, maxAge, time.Now()
	c.fetches++
	return set
}

// fetchJWKS fetches the JWKS of the server at url and its max-age.
func fetchJWKS(t *testing.T, url string) (*jwk.Set, time.Duration) {
	t.Helper()
	resp, err := http.Get(url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("jwks: %d %v", resp.StatusCode, err)
	}
	cc := resp.Header.Get("Cache-Control")
	_, v, _ := strings.Cut(cc, "max-age=")
	secs, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("jwks Cache-Control %q", cc)
	}
	set, err := jwk.ParsePublicSet(body)
	if err != nil {
		t.Fatal(err)
	}
	return set, time.Duration(secs) * time.Second
}

func setKids(set *jwk.Set) []string {
	var kids []string
	for _, k := range set.Keys() {
		kids = append(kids, k.KeyID())
	}
	slices.Sort(kids)
	return kids
}

// tokenAlg returns the alg in the header of a JWS compact token.
func tokenAlg(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Alg
}

// TestKeysRotateWhileServing rotates the key of a running server, with
// short settings read by both serve and keys rotate from one config file:
// the JWKS lists the new kid at the server's next reload while tokens
// still carry the old one; tokens switch (to the new algorithm) only once
// max-age plus the reload interval have passed; a verifier that honours
// max-age verifies every token it is given, never meeting an unknown kid;
// tokens of the old key still verify. Then an emergency rotation (--now)
// switches at the next reload.
func TestKeysRotateWhileServing(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	conf := writeTemp(t, dir, "jwtgate.json", `{"data-dir": "`+dd+`", "jwks-max-age": "2s", "keys-reload": "500ms"}`)
	p := startServe(t, nil, "-config", conf, "-issuer", "http://jwtgate.test")
	pw := logField(p.Logs(), "password", "username=admin")
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200)
	acc0, ref := str(login, "access_token"), str(login, "refresh_token")
	kid0 := tokenKid(t, acc0)
	if _, maxAge := fetchJWKS(t, p.url); maxAge != 2*time.Second {
		t.Fatalf("JWKS max-age %v, want the config file's 2s", maxAge)
	}
	verifier := &jwksClient{url: p.url}
	verify := func(tok string) {
		t.Helper()
		// Access tokens carry aud: the issuer by default.
		v, err := jwt.NewVerifier(verifier.keys(t), jwt.VerifierOptions{Audiences: []string{"http://jwtgate.test"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("a verifier that honours the JWKS max-age (kids %v, fetched %v ago) refused a token of %s: %v",
				setKids(verifier.set), time.Since(verifier.fetched).Round(time.Millisecond), tokenKid(t, tok), err)
		}
	}
	verify(acc0)
	// next refreshes the session: a new access token now.
	next := func() string {
		t.Helper()
		r := expect(t, "refresh", call(t, "POST", p.url+"/refresh", ref, ""), 200)
		ref = str(r, "refresh_token")
		return str(r, "access_token")
	}

	rotStart := time.Now()
	out := mustRun(t, dir, "", "keys", "rotate", "--config", conf, "--alg", "EdDSA")
	rotEnd := time.Now()
	kid1, _, _ := strings.Cut(strings.TrimPrefix(out, "new signing key "), "\n")
	if kid1 == "" || kid1 == kid0 || !strings.Contains(out, "(in 2.5s)") {
		t.Fatalf("keys rotate with the config file's settings: %q", out)
	}
	const delay = 2500 * time.Millisecond // jwks-max-age + keys-reload

	var published, switched time.Time
	deadline := time.Now().Add(60 * time.Second)
	for switched.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("no token of the new key %s within 60 s of the rotation (published: %v)", kid1, !published.IsZero())
		}
		if published.IsZero() {
			if set, _ := fetchJWKS(t, p.url); slices.Contains(setKids(set), kid1) {
				published = time.Now()
			}
		}
		tok := next()
		verify(tok)
		if tokenKid(t, tok) == kid1 {
			switched = time.Now()
			if published.IsZero() {
				t.Fatal("a token of the new key before the JWKS listed it")
			}
			if switched.Before(rotStart.Add(delay)) {
				t.Fatalf("a token of the new key %v after the rotation began, before its activation delay %v", switched.Sub(rotStart), delay)
			}
			if alg := tokenAlg(t, tok); alg != "EdDSA" {
				t.Fatalf("a token of the new key with alg %s", alg)
			}
			expect(t, "token of the new key", call(t, "GET", p.url+"/userinfo", tok, ""), 200)
		} else if tokenKid(t, tok) != kid0 {
			t.Fatalf("token of an unknown key %s", tokenKid(t, tok))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("keys rotate took %v; the JWKS listed the new key %v and tokens carried it %v after it began (activation delay %v); the verifier fetched the JWKS %d times",
		rotEnd.Sub(rotStart).Round(time.Millisecond), published.Sub(rotStart).Round(time.Millisecond), switched.Sub(rotStart).Round(time.Millisecond), delay, verifier.fetches)
	if got := jwksKids(t, p.url); !slices.Equal(got, sorted(kid0, kid1)) {
		t.Fatalf("JWKS after the activation: %v, want %s and %s", got, kid0, kid1)
	}
	expect(t, "token of the old ES256 key", call(t, "GET", p.url+"/userinfo", acc0, ""), 200)
	verify(acc0)

	// An emergency rotation: the server signs with the new key at its
	// next reload.
	out = mustRun(t, dir, "", "keys", "rotate", "--config", conf, "--now")
	kid2, _, _ := strings.Cut(strings.TrimPrefix(out, "new signing key "), "\n")
	deadline = time.Now().Add(60 * time.Second)
	for {
		tok := next()
		if k := tokenKid(t, tok); k == kid2 {
			if alg := tokenAlg(t, tok); alg != "EdDSA" {
				t.Fatalf("a key rotated without --alg signs %s, want the current key's EdDSA", alg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no token of the emergency key %s within 60 s", kid2)
		}
		time.Sleep(100 * time.Millisecond)
	}
	expect(t, "token of the first key", call(t, "GET", p.url+"/userinfo", acc0, ""), 200)
	p.stop(t)
}

// TestServeRefusesHMAC: serve and keys rotate refuse an HMAC algorithm
// with a reason, before anything is created.
func TestServeRefusesHMAC(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	r := jwtgate(t, dir, "", "serve", "-addr", "127.0.0.1:0", "-data-dir", dd, "-alg", "HS256")
	if r.code != exitUsage || !strings.Contains(r.stderr, "cannot be published in the JWKS") || strings.Contains(r.stderr+r.stdout, "password") {
		t.Fatalf("serve -alg HS256: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(dd); !os.IsNotExist(err) {
		t.Fatalf("serve -alg HS256 made the data directory: %v", err)
	}
	if err := os.Mkdir(dd, 0o700); err != nil {
		t.Fatal(err)
	}
	r = jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd, "--alg", "HS384")
	if r.code != exitUsage || !strings.Contains(r.stderr, "cannot be published in the JWKS") {
		t.Fatalf("keys rotate --alg HS384: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestServeJWKSMaxAgeFlag: serve lists --jwks-max-age and refuses a
// value that max-age cannot carry.
func TestServeJWKSMaxAgeFlag(t *testing.T) {
	dir := t.TempDir()
	r := jwtgate(t, dir, "", "serve", "--help")
	for _, want := range []string{"-jwks-max-age", "JWTGATE_JWKS_MAX_AGE", "5m0s", "-keys-reload"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help (exit %d) does not list %q", r.code, want)
		}
	}
	for _, bad := range []string{"0s", "-5s", "1500ms"} {
		r := jwtgate(t, dir, "", "serve", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "d"), "-jwks-max-age", bad)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--jwks-max-age") {
			t.Errorf("serve -jwks-max-age %s: exit %d %q", bad, r.code, r.stderr)
		}
	}
}

// TestKeysRotateRetireFollowsTokenLifetimes: by default the keys a
// rotation replaces verify as long as serve's tokens live, read from the
// same flags, variables or config file as serve's (--refresh-ttl, or
// --access-ttl if longer), and, with --now, one key reload longer (an
// instance signs with the old key until it reloads).
func TestKeysRotateRetireFollowsTokenLifetimes(t *testing.T) {
	cases := []struct {
		name string
		conf string   // serve's config file; "" for none
		env  []string // added to the environment
		args []string
		want time.Duration // from the new key's activation to the old key's retirement
	}{
		{"defaults", "", nil, nil, 720 * time.Hour},
		{"config refresh-ttl", `{"refresh-ttl": "2160h"}`, nil, nil, 2160 * time.Hour},
		{"variable", "", []string{"JWTGATE_REFRESH_TTL=1000h"}, nil, 1000 * time.Hour},
		{"flag", "", nil, []string{"--refresh-ttl", "100h"}, 100 * time.Hour},
		{"access-ttl longer", `{"refresh-ttl": "1h", "access-ttl": "2h"}`, nil, nil, 2 * time.Hour},
		{"now adds a reload", `{"refresh-ttl": "2160h", "keys-reload": "1m"}`, nil, []string{"--now"}, 2160*time.Hour + time.Minute},
		{"retire-after wins", `{"refresh-ttl": "2160h"}`, nil, []string{"--retire-after", "10h"}, 10 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dd := filepath.Join(dir, "data")
			d, err := server.OpenDataDir(context.Background(), dd)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.SigningKey(jwt.ES256, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			d.Close()
			args := append([]string{"keys", "rotate", "--data-dir", dd}, c.args...)
			if c.conf != "" {
				args = append(args, "--config", writeTemp(t, dir, "conf.json", c.conf))
			}
			if r := runEnv(t, dir, c.env, "", args...); r.code != 0 {
				t.Fatalf("keys rotate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			raw, err := os.ReadFile(filepath.Join(dd, server.ManifestFile))
			if err != nil {
				t.Fatal(err)
			}
			var m server.Manifest
			if err := json.Unmarshal(raw, &m); err != nil || len(m.Keys) != 2 || m.Keys[0].RetireAt == nil || m.Keys[1].ActivateAt == nil {
				t.Fatalf("manifest %s: %v", raw, err)
			}
			if got := m.Keys[0].RetireAt.Sub(*m.Keys[1].ActivateAt); got != c.want {
				t.Errorf("the old key retires %v after the new one activates, want %v", got, c.want)
			}
		})
	}
}

// TestServeRetiredKeyWhileCached attacks a key's retirement on a running
// server: a token of the old key, verified again and again (so that its
// signature is cached), is sent by several clients at once while a
// rotation's old key retires. Every request answered before the retire
// time is accepted, every request sent after it refused, on the running
// instance, without waiting for a reload; the JWKS no longer lists it.
func TestServeRetiredKeyWhileCached(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	conf := writeTemp(t, dir, "jwtgate.json", `{"data-dir": "`+dd+`", "jwks-max-age": "1s", "keys-reload": "500ms"}`)
	p := startServe(t, nil, "-config", conf)
	pw := logField(p.Logs(), "password", "username=admin")
	acc := str(expect(t, "login", call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200), "access_token")
	kid0 := tokenKid(t, acc)
	for range 3 {
		expect(t, "token of the first key", call(t, "GET", p.url+"/userinfo", acc, ""), 200)
	}
	out := mustRun(t, dir, "", "keys", "rotate", "--config", conf, "--retire-after", "1s")
	if !strings.Contains(out, "old key "+kid0+" verifies until") {
		t.Fatalf("keys rotate: %q", out)
	}
	raw, err := os.ReadFile(filepath.Join(dd, server.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m server.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Keys, func(k server.ManifestKey) bool { return k.KID == kid0 })
	if i < 0 || m.Keys[i].RetireAt == nil {
		t.Fatalf("manifest %s: no retire time for %s", raw, kid0)
	}
	retire := *m.Keys[i].RetireAt

	type try struct {
		sent, answered time.Time
		status         int
	}
	var (
		mu    sync.Mutex
		tries []try
		wg    sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(retire.Add(300 * time.Millisecond)) {
				sent := time.Now()
				a, err := tryCall("GET", p.url+"/userinfo", acc, "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				tries = append(tries, try{sent, time.Now(), a.status})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	var early, late int
	for _, r := range tries {
		switch {
		case r.answered.Before(retire):
			early++
			if r.status != 200 {
				t.Errorf("a request answered %v before the old key retired got %d, want 200", retire.Sub(r.answered), r.status)
			}
		case r.sent.After(retire):
			late++
			if r.status != 401 {
				t.Errorf("a request sent %v after the old key retired got %d, want 401", r.sent.Sub(retire), r.status)
			}
		case r.status != 200 && r.status != 401:
			t.Errorf("status %d, want 200 or 401", r.status)
		}
	}
	t.Logf("%d requests: %d answered before the retire time, %d sent after it", len(tries), early, late)
	if early == 0 || late == 0 {
		t.Fatal("want requests both before and after the retire time")
	}
	if slices.Contains(jwksKids(t, p.url), kid0) {
		t.Errorf("the JWKS still lists the retired key %s", kid0)
	}
}

// rotationStore is a key store for TestKeysRotateRacingProcesses.
type rotationStore struct {
	args, env []string                  // for the command
	keys      func() []server.StoredKey // the keys stored, oldest first
	// stall, when set, holds the store as a rotation stopped in the
	// middle of its transaction would, and returns how many sessions of
	// the command wait for it, and its end.
	stall func() (waiting func() int, resume func())
}

// TestKeysRotateRacingProcesses starts several "jwtgate keys rotate"
// processes at once on one key store: a data directory (keys.lock) and
// PostgreSQL (an advisory lock), where a rotation stopped in the middle
// of its transaction holds the others until it resumes. Every one
// succeeds, the key each printed is stored, and exactly one key, the last
// added, has no retire time: each rotation retired the keys before it, so
// none stays published forever.
func TestKeysRotateRacingProcesses(t *testing.T) {
	const n = 6
	for _, c := range []struct {
		name  string
		store func(t *testing.T) rotationStore // with its first key
	}{
		{"data directory", func(t *testing.T) rotationStore {
			dd := filepath.Join(t.TempDir(), "data")
			d, err := server.OpenDataDir(context.Background(), dd)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.SigningKey(jwt.ES256, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			return rotationStore{args: []string{"--data-dir", dd}, keys: func() []server.StoredKey {
				d, err := server.OpenDataDir(context.Background(), dd)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				ks, err := d.LoadKeys(context.Background(), jwt.ES256, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return ks.Keys
			}}
		}},
		{"PostgreSQL", func(t *testing.T) rotationStore {
			u, err := url.Parse(pgSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			db, err := server.OpenPostgres(ctx, u.String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			ks, err := server.NewSQLKeys(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ks.LoadKeys(ctx, jwt.ES256, time.Now()); err != nil {
				t.Fatal(err)
			}
			// The commands' sessions carry a name of their own, to be
			// found among the server's.
			app := "jwtgate_rotate_" + strings.ToLower(rand.Text()[:12])
			q := u.Query()
			q.Set("application_name", app)
			u.RawQuery = q.Encode()
			return rotationStore{
				env: []string{"JWTGATE_DATABASE_URL=" + u.String()},
				keys: func() []server.StoredKey {
					k, err := ks.LoadKeys(ctx, jwt.ES256, time.Now())
					if err != nil {
						t.Fatal(err)
					}
					return k.Keys
				},
				stall: func() (func() int, func()) {
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := tx.ExecContext(ctx, `UPDATE jwtgate_signing_keys SET retire_ms = retire_ms`); err != nil {
						t.Fatal(err)
					}
					waiting := func() int {
						var w int
						if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&w); err != nil {
							t.Fatal(err)
						}
						return w
					}
					return waiting, func() {
						if err := tx.Commit(); err != nil {
							t.Fatal(err)
						}
					}
				},
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := c.store(t)
			dir := t.TempDir()
			rotate := append([]string{"keys", "rotate", "--retire-after", "1h"}, st.args...)
			// One rotation first makes every table of the stores, as a
			// first start of serve does.
			if r := runEnv(t, dir, st.env, "", rotate...); r.code != 0 {
				t.Fatalf("first rotation: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			var waiting func() int
			var resume func()
			if st.stall != nil {
				waiting, resume = st.stall()
			}
			results := make([]result, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { results[i] = runEnv(t, dir, st.env, "", rotate...) })
			}
			if resume != nil {
				// Every rotation waits for the stopped one (bounded
				// polling), then it resumes.
				for i := 0; waiting() < n; i++ {
					if i == 500 {
						resume()
						wg.Wait()
						t.Fatalf("%d of %d rotations wait for a stopped one", waiting(), n)
					}
					time.Sleep(10 * time.Millisecond)
				}
				resume()
			}
			wg.Wait()
			stored := st.keys()
			kids := map[string]bool{}
			var current []string
			for _, k := range stored {
				kids[k.Key.ID()] = true
				if k.RetireAt.IsZero() {
					current = append(current, k.Key.ID())
				}
			}
			for i, r := range results {
				kid, _, _ := strings.Cut(strings.TrimPrefix(r.stdout, "new signing key "), "\n")
				if r.code != 0 || kid == "" {
					t.Errorf("rotation %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
				} else if !kids[kid] {
					t.Errorf("rotation %d: its key %s is not stored", i, kid)
				}
			}
			if len(stored) != n+2 || len(current) != 1 || current[0] != stored[len(stored)-1].Key.ID() {
				t.Errorf("%d keys stored, want %d; keys without a retire time: %v, want only the last one", len(stored), n+2, current)
			}
		})
	}
}
