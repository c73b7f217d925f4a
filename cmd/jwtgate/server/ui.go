package server

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// UIConfig brands the sign-in and account pages.
type UIConfig struct {
	// ServiceName is shown in the pages' headings and titles: "jwtgate"
	// by default. At most 64 bytes of printable UTF-8.
	ServiceName string
	// LogoURL is an absolute https (or http) URL of an image shown above
	// the heading; its origin is added to the pages' img-src. Empty: no
	// logo.
	LogoURL string
	// Accent is the colour of the buttons, links and focus rings, as
	// #RRGGBB or #RGB. White text on it, and it as text on white, must
	// have a contrast ratio of at least 4.5:1 (WCAG 2.2 AA): a lighter
	// colour is refused. Default: #1f5fbf.
	Accent string
	// TemplateDir, when set, holds signin.html and account.html, and
	// optionally admin.html, html/template files that replace the
	// built-in pages (each receives a SignInPage, an AccountPage or an
	// AdminPage; without admin.html the built-in admin page is used). They are parsed by New: a missing
	// or broken template stops the start. The pages keep their
	// Content-Security-Policy: no inline script or style; they may use
	// the built-in files (/ui/style.css, /ui/theme.css, /ui/signin.js,
	// /ui/account.js, whose element ids they then keep) and their own,
	// from the subdirectory static/, served at /ui/custom/NAME: at most
	// 64 files of at most 1 MiB, named with letters, digits, '.', '-'
	// and '_', of the types .css, .js, .png, .jpg, .jpeg, .gif, .webp,
	// .svg, .ico, .woff and .woff2, read once by New.
	TemplateDir string
}

// Validate checks c as New does: the settings, and that the templates
// parse and render.
func (c UIConfig) Validate() error {
	_, err := newUI(c)
	return err
}

// defaultAccent passes 4.5:1 against white (6.1:1).
const defaultAccent = "#1f5fbf"

// minContrast is WCAG 2.2's AA ratio for text.
const minContrast = 4.5

// SignInPage is what the sign-in template receives.
type SignInPage struct {
	// ServiceName and LogoURL are UIConfig's.
	ServiceName, LogoURL string
	// Username is the name typed before a refused sign-in, to type it
	// again no more.
	Username string
	// Message, when set, says why the form is shown again (Kind
	// "error") or what happened before (Kind "info").
	Message, Kind string
	// RetryAfter: seconds before another attempt can be made, after a
	// refusal for too many attempts; 0 otherwise.
	RetryAfter int
	// Resume, when set, is the CSRF value of the browser's refresh
	// token: its access token has expired, and a form posting resume=1
	// and csrf_token=Resume to /signin refreshes the session instead of
	// asking for the password again.
	Resume string
}

// AccountPage is what the account template receives.
type AccountPage struct {
	ServiceName, LogoURL string
	// Username is the signed-in user's name.
	Username string
	// Admin: the user holds the admin role (the page links to /admin).
	Admin bool
	// CSRF is the value of the readable CSRF cookie, for the forms'
	// csrf_token fields.
	CSRF string
	// Sessions are the user's active sessions, this device's first.
	// SessionsError, when set, says why they could not be listed.
	Sessions      []SessionView
	SessionsError string
	// Message and Kind as in SignInPage.
	Message, Kind string
}

// AdminPage is what the admin template receives.
type AdminPage struct {
	ServiceName, LogoURL string
	// Username and CSRF as in AccountPage.
	Username, CSRF string
	// Forbidden: the user does not hold the admin role; the page says so
	// and shows nothing else (status 403).
	Forbidden bool
	// Fresh: the user's access token is fresh (from a sign-in), so
	// changes can be made. When false the page offers to enter the
	// password again (a form posting action=reauth and password).
	Fresh bool
	// Message and Kind as in SignInPage.
	Message, Kind string
	// Search is the users search (q); After the first name of this page
	// of users after which the page starts ("" for the first page); Next
	// the After of the next page ("" when this is the last).
	Search, After, Next string
	Users               []AdminUserView
	UsersError          string
	// ConfirmDelete, when set, is the user whose deletion the page asks
	// to confirm.
	ConfirmDelete string
	// Selected, when set, is the user whose sessions are shown.
	Selected      string
	Sessions      []SessionView
	SessionsError string
	// AuditUser and AuditType filter the audit events; AuditTypes are the
	// choices of the type filter.
	AuditUser, AuditType string
	AuditTypes           []string
	Events               []AuditView
	AuditError           string
}

