// Code generated from ../echo by `go generate`; DO NOT EDIT.

// Package echogate is jwtgate's adapter for echo v5
// (github.com/labstack/echo/v5): middleware in echo's MiddlewareFunc
// style, with a Skipper, for required, optional, fresh, refresh-only and
// scope-checked routes; accessors of the verified token and user from an
// *echo.Context; and cookie login and logout helpers. For echo v4 use
// github.com/jwtgate/jwtgate/adapters/echo, which has the same API.
//
// It adds no checks of its own and drops none: each middleware is a
// jwtgate.Route, compiled once when the route is registered, whose Verify
// runs exactly the checks of the Gate's own net/http middleware (token
// locations, type, freshness, CSRF on cookie requests, revocation, hooks,
// scopes). A verified request goes on with its context carrying the token
// and user, where Token, Identity, Claims and User read them (as do
// jwtgate.TokenFrom and jwtgate.User on c.Request().Context()).
//
// A refused request is answered, by default, exactly as the Gate answers
// it (Route.Fail: Config.OnError, else the Profile's status, headers and
// body: RFC 6750, or flask-jwt-extended's codes and {"msg": ...}), and the
// middleware returns nil: clients ported from another jwtgate service, or
// from Python, see the same bodies. With Config.HTTPErrors the middleware
// returns an *echo.HTTPError instead, for the application's
// HTTPErrorHandler: its Code is the Gate's status, its Message the Gate's
// message, it wraps the refusal (errors.Is(err, jwtgate.ErrExpired)
// works), and the Gate's WWW-Authenticate, Cache-Control and Retry-After
// headers are already set on the response; the body is then the error
// handler's.
//
//	auth := echogate.New(gate)
//	e := echo.New()
//	api := e.Group("/api", auth.Required())
//	api.GET("/me", func(c *echo.Context) error {
//		return c.JSON(http.StatusOK, map[string]string{"user": echogate.Identity(c)})
//	})
//	e.POST("/refresh", refresh, auth.Refresh())
//
// Options that the Gate refuses (IgnoreInvalid without Optional, say) make
// the middleware constructors panic with an error wrapping
// jwtgate.ErrConfig when the route is registered, as Gate.Protect does.
package echogate

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/jwtgate/jwtgate"
)

// Auth makes echo middleware for a Gate. It is safe for concurrent use.
type Auth struct {
	g       *jwtgate.Gate
	refuser *jwtgate.Route // a route with the Gate's defaults, for Refuse
}

// New returns the echo middleware maker of g.
func New(g *jwtgate.Gate) *Auth {
	if g == nil {
		panic(fmt.Errorf("%w: echogate.New: nil Gate", jwtgate.ErrConfig))
	}
	rt, err := g.Route(jwtgate.RouteOptions{})
	if err != nil {
		panic(err)
	}
	return &Auth{g: g, refuser: rt}
}

// Gate returns the Gate.
func (a *Auth) Gate() *jwtgate.Gate { return a.g }

// Config configures one middleware.
type Config struct {
	// Route is the route's checks.
	Route jwtgate.RouteOptions

	// Skipper, if set, lets the requests for which it returns true through
	// without any check (unauthenticated); echo's middleware.Skipper
	// values fit.
	Skipper func(c *echo.Context) bool

	// HTTPErrors returns refusals as *echo.HTTPError, for the
	// application's HTTPErrorHandler, instead of writing the Gate's
	// answer (see the package documentation).
	HTTPErrors bool
}

// Required lets a request through only with a valid access token.
func (a *Auth) Required() echo.MiddlewareFunc { return a.Protect(jwtgate.RouteOptions{}) }

// Optional lets every request through; a valid token authenticates it, an
// invalid one is still refused (unless RouteOptions.IgnoreInvalid, through
// Protect).
func (a *Auth) Optional() echo.MiddlewareFunc {
	return a.Protect(jwtgate.RouteOptions{Optional: true})
}

// Fresh lets a request through only with a fresh access token.
func (a *Auth) Fresh() echo.MiddlewareFunc { return a.Protect(jwtgate.RouteOptions{Fresh: true}) }

// Refresh lets a request through only with a refresh token.
func (a *Auth) Refresh() echo.MiddlewareFunc { return a.Protect(jwtgate.RouteOptions{Refresh: true}) }

// Protect returns middleware with the checks of opts (Scopes included).
// It panics with an error wrapping jwtgate.ErrConfig on options the Gate
// refuses, when the route is registered.
func (a *Auth) Protect(opts jwtgate.RouteOptions) echo.MiddlewareFunc {
	return a.WithConfig(Config{Route: opts})
}

// WithConfig returns middleware configured by cfg. It panics with an
// error wrapping jwtgate.ErrConfig on route options the Gate refuses.
func (a *Auth) WithConfig(cfg Config) echo.MiddlewareFunc {
	rt, err := a.g.Route(cfg.Route)
	if err != nil {
		panic(err)
	}
	return a.middleware(rt, cfg.Skipper, cfg.HTTPErrors)
}

