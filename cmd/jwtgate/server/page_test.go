package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestCookieLogoutUnsetsCookies: a logout whose token came from the
// cookies deletes the four cookies; one made with a bearer token sets
// none.
func TestCookieLogoutUnsetsCookies(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "POST", "/login?cookies=1", "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
	wantStatus(t, "cookie login", r, 200)
	jar := map[string]string{}
	var pairs []string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		jar[c.Name] = c.Value
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	cookie := strings.Join(pairs, "; ")
	wantStatus(t, "logout without CSRF", f.do(t, "POST", "/logout", "", "", "Cookie", cookie), http.StatusForbidden)
	wantStatus(t, "userinfo after the refused logout", f.do(t, "GET", "/userinfo", "", "", "Cookie", cookie), 200)

	r = f.do(t, "POST", "/logout", "", "", "Cookie", cookie, "X-CSRF-TOKEN", jar["csrf_access_token"])
	wantStatus(t, "logout by cookie", r, 200)
	unset := map[string]bool{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Value != "" || c.MaxAge >= 0 {
			t.Errorf("logout: Set-Cookie %q does not delete the cookie", c.String())
		}
		unset[c.Name] = true
	}
	for _, n := range []string{"access_token_cookie", "refresh_token_cookie", "csrf_access_token", "csrf_refresh_token"} {
		if !unset[n] {
			t.Errorf("logout did not unset %s: %q", n, r.header["Set-Cookie"])
		}
	}
	wantStatus(t, "userinfo after logout", f.do(t, "GET", "/userinfo", "", "", "Cookie", cookie), http.StatusUnauthorized)

	access, _ := f.login(t, "alice", testPassword)
	r = f.do(t, "POST", "/logout", "", "", bearer(access)...)
	wantStatus(t, "bearer logout", r, 200)
	if sc := r.header["Set-Cookie"]; len(sc) != 0 {
		t.Errorf("bearer logout set cookies: %q", sc)
	}
}