// AdminUserView is one user as the admin page shows it.
type AdminUserView struct {
	Username string
	Created  string // RFC 3339, UTC
	Admin    bool
	Disabled bool
}

// AuditView is one audit event as the admin page shows it.
type AuditView struct {
	Time                        string // RFC 3339, UTC
	Type, Actor, Subject        string
	Address, Outcome, SessionID string
}

// SessionView is one session as the account page shows it.
type SessionView struct {
	ID        string
	Created   string // RFC 3339, UTC
	LastUsed  string // RFC 3339, UTC; "" when unknown
	UserAgent string
	Address   string
	Current   bool
}

//go:embed ui
var uiFiles embed.FS

// ui holds the parsed pages and the assets of the sign-in and account
// pages, made once by newUI.
type ui struct {
	name, logo string
	csp        string
	signin     *template.Template
	account    *template.Template
	admin      *template.Template
	// assets by path under /ui/: content type and bytes.
	assets map[string]asset
}

type asset struct {
	contentType string
	body        []byte
}

// newUI checks cfg and parses the pages.
func newUI(cfg UIConfig) (*ui, error) {
	u := &ui{name: cfg.ServiceName, logo: cfg.LogoURL, assets: map[string]asset{}}
	if u.name == "" {
		u.name = "jwtgate"
	}
	if err := checkServiceName(u.name); err != nil {
		return nil, err
	}
	imgSrc := "'self'"
	if u.logo != "" {
		origin, err := logoOrigin(u.logo)
		if err != nil {
			return nil, err
		}
		imgSrc += " " + origin
	}
	u.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + imgSrc +
		"; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	accent := cfg.Accent
	if accent == "" {
		accent = defaultAccent
	}
	rgb, err := parseHexColour(accent)
	if err != nil {
		return nil, fmt.Errorf("server: accent colour %q: %w", accent, err)
	}
	if c := contrast(rgb, [3]float64{1, 1, 1}); c < minContrast {
		return nil, fmt.Errorf("server: accent colour %q has a contrast of %.2f:1 with white, below WCAG AA's %.1f:1: its buttons' white text and its links would be hard to read; choose a darker colour", accent, c, minContrast)
	}
	theme := fmt.Sprintf(":root { --accent: #%02x%02x%02x; }\n",
		int(math.Round(rgb[0]*255)), int(math.Round(rgb[1]*255)), int(math.Round(rgb[2]*255)))
	u.assets["theme.css"] = asset{"text/css; charset=utf-8", []byte(theme)}
	for name, ct := range map[string]string{
		"style.css":  "text/css; charset=utf-8",
		"signin.js":  "text/javascript; charset=utf-8",
		"account.js": "text/javascript; charset=utf-8",
	} {
		b, err := uiFiles.ReadFile("ui/" + name)
		if err != nil {
			return nil, err
		}
		u.assets[name] = asset{ct, b}
	}
	if cfg.TemplateDir != "" {
		if err := u.readStatic(filepath.Join(cfg.TemplateDir, "static")); err != nil {
			return nil, withDir(cfg.TemplateDir, err)
		}
	}
	var pages fs.FS = uiFiles
	dir := "ui"
	if cfg.TemplateDir != "" {
		pages, dir = os.DirFS(cfg.TemplateDir), "."
	}
	if u.signin, err = parsePage(pages, dir, "signin.html", SignInPage{ServiceName: u.name, LogoURL: u.logo, Message: "m", Kind: "error", RetryAfter: 1, Resume: "r"}); err != nil {
		return nil, withDir(cfg.TemplateDir, err)
	}
	sample := AccountPage{ServiceName: u.name, LogoURL: u.logo, Username: "u", CSRF: "c", Message: "m", Kind: "info",
		Sessions: []SessionView{{ID: "s", Created: "c", LastUsed: "l", UserAgent: "a", Address: "a", Current: true}}}
	if u.account, err = parsePage(pages, dir, "account.html", sample); err != nil {
		return nil, withDir(cfg.TemplateDir, err)
	}
	// A template directory made before the admin page may lack
	// admin.html: the built-in one is used then.
	adminFS, adminDir := pages, dir
	if cfg.TemplateDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.TemplateDir, "admin.html")); errors.Is(err, fs.ErrNotExist) {
			adminFS, adminDir = uiFiles, "ui"
		}
	}
	adminSample := AdminPage{ServiceName: u.name, LogoURL: u.logo, Username: "u", CSRF: "c", Fresh: true, Message: "m", Kind: "info",
		Search: "s", After: "a", Next: "n", Users: []AdminUserView{{Username: "u", Created: "c", Admin: true, Disabled: true}},
		UsersError: "e", ConfirmDelete: "u", Selected: "u", Sessions: sample.Sessions, SessionsError: "e",
		AuditUser: "u", AuditType: "t", AuditTypes: []string{"t"}, Events: []AuditView{{Time: "t", Type: "t", Actor: "a", Subject: "s", Address: "a", Outcome: "o", SessionID: "s"}}, AuditError: "e"}
	if u.admin, err = parsePage(adminFS, adminDir, "admin.html", adminSample); err != nil {
		return nil, withDir(cfg.TemplateDir, err)
	}
	return u, nil
}

