package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/skipnote"
	"github.com/jwtgate/jwtgate/jwt"
)

//go:embed testdata/index.html
var indexHTML []byte

const installHint = "run `bash .ci/browser-deps.sh` from the repository root " +
	"(it runs `apt-get install -y chromium` and `npm ci --prefix cmd/jwtgate/internal/browsertest/node`); " +
	"JWTGATE_CHROMIUM and JWTGATE_NODE select other binaries"

// servicesRequired reports whether missing tools fail the test instead of
// skipping it.
func servicesRequired() bool {
	return os.Getenv("JWTGATE_REQUIRE_SERVICES") == "1" || os.Getenv("CI") == "true"
}

// requireBrowser returns node and Chromium, or skips the test (fails it
// when services are required) saying how to install what is missing.
func requireBrowser(t *testing.T) (node, chromium string) {
	t.Helper()
	var missing []string
	node = os.Getenv("JWTGATE_NODE")
	if node == "" {
		p, err := exec.LookPath("node")
		if err != nil {
			missing = append(missing, "node (Node.js 20 or later) is not on PATH")
		}
		node = p
	}
	chromium = os.Getenv("JWTGATE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if fi, err := os.Stat(chromium); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		missing = append(missing, "Chromium is not installed at "+chromium)
	}
	for _, pkg := range []string{"playwright-core", "axe-core"} {
		if _, err := os.Stat(filepath.Join("node", "node_modules", pkg, "package.json")); err != nil {
			missing = append(missing, pkg+" is not installed in cmd/jwtgate/internal/browsertest/node/node_modules")
		}
	}
	if len(missing) > 0 {
		msg := "browser test: " + strings.Join(missing, "; ") + ": " + installHint
		if servicesRequired() {
			t.Fatal(msg)
		}
		skipnote.Skipf(t, "%s", msg)
	}
	return node, chromium
}

// ---- the server ----

// seenRequest is what the server saw of one request.
type seenRequest struct {
	Method, Path, Host string
	SecFetchSite       string
	Cookies            []string // names of the cookies sent
	CSRFHeader         bool
	Status             int
}

// app is the test application: a Gate, the page and four endpoints.
type app struct {
	gate *jwtgate.Gate
	base string // the page's origin, set once the server listens

	mu   sync.Mutex
	seen []seenRequest
}

func newApp(t *testing.T, cookies *jwtgate.CookieConfig) *app {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte("browsertest: a 32-byte HMAC key!"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{
		SigningKey: key,
		Algorithm:  jwt.HS256,
		Locations:  []jwtgate.Location{jwtgate.InHeader{}, jwtgate.InCookie{}},
		Cookies:    cookies,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &app{gate: g}
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(indexHTML)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /evil", a.evil)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.Handle("POST /refresh", a.gate.Refresh(http.HandlerFunc(a.refresh)))
	mux.Handle("POST /api/echo", a.gate.Required(http.HandlerFunc(a.echo)))
	return a.record(mux)
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// record notes every request but the favicon's.
func (a *app) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if r.URL.Path == "/favicon.ico" {
			return
		}
		s := seenRequest{
			Method:       r.Method,
			Path:         r.URL.Path,
			Host:         r.Host,
			SecFetchSite: r.Header.Get("Sec-Fetch-Site"),
			CSRFHeader:   r.Header.Get("X-CSRF-TOKEN") != "",
			Status:       sw.status,
		}
		for _, c := range r.Cookies() {
			s.Cookies = append(s.Cookies, c.Name)
		}
		a.mu.Lock()
		a.seen = append(a.seen, s)
		a.mu.Unlock()
	})
}

func (a *app) requests() []seenRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	var creds struct{ Username, Password string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&creds); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request"})
		return
	}
	if creds.Username != "alice" || creds.Password != "wonderland" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad_credentials"})
		return
	}
	ctx := r.Context()
	access, err := a.gate.CreateAccessToken(ctx, creds.Username, jwtgate.Fresh())
	if err == nil {
		err = a.gate.SetAccessCookies(w, access)
	}
	var refresh string
	if err == nil {
		refresh, err = a.gate.CreateRefreshToken(ctx, creds.Username)
	}
	if err == nil {
		err = a.gate.SetRefreshCookies(w, refresh)
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	// The tokens stay out of the body: the page must not see them.
	writeJSON(w, http.StatusOK, map[string]string{"identity": creds.Username})
}

