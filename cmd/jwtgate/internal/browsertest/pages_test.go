package browsertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server/servertest"
)

// pagesResult is what node/pages.mjs reports.
type pagesResult struct {
	BrowserVersion   string                       `json:"browserVersion"`
	URL              string                       `json:"url"`
	Steps            []string                     `json:"steps"`
	Problems         []string                     `json:"problems"`
	Axe              []axeScan                    `json:"axe"`
	Headers          map[string]map[string]string `json:"headers"`
	Screenshots      []string                     `json:"screenshots"`
	SigninCookies    []browserCookie              `json:"signinCookies"`
	SignedOutCookies []browserCookie              `json:"signedOutCookies"`
	CSRFRefusals     []csrfRefusal                `json:"csrfRefusals"`
	PageErrors       []string                     `json:"pageErrors"`
	Console          []string                     `json:"console"`
}

type axeScan struct {
	Page       string         `json:"page"`
	URL        string         `json:"url"`
	Violations []axeViolation `json:"violations"`
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

type csrfRefusal struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

const (
	// markupUser is a username with markup: the pages must show it as text.
	markupUser       = `<b id="injected-name">bold</b> & "quoted" <script>alert(1)</script>`
	pagesPassword    = "pages test: correct horse battery"
	pagesNewPassword = "pages test: a new horse, a new battery"
)

// The steps pages.mjs runs, in order, and the page states axe scans.
var (
	wantPagesSteps = []string{
		"signin page", "keyboard focus order", "wrong password", "keyboard sign-in", "second device",
		"account page lists both devices", "end the other device's session", "phone", "resume an expired session", "end every other session",
		"csrf", "cross-site sign-in form", "markup username", "password change", "sign out", "without javascript", "rate limit",
	}
	wantScans = []string{
		"signin", "signin wrong password", "account", "signin expired", "signin phone", "account phone", "account redrawn", "account markup username",
		"signin rate limited",
	}
)

// TestPagesInChromium drives the sign-in and account pages of "jwtgate
// serve" in headless Chromium (node/pages.mjs): several devices of one
// user, keyboard-only sign-in, ending sessions, a password change,
// sign-out, CSRF refusals, the pages without JavaScript, the rate limit,
// and an axe-core scan of every page state. With JWTGATE_SCREENSHOTS=1
// it writes the README's screenshots to docs/screenshots.
func TestPagesInChromium(t *testing.T) {
	node, chromium := requireBrowser(t)
	// A few failures pass; the rate-limit step spends the rest. The
	// period is long enough that no token comes back during the test.
	srv, _ := servertest.Start(t, servertest.Options{Username: "alice", Password: pagesPassword, LoginBurst: 5, LoginEvery: 5 * time.Minute,
		MoreUsers: map[string]string{markupUser: pagesPassword}})

	out := t.TempDir()
	if keep := os.Getenv("JWTGATE_BROWSERTEST_OUT"); keep != "" {
		out = filepath.Join(keep, "pages")
	}
	args := []string{"pages.mjs", srv.URL + "/", "--username", "alice", "--password", pagesPassword, "--new-password", pagesNewPassword,
		"--markup-user", markupUser, "--out", out}
	if os.Getenv("JWTGATE_SCREENSHOTS") == "1" {
		shots, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "docs", "screenshots"))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--shots", shots)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = "node"
	cmd.Env = append(os.Environ(), "JWTGATE_CHROMIUM="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node pages.mjs: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	if stderr.Len() > 0 {
		t.Logf("pages.mjs stderr:\n%s", stderr.String())
	}
	var res pagesResult
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decoding the report of pages.mjs: %v", err)
	}
	t.Logf("Chromium %s; screenshots: %s", res.BrowserVersion, strings.Join(res.Screenshots, ", "))
	checkPages(t, srv.URL, &res)
}

func checkPages(t *testing.T, srvURL string, res *pagesResult) {
	t.Helper()
	for _, p := range res.Problems {
		t.Errorf("pages.mjs: %s", p)
	}
	if !slices.Equal(res.Steps, wantPagesSteps) {
		t.Errorf("steps run: %q, want %q", res.Steps, wantPagesSteps)
	}
	if len(res.PageErrors) > 0 {
		t.Errorf("uncaught errors in the pages: %q", res.PageErrors)
	}
	// A CSP violation or a failed script shows in the console as an
	// error; refusals the test asks for show as failed loads (4xx).
	for _, m := range res.Console {
		if strings.Contains(m, ": error: ") && !strings.Contains(m, "the server responded with a status of 4") {
			t.Errorf("browser console: %s", m)
		}
	}

	// axe-core: no serious or critical violation on any page state.
	var scanned []string
	for _, s := range res.Axe {
		scanned = append(scanned, s.Page)
		for _, v := range s.Violations {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("axe on %s (%s): %s %s: %s at %q", s.Page, s.URL, v.Impact, v.ID, v.Help, v.Nodes)
			} else {
				t.Logf("axe on %s: %s %s: %s at %q", s.Page, v.Impact, v.ID, v.Help, v.Nodes)
			}
		}
	}
	if !slices.Equal(scanned, wantScans) {
		t.Errorf("axe scanned %q, want %q", scanned, wantScans)
	}

	// The security headers of the pages as the browser received them.
	for _, page := range []string{"signin", "account"} {
		h := res.Headers[page]
		want := map[string]string{
			"content-security-policy":    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
			"x-content-type-options":     "nosniff",
			"referrer-policy":            "no-referrer",
			"cross-origin-opener-policy": "same-origin",
			"cache-control":              "no-store",
			"content-type":               "text/html; charset=utf-8",
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("%s page: %s %q, want %q", page, k, h[k], v)
			}
		}
	}

	// The cookies of a sign-in: tokens HttpOnly, CSRF values readable.
	jar := cookieMap(res.SigninCookies)
	for _, name := range []string{accessName, refreshName, csrfAccessName, csrfRefreshName} {
		c, ok := jar[name]
		token := name == accessName || name == refreshName
		if !ok || c.HTTPOnly != token || c.SameSite != "Lax" || c.Value == "" {
			t.Errorf("cookie %s after sign-in: %+v, want HttpOnly %v, SameSite Lax", name, c, token)
		}
	}

	// Every state-changing request without its CSRF value was refused.
	if len(res.CSRFRefusals) != 9 {
		t.Errorf("%d requests without CSRF made, want 9", len(res.CSRFRefusals))
	}
	for _, r := range res.CSRFRefusals {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s %s without its CSRF value: %d, want 403", r.Method, r.Path, r.Status)
		}
	}

	// The first device signed out: its kept cookies are refused.
	if len(res.SignedOutCookies) != 0 {
		t.Errorf("cookies left after sign-out: %+v", res.SignedOutCookies)
	}
	if jar[accessName].Value != "" {
		for _, c := range []struct{ method, path, token, csrf string }{
			{"GET", "/userinfo", accessName, csrfAccessName},
			{"POST", "/refresh", refreshName, csrfRefreshName},
		} {
			req, err := http.NewRequest(c.method, srvURL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.AddCookie(&http.Cookie{Name: c.token, Value: jar[c.token].Value})
			req.AddCookie(&http.Cookie{Name: c.csrf, Value: jar[c.csrf].Value})
			req.Header.Set("X-CSRF-TOKEN", jar[c.csrf].Value)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("after sign-out, %s %s with the kept %s: %d, want 401", c.method, c.path, c.token, resp.StatusCode)
			}
		}
	}
	checkScreenshot(t, res.Screenshots)
	if t.Failed() {
		t.Logf("browser console: %q", res.Console)
	}
}
