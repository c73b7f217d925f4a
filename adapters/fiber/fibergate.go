// Package fibergate is jwtgate's adapter for fiber v3
// (github.com/gofiber/fiber/v3): fiber handlers for required, optional,
// fresh, refresh-only and scope-checked routes, accessors of the verified
// token and user from a fiber.Ctx, and cookie login and logout helpers.
//
// Fiber runs on fasthttp, not net/http, so each protected request is
// converted into an *http.Request for the Gate, which then runs exactly
// the checks of its own net/http middleware (jwtgate.Route: token
// locations, type, freshness, CSRF on cookie requests, revocation, hooks,
// scopes). The request is the one net/http's server would make: the
// request URI as sent (not fasthttp's normalised path), every value of a
// repeated header in order, Host in Request.Host, the remote address,
// the TLS state of a request over TLS, c.Context() as its context.
//
// The conversion reuses a pooled request, header map and URL, and copies
// the request's text once, into memory that is never written again, so
// that what the Gate or a handler keeps (the token, cookie values) never
// aliases fasthttp's reused buffers. That memory comes in 4 KB chunks
// shared by consecutive requests: besides the Gate's own allocations, the
// adapter allocates about once per ten requests of an API client
// (docs/BENCHMARKS.md has the figures), and a token kept after its
// request keeps its chunk alive.
//
// Hooks that get the request (Config.OnError, Config.Finders) get that
// pooled *http.Request: as with every value fiber hands out (fiber.Ctx
// and what it returns), it is valid only during the call. Keep no pointer
// to it, its Header, URL or Body after the hook returns; the strings read
// from it may be kept.
//
// A verified request goes on (c.Next) with c.Context() carrying
// the token and user, where Token, Identity, Claims and User read them (as
// do jwtgate.TokenFrom and jwtgate.User on c.Context()). A refused one is
// answered as the Gate answers it (Route.Fail: Config.OnError, else the
// Profile's status, headers and body), and the chain stops.
//
//	auth := fibergate.New(gate)
//	app := fiber.New()
//	api := app.Group("/api", auth.Required())
//	api.Get("/me", func(c fiber.Ctx) error {
//		return c.JSON(fiber.Map{"user": fibergate.Identity(c)})
//	})
//
// Options that the Gate refuses (IgnoreInvalid without Optional, say) make
// the constructors panic with an error wrapping jwtgate.ErrConfig when the
// route is registered, as Gate.Protect does.
package fibergate

import (
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/jwtgate/jwtgate"
)

// Auth makes fiber handlers for a Gate. It is safe for concurrent use.
type Auth struct {
	g       *jwtgate.Gate
	refuser *jwtgate.Route // a route with the Gate's defaults, for Refuse
}

// New returns the fiber handler maker of g.
func New(g *jwtgate.Gate) *Auth {
	if g == nil {
		panic(fmt.Errorf("%w: fibergate.New: nil Gate", jwtgate.ErrConfig))
	}
	rt, err := g.Route(jwtgate.RouteOptions{})
	if err != nil {
		panic(err)
	}
	return &Auth{g: g, refuser: rt}
}

// Gate returns the Gate.
func (a *Auth) Gate() *jwtgate.Gate { return a.g }

// Required lets a request through only with a valid access token.
func (a *Auth) Required() fiber.Handler { return a.Protect(jwtgate.RouteOptions{}) }

// Optional lets every request through; a valid token authenticates it, an
// invalid one is still refused (unless RouteOptions.IgnoreInvalid, through
// Protect).
func (a *Auth) Optional() fiber.Handler { return a.Protect(jwtgate.RouteOptions{Optional: true}) }

// Fresh lets a request through only with a fresh access token.
func (a *Auth) Fresh() fiber.Handler { return a.Protect(jwtgate.RouteOptions{Fresh: true}) }

// Refresh lets a request through only with a refresh token.
func (a *Auth) Refresh() fiber.Handler { return a.Protect(jwtgate.RouteOptions{Refresh: true}) }

// Protect returns a handler with the checks of opts (Scopes included). It
// panics with an error wrapping jwtgate.ErrConfig on options the Gate
// refuses, when the route is registered.
func (a *Auth) Protect(opts jwtgate.RouteOptions) fiber.Handler {
	rt, err := a.g.Route(opts)
	if err != nil {
		panic(err)
	}
	return a.Route(rt)
}

// Route returns a handler running the checks of rt, a route of the Auth's
// Gate.
func (a *Auth) Route(rt *jwtgate.Route) fiber.Handler {
	return func(c fiber.Ctx) error {
		cv, r, err := request(c)
		if err != nil {
			return err
		}
		r2, err := rt.Verify(r)
		if err != nil {
			w := writer{c: c}
			rt.Fail(&w, r, err)
			cv.release()
			w.flush()
			return nil
		}
		// r2 shares r's header and URL; its context, the token's, holds
		// neither (its parent is c.Context()).
		c.SetContext(r2.Context())
		cv.release()
		return c.Next()
	}
}

