package browsertest

import (
	"net/http"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server/servertest"
)

// pagesResult is what node/pages.mjs reports.
type pagesResult struct {
	pageReport
	SigninCookies    []browserCookie `json:"signinCookies"`
	SignedOutCookies []browserCookie `json:"signedOutCookies"`
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

	var res pagesResult
	runPagesScript(t, node, chromium, "pages.mjs", "pages", srv.URL, []string{"--username", "alice", "--password", pagesPassword,
		"--new-password", pagesNewPassword, "--markup-user", markupUser}, &res)
	res.check(t, "pages.mjs", wantPagesSteps, wantScans, 9)
	for _, page := range []string{"signin", "account"} {
		res.checkHeaders(t, page, nil)
	}
	checkPages(t, srv.URL, &res)
}

// checkPages checks the cookies pages.mjs saw: those of a sign-in, and
// that the first device's, kept after its sign-out, are refused.
func checkPages(t *testing.T, srvURL string, res *pagesResult) {
	t.Helper()
	// The cookies of a sign-in: tokens HttpOnly, CSRF values readable.
	jar := cookieMap(res.SigninCookies)
	for _, name := range []string{accessName, refreshName, csrfAccessName, csrfRefreshName} {
		c, ok := jar[name]
		token := name == accessName || name == refreshName
		if !ok || c.HTTPOnly != token || c.SameSite != "Lax" || c.Value == "" {
			t.Errorf("cookie %s after sign-in: %+v, want HttpOnly %v, SameSite Lax", name, c, token)
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
}