func (a *app) refresh(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	id := t.Identity
	access, err := a.gate.CreateAccessToken(r.Context(), id)
	if err == nil {
		err = a.gate.SetAccessCookies(w, access)
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"identity": id, "refreshed": true})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.gate.UnsetJWTCookies(w); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"logout": true})
}

func (a *app) echo(w http.ResponseWriter, r *http.Request) {
	t, ok := jwtgate.TokenFrom(r.Context())
	if !ok {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "no token in context"})
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<10))
	writeJSON(w, http.StatusOK, map[string]any{
		"identity": t.Identity,
		"type":     t.Type,
		"location": t.Location.String(),
		"echo":     string(body),
	})
}

var evilPage = template.Must(template.New("evil").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>another site</title></head>
<body>
<h1>Another site</h1>
<p>This form posts to {{.}} from another site: the browser decides which cookies go with it, and this page cannot add the CSRF header.</p>
<form id="attack" method="POST" action="{{.}}">
<input type="hidden" name="msg" value="cross-site">
<button id="attack-submit" type="submit">submit</button>
</form>
</body></html>
`))

// evil serves, on any host, a page whose form posts to the protected
// endpoint of the page's origin.
func (a *app) evil(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	evilPage.Execute(w, a.base+"/api/echo")
}

// ---- what flow.mjs reports ----

type flowResult struct {
	BrowserVersion string           `json:"browserVersion"`
	URL            string           `json:"url"`
	Steps          []stepResult     `json:"steps"`
	CrossSite      *crossSiteResult `json:"crossSite"`
	Screenshots    []string         `json:"screenshots"`
	Problems       []string         `json:"problems"`
	PageErrors     []string         `json:"pageErrors"`
	Console        []string         `json:"console"`
}

type stepResult struct {
	Name            string          `json:"name"`
	Path            string          `json:"path"`
	Status          int             `json:"status"`
	Body            map[string]any  `json:"body"`
	CSRFSent        *string         `json:"csrfSent"`
	WWWAuthenticate *string         `json:"wwwAuthenticate"`
	DocumentCookie  string          `json:"documentCookie"`
	SetCookie       []string        `json:"setCookie"`
	Cookies         []browserCookie `json:"cookies"`
}

// browserCookie is a cookie as Playwright's context.cookies() gives it.
type browserCookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Domain   string  `json:"domain"`
	Path     string  `json:"path"`
	Expires  float64 `json:"expires"` // -1 for session cookies
	HTTPOnly bool    `json:"httpOnly"`
	Secure   bool    `json:"secure"`
	SameSite string  `json:"sameSite"`
}

type crossSiteResult struct {
	Skipped        string            `json:"skipped"`
	From           string            `json:"from"`
	Target         string            `json:"target"`
	Status         int               `json:"status"`
	Body           map[string]any    `json:"body"`
	RequestHeaders map[string]string `json:"requestHeaders"`
}

// ---- the test ----

// variant is one cookie configuration the flow runs with.
type variant struct {
	name    string
	cookies func() *jwtgate.CookieConfig
	// sameSite is the attribute in Set-Cookie ("" for none) and
	// browserSameSite what context.cookies() reports: Chromium leaves an
	// unspecified SameSite out and Playwright reports it as "Lax", the
	// browser's default.
	sameSite, browserSameSite string
	refreshPath               string
	// crossSiteCookies: may a cross-site form POST carry the token
	// cookies? Chromium sends cookies without SameSite on top-level
	// cross-site POSTs for two minutes after they are set ("Lax+POST"),
	// so with the defaults only the CSRF check stops such a request.
	crossSiteCookies bool
}

var variants = []variant{
	{
		// The defaults send SameSite=Lax, so a cross-site POST carries no
		// cookie at all.
		name:            "defaults",
		cookies:         jwtgate.DefaultCookies,
		sameSite:        "SameSite=Lax",
		browserSameSite: "Lax",
		refreshPath:     "/",
	},
	{
		// Without a SameSite attribute (flask-jwt-extended's default) the
		// browser sends the cookies on a fresh cross-site POST, and the
		// CSRF check alone must stop it.
		name: "no-samesite",
		cookies: func() *jwtgate.CookieConfig {
			c := jwtgate.DefaultCookies()
			c.SameSite = http.SameSiteDefaultMode
			return c
		},
		browserSameSite:  "Lax",
		refreshPath:      "/",
		crossSiteCookies: true,
	},
	{
		name: "strict",
		cookies: func() *jwtgate.CookieConfig {
			c := jwtgate.DefaultCookies()
			c.SameSite = http.SameSiteStrictMode
			c.RefreshPath = "/refresh"
			return c
		},
		sameSite:        "SameSite=Strict",
		browserSameSite: "Strict",
		refreshPath:     "/refresh",
	},
}

const (
	accessName      = "access_token_cookie"
	refreshName     = "refresh_token_cookie"
	csrfAccessName  = "csrf_access_token"
	csrfRefreshName = "csrf_refresh_token"
)

// wantStep is the expected outcome of one step of the page.
type wantStep struct {
	name, path string
	status     int
	errCode    string // "error" member of a refusal
	errDesc    string // "error_description" member of a refusal
}

var wantSteps = []wantStep{
	{"login", "/login", 200, "", ""},
	{"echoNoCSRF", "/api/echo", 403, "csrf_failed", "Missing CSRF token"},
	{"echoCSRF", "/api/echo", 200, "", ""},
	{"refreshNoCSRF", "/refresh", 403, "csrf_failed", "Missing CSRF token"},
	{"refreshWrongCSRF", "/refresh", 403, "csrf_failed", "CSRF double submit tokens do not match"},
	{"refresh", "/refresh", 200, "", ""},
	{"echoStaleCSRF", "/api/echo", 403, "csrf_failed", "CSRF double submit tokens do not match"},
	{"echoAfterRefresh", "/api/echo", 200, "", ""},
	{"logout", "/logout", 200, "", ""},
	{"echoAfterLogout", "/api/echo", 401, "unauthorized", `Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")`},
}

