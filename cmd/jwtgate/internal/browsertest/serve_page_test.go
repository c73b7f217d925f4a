package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/cmd/jwtgate/server/servertest"
)

// servePageResult is what node/serve_page.mjs reports.
type servePageResult struct {
	BrowserVersion string            `json:"browserVersion"`
	URL            string            `json:"url"`
	PageHeaders    map[string]string `json:"pageHeaders"`
	ScriptHeaders  map[string]string `json:"scriptHeaders"`
	Steps          []servePageStep   `json:"steps"`
	Screenshots    []string          `json:"screenshots"`
	PageErrors     []string          `json:"pageErrors"`
	Console        []string          `json:"console"`
}

type servePageStep struct {
	Name           string          `json:"name"`
	Method         string          `json:"method"`
	Path           string          `json:"path"`
	CSRFSent       *string         `json:"csrfSent"`
	SecFetchSite   *string         `json:"secFetchSite"`
	Status         int             `json:"status"`
	Body           map[string]any  `json:"body"`
	SetCookie      []string        `json:"setCookie"`
	StatusText     *string         `json:"statusText"`
	DocumentCookie string          `json:"documentCookie"`
	Cookies        []browserCookie `json:"cookies"`
}

const servePagePassword = "page test: correct horse battery"

// TestServePageInChromium signs in on the page of "jwtgate serve" and
// clicks through it in headless Chromium: cookie mode with the CSRF
// header, a POST without it refused, refresh, sign out.
func TestServePageInChromium(t *testing.T) {
	node, chromium := requireBrowser(t)
	srv, s := servertest.Start(t, servertest.Options{Username: "alice", Password: servePagePassword})

	out := t.TempDir()
	if keep := os.Getenv("JWTGATE_BROWSERTEST_OUT"); keep != "" {
		out = filepath.Join(keep, "serve-page")
	}
	cmd := exec.Command(node, "serve_page.mjs", srv.URL+"/", "--username", "alice", "--password", servePagePassword, "--out", out)
	cmd.Dir = "node"
	cmd.Env = append(os.Environ(), "JWTGATE_CHROMIUM="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node serve_page.mjs: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	if stderr.Len() > 0 {
		t.Logf("serve_page.mjs stderr:\n%s", stderr.String())
	}
	var res servePageResult
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decoding the report of serve_page.mjs: %v", err)
	}
	t.Logf("Chromium %s; screenshots: %s", res.BrowserVersion, strings.Join(res.Screenshots, ", "))
	checkServePage(t, srv.URL, s.Gate(), &res)
}

// wantPageStep is the expected outcome of one step.
type wantPageStep struct {
	name, method, path string
	csrf               string // the CSRF cookie whose value is sent, or ""
	status             int
	errCode, errDesc   string // of a refusal
	statusText         string // the page's status area ("" for a step not made by a button)
}

var wantPageSteps = []wantPageStep{
	{"signin", "POST", "/login?cookies=1", "", 200, "", "", "Signed in."},
	{"userinfo", "GET", "/userinfo", "", 200, "", "", "Signed in as alice."},
	{"nocsrf", "POST", "/logout", "", 403, "csrf_failed", "Missing CSRF token", "Refused (403): Missing CSRF token"},
	{"refreshNoCSRF", "POST", "/refresh", "", 403, "csrf_failed", "Missing CSRF token", ""},
	{"refresh", "POST", "/refresh", csrfRefreshName, 200, "", "", "Tokens refreshed."},
	{"userinfoAfterRefresh", "GET", "/userinfo", "", 200, "", "", "Signed in as alice."},
	{"signout", "POST", "/logout", csrfAccessName, 200, "", "", "Signed out."},
	{"userinfoAfterSignout", "GET", "/userinfo", "", 401, "unauthorized", "", "Refused (401): "},
}

