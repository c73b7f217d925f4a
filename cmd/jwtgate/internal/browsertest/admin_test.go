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

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server/servertest"
)

// adminResult is what node/admin.mjs reports.
type adminResult struct {
	BrowserVersion string                       `json:"browserVersion"`
	URL            string                       `json:"url"`
	Steps          []string                     `json:"steps"`
	Problems       []string                     `json:"problems"`
	Axe            []axeScan                    `json:"axe"`
	Headers        map[string]map[string]string `json:"headers"`
	Screenshots    []string                     `json:"screenshots"`
	CSRFRefusals   []csrfRefusal                `json:"csrfRefusals"`
	PageErrors     []string                     `json:"pageErrors"`
	Console        []string                     `json:"console"`
}

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

	out := t.TempDir()
	if keep := os.Getenv("JWTGATE_BROWSERTEST_OUT"); keep != "" {
		out = filepath.Join(keep, "admin")
	}
	args := []string{"admin.mjs", srv.URL + "/", "--admin", "root", "--password", pagesPassword, "--user", "alice",
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
		t.Fatalf("node admin.mjs: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	if stderr.Len() > 0 {
		t.Logf("admin.mjs stderr:\n%s", stderr.String())
	}
	var res adminResult
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decoding the report of admin.mjs: %v", err)
	}
	t.Logf("Chromium %s; screenshots: %s", res.BrowserVersion, strings.Join(res.Screenshots, ", "))

	for _, p := range res.Problems {
		t.Errorf("admin.mjs: %s", p)
	}
	if !slices.Equal(res.Steps, wantAdminSteps) {
		t.Errorf("steps run: %q, want %q", res.Steps, wantAdminSteps)
	}
	if len(res.PageErrors) > 0 {
		t.Errorf("uncaught errors in the pages: %q", res.PageErrors)
	}
	for _, m := range res.Console {
		if strings.Contains(m, ": error: ") && !strings.Contains(m, "the server responded with a status of 4") {
			t.Errorf("browser console: %s", m)
		}
	}
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
	if !slices.Equal(scanned, wantAdminScans) {
		t.Errorf("axe scanned %q, want %q", scanned, wantAdminScans)
	}
	h := res.Headers["admin"]
	for k, v := range map[string]string{
		"content-security-policy":    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"x-content-type-options":     "nosniff",
		"x-frame-options":            "DENY",
		"referrer-policy":            "no-referrer",
		"cross-origin-opener-policy": "same-origin",
		"cache-control":              "no-store",
		"content-type":               "text/html; charset=utf-8",
	} {
		if h[k] != v {
			t.Errorf("admin page: %s %q, want %q", k, h[k], v)
		}
	}
	if len(res.CSRFRefusals) != 4 {
		t.Errorf("%d changes without CSRF made, want 4", len(res.CSRFRefusals))
	}
	for _, r := range res.CSRFRefusals {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s %s without its CSRF value: %d, want 403", r.Method, r.Path, r.Status)
		}
	}
	checkScreenshot(t, res.Screenshots)
	if t.Failed() {
		t.Logf("browser console: %q", res.Console)
	}
}