func TestCookieCSRFFlowInChromium(t *testing.T) {
	node, chromium := requireBrowser(t)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			a := newApp(t, v.cookies())
			srv := httptest.NewUnstartedServer(a.handler())
			a.base = "http://" + srv.Listener.Addr().String()
			srv.Start()
			defer srv.Close()

			res := runFlow(t, node, chromium, srv.URL+"/", outDir(t, v.name))
			t.Logf("Chromium %s; screenshots: %s", res.BrowserVersion, strings.Join(res.Screenshots, ", "))
			checkFlow(t, v, a, res)
		})
	}
}

// runFlow runs flow.mjs against url and decodes its report.
func runFlow(t *testing.T, node, chromium, url, out string) *flowResult {
	t.Helper()
	var res flowResult
	runScript(t, node, chromium, "flow.mjs", url, []string{"--out", out}, &res)
	return &res
}

func checkFlow(t *testing.T, v variant, a *app, res *flowResult) {
	for _, p := range res.Problems {
		t.Errorf("flow.mjs: %s", p)
	}
	if len(res.PageErrors) > 0 {
		t.Errorf("uncaught errors in the page: %q", res.PageErrors)
	}
	if t.Failed() || len(res.Steps) != len(wantSteps) {
		t.Logf("browser console: %q", res.Console)
	}

	// Statuses and bodies of every step.
	steps := map[string]*stepResult{}
	var names []string
	for i := range res.Steps {
		s := &res.Steps[i]
		steps[s.Name] = s
		names = append(names, s.Name)
	}
	var wantNames []string
	for _, w := range wantSteps {
		wantNames = append(wantNames, w.name)
	}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("steps run: %q, want %q", names, wantNames)
	}
	for _, w := range wantSteps {
		s := steps[w.name]
		if s.Path != w.path || s.Status != w.status {
			t.Errorf("%s: POST %s answered %d %v, want POST %s answered %d", w.name, s.Path, s.Status, s.Body, w.path, w.status)
			continue
		}
		if w.status != http.StatusOK {
			if s.Body["error"] != w.errCode || s.Body["error_description"] != w.errDesc {
				t.Errorf("%s: body %v, want error %q, error_description %q", w.name, s.Body, w.errCode, w.errDesc)
			}
		}
	}
	for _, name := range []string{"echoCSRF", "echoAfterRefresh"} {
		b := steps[name].Body
		if b["identity"] != "alice" || b["type"] != "access" || b["location"] != "cookies" || !strings.Contains(fmt.Sprint(b["echo"]), `"msg":`) {
			t.Errorf("%s: body %v, want alice's access token from the cookies and the request body echoed", name, b)
		}
	}
	if b := steps["refresh"].Body; b["identity"] != "alice" || b["refreshed"] != true {
		t.Errorf("refresh: body %v", b)
	}
	if w := steps["echoAfterLogout"].WWWAuthenticate; w == nil || *w != `Bearer realm="jwtgate"` {
		t.Errorf("echoAfterLogout: WWW-Authenticate %v, want %q", deref(w), `Bearer realm="jwtgate"`)
	}
	if w := steps["echoNoCSRF"].WWWAuthenticate; w != nil {
		t.Errorf("echoNoCSRF: WWW-Authenticate %q on a 403", *w)
	}

	// Cookies after logging in: the flags as the browser stored them, the
	// Set-Cookie lines as it received them, and what JavaScript sees.
	login := steps["login"]
	checkSetCookie(t, v, "login", login.SetCookie, []string{accessName, csrfAccessName, refreshName, csrfRefreshName}, false)
	jar := checkJar(t, v, "after login", login.Cookies)
	if t.Failed() {
		return
	}
	checkTokenCookie(t, a, "after login", jar[accessName].Value, jwtgate.TypeAccess, jar[csrfAccessName].Value)
	checkTokenCookie(t, a, "after login", jar[refreshName].Value, jwtgate.TypeRefresh, jar[csrfRefreshName].Value)
	if jar[refreshName].Expires <= jar[accessName].Expires {
		t.Errorf("refresh cookie expires at %v, not after the access cookie (%v)", jar[refreshName].Expires, jar[accessName].Expires)
	}
	checkDocumentCookie(t, "after login", login.DocumentCookie, jar)

	// The CSRF values the page sent are those of the readable cookies.
	wantSent := map[string]string{
		"echoNoCSRF":       "",
		"echoCSRF":         jar[csrfAccessName].Value,
		"refreshNoCSRF":    "",
		"refreshWrongCSRF": jar[csrfAccessName].Value,
		"refresh":          jar[csrfRefreshName].Value,
		"echoStaleCSRF":    jar[csrfAccessName].Value,
	}
	for name, want := range wantSent {
		if got := deref(steps[name].CSRFSent); got != want {
			t.Errorf("%s: the page sent X-CSRF-TOKEN %q, want %q", name, got, want)
		}
	}

	// Refused and ordinary requests set no cookies and leave the jar alone.
	for _, name := range []string{"echoNoCSRF", "echoCSRF", "refreshNoCSRF", "refreshWrongCSRF", "echoStaleCSRF", "echoAfterRefresh", "echoAfterLogout"} {
		if len(steps[name].SetCookie) > 0 {
			t.Errorf("%s: response set cookies: %q", name, steps[name].SetCookie)
		}
	}
	for _, name := range []string{"echoNoCSRF", "echoCSRF", "refreshNoCSRF", "refreshWrongCSRF"} {
		if got := cookieMap(steps[name].Cookies); !sameValues(got, jar) {
			t.Errorf("%s: the cookies changed: %v", name, steps[name].Cookies)
		}
	}

	// The refresh replaces the access cookie and its CSRF value only.
	ref := steps["refresh"]
	checkSetCookie(t, v, "refresh", ref.SetCookie, []string{accessName, csrfAccessName}, false)
	jar2 := checkJar(t, v, "after refresh", ref.Cookies)
	if t.Failed() {
		return
	}
	if jar2[accessName].Value == jar[accessName].Value || jar2[csrfAccessName].Value == jar[csrfAccessName].Value {
		t.Errorf("refresh kept the old access cookie or CSRF value")
	}
	if jar2[refreshName].Value != jar[refreshName].Value || jar2[csrfRefreshName].Value != jar[csrfRefreshName].Value {
		t.Errorf("refresh changed the refresh cookies")
	}
	checkTokenCookie(t, a, "after refresh", jar2[accessName].Value, jwtgate.TypeAccess, jar2[csrfAccessName].Value)
	checkDocumentCookie(t, "after refresh", ref.DocumentCookie, jar2)
	if got := deref(steps["echoAfterRefresh"].CSRFSent); got != jar2[csrfAccessName].Value {
		t.Errorf("echoAfterRefresh: the page sent X-CSRF-TOKEN %q, want the new value %q", got, jar2[csrfAccessName].Value)
	}
	if got := deref(steps["echoAfterLogout"].CSRFSent); got != jar2[csrfAccessName].Value {
		t.Errorf("echoAfterLogout: the page sent X-CSRF-TOKEN %q, want the last value %q", got, jar2[csrfAccessName].Value)
	}

	// Logging out deletes the four cookies.
	out := steps["logout"]
	checkSetCookie(t, v, "logout", out.SetCookie, []string{accessName, csrfAccessName, refreshName, csrfRefreshName}, true)
	if len(out.Cookies) != 0 {
		t.Errorf("cookies left after logout: %v", out.Cookies)
	}
	if out.DocumentCookie != "" {
		t.Errorf("document.cookie after logout: %q", out.DocumentCookie)
	}

	checkServerSide(t, v, a)
	checkCrossSite(t, v, a, res.CrossSite)
	checkScreenshot(t, res.Screenshots)
}