func checkServePage(t *testing.T, srvURL string, gate *jwtgate.Gate, res *servePageResult) {
	t.Helper()
	if len(res.PageErrors) > 0 {
		t.Errorf("uncaught errors in the page: %q", res.PageErrors)
	}
	// A CSP violation or a failed load shows in the console as an error.
	for _, m := range res.Console {
		if strings.HasPrefix(m, "error:") && !strings.Contains(m, "status of 40") {
			t.Errorf("browser console: %s", m)
		}
	}

	// The page and its script as the browser received them.
	for what, h := range map[string]map[string]string{"GET /": res.PageHeaders, "GET /app.js": res.ScriptHeaders} {
		csp := h["content-security-policy"]
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || h["x-content-type-options"] != "nosniff" || h["x-frame-options"] != "DENY" {
			t.Errorf("%s: headers %v, want a CSP with script-src 'self' and no unsafe-inline, nosniff, X-Frame-Options DENY", what, h)
		}
	}
	if ct := res.PageHeaders["content-type"]; ct != "text/html; charset=utf-8" {
		t.Errorf("GET /: Content-Type %q", ct)
	}
	if ct := res.ScriptHeaders["content-type"]; ct != "text/javascript; charset=utf-8" || res.ScriptHeaders["status"] != "200" {
		t.Errorf("GET /app.js: status %s, Content-Type %q", res.ScriptHeaders["status"], ct)
	}

	steps := map[string]*servePageStep{}
	var names, wantNames []string
	for i := range res.Steps {
		steps[res.Steps[i].Name] = &res.Steps[i]
		names = append(names, res.Steps[i].Name)
	}
	for _, w := range wantPageSteps {
		wantNames = append(wantNames, w.name)
	}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("steps run: %q, want %q", names, wantNames)
	}

	// The cookies after signing in: token cookies HttpOnly, CSRF cookies
	// readable, each token's csrf claim the value of its CSRF cookie.
	login := steps["signin"]
	jar := checkServeJar(t, "after sign-in", login)
	if t.Failed() {
		t.FailNow()
	}
	checkServeToken(t, gate, "after sign-in", jar[accessName].Value, jwtgate.TypeAccess, jar[csrfAccessName].Value)
	checkServeToken(t, gate, "after sign-in", jar[refreshName].Value, jwtgate.TypeRefresh, jar[csrfRefreshName].Value)
	if len(login.SetCookie) != 4 {
		t.Errorf("sign-in: Set-Cookie %q, want the 4 cookies", login.SetCookie)
	}
	if login.Body["login"] != true || login.Body["access_token"] != nil || login.Body["refresh_token"] != nil {
		t.Errorf("sign-in: body %v, want {login: true} and no token", login.Body)
	}

	refreshed := steps["refresh"]
	jar2 := checkServeJar(t, "after refresh", refreshed)
	if t.Failed() {
		t.FailNow()
	}
	for _, n := range []string{accessName, refreshName, csrfAccessName, csrfRefreshName} {
		if jar2[n].Value == jar[n].Value {
			t.Errorf("refresh kept the cookie %s: the tokens must be rotated", n)
		}
	}
	checkServeToken(t, gate, "after refresh", jar2[accessName].Value, jwtgate.TypeAccess, jar2[csrfAccessName].Value)
	checkServeToken(t, gate, "after refresh", jar2[refreshName].Value, jwtgate.TypeRefresh, jar2[csrfRefreshName].Value)
	if len(refreshed.SetCookie) != 4 {
		t.Errorf("refresh: Set-Cookie %q, want the 4 cookies", refreshed.SetCookie)
	}

	// Each step: request, response, CSRF value sent, page status.
	for _, w := range wantPageSteps {
		s := steps[w.name]
		if s.Method != w.method || s.Path != w.path || s.Status != w.status {
			t.Errorf("%s: %s %s answered %d %v, want %s %s answered %d", w.name, s.Method, s.Path, s.Status, s.Body, w.method, w.path, w.status)
			continue
		}
		if s.SecFetchSite == nil || *s.SecFetchSite != "same-origin" {
			t.Errorf("%s: Sec-Fetch-Site %v, want same-origin", w.name, deref(s.SecFetchSite))
		}
		if w.status != http.StatusOK && (s.Body["error"] != w.errCode || (w.errDesc != "" && s.Body["error_description"] != w.errDesc)) {
			t.Errorf("%s: body %v, want error %q (%q)", w.name, s.Body, w.errCode, w.errDesc)
		}
		// The CSRF value sent is that of the cookies at the time.
		cookiesThen := jar
		if slices.Index(wantNames, w.name) > slices.Index(wantNames, "refresh") {
			cookiesThen = jar2
		}
		wantCSRF := ""
		if w.csrf != "" {
			wantCSRF = cookiesThen[w.csrf].Value
		}
		if w.name == "refresh" {
			wantCSRF = jar[csrfRefreshName].Value // sent before the rotation
		}
		if got := deref(s.CSRFSent); got != wantCSRF || (wantCSRF == "") != (s.CSRFSent == nil) {
			t.Errorf("%s: X-CSRF-TOKEN %q, want %q", w.name, got, wantCSRF)
		}
		if w.statusText != "" && (s.StatusText == nil || !strings.HasPrefix(*s.StatusText, w.statusText)) {
			t.Errorf("%s: the page shows %q, want %q", w.name, deref(s.StatusText), w.statusText)
		}
	}
	for _, name := range []string{"userinfo", "userinfoAfterRefresh"} {
		if u := steps[name].Body["username"]; u != "alice" {
			t.Errorf("%s: username %v, want alice", name, u)
		}
	}

	// Refused requests change nothing: no Set-Cookie, the same cookies,
	// and the session still works afterwards (userinfoAfterRefresh).
	for _, name := range []string{"userinfo", "nocsrf", "refreshNoCSRF", "userinfoAfterRefresh", "userinfoAfterSignout"} {
		if len(steps[name].SetCookie) != 0 {
			t.Errorf("%s: Set-Cookie %q", name, steps[name].SetCookie)
		}
	}
	for _, name := range []string{"userinfo", "nocsrf", "refreshNoCSRF"} {
		if !sameValues(cookieMap(steps[name].Cookies), jar) {
			t.Errorf("%s: the cookies changed: %+v", name, steps[name].Cookies)
		}
	}

	// Signing out deletes the four cookies; then /userinfo is refused.
	out := steps["signout"]
	if len(out.SetCookie) != 4 {
		t.Errorf("sign-out: Set-Cookie %q, want the 4 cookies deleted", out.SetCookie)
	}
	for _, line := range out.SetCookie {
		if name, rest, _ := strings.Cut(line, "="); !slices.Contains([]string{accessName, refreshName, csrfAccessName, csrfRefreshName}, name) || !strings.HasPrefix(rest, ";") || !strings.Contains(line, "Max-Age=0") {
			t.Errorf("sign-out: Set-Cookie %q does not delete a session cookie", line)
		}
	}
	if len(out.Cookies) != 0 || out.DocumentCookie != "" {
		t.Errorf("after sign-out: cookies %+v, document.cookie %q", out.Cookies, out.DocumentCookie)
	}
	if b := out.Body; b["logout"] != true {
		t.Errorf("sign-out: body %v", b)
	}
	// The tokens of the last session are revoked, not only forgotten: a
	// client that kept the cookies is refused.
	for _, c := range []struct{ method, path, token, csrf string }{
		{"GET", "/userinfo", accessName, csrfAccessName},
		{"POST", "/refresh", refreshName, csrfRefreshName},
	} {
		req, err := http.NewRequest(c.method, srvURL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: c.token, Value: jar2[c.token].Value})
		req.AddCookie(&http.Cookie{Name: c.csrf, Value: jar2[c.csrf].Value})
		req.Header.Set("X-CSRF-TOKEN", jar2[c.csrf].Value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("after sign-out, %s %s with the kept %s: %d, want 401", c.method, c.path, c.token, resp.StatusCode)
		}
	}
	checkScreenshot(t, res.Screenshots)
	if t.Failed() {
		t.Logf("browser console: %q", res.Console)
	}
}