// staticTypes are the files a template directory's static/ may hold.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".svg": "image/svg+xml", ".ico": "image/x-icon", ".woff": "font/woff", ".woff2": "font/woff2",
}

// staticName is the name of a file of static/.
var staticName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)

// readStatic reads the files of dir, if it exists, as assets under
// custom/.
func (u *ui) readStatic(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 64 {
		return fmt.Errorf("static/ has %d entries, more than 64", len(entries))
	}
	for _, e := range entries {
		name := e.Name()
		ct, ok := staticTypes[strings.ToLower(filepath.Ext(name))]
		if !e.Type().IsRegular() || !staticName.MatchString(name) || !ok {
			return fmt.Errorf("static/%s: want regular files named with letters, digits, '.', '-' and '_', of the types .css, .js, .png, .jpg, .jpeg, .gif, .webp, .svg, .ico, .woff or .woff2", name)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if len(b) > 1<<20 {
			return fmt.Errorf("static/%s is larger than 1 MiB", name)
		}
		u.assets["custom/"+name] = asset{ct, b}
	}
	return nil
}

func withDir(dir string, err error) error {
	if dir == "" {
		return err
	}
	return fmt.Errorf("server: templates of %s: %w", dir, err)
}

// parsePage parses one page and executes it once with sample data, so
// that a template that cannot render (a field that does not exist) stops
// the start rather than a request.
func parsePage(fsys fs.FS, dir, name string, sample any) (*template.Template, error) {
	b, err := fs.ReadFile(fsys, filepath.ToSlash(filepath.Join(dir, name)))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	t, err := template.New(name).Parse(string(b))
	if err != nil {
		return nil, err
	}
	if err := t.Execute(&bytes.Buffer{}, sample); err != nil {
		return nil, fmt.Errorf("%s does not render: %w", name, err)
	}
	return t, nil
}

func checkServiceName(name string) error {
	if len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd }) || strings.TrimSpace(name) == "" {
		return fmt.Errorf("server: service name %q: want 1 to 64 bytes of printable text", name)
	}
	return nil
}

// logoOrigin checks a logo URL and returns its origin for img-src.
func logoOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("server: logo URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || strings.ContainsAny(raw, " ;,'\"\t\r\n") {
		return "", fmt.Errorf("server: logo URL %q: want an absolute http or https URL without credentials, spaces, quotes, commas or semicolons", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// parseHexColour reads #RRGGBB or #RGB into sRGB components in [0, 1].
func parseHexColour(s string) ([3]float64, error) {
	var rgb [3]float64
	h, ok := strings.CutPrefix(s, "#")
	if !ok || (len(h) != 6 && len(h) != 3) {
		return rgb, errors.New("want #RRGGBB or #RGB")
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	for i := range 3 {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return rgb, errors.New("want #RRGGBB or #RGB with hexadecimal digits")
		}
		rgb[i] = float64(v) / 255
	}
	return rgb, nil
}

// luminance is WCAG's relative luminance of an sRGB colour.
func luminance(rgb [3]float64) float64 {
	var l [3]float64
	for i, c := range rgb {
		if c <= 0.04045 {
			l[i] = c / 12.92
		} else {
			l[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrast is WCAG's contrast ratio of two colours, from 1 to 21.
func contrast(a, b [3]float64) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