// checkSetCookie checks the Set-Cookie lines of one response.
func checkSetCookie(t *testing.T, v variant, step string, lines, names []string, deleting bool) {
	t.Helper()
	if len(lines) != len(names) {
		t.Errorf("%s: %d Set-Cookie lines %q, want %d", step, len(lines), lines, len(names))
		return
	}
	for i, line := range lines {
		attrs := strings.Split(line, "; ")
		name, value, _ := strings.Cut(attrs[0], "=")
		if name != names[i] {
			t.Errorf("%s: Set-Cookie %d is %q, want cookie %s", step, i, line, names[i])
			continue
		}
		has := func(a string) bool {
			return slices.ContainsFunc(attrs[1:], func(x string) bool { return strings.EqualFold(x, a) })
		}
		prefixed := func(p string) string {
			for _, x := range attrs[1:] {
				if len(x) >= len(p) && strings.EqualFold(x[:len(p)], p) {
					return x[len(p):]
				}
			}
			return ""
		}
		tokenCookie := name == accessName || name == refreshName
		if has("HttpOnly") != tokenCookie {
			t.Errorf("%s: %q: HttpOnly should be %v", step, line, tokenCookie)
		}
		if has("Secure") {
			t.Errorf("%s: %q: Secure on a plain-HTTP test", step, line)
		}
		wantPath := "/"
		if name == refreshName {
			wantPath = v.refreshPath
		}
		if p := prefixed("Path="); p != wantPath {
			t.Errorf("%s: %q: Path %q, want %q", step, line, p, wantPath)
		}
		if s := prefixed("SameSite="); (v.sameSite == "" && s != "") || (v.sameSite != "" && "SameSite="+s != v.sameSite) {
			t.Errorf("%s: %q: SameSite=%q, want %q", step, line, s, v.sameSite)
		}
		maxAge, err := strconv.Atoi(prefixed("Max-Age="))
		switch {
		case err != nil:
			t.Errorf("%s: %q: no Max-Age", step, line)
		case deleting && (maxAge != 0 || value != ""):
			t.Errorf("%s: %q does not delete the cookie", step, line)
		case !deleting && (maxAge <= 0 || value == ""):
			t.Errorf("%s: %q: empty value or Max-Age not positive", step, line)
		}
	}
}

