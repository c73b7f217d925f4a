package fibergate_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	fibergate "github.com/jwtgate/jwtgate/adapters/fiber"
	"github.com/jwtgate/jwtgate/jwt"
)

// handler picks the Auth's shortcut for the options it stands for.
func handler(a *fibergate.Auth, o jwtgate.RouteOptions) fiber.Handler {
	return adaptertest.Pick(o, adaptertest.Shortcuts[fiber.Handler]{
		Required: a.Required, Optional: a.Optional, Fresh: a.Fresh, Refresh: a.Refresh, Protect: a.Protect})
}

func TestConformance(t *testing.T) { adaptertest.RunHTTP(t, adapter) }

// adapter is the fiber adapter as the conformance suite drives it: an app
// answering every path with the handler, then one that reports what the
// accessors give, served by fiber on a loopback port behind a reverse
// proxy (fiber's net/http adaptor, adaptor.FiberApp, keeps only the last
// of repeated headers, which a real fiber server does not).
var adapter = adaptertest.HTTP{
	Name: "fiber",
	Protect: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, record adaptertest.Recorder) http.Handler {
		app := fiber.New()
		mw := handler(fibergate.New(g), opts)
		app.All("/*", mw, func(c fiber.Ctx) error {
			s := adaptertest.Seen{Body: string(c.Body())}
			if tok, ok := fibergate.Token(c); ok {
				s.Token = tok
				if tok.Identity != fibergate.Identity(c) {
					t.Errorf("Identity %q, token's %q", fibergate.Identity(c), tok.Identity)
				}
			}
			if u, ok := fibergate.User[any](c); ok {
				s.User = u
			}
			record(s)
			return c.SendStatus(http.StatusOK)
		})
		return serve(t, app)
	},
}

// serve runs app on a loopback port until t ends, and returns a reverse
// proxy to it.
func serve(t testing.TB, app *fiber.App) http.Handler {
	u := &url.URL{Scheme: "http", Host: listen(t, app)}
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = &http.Transport{DisableKeepAlives: true} // so that Shutdown has no idle connection to wait for
	return p
}

// listen runs app on a loopback port until t ends, and returns its
// address. Clients must close their connections before t ends (Shutdown
// waits for them).
func listen(t testing.TB, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return listenOn(t, app, ln)
}

// listenOn runs app on ln until t ends, and returns its address.
func listenOn(t testing.TB, app *fiber.App, ln net.Listener) string {
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() {
		if err := app.Shutdown(); err != nil {
			t.Error(err)
		}
		<-done
	})
	return ln.Addr().String()
}

var now = time.Unix(1767225600, 0)

func newGate(t testing.TB, mutate func(*jwtgate.Config)) *jwtgate.Gate {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte("fibergate-test-secret-0123456789abcdef"))
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

