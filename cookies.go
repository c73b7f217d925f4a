package jwtgate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CookieConfig configures token cookies and double-submit CSRF protection.
// Start from DefaultCookies and change what you need; zero fields of a
// CookieConfig given to New take the defaults below.
type CookieConfig struct {
	AccessName  string // "access_token_cookie"
	RefreshName string // "refresh_token_cookie"
	AccessPath  string // "/"
	RefreshPath string // "/"; set it to your refresh endpoint to send the refresh token nowhere else

	Domain      string        // none by default (host-only cookies)
	Secure      bool          // send only over HTTPS; turn it on in production
	SameSite    http.SameSite // zero means Lax; http.SameSiteDefaultMode sends no attribute; SameSiteNoneMode needs Secure
	Partitioned bool          // CHIPS; needs Secure

	// Session cookies end with the browser session. Otherwise MaxAge
	// applies: 0 means the token's own lifetime.
	Session bool
	MaxAge  time.Duration

	// CSRF protection is on unless DisableCSRF is set: cookie tokens need
	// a matching double-submit CSRF value on CSRFMethods, and created
	// tokens carry a csrf claim. DisableCSRF turns both off
	// (flask-jwt-extended's JWT_COOKIE_CSRF_PROTECT = False).
	DisableCSRF bool

	// With CSRF protection on, the Set*Cookies methods also set readable
	// cookies holding the CSRF values, for JavaScript to copy into the
	// CSRF header, unless NoCSRFCookies is set (JWT_CSRF_IN_COOKIES =
	// False).
	NoCSRFCookies bool

	CSRFAccessName  string   // "csrf_access_token"
	CSRFRefreshName string   // "csrf_refresh_token"
	CSRFAccessPath  string   // "/"
	CSRFRefreshPath string   // "/"
	CSRFMethods     []string // POST, PUT, PATCH, DELETE

	CSRFAccessHeader  string // "X-CSRF-TOKEN"
	CSRFRefreshHeader string // "X-CSRF-TOKEN"

	// CSRFCheckForm also accepts the CSRF value from a form field when the
	// header is absent.
	CSRFCheckForm     bool
	CSRFAccessField   string // "csrf_token"
	CSRFRefreshField  string // "csrf_token"
	WebSocketCSRFParm string // query parameter with the CSRF value on WebSocket handshakes: "csrf_token"
}

// DefaultCookies returns the default cookie configuration: that of
// flask-jwt-extended (CSRF protection on, CSRF cookies readable by
// JavaScript, token cookies HttpOnly), except that SameSite is Lax.
func DefaultCookies() *CookieConfig {
	c := &CookieConfig{}
	_ = c.fill()
	return c
}

func (c *CookieConfig) fill() error {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.AccessName, "access_token_cookie")
	def(&c.RefreshName, "refresh_token_cookie")
	def(&c.AccessPath, "/")
	def(&c.RefreshPath, "/")
	def(&c.CSRFAccessName, "csrf_access_token")
	def(&c.CSRFRefreshName, "csrf_refresh_token")
	def(&c.CSRFAccessPath, "/")
	def(&c.CSRFRefreshPath, "/")
	def(&c.CSRFAccessHeader, "X-CSRF-TOKEN")
	def(&c.CSRFRefreshHeader, "X-CSRF-TOKEN")
	def(&c.CSRFAccessField, "csrf_token")
	def(&c.CSRFRefreshField, "csrf_token")
	def(&c.WebSocketCSRFParm, "csrf_token")
	if len(c.CSRFMethods) == 0 {
		c.CSRFMethods = []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	}
	if c.SameSite == 0 {
		// Lax keeps cookies off cross-site POSTs, a second line of defence
		// behind the CSRF check (browsers otherwise send cookies set in
		// the last two minutes without SameSite on cross-site POSTs).
		c.SameSite = http.SameSiteLaxMode
	}
	if c.MaxAge < 0 {
		return errors.New("negative MaxAge")
	}
	if c.SameSite == http.SameSiteNoneMode && !c.Secure {
		return errors.New("SameSite=None requires Secure (browsers drop such cookies)")
	}
	if c.Partitioned && !c.Secure {
		return errors.New("the Partitioned attribute requires Secure")
	}
	for _, n := range []string{c.AccessName, c.RefreshName, c.CSRFAccessName, c.CSRFRefreshName} {
		if !validCookieName(n) {
			return fmt.Errorf("invalid cookie name %q", n)
		}
	}
	if c.AccessName == c.RefreshName {
		return errors.New("AccessName and RefreshName are the same")
	}
	if c.Session && c.MaxAge != 0 {
		return errors.New("a Session cookie has no MaxAge: set Session or MaxAge, not both")
	}
	if c.DisableCSRF && c.CSRFCheckForm {
		return errors.New("CSRFCheckForm with DisableCSRF: no CSRF value is checked; drop one of them")
	}
	return nil
}

// csrf reports whether CSRF protection is on.
func (c *CookieConfig) csrf() bool { return !c.DisableCSRF }

// csrfCookies reports whether readable CSRF cookies are set.
func (c *CookieConfig) csrfCookies() bool { return !c.DisableCSRF && !c.NoCSRFCookies }