// Route returns middleware running the checks of rt, a route of the
// Auth's Gate, with cfg's Skipper and HTTPErrors (cfg.Route is not used).
func (a *Auth) Route(rt *jwtgate.Route, cfg Config) echo.MiddlewareFunc {
	return a.middleware(rt, cfg.Skipper, cfg.HTTPErrors)
}

func (a *Auth) middleware(rt *jwtgate.Route, skip func(*echo.Context) bool, httpErrors bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if skip != nil && skip(c) {
				return next(c)
			}
			r, err := rt.Verify(c.Request())
			if err != nil {
				if httpErrors {
					return httpError(c, rt, err)
				}
				rt.Fail(c.Response(), c.Request(), err)
				return nil
			}
			c.SetRequest(r)
			return next(c)
		}
	}
}

// Refuse answers c as the Gate answers a refused request (Config.OnError,
// else the profile's answer; err should wrap one of jwtgate's sentinel
// errors: make one with jwtgate.NewError) and returns nil, for handlers
// and middleware of your own: return auth.Refuse(c, err).
func (a *Auth) Refuse(c *echo.Context, err error) error {
	a.refuser.Fail(c.Response(), c.Request(), err)
	return nil
}

// HTTPError returns the refusal err as an *echo.HTTPError with the Gate's
// status and message, wrapping err, after setting the Gate's
// WWW-Authenticate, Cache-Control and Retry-After headers on c's
// response: what the middleware returns with Config.HTTPErrors.
func (a *Auth) HTTPError(c *echo.Context, err error) error { return httpError(c, a.refuser, err) }

// httpError runs rt.Fail into a recorder, to take the status and headers
// the Gate (or Config.OnError) gives err.
func httpError(c *echo.Context, rt *jwtgate.Route, err error) error {
	rec := recorder{h: http.Header{}}
	rt.Fail(&rec, c.Request(), err)
	h := c.Response().Header()
	for _, k := range []string{"Www-Authenticate", "Cache-Control", "Retry-After"} { // canonical forms
		if v := rec.h[k]; len(v) > 0 {
			h[k] = v
		}
	}
	msg := "authentication failed"
	if e := (*jwtgate.Error)(nil); errors.As(err, &e) {
		msg = e.Message
	}
	if rec.code == 0 { // an OnError hook that wrote nothing
		rec.code = http.StatusUnauthorized
	}
	return echo.NewHTTPError(rec.code, msg).Wrap(err)
}

// recorder keeps the status and headers of an answer and drops its body.
type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header { return r.h }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return len(b), nil
}

// Token returns the verified token of the request, and false if the
// request is not authenticated.
func Token(c *echo.Context) (*jwtgate.Token, bool) {
	if c.Request() == nil {
		return nil, false
	}
	return jwtgate.TokenFrom(c.Request().Context())
}

// Identity returns the identity claim of the request's token, or "" if
// the request is not authenticated.
func Identity(c *echo.Context) string {
	if t, ok := Token(c); ok {
		return t.Identity
	}
	return ""
}

// Claims decodes the claims of the request's token into v (a pointer to
// a struct or a map), as jwt.Token.Decode does. It returns an error
// wrapping jwtgate.ErrNoToken if the request is not authenticated.
func Claims(c *echo.Context, v any) error {
	t, ok := Token(c)
	if !ok {
		return fmt.Errorf("echogate: claims: %w: the request is not authenticated", jwtgate.ErrNoToken)
	}
	return t.Decode(v)
}

// User returns the user that Config.LoadUser loaded for the request, as a
// T; false if the request is not authenticated, no user was loaded, or
// the user is not a T.
func User[T any](c *echo.Context) (T, bool) {
	if c.Request() == nil {
		var zero T
		return zero, false
	}
	return jwtgate.User[T](c.Request().Context())
}

// SetAccessCookies sets the access token cookie and its CSRF cookie on
// the response (Gate.SetAccessCookies).
func (a *Auth) SetAccessCookies(c *echo.Context, token string, opts ...jwtgate.CookieOptions) error {
	return a.g.SetAccessCookies(c.Response(), token, opts...)
}

// SetRefreshCookies sets the refresh token cookie and its CSRF cookie
// (Gate.SetRefreshCookies).
func (a *Auth) SetRefreshCookies(c *echo.Context, token string, opts ...jwtgate.CookieOptions) error {
	return a.g.SetRefreshCookies(c.Response(), token, opts...)
}

// UnsetJWTCookies expires every token and CSRF cookie: a logout
// (Gate.UnsetJWTCookies).
func (a *Auth) UnsetJWTCookies(c *echo.Context, opts ...jwtgate.CookieOptions) error {
	return a.g.UnsetJWTCookies(c.Response(), opts...)
}

// UnsetAccessCookies expires the access token cookie and its CSRF cookie.
func (a *Auth) UnsetAccessCookies(c *echo.Context, opts ...jwtgate.CookieOptions) error {
	return a.g.UnsetAccessCookies(c.Response(), opts...)
}

// UnsetRefreshCookies expires the refresh token cookie and its CSRF
// cookie.
func (a *Auth) UnsetRefreshCookies(c *echo.Context, opts ...jwtgate.CookieOptions) error {
	return a.g.UnsetRefreshCookies(c.Response(), opts...)
}
