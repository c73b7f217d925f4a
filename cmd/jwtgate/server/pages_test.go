package server

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// page makes a request to f without following redirects and returns the
// response with its body read.
func (f *fixture) page(t *testing.T, method, path string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	c := *f.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// cookieHeader returns the Cookie header of the cookies resp sets.
func cookieHeader(resp *http.Response) (string, map[string]string) {
	jar := map[string]string{}
	var pairs []string
	for _, c := range resp.Cookies() {
		jar[c.Name] = c.Value
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return strings.Join(pairs, "; "), jar
}

func TestPageHeaders(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		path, contentType, contains, cache string
	}{
		{"/signin", "text/html; charset=utf-8", `<script src="/ui/signin.js" defer></script>`, "no-store"},
		{"/ui/signin.js", "text/javascript; charset=utf-8", `"/login?cookies=1"`, "no-cache"},
		{"/ui/account.js", "text/javascript; charset=utf-8", `"/account/sessions"`, "no-cache"},
		{"/ui/style.css", "text/css; charset=utf-8", `:focus-visible`, "no-cache"},
		{"/ui/theme.css", "text/css; charset=utf-8", `--accent: #1f5fbf;`, "no-cache"},
	} {
		resp, body := f.page(t, "GET", c.path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", c.path, resp.StatusCode)
		}
		want := map[string]string{
			"Content-Type":                 c.contentType,
			"Content-Security-Policy":      wantCSP,
			"X-Content-Type-Options":       "nosniff",
			"X-Frame-Options":              "DENY",
			"Referrer-Policy":              "no-referrer",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Resource-Policy": "same-origin",
			"Cache-Control":                c.cache,
		}
		for k, v := range want {
			if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("GET %s: %s: %q, want %q", c.path, k, got, v)
			}
		}
		if !strings.Contains(body, c.contains) {
			t.Errorf("GET %s: the body lacks %q", c.path, c.contains)
		}
	}
	// The pages hold no inline script or style: the CSP would block it.
	_, page := f.page(t, "GET", "/signin", nil)
	if strings.Count(page, "<script") != 1 || strings.Contains(page, "<style") || strings.Contains(page, " style=") || inlineHandler.MatchString(page) {
		t.Errorf("the page has inline script or style:\n%s", page)
	}
	// No test affordance is left on the page.
	for _, s := range []string{"nocsrf", "/userinfo", "/refresh", "without the CSRF"} {
		if strings.Contains(page, s) {
			t.Errorf("the sign-in page mentions %q", s)
		}
	}
	for _, p := range []string{"/ui/nothing.js", "/ui/", "/app.js"} {
		if resp, _ := f.page(t, "GET", p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := f.page(t, "PUT", "/signin", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT /signin: %d, want 405", resp.StatusCode)
	}
}

func TestHomeRedirects(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ cookie, want string }{
		{"", "/signin"},
		{"access_token_cookie=x", "/account"},
		{"refresh_token_cookie=x", "/account"},
		{"csrf_access_token=x", "/signin"},
	} {
		var hdr []string
		if c.cookie != "" {
			hdr = []string{"Cookie", c.cookie}
		}
		resp, _ := f.page(t, "GET", "/", nil, hdr...)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != c.want {
			t.Errorf("GET / with %q: %d to %q, want 303 to %s", c.cookie, resp.StatusCode, resp.Header.Get("Location"), c.want)
		}
	}
}

// TestSigninForm: the form sign-in answers as /login does, as a page.
func TestSigninForm(t *testing.T) {
	f, _ := newFixtureWith(t, nil, func(c *Config) { c.LoginBurst = 2; c.LoginEvery = time.Hour })
	form := func(user, pw string) url.Values { return url.Values{"username": {user}, "password": {pw}} }

	// Cross-site posts are refused before the credentials are checked.
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"},
	} {
		resp, body := f.page(t, "POST", "/signin", form("alice", testPassword), hdr...)
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 || !strings.Contains(body, html.EscapeString(msgCrossSite)) {
			t.Errorf("POST /signin with %q: %d, cookies %v", hdr, resp.StatusCode, resp.Cookies())
		}
	}
	// A wrong password and an unknown user read the same; the name typed
	// is shown as text.
	markup := `<script>alert(1)</script>"'`
	for _, user := range []string{"alice", markup} {
		resp, body := f.page(t, "POST", "/signin", form(user, "wrong password"), "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Fatalf("wrong password for %q: %d, cookies %v", user, resp.StatusCode, resp.Cookies())
		}
		if !strings.Contains(body, html.EscapeString(msgBadCredentials)) || strings.Contains(body, "<script>alert") {
			t.Errorf("wrong password for %q: page:\n%s", user, body)
		}
		if !strings.Contains(body, `value="`+html.EscapeString(user)+`"`) && !strings.Contains(body, `value="&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;"`) {
			t.Errorf("the username typed is not kept: %s", body)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	}
	// Two failures spent alice's budget (burst 2): the next attempt, even
	// with the right password, is refused with when to retry.
	resp, body := f.page(t, "POST", "/signin", form("alice", testPassword), "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || len(resp.Cookies()) != 0 {
		t.Fatalf("rate limited: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, `data-retry-after="`+resp.Header.Get("Retry-After")+`"`) || !strings.Contains(body, "Try again in "+resp.Header.Get("Retry-After")+" seconds.") {
		t.Errorf("rate limited page:\n%s", body)
	}
	// Bad forms.
	for _, c := range []struct {
		name string
		form url.Values
	}{
		{"no password", url.Values{"username": {"bob"}}},
		{"long username", form(strings.Repeat("b", 300), "x")},
	} {
		resp, _ := f.page(t, "POST", "/signin", c.form)
		if resp.StatusCode != http.StatusBadRequest || len(resp.Cookies()) != 0 {
			t.Errorf("%s: %d", c.name, resp.StatusCode)
		}
	}
	if r := f.do(t, "POST", "/signin", "application/json", `{"username":"bob","password":"x"}`); r.status != http.StatusBadRequest {
		t.Errorf("JSON to /signin: %d", r.status)
	}
}

// TestSigninSignout: a form sign-in sets the session's cookies and sends
// the browser to its account; the sign-out form needs the CSRF value and
// ends the session.
func TestSigninSignout(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.page(t, "POST", "/signin", url.Values{"username": {"alice"}, "password": {testPassword}}, "Sec-Fetch-Site", "same-origin", "Origin", f.srv.URL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie, jar := cookieHeader(resp)
	for _, n := range []string{"access_token_cookie", "refresh_token_cookie", "csrf_access_token", "csrf_refresh_token"} {
		if jar[n] == "" {
			t.Fatalf("sign-in did not set %s: %q", n, resp.Header["Set-Cookie"])
		}
	}
	if r := f.do(t, "GET", "/userinfo", "", "", "Cookie", cookie); r.status != 200 || r.body["username"] != "alice" {
		t.Fatalf("userinfo with the form's cookies: %d %s", r.status, r.raw)
	}
	// The account page shows the user and carries the CSRF value.
	resp, body := f.page(t, "GET", "/account", nil, "Cookie", cookie)
	if resp.StatusCode != 200 || !strings.Contains(body, `<strong id="username">alice</strong>`) || !strings.Contains(body, `name="csrf_token" value="`+jar["csrf_access_token"]+`"`) {
		t.Fatalf("account page: %d\n%s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("account page: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}

	// Sign-out without the CSRF value, with a wrong one, or from another
	// site: refused, the session goes on.
	for _, c := range []struct {
		form url.Values
		hdr  []string
	}{
		{url.Values{}, nil},
		{url.Values{"csrf_token": {"wrong"}}, nil},
		{url.Values{"csrf_token": {jar["csrf_access_token"]}}, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		resp, _ := f.page(t, "POST", "/signout", c.form, append([]string{"Cookie", cookie}, c.hdr...)...)
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("sign-out with %v %q: %d, cookies %q", c.form, c.hdr, resp.StatusCode, resp.Header["Set-Cookie"])
		}
	}
	wantStatus(t, "userinfo after refused sign-outs", f.do(t, "GET", "/userinfo", "", "", "Cookie", cookie), 200)

	resp, _ = f.page(t, "POST", "/signout", url.Values{"csrf_token": {jar["csrf_access_token"]}}, "Cookie", cookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?notice=signed-out" || len(resp.Cookies()) != 4 {
		t.Fatalf("sign-out: %d to %q, cookies %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header["Set-Cookie"])
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 {
			t.Errorf("sign-out: %s not deleted", c.Name)
		}
	}
	wantStatus(t, "userinfo after sign-out", f.do(t, "GET", "/userinfo", "", "", "Cookie", cookie), http.StatusUnauthorized)
	// The account page of an ended session offers to resume it, which
	// fails and sends the browser to sign in, forgetting the cookies.
	resp, body = f.page(t, "GET", "/account", nil, "Cookie", cookie)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="csrf_token" value="`+jar["csrf_refresh_token"]+`"`) {
		t.Errorf("account page after sign-out: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = f.page(t, "POST", "/signin", url.Values{"resume": {"1"}, "csrf_token": {jar["csrf_refresh_token"]}}, "Cookie", cookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?notice=expired" || len(resp.Cookies()) != 4 {
		t.Errorf("resuming an ended session: %d to %q, cookies %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header["Set-Cookie"])
	}
	_, body = f.page(t, "GET", "/signin?notice=expired", nil)
	if !strings.Contains(body, signinNotices["expired"]) {
		t.Errorf("the expired notice is not shown:\n%s", body)
	}
	// A notice that is not one of the page's is not shown.
	_, body = f.page(t, "GET", "/signin?notice=%3Cb%3Ehi", nil)
	if strings.Contains(body, "hi") {
		t.Errorf("an unknown notice is shown:\n%s", body)
	}
	resp, _ = f.page(t, "GET", "/account", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Errorf("account page without cookies: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestResume: a browser whose access token has expired resumes its
// session with the refresh token, through a form that needs the refresh
// CSRF value.
func TestResume(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.page(t, "POST", "/signin", url.Values{"username": {"alice"}, "password": {testPassword}})
	_, jar := cookieHeader(resp)
	// The browser dropped the access cookie when it expired.
	kept := "refresh_token_cookie=" + jar["refresh_token_cookie"] + "; csrf_refresh_token=" + jar["csrf_refresh_token"]
	resp, body := f.page(t, "GET", "/account", nil, "Cookie", kept)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="resume-form"`) || !strings.Contains(body, `value="`+jar["csrf_refresh_token"]+`"`) {
		t.Fatalf("account page with only the refresh cookies: %d\n%s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no CSRF value", url.Values{"resume": {"1"}}, nil},
		{"cross-site", url.Values{"resume": {"1"}, "csrf_token": {jar["csrf_refresh_token"]}}, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		resp, _ := f.page(t, "POST", "/signin", c.form, append([]string{"Cookie", kept}, c.hdr...)...)
		if resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/account" {
			t.Errorf("resume with %s: accepted", c.name)
		}
		for _, ck := range resp.Cookies() {
			if ck.Value != "" {
				t.Errorf("resume with %s set %s", c.name, ck.Name)
			}
		}
	}
	// The refused attempts spent nothing: the refresh token still works.
	resp, _ = f.page(t, "POST", "/signin", url.Values{"resume": {"1"}, "csrf_token": {jar["csrf_refresh_token"]}}, "Cookie", kept)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" || len(resp.Cookies()) != 4 {
		t.Fatalf("resume: %d to %q, cookies %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header["Set-Cookie"])
	}
	cookie, _ := cookieHeader(resp)
	if resp, body := f.page(t, "GET", "/account", nil, "Cookie", cookie); resp.StatusCode != 200 || !strings.Contains(body, `id="username">alice<`) {
		t.Errorf("account page after resuming: %d", resp.StatusCode)
	}
}

// failingLimiter cannot answer.
type failingLimiter struct{}

func (failingLimiter) Take(context.Context, string, string) (Grant, error) {
	return Grant{}, errors.New("limiter down")
}

func (failingLimiter) Settle(context.Context, string, string, bool) error { return nil }

// TestSigninUnavailable: a sign-in the service cannot check shows that
// the service is unavailable, with when to retry.
func TestSigninUnavailable(t *testing.T) {
	f, _ := newFixtureWith(t, nil, func(c *Config) { c.Limiter = failingLimiter{} })
	resp, body := f.page(t, "POST", "/signin", url.Values{"username": {"alice"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || len(resp.Cookies()) != 0 ||
		!strings.Contains(body, html.EscapeString(msgUnavailable)) {
		t.Errorf("sign-in with the limiter down: %d, Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

func TestUIConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		ui   UIConfig
		err  string // "" for none
	}{
		{"defaults", UIConfig{}, ""},
		{"dark accent", UIConfig{Accent: "#000"}, ""},
		{"accent at the limit", UIConfig{Accent: "#767676"}, ""},
		{"accent too light", UIConfig{Accent: "#777777"}, "contrast of 4.48:1"},
		{"white accent", UIConfig{Accent: "#fff"}, "contrast of 1.00:1"},
		{"named colour", UIConfig{Accent: "red"}, "want #RRGGBB"},
		{"bad digits", UIConfig{Accent: "#12345g"}, "hexadecimal"},
		{"css injection", UIConfig{Accent: "#000;}body{"}, "want #RRGGBB"},
		{"logo", UIConfig{LogoURL: "https://cdn.example/logo.png"}, ""},
		{"logo not absolute", UIConfig{LogoURL: "/logo.png"}, "absolute http or https"},
		{"logo javascript", UIConfig{LogoURL: "javascript:alert(1)"}, "absolute http or https"},
		{"logo with quote", UIConfig{LogoURL: "https://a.example/x'y"}, "quotes"},
		{"logo with credentials", UIConfig{LogoURL: "https://u:p@a.example/x"}, "credentials"},
		{"long name", UIConfig{ServiceName: strings.Repeat("n", 65)}, "1 to 64 bytes"},
		{"control in name", UIConfig{ServiceName: "a\nb"}, "printable"},
		{"no templates", UIConfig{TemplateDir: t.TempDir()}, "reading signin.html"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := newUI(c.ui)
			if c.err == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("error %v, want one with %q", err, c.err)
			}
		})
	}
}

func TestBranding(t *testing.T) {
	f, _ := newFixtureWith(t, nil, func(c *Config) {
		c.UI = UIConfig{ServiceName: "Example <Corp>", LogoURL: "https://cdn.example:8443/logo.svg", Accent: "#7a1f5c"}
	})
	resp, body := f.page(t, "GET", "/signin", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https://cdn.example:8443;") {
		t.Errorf("CSP %q lacks the logo's origin", csp)
	}
	for _, s := range []string{`<title>Sign in · Example &lt;Corp&gt;</title>`, `src="https://cdn.example:8443/logo.svg"`} {
		if !strings.Contains(body, s) {
			t.Errorf("the page lacks %q:\n%s", s, body)
		}
	}
	_, css := f.page(t, "GET", "/ui/theme.css", nil)
	if css != ":root { --accent: #7a1f5c; }\n" {
		t.Errorf("theme.css: %q", css)
	}
}

func TestTemplateDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("signin.html", `<!doctype html><title>{{.ServiceName}}</title><form method="post" action="/signin">{{.Message}}</form>`)
	if _, err := newUI(UIConfig{TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "account.html") {
		t.Fatalf("without account.html: %v", err)
	}
	write("account.html", `<p>{{.Username}} {{.Nothing}}</p>`)
	if _, err := newUI(UIConfig{TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "does not render") {
		t.Fatalf("with a template that does not render: %v", err)
	}
	write("account.html", `<p>{{.Username}</p>`)
	if _, err := newUI(UIConfig{TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "account.html") {
		t.Fatalf("with a template that does not parse: %v", err)
	}
	write("account.html", `<p>custom account of {{.Username}}</p>`)
	if err := os.Mkdir(filepath.Join(dir, "static"), 0o700); err != nil {
		t.Fatal(err)
	}
	write("static/run.sh", "#!/bin/sh")
	if _, err := newUI(UIConfig{TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "static/run.sh") {
		t.Fatalf("with a script in static/: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "static", "run.sh")); err != nil {
		t.Fatal(err)
	}
	write("static/site.css", "body { color: #111; }")
	f, _ := newFixtureWith(t, nil, func(c *Config) { c.UI = UIConfig{TemplateDir: dir, ServiceName: "Custom"} })
	resp, body := f.page(t, "POST", "/signin", url.Values{"username": {"<i>x</i>"}, "password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized || body != `<!doctype html><title>Custom</title><form method="post" action="/signin">`+html.EscapeString(msgBadCredentials)+`</form>` {
		t.Errorf("custom sign-in page: %d %q", resp.StatusCode, body)
	}
	resp, body = f.page(t, "GET", "/ui/custom/site.css", nil)
	if resp.StatusCode != 200 || body != "body { color: #111; }" || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /ui/custom/site.css: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, _ := f.page(t, "GET", "/ui/custom/other.css", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /ui/custom/other.css: %d", resp.StatusCode)
	}
}

func TestContrast(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
		{"#1f5fbf", "#ffffff", 6.09},
	} {
		a, _ := parseHexColour(c.a)
		b, _ := parseHexColour(c.b)
		if got := contrast(a, b); got < c.want-0.05 || got > c.want+0.05 {
			t.Errorf("contrast(%s, %s) = %.2f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

// TestAccountForms: the account page's forms without JavaScript, over
// the account endpoints.
func TestAccountForms(t *testing.T) {
	f := newFixture(t)
	signin := func(pw string) (string, map[string]string) {
		t.Helper()
		resp, body := f.page(t, "POST", "/signin", url.Values{"username": {"alice"}, "password": {pw}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
		}
		return cookieHeader(resp)
	}
	post := func(cookie string, form url.Values) (*http.Response, string) {
		t.Helper()
		return f.page(t, "POST", "/account", form, "Cookie", cookie)
	}
	mine, jar := signin(testPassword)
	other, _ := signin(testPassword)
	csrf := jar["csrf_access_token"]

	_, page := f.page(t, "GET", "/account", nil, "Cookie", mine)
	if strings.Count(page, `<li class="session`) != 2 || strings.Count(page, "This device") != 1 {
		t.Fatalf("account page does not list two sessions, one this device's:\n%s", page)
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"unknown action", url.Values{"action": {"nothing"}, "csrf_token": {csrf}}, 400, "The form could not be read."},
		{"no session", url.Values{"action": {"end-session"}, "csrf_token": {csrf}}, 400, "No session was chosen."},
		{"unknown session", url.Values{"action": {"end-session"}, "sid": {"nope"}, "csrf_token": {csrf}}, 404, "That session has already ended."},
		{"no CSRF value", url.Values{"action": {"end-others"}}, 403, "This page was out of date, so nothing was changed. Try again."},
		{"wrong current password", url.Values{"action": {"password"}, "current_password": {"wrong"}, "new_password": {"a new password"}, "csrf_token": {csrf}}, 400, "The current password is wrong."},
		{"short new password", url.Values{"action": {"password"}, "current_password": {testPassword}, "new_password": {"short"}, "csrf_token": {csrf}}, 400, "The new password is not accepted: it must be at least 8 characters long."},
	} {
		resp, body := post(mine, c.form)
		if resp.StatusCode != c.status || !strings.Contains(body, html.EscapeString(c.msg)) || len(resp.Cookies()) != 0 {
			t.Errorf("%s: %d, cookies %q, want %d with %q\n%s", c.name, resp.StatusCode, resp.Header["Set-Cookie"], c.status, c.msg, body)
		}
	}
	wantStatus(t, "the other session after refused forms", f.do(t, "GET", "/userinfo", "", "", "Cookie", other), 200)

	// End every other session: this one goes on with new cookies.
	resp, _ := post(mine, url.Values{"action": {"end-others"}, "csrf_token": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?notice=others-ended" {
		t.Fatalf("end-others: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	wantStatus(t, "the other session after end-others", f.do(t, "GET", "/userinfo", "", "", "Cookie", other), http.StatusUnauthorized)
	if len(resp.Cookies()) == 4 {
		mine, jar = cookieHeader(resp)
	}
	wantStatus(t, "this session after end-others", f.do(t, "GET", "/userinfo", "", "", "Cookie", mine), 200)
	_, page = f.page(t, "GET", "/account?notice=others-ended", nil, "Cookie", mine)
	if !strings.Contains(page, accountNotices["others-ended"]) || strings.Count(page, `<li class="session`) != 1 {
		t.Errorf("account page after end-others:\n%s", page)
	}

	// Change the password: the other sessions end, this one goes on.
	other, _ = signin(testPassword)
	const newPassword = "a brand new password"
	resp, _ = post(mine, url.Values{"action": {"password"}, "current_password": {testPassword}, "new_password": {newPassword}, "csrf_token": {jar["csrf_access_token"]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?notice=password-changed" {
		t.Fatalf("password change: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(resp.Cookies()) == 4 {
		mine, _ = cookieHeader(resp)
	}
	wantStatus(t, "this session after the password change", f.do(t, "GET", "/userinfo", "", "", "Cookie", mine), 200)
	wantStatus(t, "the other session after the password change", f.do(t, "GET", "/userinfo", "", "", "Cookie", other), http.StatusUnauthorized)
	if resp, _ := f.page(t, "POST", "/signin", url.Values{"username": {"alice"}, "password": {testPassword}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: %d", resp.StatusCode)
	}
	signin(newPassword)
}
