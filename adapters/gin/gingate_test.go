package gingate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	gingate "github.com/jwtgate/jwtgate/adapters/gin"
	"github.com/jwtgate/jwtgate/jwt"
)

func init() { gin.SetMode(gin.TestMode) }

// middleware picks the Auth's shortcut for the options it stands for.
func middleware(a *gingate.Auth, opts jwtgate.RouteOptions) gin.HandlerFunc {
	return adaptertest.Pick(opts, adaptertest.Shortcuts[gin.HandlerFunc]{
		Required: a.Required, Optional: a.Optional, Fresh: a.Fresh, Refresh: a.Refresh, Protect: a.Protect})
}

func TestConformance(t *testing.T) { adaptertest.RunHTTP(t, adapter) }

// adapter is the gin adapter as the conformance suite drives it: an
// engine serving every path with the middleware, then a handler that
// reports what the accessors give.
var adapter = adaptertest.HTTP{
	Name: "gin",
	Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record adaptertest.Recorder) http.Handler {
		e := gin.New()
		e.Any("/*path", middleware(gingate.New(g), opts), func(c *gin.Context) {
			s := adaptertest.Seen{Body: readAll(c)}
			if tok, ok := gingate.Token(c); ok {
				s.Token = tok
				if tok.Identity != gingate.Identity(c) {
					t.Errorf("Identity %q, token's %q", gingate.Identity(c), tok.Identity)
				}
			}
			if u, ok := gingate.User[any](c); ok {
				s.User = u
			}
			record(s)
			c.Status(http.StatusOK)
		})
		return e
	},
}

func readAll(c *gin.Context) string {
	b, _ := c.GetRawData()
	return string(b)
}

var now = time.Unix(1767225600, 0)

func newGate(t testing.TB, mutate func(*jwtgate.Config)) *jwtgate.Gate {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte("gingate-test-secret-0123456789abcdef"))
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

// TestAbortAndErrors checks that a refusal stops the chain (later
// middleware and handlers of the group never run), records the error in
// c.Errors, and that route groups share the middleware.
func TestAbortAndErrors(t *testing.T) {
	g := newGate(t, nil)
	auth := gingate.New(g)
	e := gin.New()
	var logged []error
	e.Use(func(c *gin.Context) {
		c.Next()
		for _, ge := range c.Errors {
			logged = append(logged, ge.Err)
		}
	})
	later := 0
	api := e.Group("/api", auth.Required(), func(c *gin.Context) { later++ })
	api.GET("/me", func(c *gin.Context) { c.String(http.StatusOK, gingate.Identity(c)) })
	admin := api.Group("/admin", func(c *gin.Context) {
		var claims struct {
			Roles []string `json:"roles"`
		}
		if err := gingate.Claims(c, &claims); err != nil || !strings.Contains(strings.Join(claims.Roles, " "), "admin") {
			auth.Refuse(c, jwtgate.NewError(jwtgate.ErrClaims, "Admins only", err))
		}
	})
	admin.GET("/stats", func(c *gin.Context) { c.String(http.StatusOK, "stats") })
	e.GET("/public", func(c *gin.Context) { c.String(http.StatusOK, "public %q", gingate.Identity(c)) })

	do := func(path, tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w
	}
	alice := access(t, g, "alice")
	root := access(t, g, "root", jwtgate.WithClaims(map[string]any{"roles": []string{"admin"}}))

	if w := do("/api/me", ""); w.Code != 401 || later != 0 || len(logged) != 1 || !errors.Is(logged[0], jwtgate.ErrNoToken) {
		t.Fatalf("no token: %d %q, later handlers ran %d times, errors %v", w.Code, w.Body, later, logged)
	}
	if w := do("/api/me", alice); w.Code != 200 || w.Body.String() != "alice" || later != 1 {
		t.Fatalf("alice: %d %q (later %d)", w.Code, w.Body, later)
	}
	if w := do("/api/admin/stats", alice); w.Code != 403 || !strings.Contains(w.Body.String(), "Admins only") {
		t.Fatalf("alice on admin: %d %q", w.Code, w.Body)
	}
	if w := do("/api/admin/stats", root); w.Code != 200 || w.Body.String() != "stats" {
		t.Fatalf("root on admin: %d %q", w.Code, w.Body)
	}
	if w := do("/public", alice); w.Code != 200 || w.Body.String() != `public ""` {
		t.Fatalf("public: %d %q", w.Code, w.Body)
	}
}

// TestAccessorsWithoutToken uses gin's test context: accessors on an
// unauthenticated request (and on a context without a request) report
// nothing rather than fail.
func TestAccessorsWithoutToken(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	if _, ok := gingate.Token(c); ok || gingate.Identity(c) != "" {
		t.Error("a context without a request is authenticated")
	}
	if _, ok := gingate.User[string](c); ok {
		t.Error("a context without a request has a user")
	}
	c.Request = httptest.NewRequest("GET", "/", nil)
	var m map[string]any
	if err := gingate.Claims(c, &m); !errors.Is(err, jwtgate.ErrNoToken) {
		t.Errorf("Claims without a token: %v", err)
	}
	// A context given a token with jwtgate.NewContext, as in a handler's
	// unit test.
	g := newGate(t, nil)
	tok, err := g.DecodeToken(context.Background(), access(t, g, "carol", jwtgate.WithClaims(map[string]any{"team": "red"})))
	if err != nil {
		t.Fatal(err)
	}
	c.Request = c.Request.WithContext(jwtgate.NewContext(c.Request.Context(), tok, "carol's record"))
	if gingate.Identity(c) != "carol" {
		t.Errorf("Identity %q", gingate.Identity(c))
	}
	if u, ok := gingate.User[string](c); !ok || u != "carol's record" {
		t.Errorf("User %q %v", u, ok)
	}
	if _, ok := gingate.User[int](c); ok {
		t.Error("User of another type")
	}
	var claims struct{ Team string }
	if err := gingate.Claims(c, &claims); err != nil || claims.Team != "red" {
		t.Errorf("Claims: %+v %v", claims, err)
	}
}

// TestBadOptionsPanic checks that every constructor checks its options at
// registration.
func TestBadOptionsPanic(t *testing.T) {
	auth := gingate.New(newGate(t, func(c *jwtgate.Config) { c.Cookies, c.Locations = nil, nil }))
	for name, register := range map[string]func(){
		"ignore-invalid":   func() { auth.Protect(jwtgate.RouteOptions{IgnoreInvalid: true}) },
		"cookie-no-config": func() { auth.Protect(jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InCookie{}}}) },
		"nil-gate":         func() { gingate.New(nil) },
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
	auth := gingate.New(g)
	e := gin.New()
	e.POST("/login", func(c *gin.Context) {
		a, err := g.CreateAccessToken(c, c.Query("user"))
		if err == nil {
			err = auth.SetAccessCookies(c, a)
		}
		if err == nil {
			var r string
			if r, err = g.CreateRefreshToken(c, c.Query("user")); err == nil {
				err = auth.SetRefreshCookies(c, r)
			}
		}
		if err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"login": true})
	})
	e.POST("/logout", func(c *gin.Context) {
		if err := auth.UnsetJWTCookies(c); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"logout": true})
	})
	e.POST("/logout/access", func(c *gin.Context) { _ = auth.UnsetAccessCookies(c) })
	e.POST("/logout/refresh", func(c *gin.Context) { _ = auth.UnsetRefreshCookies(c) })
	e.POST("/transfer", auth.Required(), func(c *gin.Context) { c.String(http.StatusOK, "sent by %s", gingate.Identity(c)) })

	adaptertest.CheckCookieFlow(t, e)
}
