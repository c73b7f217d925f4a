package browsertest

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runScript runs node/script on url with args and the Chromium of
// requireBrowser, and decodes the one JSON object it prints into res;
// a field res does not know fails the test.
func runScript(t *testing.T, node, chromium, script, url string, args []string, res any) {
	t.Helper()
	cmd := exec.Command(node, append([]string{script, url}, args...)...)
	cmd.Dir = "node"
	cmd.Env = append(os.Environ(), "JWTGATE_CHROMIUM="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s %s: %v\nstderr:\n%s\nstdout:\n%s", script, url, err, stderr.String(), stdout.String())
	}
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", script, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(res); err != nil {
		t.Fatalf("decoding the report of %s: %v\nstderr:\n%s", script, err, stderr.String())
	}
}

// outDir is where a script saves its screenshots: a directory of the
// test, or name below JWTGATE_BROWSERTEST_OUT to keep them.
func outDir(t *testing.T, name string) string {
	t.Helper()
	if keep := os.Getenv("JWTGATE_BROWSERTEST_OUT"); keep != "" {
		return filepath.Join(keep, name)
	}
	return t.TempDir()
}

// ---- the pages of "jwtgate serve": admin.mjs and pages.mjs ----

// pageReport is what admin.mjs and pages.mjs both report (see run in
// node/common.mjs).
type pageReport struct {
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

// report is the part of the report of either script that r holds.
func (r *pageReport) report() *pageReport { return r }

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

// pageHeaders are the security headers every page of "jwtgate serve"
// sends, as the browser received them.
var pageHeaders = map[string]string{
	"content-security-policy":    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
	"x-content-type-options":     "nosniff",
	"referrer-policy":            "no-referrer",
	"cross-origin-opener-policy": "same-origin",
	"cache-control":              "no-store",
	"content-type":               "text/html; charset=utf-8",
}

// runPagesScript runs script (admin.mjs or pages.mjs) on the server at
// srvURL with args, keeping its screenshots as name (see outDir) and,
// with JWTGATE_SCREENSHOTS=1, the README's in docs/screenshots, and
// decodes its report into res. When the test fails, the browser console
// is logged.
func runPagesScript(t *testing.T, node, chromium, script, name, srvURL string, args []string, res interface{ report() *pageReport }) {
	t.Helper()
	rep := res.report()
	args = append(args, "--out", outDir(t, name))
	if os.Getenv("JWTGATE_SCREENSHOTS") == "1" {
		shots, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "docs", "screenshots"))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--shots", shots)
	}
	runScript(t, node, chromium, script, srvURL+"/", args, res)
	t.Logf("Chromium %s; screenshots: %s", rep.BrowserVersion, strings.Join(rep.Screenshots, ", "))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console: %q", rep.Console)
		}
	})
}

// check checks what every run of admin.mjs and pages.mjs must show: no
// problem reported; the steps run and the page states scanned, as
// listed; no uncaught error in the pages, nor an error in the console
// but the refusals asked for; no serious or critical axe-core
// violation; refusals requests made without their CSRF value, each
// refused with 403; and real screenshots.
func (rep *pageReport) check(t *testing.T, script string, steps, scans []string, refusals int) {
	t.Helper()
	for _, p := range rep.Problems {
		t.Errorf("%s: %s", script, p)
	}
	if !slices.Equal(rep.Steps, steps) {
		t.Errorf("steps run: %q, want %q", rep.Steps, steps)
	}
	if len(rep.PageErrors) > 0 {
		t.Errorf("uncaught errors in the pages: %q", rep.PageErrors)
	}
	// A CSP violation or a failed script shows in the console as an
	// error; refusals the test asks for show as failed loads (4xx).
	for _, m := range rep.Console {
		if strings.Contains(m, ": error: ") && !strings.Contains(m, "the server responded with a status of 4") {
			t.Errorf("browser console: %s", m)
		}
	}

	// axe-core: no serious or critical violation on any page state.
	var scanned []string
	for _, s := range rep.Axe {
		scanned = append(scanned, s.Page)
		for _, v := range s.Violations {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("axe on %s (%s): %s %s: %s at %q", s.Page, s.URL, v.Impact, v.ID, v.Help, v.Nodes)
			} else {
				t.Logf("axe on %s: %s %s: %s at %q", s.Page, v.Impact, v.ID, v.Help, v.Nodes)
			}
		}
	}
	if !slices.Equal(scanned, scans) {
		t.Errorf("axe scanned %q, want %q", scanned, scans)
	}

	// Every state-changing request without its CSRF value was refused.
	if len(rep.CSRFRefusals) != refusals {
		t.Errorf("%d requests without CSRF made, want %d", len(rep.CSRFRefusals), refusals)
	}
	for _, r := range rep.CSRFRefusals {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s %s without its CSRF value: %d, want 403", r.Method, r.Path, r.Status)
		}
	}
	checkScreenshot(t, rep.Screenshots)
}

// checkHeaders checks the headers of page as the browser received
// them: pageHeaders, and extra besides.
func (rep *pageReport) checkHeaders(t *testing.T, page string, extra map[string]string) {
	t.Helper()
	want := maps.Clone(pageHeaders)
	maps.Copy(want, extra)
	h := rep.Headers[page]
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s page: %s %q, want %q", page, k, h[k], v)
		}
	}
}
