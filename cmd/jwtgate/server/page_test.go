package server

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)

func TestPageHeaders(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script src="/app.js" defer></script>`},
		{"/app.js", "text/javascript; charset=utf-8", `"/login?cookies=1"`},
	} {
		r := f.do(t, "GET", c.path, "", "")
		wantStatus(t, "GET "+c.path, r, 200)
		want := map[string]string{
			"Content-Type":            c.contentType,
			"Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		}
		for k, v := range want {
			if got := r.header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("GET %s: %s: %q, want %q", c.path, k, got, v)
			}
		}
		if !strings.Contains(r.raw, c.contains) {
			t.Errorf("GET %s: the body lacks %q", c.path, c.contains)
		}
		if strings.Contains(r.raw, "unsafe-inline") {
			t.Errorf("GET %s mentions unsafe-inline", c.path)
		}
	}
	// The page holds no inline script or style: the CSP would block it.
	page := f.do(t, "GET", "/", "", "").raw
	if strings.Count(page, "<script") != 1 || strings.Contains(page, "<style") || strings.Contains(page, " style=") || inlineHandler.MatchString(page) {
		t.Errorf("the page has inline script or style:\n%s", page)
	}
	// Only GET / serves the page: other paths and methods do not.
	wantStatus(t, "GET /nothing", f.do(t, "GET", "/nothing", "", ""), http.StatusNotFound)
	wantStatus(t, "POST /", f.do(t, "POST", "/", "", ""), http.StatusMethodNotAllowed)
}

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