// checkJar checks the four cookies stored by the browser and returns them
// by name.
func checkJar(t *testing.T, v variant, when string, cookies []browserCookie) map[string]browserCookie {
	t.Helper()
	jar := cookieMap(cookies)
	if len(cookies) != 4 || len(jar) != 4 {
		t.Errorf("%s: the browser holds %d cookies, want 4: %+v", when, len(cookies), cookies)
	}
	for _, name := range []string{accessName, refreshName, csrfAccessName, csrfRefreshName} {
		c, ok := jar[name]
		if !ok {
			t.Errorf("%s: no cookie %s in the browser", when, name)
			continue
		}
		wantHTTPOnly := name == accessName || name == refreshName
		wantPath := "/"
		if name == refreshName {
			wantPath = v.refreshPath
		}
		if c.HTTPOnly != wantHTTPOnly || c.Path != wantPath || c.Secure || c.SameSite != v.browserSameSite || c.Domain != "127.0.0.1" || c.Value == "" {
			t.Errorf("%s: cookie %+v, want HttpOnly %v, Path %s, not Secure, SameSite %s, host-only on 127.0.0.1, a value", when, c, wantHTTPOnly, wantPath, v.browserSameSite)
		}
		if c.Expires <= 0 {
			t.Errorf("%s: %s is a session cookie (expires %v); DefaultCookies makes persistent ones", when, name, c.Expires)
		}
	}
	return jar
}

