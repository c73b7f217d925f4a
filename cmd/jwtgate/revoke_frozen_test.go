package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// TestOAuthRevokeStoreFrozen: one of two instances reaches the server
// that keeps the revocations (Redis, or PostgreSQL alone) through a proxy
// that freezes (no FIN, no RST). A client asks the partitioned instance
// to revoke its access token and its refresh token: the answer is 503
// (the store did not confirm; safe to retry), never RFC 7009's 200,
// since the other instance still takes both tokens. Retried after the
// thaw, the revocations answer 200, and both instances refuse the
// tokens.
func TestOAuthRevokeStoreFrozen(t *testing.T) {
	for _, st := range revocationStores {
		t.Run(st.name, func(t *testing.T) {
			env, server, via := st.env(t)
			testOAuthRevokeStoreFrozen(t, env, server, via)
		})
	}
}

func testOAuthRevokeStoreFrozen(t *testing.T, env []string, server string, via func(addr string) []string) {
	dir := t.TempDir()
	unused := filepath.Join(dir, "unused")
	out := runEnv(t, dir, env, "", "clients", "add", "refresher", "--data-dir", unused, "--scopes", "read", "--refresh")
	id, secret := field(out.stdout, "client_id"), field(out.stdout, "client_secret")
	if out.code != 0 || id == "" || secret == "" {
		t.Fatalf("clients add --refresh: %d %s %s", out.code, out.stdout, out.stderr)
	}
	proxy := storetest.NewProxy(t, server)
	// No login limit: the revocation store is the only store a revocation
	// asks (the client is cached from the token request).
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-keys-reload", "1h", "-login-burst", "-1"}
	a := startServe(t, via(proxy.Addr()), args...)
	b := startServe(t, env, args...)

	// active introspects tok on the instance at base: true, false, or
	// the failure of the test.
	active := func(base, tok string) bool {
		t.Helper()
		r := expect(t, "introspection", formCall(t, base+"/oauth/introspect", url.Values{"token": {tok}}, id, secret), 200)
		on, ok := r.body["active"].(bool)
		if !ok {
			t.Fatalf("introspection: %s", r.raw)
		}
		return on
	}
	got := expect(t, "tokens on A", formCall(t, a.url+"/oauth/token", url.Values{"grant_type": {"client_credentials"}}, id, secret), 200)
	tokens := []struct{ name, token string }{
		{"access token", str(got, "access_token")},
		{"refresh token", str(got, "refresh_token")},
	}
	for _, tk := range tokens {
		if tk.token == "" || !active(b.url, tk.token) {
			t.Fatalf("%s before the freeze: not active on B: %s", tk.name, got.raw)
		}
	}

	proxy.Freeze()
	for _, tk := range tokens {
		r := formCall(t, a.url+"/oauth/revoke", url.Values{"token": {tk.token}}, id, secret)
		if r.status != 503 || str(r, "error") != "temporarily_unavailable" || !strings.Contains(str(r, "error_description"), "safe to retry") {
			t.Errorf("revocation of the %s on the partitioned A: %d %s, want 503 temporarily_unavailable, safe to retry", tk.name, r.status, r.raw)
		}
		if !active(b.url, tk.token) {
			t.Errorf("%s: revoked on B although the revocation on A was not confirmed", tk.name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	proxy.Thaw()
	for _, tk := range tokens {
		// A may answer 503 a little longer while its connection
		// recovers; then 200, whether or not the held write went through.
		for i := 0; ; i++ {
			r := formCall(t, a.url+"/oauth/revoke", url.Values{"token": {tk.token}}, id, secret)
			if r.status == 200 {
				break
			}
			if r.status != 503 || i == 400 {
				t.Fatalf("revocation of the %s retried after the thaw: %d %s", tk.name, r.status, r.raw)
			}
			time.Sleep(25 * time.Millisecond)
		}
		for _, p := range []*proc{a, b} {
			awaitRefused(t, tk.name+" introspected after the revocation", func() answer {
				if active(p.url, tk.token) {
					return answer{status: 200}
				}
				return answer{status: 401}
			})
		}
	}
	for _, p := range []*proc{a, b} {
		r := formCall(t, p.url+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens[1].token}}, id, secret)
		if r.status != 400 || str(r, "error") != "invalid_grant" {
			t.Errorf("the revoked refresh token used: %d %s, want 400 invalid_grant", r.status, r.raw)
		}
	}
	a.stop(t)
	b.stop(t)
}
