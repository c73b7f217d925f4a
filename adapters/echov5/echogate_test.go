// Code generated from ../echo by `go generate`; DO NOT EDIT.

package echogate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	echogate "github.com/jwtgate/jwtgate/adapters/echov5"
	"github.com/jwtgate/jwtgate/jwt"
)

// middleware picks the Auth's shortcut for the options it stands for.
func middleware(a *echogate.Auth, o jwtgate.RouteOptions) echo.MiddlewareFunc {
	return adaptertest.Pick(o, adaptertest.Shortcuts[echo.MiddlewareFunc]{
		Required: a.Required, Optional: a.Optional, Fresh: a.Fresh, Refresh: a.Refresh, Protect: a.Protect})
}

func TestConformance(t *testing.T) { adaptertest.RunHTTP(t, adapter) }

// adapter is the echo adapter as the conformance suite drives it: a
// server answering every path with the middleware, then a handler that
// reports what the accessors give.
var adapter = adaptertest.HTTP{
	Name: "echo",
	Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record adaptertest.Recorder) http.Handler {
		e := echo.New()
		e.Any("/*", func(c *echo.Context) error {
			s := adaptertest.SeenFrom(context.Background(), c.Request().Body)
			if tok, ok := echogate.Token(c); ok {
				s.Token = tok
				if tok.Identity != echogate.Identity(c) {
					t.Errorf("Identity %q, token's %q", echogate.Identity(c), tok.Identity)
				}
			}
			if u, ok := echogate.User[any](c); ok {
				s.User = u
			}
			record(s)
			return c.NoContent(http.StatusOK)
		}, middleware(echogate.New(g), opts))
		return e
	},
}

var now = time.Unix(1767225600, 0)