// Refuse answers c as the Gate answers a refused request (Config.OnError,
// else the profile's answer; err should wrap one of jwtgate's sentinel
// errors: make one with jwtgate.NewError) and returns nil, for handlers
// of your own: return auth.Refuse(c, err).
func (a *Auth) Refuse(c fiber.Ctx, err error) error {
	cv, r, cerr := request(c)
	if cerr != nil {
		return cerr
	}
	w := writer{c: c}
	a.refuser.Fail(&w, r, err)
	cv.release()
	w.flush()
	return nil
}

// writer is an http.ResponseWriter writing into a fiber response.
type writer struct {
	c       fiber.Ctx
	h       http.Header
	written bool
}

func (w *writer) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

// flush copies the headers set so far to the fiber response, once.
func (w *writer) flush() {
	if w.written {
		return
	}
	w.written = true
	rh := &w.c.Response().Header
	for k, vs := range w.h {
		if k != "Set-Cookie" { // other cookies set on the response stay
			rh.Del(k)
		}
		for _, v := range vs {
			rh.Add(k, v)
		}
	}
}

func (w *writer) WriteHeader(code int) {
	if w.written {
		return
	}
	w.flush()
	w.c.Status(code)
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	w.c.Response().AppendBody(b)
	return len(b), nil
}

// Token returns the verified token of the request, and false if the
// request is not authenticated.
func Token(c fiber.Ctx) (*jwtgate.Token, bool) { return jwtgate.TokenFrom(c.Context()) }

// Identity returns the identity claim of the request's token, or "" if
// the request is not authenticated.
func Identity(c fiber.Ctx) string {
	if t, ok := Token(c); ok {
		return t.Identity
	}
	return ""
}

// Claims decodes the claims of the request's token into v (a pointer to
// a struct or a map), as jwt.Token.Decode does. It returns an error
// wrapping jwtgate.ErrNoToken if the request is not authenticated.
func Claims(c fiber.Ctx, v any) error {
	t, ok := Token(c)
	if !ok {
		return fmt.Errorf("fibergate: claims: %w: the request is not authenticated", jwtgate.ErrNoToken)
	}
	return t.Decode(v)
}

// User returns the user that Config.LoadUser loaded for the request, as a
// T; false if the request is not authenticated, no user was loaded, or
// the user is not a T.
func User[T any](c fiber.Ctx) (T, bool) { return jwtgate.User[T](c.Context()) }

// cookies runs set with a writer over c's response and keeps the headers
// it sets (the cookies), without writing a status.
func cookies(c fiber.Ctx, set func(w http.ResponseWriter) error) error {
	w := writer{c: c}
	if err := set(&w); err != nil {
		return err
	}
	w.flush()
	return nil
}

// SetAccessCookies sets the access token cookie and its CSRF cookie on
// the response (Gate.SetAccessCookies).
func (a *Auth) SetAccessCookies(c fiber.Ctx, token string, opts ...jwtgate.CookieOptions) error {
	return cookies(c, func(w http.ResponseWriter) error { return a.g.SetAccessCookies(w, token, opts...) })
}

// SetRefreshCookies sets the refresh token cookie and its CSRF cookie
// (Gate.SetRefreshCookies).
func (a *Auth) SetRefreshCookies(c fiber.Ctx, token string, opts ...jwtgate.CookieOptions) error {
	return cookies(c, func(w http.ResponseWriter) error { return a.g.SetRefreshCookies(w, token, opts...) })
}

// UnsetJWTCookies expires every token and CSRF cookie: a logout
// (Gate.UnsetJWTCookies).
func (a *Auth) UnsetJWTCookies(c fiber.Ctx, opts ...jwtgate.CookieOptions) error {
	return cookies(c, func(w http.ResponseWriter) error { return a.g.UnsetJWTCookies(w, opts...) })
}

// UnsetAccessCookies expires the access token cookie and its CSRF cookie.
func (a *Auth) UnsetAccessCookies(c fiber.Ctx, opts ...jwtgate.CookieOptions) error {
	return cookies(c, func(w http.ResponseWriter) error { return a.g.UnsetAccessCookies(w, opts...) })
}

// UnsetRefreshCookies expires the refresh token cookie and its CSRF
// cookie.
func (a *Auth) UnsetRefreshCookies(c fiber.Ctx, opts ...jwtgate.CookieOptions) error {
	return cookies(c, func(w http.ResponseWriter) error { return a.g.UnsetRefreshCookies(w, opts...) })
}