// TestGroupsAndRefuse checks route groups, a refusal stopping the chain,
// Claims, and Refuse in a handler of one's own, with fiber's app.Test.
func TestGroupsAndRefuse(t *testing.T) {
	g := newGate(t, nil)
	auth := fibergate.New(g)
	app := fiber.New()
	later := 0
	api := app.Group("/api", auth.Required(), func(c fiber.Ctx) error { later++; return c.Next() })
	api.Get("/me", func(c fiber.Ctx) error { return c.SendString(fibergate.Identity(c)) })
	api.Get("/admin", func(c fiber.Ctx) error {
		var claims struct {
			Roles []string `json:"roles"`
		}
		if err := fibergate.Claims(c, &claims); err != nil || !strings.Contains(strings.Join(claims.Roles, " "), "admin") {
			return auth.Refuse(c, jwtgate.NewError(jwtgate.ErrClaims, "Admins only", err))
		}
		return c.SendString("admin")
	})
	app.Get("/public", func(c fiber.Ctx) error {
		var m map[string]any
		if err := fibergate.Claims(c, &m); !errors.Is(err, jwtgate.ErrNoToken) {
			t.Errorf("Claims without a token: %v", err)
		}
		return c.SendString("public " + fibergate.Identity(c))
	})
	do := func(path, tok string) (int, string, http.Header) {
		r := httptest.NewRequest("GET", path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := app.Test(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, res.Body)
		return res.StatusCode, b.String(), res.Header
	}
	alice := access(t, g, "alice")
	root := access(t, g, "root", jwtgate.WithClaims(map[string]any{"roles": []string{"admin"}}))
	if code, body, h := do("/api/me", ""); code != 401 || later != 0 || h.Get("WWW-Authenticate") != `Bearer realm="jwtgate"` {
		t.Fatalf("no token: %d %q %v, later handlers ran %d times", code, body, h, later)
	}
	if code, body, _ := do("/api/me", alice); code != 200 || body != "alice" || later != 1 {
		t.Fatalf("alice: %d %q (later %d)", code, body, later)
	}
	if code, body, _ := do("/api/admin", alice); code != 403 || !strings.Contains(body, "Admins only") {
		t.Fatalf("alice on admin: %d %q", code, body)
	}
	if code, body, _ := do("/api/admin", root); code != 200 || body != "admin" {
		t.Fatalf("root on admin: %d %q", code, body)
	}
	if code, body, _ := do("/public", alice); code != 200 || body != "public " {
		t.Fatalf("public: %d %q", code, body)
	}
}

func TestBadOptionsPanic(t *testing.T) {
	auth := fibergate.New(newGate(t, func(c *jwtgate.Config) { c.Cookies, c.Locations = nil, nil }))
	for name, register := range map[string]func(){
		"ignore-invalid": func() { auth.Protect(jwtgate.RouteOptions{IgnoreInvalid: true}) },
		"bad-scope":      func() { auth.Protect(jwtgate.RouteOptions{Scopes: []string{""}}) },
		"nil-gate":       func() { fibergate.New(nil) },
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
	auth := fibergate.New(g)
	app := fiber.New()
	app.Post("/login", func(c fiber.Ctx) error {
		user := c.Query("user")
		a, err := g.CreateAccessToken(c.Context(), user)
		if err != nil {
			return err
		}
		r, err := g.CreateRefreshToken(c.Context(), user)
		if err != nil {
			return err
		}
		if err := auth.SetAccessCookies(c, a); err != nil {
			return err
		}
		if err := auth.SetRefreshCookies(c, r); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"login": true})
	})
	app.Post("/logout", func(c fiber.Ctx) error { return auth.UnsetJWTCookies(c) })
	app.Post("/logout/access", func(c fiber.Ctx) error { return auth.UnsetAccessCookies(c) })
	app.Post("/logout/refresh", func(c fiber.Ctx) error { return auth.UnsetRefreshCookies(c) })
	app.Post("/transfer", auth.Required(), func(c fiber.Ctx) error { return c.SendString("sent by " + fibergate.Identity(c)) })
	h := adaptor.FiberApp(app)
	adaptertest.CheckCookieFlow(t, h)
}

// TestTokenOutlivesRequest keeps the token of a request and checks it
// after fasthttp has reused its buffers for other requests: the adapter
// copies what it takes from them.
func TestTokenOutlivesRequest(t *testing.T) {
	g := newGate(t, nil)
	auth := fibergate.New(g)
	app := fiber.New()
	var kept []*jwtgate.Token
	app.Get("/", auth.Required(), func(c fiber.Ctx) error {
		tok, _ := fibergate.Token(c)
		kept = append(kept, tok)
		return c.SendStatus(http.StatusOK)
	})
	h := serve(t, app)
	var sent []string
	for _, user := range []string{"aaaa", "bbbb", "cccc", "dddd"} {
		tok := access(t, g, user)
		sent = append(sent, tok)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", user, w.Code, w.Body)
		}
	}
	for i, tok := range kept {
		if tok.Raw() != sent[i] || tok.Identity != []string{"aaaa", "bbbb", "cccc", "dddd"}[i] {
			t.Errorf("request %d: the kept token changed: %q", i, tok.Identity)
		}
	}
}