func newGate(t testing.TB, mutate func(*jwtgate.Config)) *jwtgate.Gate {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte("echogate-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := jwtgate.Config{
		SigningKey: key,
		Clock:      func() time.Time { return now },
		Locations:  []jwtgate.Location{jwtgate.InHeader{}, jwtgate.InCookie{}},
		Cookies:    jwtgate.DefaultCookies(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	g, err := jwtgate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func access(t testing.TB, g *jwtgate.Gate, user string, opts ...jwtgate.TokenOption) string {
	t.Helper()
	tok, err := g.CreateAccessToken(context.Background(), user, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func get(e http.Handler, path, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// TestGroupsSkipperAndRefuse checks route groups, a Skipper, a refusal
// stopping the chain, and Refuse in a handler of one's own.
func TestGroupsSkipperAndRefuse(t *testing.T) {
	g := newGate(t, nil)
	auth := echogate.New(g)
	e := echo.New()
	later := 0
	api := e.Group("/api", auth.WithConfig(echogate.Config{
		Skipper: func(c *echo.Context) bool { return c.Path() == "/api/health" },
	}), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error { later++; return next(c) }
	})
	api.GET("/me", func(c *echo.Context) error { return c.String(http.StatusOK, echogate.Identity(c)) })
	api.GET("/health", func(c *echo.Context) error { return c.String(http.StatusOK, "ok "+echogate.Identity(c)) })
	api.GET("/admin", func(c *echo.Context) error {
		var claims struct {
			Roles []string `json:"roles"`
		}
		if err := echogate.Claims(c, &claims); err != nil || !strings.Contains(strings.Join(claims.Roles, " "), "admin") {
			return auth.Refuse(c, jwtgate.NewError(jwtgate.ErrClaims, "Admins only", err))
		}
		return c.String(http.StatusOK, "admin")
	})
	alice := access(t, g, "alice")
	root := access(t, g, "root", jwtgate.WithClaims(map[string]any{"roles": []string{"admin"}}))

	if w := get(e, "/api/me", ""); w.Code != 401 || later != 0 || !strings.Contains(w.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q, later middleware ran %d times", w.Code, w.Body, later)
	}
	if w := get(e, "/api/me", alice); w.Code != 200 || w.Body.String() != "alice" || later != 1 {
		t.Fatalf("alice: %d %q (later %d)", w.Code, w.Body, later)
	}
	if w := get(e, "/api/health", ""); w.Code != 200 || w.Body.String() != "ok " {
		t.Fatalf("skipped: %d %q", w.Code, w.Body)
	}
	if w := get(e, "/api/health", "garbage"); w.Code != 200 {
		t.Fatalf("skipped with a bad token: %d %q", w.Code, w.Body)
	}
	if w := get(e, "/api/admin", alice); w.Code != 403 || !strings.Contains(w.Body.String(), "Admins only") {
		t.Fatalf("alice on admin: %d %q", w.Code, w.Body)
	}
	if w := get(e, "/api/admin", root); w.Code != 200 {
		t.Fatalf("root on admin: %d %q", w.Code, w.Body)
	}
}

// TestHTTPErrors checks the HTTPErrors mode: the error reaches echo's
// HTTPErrorHandler as an *echo.HTTPError with the Gate's status and
// message, wrapping the refusal, and the Gate's headers are set.
func TestHTTPErrors(t *testing.T) {
	for _, profile := range adaptertest.Profiles {
		t.Run(adaptertest.ProfileName(profile), func(t *testing.T) {
			g := newGate(t, func(c *jwtgate.Config) { c.Profile = profile })
			auth := echogate.New(g)
			e := echo.New()
			var handled []error
			def := e.HTTPErrorHandler
			e.HTTPErrorHandler = func(c *echo.Context, err error) {
				handled = append(handled, err)
				def(c, err)
			}
			e.GET("/", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") },
				auth.WithConfig(echogate.Config{HTTPErrors: true, Route: jwtgate.RouteOptions{Realm: "api"}}))
			e.GET("/own", func(c *echo.Context) error {
				return auth.HTTPError(c, jwtgate.NewError(jwtgate.ErrClaims, "no", nil))
			})
			ref := g.Protect(jwtgate.RouteOptions{Realm: "api"})(http.NotFoundHandler())
			for _, tok := range []string{"", "garbage", access(t, g, "alice", jwtgate.TTL(time.Second)) + "x"} {
				handled = nil
				w, want := get(e, "/", tok), get(ref, "/", tok)
				if w.Code != want.Code || w.Header().Get("WWW-Authenticate") != want.Header().Get("WWW-Authenticate") ||
					w.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("token %q: %d %v, the Gate's %d %v", tok, w.Code, w.Header(), want.Code, want.Header())
				}
				var he *echo.HTTPError
				if len(handled) != 1 || !errors.As(handled[0], &he) || he.Code != want.Code || Sentinel(handled[0]) == nil {
					t.Errorf("token %q: the error handler got %v", tok, handled)
				}
			}
			if w := get(e, "/", access(t, g, "alice")); w.Code != 200 {
				t.Errorf("valid token: %d", w.Code)
			}
			handled = nil
			if w := get(e, "/own", ""); w.Code != profile.Status(jwtgate.ErrClaims) || len(handled) != 1 || !errors.Is(handled[0], jwtgate.ErrClaims) {
				t.Errorf("HTTPError: %d %v", w.Code, handled)
			}
		})
	}
}

// Sentinel is the jwtgate sentinel an error wraps.
func Sentinel(err error) error { return adaptertest.Sentinel(err) }

// TestAccessorsWithoutToken: accessors on an unauthenticated request
// report nothing rather than fail, and read a token put in the context
// with jwtgate.NewContext, as in a handler's unit test.
func TestAccessorsWithoutToken(t *testing.T) {
	e := echo.New()
	c := e.NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
	if _, ok := echogate.Token(c); ok || echogate.Identity(c) != "" {
		t.Error("an unauthenticated request has a token")
	}
	if _, ok := echogate.User[string](c); ok {
		t.Error("an unauthenticated request has a user")
	}
	var m map[string]any
	if err := echogate.Claims(c, &m); !errors.Is(err, jwtgate.ErrNoToken) {
		t.Errorf("Claims without a token: %v", err)
	}
	g := newGate(t, nil)
	tok, err := g.DecodeToken(context.Background(), access(t, g, "carol", jwtgate.WithClaims(map[string]any{"team": "red"})))
	if err != nil {
		t.Fatal(err)
	}
	c.SetRequest(c.Request().WithContext(jwtgate.NewContext(c.Request().Context(), tok, "carol's record")))
	if echogate.Identity(c) != "carol" {
		t.Errorf("Identity %q", echogate.Identity(c))
	}
	if u, ok := echogate.User[string](c); !ok || u != "carol's record" {
		t.Errorf("User %q %v", u, ok)
	}
	var claims struct{ Team string }
	if err := echogate.Claims(c, &claims); err != nil || claims.Team != "red" {
		t.Errorf("Claims: %+v %v", claims, err)
	}
}

func TestBadOptionsPanic(t *testing.T) {
	auth := echogate.New(newGate(t, func(c *jwtgate.Config) { c.Cookies, c.Locations = nil, nil }))
	for name, register := range map[string]func(){
		"ignore-invalid": func() { auth.Protect(jwtgate.RouteOptions{IgnoreInvalid: true}) },
		"cookie-no-config": func() {
			auth.WithConfig(echogate.Config{Route: jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InCookie{}}}})
		},
		"bad-scope": func() { auth.Protect(jwtgate.RouteOptions{Scopes: []string{""}}) },
		"nil-gate":  func() { echogate.New(nil) },
	} {
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, jwtgate.ErrConfig) {
					t.Errorf("%s: panic %v, want an error wrapping ErrConfig", name, err)
				}
			}()
			register()
		}()
	}
}

// TestCookieLoginLogout logs in with cookies, uses them with the CSRF
// header, and logs out.
func TestCookieLoginLogout(t *testing.T) {
	g := newGate(t, nil)
	auth := echogate.New(g)
	e := echo.New()
	e.POST("/login", func(c *echo.Context) error {
		ctx, user := c.Request().Context(), c.QueryParam("user")
		a, err := g.CreateAccessToken(ctx, user)
		if err != nil {
			return err
		}
		r, err := g.CreateRefreshToken(ctx, user)
		if err != nil {
			return err
		}
		if err := auth.SetAccessCookies(c, a); err != nil {
			return err
		}
		if err := auth.SetRefreshCookies(c, r); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]bool{"login": true})
	})
	e.POST("/logout", func(c *echo.Context) error { return auth.UnsetJWTCookies(c) })
	e.POST("/logout/access", func(c *echo.Context) error { return auth.UnsetAccessCookies(c) })
	e.POST("/logout/refresh", func(c *echo.Context) error { return auth.UnsetRefreshCookies(c) })
	e.POST("/transfer", func(c *echo.Context) error { return c.String(http.StatusOK, "sent by "+echogate.Identity(c)) }, auth.Required())

	adaptertest.CheckCookieFlow(t, e)
}
