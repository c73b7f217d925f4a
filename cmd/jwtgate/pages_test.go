package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pageCall makes a request to a page without following redirects and
// returns the status, the Location, the cookies set and the body.
func pageCall(t *testing.T, method, target, cookie string, form url.Values) (int, string, cookies, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	set := cookies{}
	for _, k := range resp.Cookies() {
		set[k.Name] = k.Value
	}
	return resp.StatusCode, resp.Header.Get("Location"), set, string(raw)
}

func (c cookies) header() string {
	var parts []string
	for k, v := range c {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

var otherSession = regexp.MustCompile(`<li class="session" data-sid="([^"]+)">`)

// TestServeTwoInstancesPages: the sign-in and account pages on two
// instances sharing PostgreSQL and Redis, without JavaScript: a session
// signed in on A is listed and ended from the account page on B, and is
// refused on A; a sign-out on A is refused on B.
func TestServeTwoInstancesPages(t *testing.T) {
	env := sharedStores(t)
	args := []string{"-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example", "-keys-reload", "1h"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)

	signin := func(p *proc) cookies {
		t.Helper()
		status, loc, set, body := pageCall(t, "POST", p.url+"/signin", "", url.Values{"username": {"admin"}, "password": {pw}})
		if status != http.StatusSeeOther || loc != "/account" || len(set) != 4 {
			t.Fatalf("sign-in on %s: %d to %q, cookies %v\n%s", p.url, status, loc, set, body)
		}
		return set
	}
	first := signin(a)
	second := signin(b)

	// B's account page lists the session of A.
	status, _, _, page := pageCall(t, "GET", b.url+"/account", second.header(), nil)
	m := otherSession.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil || !strings.Contains(page, "This device") {
		t.Fatalf("account page on B: %d\n%s", status, page)
	}
	status, loc, _, page := pageCall(t, "POST", b.url+"/account", second.header(),
		url.Values{"action": {"end-session"}, "sid": {m[1]}, "csrf_token": {second["csrf_access_token"]}})
	if status != http.StatusSeeOther || loc != "/account?notice=ended" {
		t.Fatalf("ending A's session on B: %d to %q\n%s", status, loc, page)
	}
	refusedSoonCookie(t, a.url, "the session ended on B, on A", first)
	// A's account page then cannot resume the session: sign in again.
	if status, _, _, page := pageCall(t, "GET", a.url+"/account", first.header(), nil); status != http.StatusOK || !strings.Contains(page, `id="resume-form"`) {
		t.Fatalf("account page of the ended session on A: %d\n%s", status, page)
	}
	status, loc, _, _ = pageCall(t, "POST", a.url+"/signin", first.header(), url.Values{"resume": {"1"}, "csrf_token": {first["csrf_refresh_token"]}})
	if status != http.StatusSeeOther || loc != "/signin?notice=expired" {
		t.Fatalf("resuming the ended session on A: %d to %q", status, loc)
	}

	// Signing out on A ends the session on B.
	status, loc, _, _ = pageCall(t, "POST", a.url+"/signout", second.header(), url.Values{"csrf_token": {second["csrf_access_token"]}})
	if status != http.StatusSeeOther || loc != "/signin?notice=signed-out" {
		t.Fatalf("sign-out on A: %d to %q", status, loc)
	}
	refusedSoonCookie(t, b.url, "the session signed out on A, on B", second)
}