func validCookieName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// CookieOptions adjusts one Set*Cookies call.
type CookieOptions struct {
	// MaxAge overrides the cookie lifetime (0: Config's rule).
	MaxAge time.Duration
	// Domain overrides CookieConfig.Domain.
	Domain string
}

// SetAccessCookies sets the access token cookie (HttpOnly) and, with CSRF
// in cookies, its readable CSRF cookie. The token must be one this Gate
// made (its csrf claim is read). It takes at most one CookieOptions, as do
// the other cookie methods: more is refused with an error wrapping
// ErrConfig.
func (g *Gate) SetAccessCookies(w http.ResponseWriter, token string, opts ...CookieOptions) error {
	return g.setCookies(w, token, false, opts)
}

// SetRefreshCookies is SetAccessCookies for the refresh token.
func (g *Gate) SetRefreshCookies(w http.ResponseWriter, token string, opts ...CookieOptions) error {
	return g.setCookies(w, token, true, opts)
}

// ErrNoCookies is returned by the cookie methods of a Gate without Cookies.
var ErrNoCookies = errors.New("jwtgate: Config.Cookies is not set")

func (g *Gate) setCookies(w http.ResponseWriter, token string, refresh bool, opts []CookieOptions) error {
	cc := g.cfg.Cookies
	if cc == nil {
		return ErrNoCookies
	}
	o, err := oneOption("Set*Cookies", opts)
	if err != nil {
		return err
	}
	// Read the token's own claims without checking expiry: the caller has
	// just made it, and its lifetime sets the cookie's.
	t := new(Token)
	if err := g.verify(context.Background(), token, true, t); err != nil {
		return fmt.Errorf("jwtgate: setting cookies: %w", err)
	}
	maxAge := o.MaxAge
	if maxAge == 0 {
		maxAge = cc.MaxAge
	}
	if maxAge == 0 && t.Claims.ExpiresAt != nil {
		maxAge = time.Until(t.Claims.ExpiresAt.Time)
		if g.cfg.Clock != nil {
			maxAge = t.Claims.ExpiresAt.Sub(g.clock())
		}
	}
	if cc.Session {
		maxAge = 0
	}
	name, path, csrfName, csrfPath := cc.names(refresh)
	csrf := ""
	if cc.csrfCookies() {
		csrf = t.CSRF
		if csrf == "" {
			return fmt.Errorf("jwtgate: setting cookies: the token has no %s claim", g.cfg.Claims.CSRF)
		}
	}
	g.writeCookie(w, cc, o, name, token, path, maxAge, true)
	if csrf != "" {
		g.writeCookie(w, cc, o, csrfName, csrf, csrfPath, maxAge, false)
	}
	return nil
}

func (g *Gate) writeCookie(w http.ResponseWriter, cc *CookieConfig, o CookieOptions, name, value, path string, maxAge time.Duration, httpOnly bool) {
	domain := cc.Domain
	if o.Domain != "" {
		domain = o.Domain
	}
	ck := &http.Cookie{
		Name:        name,
		Value:       value,
		Path:        path,
		Domain:      domain,
		Secure:      cc.Secure,
		HttpOnly:    httpOnly,
		SameSite:    cc.SameSite,
		Partitioned: cc.Partitioned,
	}
	switch {
	case maxAge > 0:
		ck.MaxAge = int((maxAge + time.Second - 1) / time.Second)
	case maxAge < 0: // delete it
		ck.MaxAge, ck.Expires = -1, time.Unix(0, 0)
	}
	http.SetCookie(w, ck)
}

// UnsetJWTCookies removes the access and refresh cookies and their CSRF
// cookies. It only deletes cookies: revoke the tokens to end the session.
// Give the same CookieOptions.Domain as when they were set, if any.
func (g *Gate) UnsetJWTCookies(w http.ResponseWriter, opts ...CookieOptions) error {
	if err := g.UnsetAccessCookies(w, opts...); err != nil {
		return err
	}
	return g.UnsetRefreshCookies(w, opts...)
}

// UnsetAccessCookies removes the access cookie and its CSRF cookie.
func (g *Gate) UnsetAccessCookies(w http.ResponseWriter, opts ...CookieOptions) error {
	return g.unset(w, opts, false)
}

// UnsetRefreshCookies removes the refresh cookie and its CSRF cookie.
func (g *Gate) UnsetRefreshCookies(w http.ResponseWriter, opts ...CookieOptions) error {
	return g.unset(w, opts, true)
}

func (g *Gate) unset(w http.ResponseWriter, opts []CookieOptions, refresh bool) error {
	cc := g.cfg.Cookies
	if cc == nil {
		return ErrNoCookies
	}
	o, err := oneOption("Unset*Cookies", opts)
	if err != nil {
		return err
	}
	name, path, csrfName, csrfPath := cc.names(refresh)
	g.writeCookie(w, cc, o, name, "", path, -1, true)
	if cc.csrfCookies() {
		g.writeCookie(w, cc, o, csrfName, "", csrfPath, -1, false)
	}
	return nil
}

// names returns the token cookie's and the CSRF cookie's names and paths.
func (c *CookieConfig) names(refresh bool) (name, path, csrfName, csrfPath string) {
	if refresh {
		return c.RefreshName, c.RefreshPath, c.CSRFRefreshName, c.CSRFRefreshPath
	}
	return c.AccessName, c.AccessPath, c.CSRFAccessName, c.CSRFAccessPath
}