// checkTokenCookie verifies a token cookie's value with the Gate and checks
// that its csrf claim is the value of the readable CSRF cookie.
func checkTokenCookie(t *testing.T, a *app, when, value, typ, csrf string) {
	t.Helper()
	tok, err := a.gate.DecodeToken(context.Background(), value)
	if err != nil {
		t.Errorf("%s: the %s cookie does not hold a valid token: %v", when, typ, err)
		return
	}
	if tok.Identity != "alice" || tok.Type != typ || tok.CSRF == "" || tok.CSRF != csrf {
		t.Errorf("%s: %s token: identity %q, type %q, csrf %q; want alice, %s, csrf %q (the CSRF cookie)", when, typ, tok.Identity, tok.Type, tok.CSRF, typ, csrf)
	}
}

// checkDocumentCookie checks that JavaScript sees exactly the CSRF cookies
// and nothing of the HttpOnly token cookies.
func checkDocumentCookie(t *testing.T, when, doc string, jar map[string]browserCookie) {
	t.Helper()
	seen := map[string]string{}
	for part := range strings.SplitSeq(doc, "; ") {
		if name, value, ok := strings.Cut(part, "="); ok {
			seen[name] = value
		}
	}
	want := map[string]string{csrfAccessName: jar[csrfAccessName].Value, csrfRefreshName: jar[csrfRefreshName].Value}
	if len(seen) != len(want) || seen[csrfAccessName] != want[csrfAccessName] || seen[csrfRefreshName] != want[csrfRefreshName] {
		t.Errorf("%s: document.cookie is %q, want exactly the CSRF cookies %v", when, doc, want)
	}
	for _, name := range []string{accessName, refreshName} {
		if strings.Contains(doc, name) || strings.Contains(doc, jar[name].Value) {
			t.Errorf("%s: the HttpOnly cookie %s is visible to document.cookie: %q", when, name, doc)
		}
	}
}

