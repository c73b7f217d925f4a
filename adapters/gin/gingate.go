// Package gingate is jwtgate's adapter for the gin web framework
// (github.com/gin-gonic/gin): gin middleware for required, optional,
// fresh, refresh-only and scope-checked routes, accessors of the verified
// token and user from a *gin.Context, and cookie login and logout helpers.
//
// It adds no checks of its own and drops none: each middleware is a
// jwtgate.Route, compiled once when the route is registered, whose Verify
// runs exactly the checks of the Gate's own net/http middleware (token
// locations, type, freshness, CSRF on cookie requests, revocation, hooks,
// scopes). A refused request is answered as the Gate answers it
// (Route.Fail: Config.OnError, else the Profile's answer, RFC 6750 or
// flask-jwt-extended's codes and {"msg": ...} bodies), recorded in c.Errors for logging middleware, and aborted with
// c.Abort, so later handlers never run. A verified request goes on with
// c.Request carrying the token and user in its context, where Token,
// Identity, Claims and User read them (as do jwtgate.TokenFrom and
// jwtgate.User on c.Request.Context()).
//
//	auth := gingate.New(gate)
//	r := gin.New()
//	r.POST("/login", login)
//	api := r.Group("/api", auth.Required())
//	api.GET("/me", func(c *gin.Context) {
//		c.JSON(http.StatusOK, gin.H{"user": gingate.Identity(c)})
//	})
//	r.POST("/refresh", auth.Refresh(), refresh)
//	r.DELETE("/account", auth.Fresh(), deleteAccount)
//
// Options that the Gate refuses (IgnoreInvalid without Optional, say) make
// the middleware constructors panic with an error wrapping
// jwtgate.ErrConfig when the route is registered, as Gate.Protect does.
package gingate

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/jwtgate/jwtgate"
)

// Auth makes gin middleware for a Gate. It is safe for concurrent use.
type Auth struct {
	g       *jwtgate.Gate
	refuser *jwtgate.Route // a route with the Gate's defaults, for Refuse
}

// New returns the gin middleware maker of g.
func New(g *jwtgate.Gate) *Auth {
	if g == nil {
		panic(fmt.Errorf("%w: gingate.New: nil Gate", jwtgate.ErrConfig))
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
func (a *Auth) Required() gin.HandlerFunc { return a.Protect(jwtgate.RouteOptions{}) }

// Optional lets every request through; a valid token authenticates it, an
// invalid one is still refused (unless RouteOptions.IgnoreInvalid, through
// Protect).
func (a *Auth) Optional() gin.HandlerFunc { return a.Protect(jwtgate.RouteOptions{Optional: true}) }

// Fresh lets a request through only with a fresh access token.
func (a *Auth) Fresh() gin.HandlerFunc { return a.Protect(jwtgate.RouteOptions{Fresh: true}) }

// Refresh lets a request through only with a refresh token.
func (a *Auth) Refresh() gin.HandlerFunc { return a.Protect(jwtgate.RouteOptions{Refresh: true}) }

// Protect returns middleware with the checks of opts (Scopes included).
// It panics with an error wrapping jwtgate.ErrConfig on options the Gate
// refuses, when the route is registered.
func (a *Auth) Protect(opts jwtgate.RouteOptions) gin.HandlerFunc {
	rt, err := a.g.Route(opts)
	if err != nil {
		panic(err)
	}
	return a.Route(rt)
}

// Route returns middleware running the checks of rt, a route of the
// Auth's Gate.
func (a *Auth) Route(rt *jwtgate.Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, err := rt.Verify(c.Request)
		if err != nil {
			_ = c.Error(err)
			rt.Fail(c.Writer, c.Request, err)
			c.Abort()
			return
		}
		c.Request = r
	}
}

// Refuse answers c as the Gate answers a refused request (Config.OnError,
// else the profile's answer; err should wrap one of jwtgate's sentinel
// errors: make one with jwtgate.NewError), records err in c.Errors and
// aborts the chain. Use it in handlers and middleware of your own, a role
// check for instance.
func (a *Auth) Refuse(c *gin.Context, err error) {
	_ = c.Error(err)
	a.refuser.Fail(c.Writer, c.Request, err)
	c.Abort()
}

// Token returns the verified token of the request, and false if the
// request is not authenticated.
func Token(c *gin.Context) (*jwtgate.Token, bool) {
	if c.Request == nil {
		return nil, false
	}
	return jwtgate.TokenFrom(c.Request.Context())
}

// Identity returns the identity claim of the request's token, or "" if
// the request is not authenticated.
func Identity(c *gin.Context) string {
	if t, ok := Token(c); ok {
		return t.Identity
	}
	return ""
}

// Claims decodes the claims of the request's token into v (a pointer to
// a struct or a map), as jwt.Token.Decode does. It returns an error
// wrapping jwtgate.ErrNoToken if the request is not authenticated.
func Claims(c *gin.Context, v any) error {
	t, ok := Token(c)
	if !ok {
		return fmt.Errorf("gingate: claims: %w: the request is not authenticated", jwtgate.ErrNoToken)
	}
	return t.Decode(v)
}

// User returns the user that Config.LoadUser loaded for the request, as a
// T; false if the request is not authenticated, no user was loaded, or
// the user is not a T.
func User[T any](c *gin.Context) (T, bool) {
	if c.Request == nil {
		var zero T
		return zero, false
	}
	return jwtgate.User[T](c.Request.Context())
}

// SetAccessCookies sets the access token cookie and its CSRF cookie on
// the response (Gate.SetAccessCookies).
func (a *Auth) SetAccessCookies(c *gin.Context, token string, opts ...jwtgate.CookieOptions) error {
	return a.g.SetAccessCookies(c.Writer, token, opts...)
}

// SetRefreshCookies sets the refresh token cookie and its CSRF cookie
// (Gate.SetRefreshCookies).
func (a *Auth) SetRefreshCookies(c *gin.Context, token string, opts ...jwtgate.CookieOptions) error {
	return a.g.SetRefreshCookies(c.Writer, token, opts...)
}

// UnsetJWTCookies expires every token and CSRF cookie: a logout
// (Gate.UnsetJWTCookies).
func (a *Auth) UnsetJWTCookies(c *gin.Context, opts ...jwtgate.CookieOptions) error {
	return a.g.UnsetJWTCookies(c.Writer, opts...)
}

// UnsetAccessCookies expires the access token cookie and its CSRF cookie.
func (a *Auth) UnsetAccessCookies(c *gin.Context, opts ...jwtgate.CookieOptions) error {
	return a.g.UnsetAccessCookies(c.Writer, opts...)
}

// UnsetRefreshCookies expires the refresh token cookie and its CSRF
// cookie.
func (a *Auth) UnsetRefreshCookies(c *gin.Context, opts ...jwtgate.CookieOptions) error {
	return a.g.UnsetRefreshCookies(c.Writer, opts...)
}