// checkServeJar checks the four cookies the browser holds after a step and
// what JavaScript sees of them, and returns them by name.
func checkServeJar(t *testing.T, when string, s *servePageStep) map[string]browserCookie {
	t.Helper()
	jar := cookieMap(s.Cookies)
	if len(s.Cookies) != 4 || len(jar) != 4 {
		t.Errorf("%s: the browser holds %d cookies, want 4: %+v", when, len(s.Cookies), s.Cookies)
	}
	for _, name := range []string{accessName, refreshName, csrfAccessName, csrfRefreshName} {
		c, ok := jar[name]
		if !ok {
			t.Errorf("%s: no cookie %s", when, name)
			continue
		}
		token := name == accessName || name == refreshName
		if c.HTTPOnly != token || c.Path != "/" || c.Secure || c.SameSite != "Lax" || c.Domain != "127.0.0.1" || c.Value == "" || c.Expires <= 0 {
			t.Errorf("%s: cookie %+v, want HttpOnly %v, Path /, not Secure, SameSite Lax, host-only, persistent, a value", when, c, token)
		}
	}
	checkDocumentCookie(t, when, s.DocumentCookie, jar)
	return jar
}

// checkServeToken verifies a token cookie with the server's Gate and checks
// that its csrf claim is the readable CSRF cookie's value.
func checkServeToken(t *testing.T, gate *jwtgate.Gate, when, value, typ, csrf string) {
	t.Helper()
	tok, err := gate.DecodeToken(context.Background(), value)
	if err != nil {
		t.Errorf("%s: the %s cookie does not hold a valid token: %v", when, typ, err)
		return
	}
	if tok.Identity != "alice" || tok.Type != typ || tok.CSRF == "" || tok.CSRF != csrf {
		t.Errorf("%s: %s token: identity %q, type %q, csrf %q; want alice, %s, csrf %q", when, typ, tok.Identity, tok.Type, tok.CSRF, typ, csrf)
	}
}