// checkServerSide checks what the server received from the page: the
// requests were same-origin, and the refresh cookie went only where its
// Path allows.
func checkServerSide(t *testing.T, v variant, a *app) {
	t.Helper()
	var fromPage []seenRequest
	for _, s := range a.requests() {
		if s.Method == http.MethodPost && s.SecFetchSite == "same-origin" {
			fromPage = append(fromPage, s)
		}
	}
	if len(fromPage) != len(wantSteps) {
		t.Errorf("the server saw %d same-origin POSTs, want %d: %+v", len(fromPage), len(wantSteps), a.requests())
		return
	}
	for i, s := range fromPage {
		w := wantSteps[i]
		if s.Path != w.path || s.Status != w.status {
			t.Errorf("server: request %d was POST %s answered %d, want POST %s answered %d", i, s.Path, s.Status, w.path, w.status)
		}
		loggedIn := i > 0 && i < len(wantSteps)-1 // between login and echoAfterLogout
		sentRefresh := slices.Contains(s.Cookies, refreshName)
		wantRefresh := loggedIn && (v.refreshPath == "/" || s.Path == v.refreshPath)
		if sentRefresh != wantRefresh {
			t.Errorf("server: %s (POST %s) carried the refresh cookie: %v, want %v (its Path is %s); cookies %q", w.name, s.Path, sentRefresh, wantRefresh, v.refreshPath, s.Cookies)
		}
		if got := slices.Contains(s.Cookies, accessName); got != loggedIn {
			t.Errorf("server: %s carried the access cookie: %v, want %v", w.name, got, loggedIn)
		}
	}
}

// checkCrossSite checks the cross-site form POST: never let through.
func checkCrossSite(t *testing.T, v variant, a *app, cs *crossSiteResult) {
	t.Helper()
	if cs == nil {
		t.Error("flow.mjs made no cross-site request")
		return
	}
	if cs.Skipped != "" {
		t.Errorf("cross-site request skipped: %s", cs.Skipped)
		return
	}
	var seen []seenRequest
	for _, s := range a.requests() {
		if s.SecFetchSite == "cross-site" && s.Method == http.MethodPost {
			seen = append(seen, s)
		}
	}
	if len(seen) != 1 {
		t.Errorf("the server saw %d cross-site POSTs, want 1: %+v", len(seen), a.requests())
		return
	}
	s := seen[0]
	u, _ := url.Parse(cs.From)
	if s.Path != "/api/echo" || s.CSRFHeader || u == nil || u.Hostname() != "localhost" {
		t.Errorf("cross-site request %+v from %s, want POST /api/echo from localhost without X-CSRF-TOKEN", s, cs.From)
	}
	sentCookie := slices.Contains(s.Cookies, accessName)
	switch {
	case cs.Status != s.Status:
		t.Errorf("cross-site: the browser saw %d, the server answered %d", cs.Status, s.Status)
	case sentCookie && !v.crossSiteCookies:
		t.Errorf("cross-site: the browser sent the access cookie (cookies %q) despite %s", s.Cookies, v.sameSite)
	case sentCookie && (cs.Status != http.StatusForbidden || cs.Body["error"] != "csrf_failed"):
		t.Errorf("cross-site with the access cookie: %d %v, want 403 csrf_failed", cs.Status, cs.Body)
	case !sentCookie && (cs.Status != http.StatusUnauthorized || cs.Body["error"] != "unauthorized"):
		t.Errorf("cross-site without cookies: %d %v, want 401 unauthorized", cs.Status, cs.Body)
	default:
		t.Logf("cross-site form POST: cookies sent %q, answered %d %v", s.Cookies, cs.Status, cs.Body["error"])
	}
}

// checkScreenshot checks that the page's screenshot is a real PNG.
func checkScreenshot(t *testing.T, shots []string) {
	t.Helper()
	if len(shots) == 0 {
		t.Error("no screenshot")
		return
	}
	for _, shot := range shots {
		f, err := os.Open(shot)
		if err != nil {
			t.Error(err)
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 100 || cfg.Height < 100 {
			t.Errorf("screenshot %s: %dx%d, %v", shot, cfg.Width, cfg.Height, err)
		}
	}
}

func cookieMap(cookies []browserCookie) map[string]browserCookie {
	m := map[string]browserCookie{}
	for _, c := range cookies {
		m[c.Name] = c
	}
	return m
}

func sameValues(a, b map[string]browserCookie) bool {
	if len(a) != len(b) {
		return false
	}
	for k, c := range a {
		if b[k].Value != c.Value {
			return false
		}
	}
	return true
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
