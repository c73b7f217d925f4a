package browsertest

import (
	"testing"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server/servertest"
)

// The steps admin.mjs runs, in order, and the page states axe scans.
var (
	wantAdminSteps = []string{
		"admin signs in", "add a user", "end a session", "disable a user", "markup username", "delete with confirmation",
		"audit view", "csrf", "phone", "not fresh", "ordinary user",
	}
	wantAdminScans = []string{
		"admin", "admin user added", "admin sessions", "admin markup username", "admin confirm delete", "admin audit",
		"admin phone", "admin reauth", "admin forbidden",
	}
)

// TestAdminPageInChromium drives the admin page of "jwtgate serve" in
// headless Chromium (node/admin.mjs): an administrator adds a user,
// ends their session and disables them (both seen refused in the user's
// browser), deletes a user through the confirmation step, reads the
// audit view, and signs in again on the page after a refresh to make a
// change; changes without their CSRF value are refused, markup in a
// username is shown as text, an ordinary user gets the 403 page, and
// axe-core scans every page state. With JWTGATE_SCREENSHOTS=1 it writes
// the README's screenshots to docs/screenshots.
func TestAdminPageInChromium(t *testing.T) {
	node, chromium := requireBrowser(t)
	srv, _ := servertest.Start(t, servertest.Options{Username: "alice", Password: pagesPassword,
		Admins: map[string]string{"root": pagesPassword}})

	var res pageReport // admin.mjs reports no more than this
	runPagesScript(t, node, chromium, "admin.mjs", "admin", srv.URL, []string{"--admin", "root", "--password", pagesPassword, "--user", "alice",
		"--markup-user", markupUser}, &res)
	res.check(t, "admin.mjs", wantAdminSteps, wantAdminScans, 4)
	res.checkHeaders(t, "admin", map[string]string{"x-frame-options": "DENY"})
}
