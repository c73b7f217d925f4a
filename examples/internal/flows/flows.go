// Package flows is the shared test of the framework examples.
package flows

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/proctest"
)

// Run drives the routes that the framework examples (gin, echo, fiber)
// share, as their package comments list them: login as JSON and as
// cookies, the protected group, scopes, freshness, refresh and optional
// routes, and the Gate's refusals.
func Run(t *testing.T, p *proctest.Proc) {
	t.Helper()
	login := func(user, pw string) map[string]any {
		res := p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": user, "password": pw}})
		if res.Status != 200 {
			t.Fatalf("login %s: %d %s", user, res.Status, res.Body)
		}
		return res.Object(t)
	}
	bearer := func(method, path, tok string) proctest.Response {
		return p.Do(t, proctest.Request{Method: method, Path: path, Header: map[string]string{"Authorization": "Bearer " + tok}})
	}
	alice, bob := login("alice", "alice-pw"), login("bob", "bob-pw")
	aliceAccess, aliceRefresh := alice["access_token"].(string), alice["refresh_token"].(string)

	if res := p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": "alice", "password": "nope"}}); res.Status != 401 {
		t.Errorf("bad password: %d %s", res.Status, res.Body)
	}
	if res := p.Do(t, proctest.Request{Path: "/api/me"}); res.Status != 401 || res.Header.Get("WWW-Authenticate") != `Bearer realm="jwtgate"` {
		t.Errorf("no token: %d %v %s", res.Status, res.Header, res.Body)
	}
	if res := bearer("GET", "/api/me", aliceAccess); res.Status != 200 || res.Object(t)["user"] != "alice" {
		t.Errorf("me: %d %s", res.Status, res.Body)
	}
	if res := bearer("GET", "/api/me", aliceRefresh); res.Status != 401 || !strings.Contains(string(res.Body), "Only non-refresh tokens are allowed") {
		t.Errorf("refresh token on an access route: %d %s", res.Status, res.Body)
	}
	if res := bearer("GET", "/api/me", aliceAccess[:len(aliceAccess)-3]+"abc"); res.Status != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("forged: %d %v", res.Status, res.Header)
	}
	if res := bearer("GET", "/api/reports", aliceAccess); res.Status != 200 {
		t.Errorf("reports with the scope: %d %s", res.Status, res.Body)
	}
	res := bearer("GET", "/api/reports", bob["access_token"].(string))
	if res.Status != http.StatusForbidden || !strings.Contains(res.Header.Get("WWW-Authenticate"), `scope="reports:read"`) {
		t.Errorf("reports without the scope: %d %v %s", res.Status, res.Header, res.Body)
	}
	res = bearer("POST", "/refresh", aliceRefresh)
	if res.Status != 200 {
		t.Fatalf("refresh: %d %s", res.Status, res.Body)
	}
	stale := res.Object(t)["access_token"].(string)
	if res := bearer("GET", "/api/reports", stale); res.Status != 200 {
		t.Errorf("refreshed token keeps its scope: %d %s", res.Status, res.Body)
	}
	if res := bearer("DELETE", "/api/account", stale); res.Status != 401 || !strings.Contains(string(res.Body), "Fresh token required") {
		t.Errorf("not fresh: %d %s", res.Status, res.Body)
	}
	if res := bearer("DELETE", "/api/account", aliceAccess); res.Status != 200 || res.Object(t)["deleted"] != "alice" {
		t.Errorf("fresh: %d %s", res.Status, res.Body)
	}
	if res := p.Do(t, proctest.Request{Path: "/optional"}); res.Status != 200 || res.Object(t)["user"] != nil {
		t.Errorf("optional without a token: %d %s", res.Status, res.Body)
	}
	if res := bearer("GET", "/optional", aliceAccess); res.Status != 200 || res.Object(t)["user"] != "alice" {
		t.Errorf("optional with a token: %d %s", res.Status, res.Body)
	}

	// Cookies with double-submit CSRF.
	res = p.Do(t, proctest.Request{Method: "POST", Path: "/login/cookies", JSON: map[string]string{"username": "bob", "password": "bob-pw"}})
	access, csrf := res.Cookie("access_token_cookie"), res.Cookie("csrf_access_token")
	if res.Status != 200 || access == nil || csrf == nil {
		t.Fatalf("cookie login: %d %v", res.Status, res.Cookies())
	}
	cookies := []*http.Cookie{access, csrf}
	if res := p.Do(t, proctest.Request{Path: "/api/me", Cookies: cookies}); res.Status != 200 || res.Object(t)["user"] != "bob" {
		t.Errorf("cookie GET: %d %s", res.Status, res.Body)
	}
	if res := p.Do(t, proctest.Request{Method: "DELETE", Path: "/api/account", Cookies: cookies}); res.Status != 403 || !strings.Contains(string(res.Body), "csrf") {
		t.Errorf("cookie DELETE without CSRF: %d %s", res.Status, res.Body)
	}
	if res := p.Do(t, proctest.Request{Method: "DELETE", Path: "/api/account", Cookies: cookies, Header: map[string]string{"X-CSRF-TOKEN": csrf.Value}}); res.Status != 200 {
		t.Errorf("cookie DELETE with CSRF: %d %s", res.Status, res.Body)
	}
	res = p.Do(t, proctest.Request{Method: "POST", Path: "/logout/cookies"})
	if c := res.Cookie("access_token_cookie"); res.Status != 200 || c == nil || c.MaxAge >= 0 {
		t.Errorf("logout: %d %v", res.Status, res.Cookies())
	}
}
