// Command fiber is a fiber (v3) application protected by jwtgate's fiber
// adapter (github.com/jwtgate/jwtgate/adapters/fiber): login with access and
// refresh tokens (as JSON, or as cookies with double-submit CSRF), a
// route group that needs an access token, a scope-checked route, a
// fresh-only route, a refresh-only route and an optional one. Refusals are
// the Gate's RFC 6750 answers; later handlers never run.
//
//	go run ./examples/fiber -addr 127.0.0.1:8000
//
// Users: alice (password alice-pw, scope "reports:read") and bob (bob-pw).
// Routes:
//
//	POST   /login           {"username","password"} -> {"access_token" (fresh), "refresh_token"}
//	POST   /login/cookies   the same, set as cookies with CSRF cookies -> {"login": true}
//	POST   /logout/cookies  unsets the cookies -> {"logout": true}
//	POST   /refresh         refresh token -> {"access_token" (not fresh)}
//	GET    /optional        -> {"user"} or {"user": null}
//	GET    /api/me          access token -> {"user", "scopes"}
//	GET    /api/reports     access token with scope reports:read -> {"reports"}
//	DELETE /api/account     fresh access token -> {"deleted"}
//
// A session with curl:
//
//	curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//	     -d '{"username":"alice","password":"alice-pw"}'
//	curl -s localhost:8000/api/me -H "Authorization: Bearer $ACCESS"
//
// Fiber serves on fasthttp, not net/http, so the program runs its own
// server (fiber's Listener) rather than the other examples' net/http one:
// it logs each request (never the query string), bounds request bodies,
// recovers from panics, and shuts down gracefully on SIGINT or SIGTERM like them.
//
// The secret comes from JWT_SECRET_KEY (at least 32 bytes); without it a
// random one is used.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"

	"github.com/jwtgate/jwtgate"
	fibergate "github.com/jwtgate/jwtgate/adapters/fiber"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwt"
)

type user struct {
	password [sha256.Size]byte // a digest to keep the example short; use a slow password hash
	scope    string
}

var users = map[string]user{
	"alice": {sha256.Sum256([]byte("alice-pw")), "reports:read"},
	"bob":   {sha256.Sum256([]byte("bob-pw")), ""},
}

func checkPassword(name, password string) (user, bool) {
	u, found := users[name]
	got := sha256.Sum256([]byte(password))
	return u, subtle.ConstantTimeCompare(got[:], u.password[:]) == 1 && found
}

func main() {
	fs := flag.NewFlagSet("fiber", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "`host:port` to listen on (port 0 picks a free port)")
	_ = fs.Parse(os.Args[1:])
	log := demo.NewLogger()
	var err error
	if fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	} else {
		err = run(*addr, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fiber:", err)
		os.Exit(1)
	}
}

func run(addr string, log *slog.Logger) error {
	secret, err := demo.Secret(log, "JWT_SECRET_KEY", false)
	if err != nil {
		return err
	}
	key, err := jwt.NewHMACKey(secret)
	if err != nil {
		return err
	}
	gate, err := jwtgate.New(jwtgate.Config{
		SigningKey: key,
		Locations:  []jwtgate.Location{jwtgate.InHeader{}, jwtgate.InCookie{}},
		Cookies:    jwtgate.DefaultCookies(),
		Logger:     log,
	})
	if err != nil {
		return err
	}
	ctx, stop := demo.SignalContext()
	defer stop()
	return serve(ctx, addr, routes(gate, log), log)
}

// serve runs app on addr until ctx is done, then shuts it down, waiting
// for the requests in progress.
func serve(ctx context.Context, addr string, app *fiber.App, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(10 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func routes(gate *jwtgate.Gate, log *slog.Logger) *fiber.App {
	auth := fibergate.New(gate)
	app := fiber.New(fiber.Config{BodyLimit: 64 << 10, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	app.Use(recover.New()) // a panic is a 500, not a dropped connection
	app.Use(func(c fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		log.Info("request", "method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(), "duration", time.Since(start))
		return err
	})

	// tokens logs in with a JSON body and returns fresh access and refresh
	// tokens, or answers the request and returns ok false.
	tokens := func(c fiber.Ctx) (access, refresh string, ok bool, err error) {
		var in struct{ Username, Password string }
		if err := c.Bind().JSON(&in); err != nil {
			return "", "", false, c.Status(http.StatusBadRequest).JSON(fiber.Map{"msg": "Bad request"})
		}
		u, valid := checkPassword(in.Username, in.Password)
		if !valid {
			return "", "", false, c.Status(http.StatusUnauthorized).JSON(fiber.Map{"msg": "Bad username or password"})
		}
		var opts []jwtgate.TokenOption
		if u.scope != "" {
			opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": u.scope}))
		}
		if access, err = gate.CreateAccessToken(c.Context(), in.Username, append(opts, jwtgate.Fresh())...); err != nil {
			return "", "", false, err
		}
		refresh, err = gate.CreateRefreshToken(c.Context(), in.Username, opts...)
		return access, refresh, err == nil, err
	}
	app.Post("/login", func(c fiber.Ctx) error {
		access, refresh, ok, err := tokens(c)
		if !ok {
			return err
		}
		return c.JSON(fiber.Map{"access_token": access, "refresh_token": refresh})
	})
	app.Post("/login/cookies", func(c fiber.Ctx) error {
		access, refresh, ok, err := tokens(c)
		if !ok {
			return err
		}
		if err := auth.SetAccessCookies(c, access); err != nil {
			return err
		}
		if err := auth.SetRefreshCookies(c, refresh); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"login": true})
	})
	app.Post("/logout/cookies", func(c fiber.Ctx) error {
		if err := auth.UnsetJWTCookies(c); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"logout": true})
	})
	app.Post("/refresh", auth.Refresh(), func(c fiber.Ctx) error {
		t, _ := fibergate.Token(c)
		var opts []jwtgate.TokenOption
		if s := t.Scopes(); len(s) > 0 {
			opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": strings.Join(s, " ")}))
		}
		access, err := gate.CreateAccessToken(c.Context(), t.Identity, opts...)
		if err != nil {
			log.ErrorContext(c.Context(), "creating a token", "error", err)
			return err
		}
		return c.JSON(fiber.Map{"access_token": access})
	})
	app.Get("/optional", auth.Optional(), func(c fiber.Ctx) error {
		if id := fibergate.Identity(c); id != "" {
			return c.JSON(fiber.Map{"user": id})
		}
		return c.JSON(fiber.Map{"user": nil})
	})

	api := app.Group("/api", auth.Required())
	api.Get("/me", func(c fiber.Ctx) error {
		t, _ := fibergate.Token(c)
		return c.JSON(fiber.Map{"user": t.Identity, "scopes": t.Scopes()})
	})
	api.Get("/reports", auth.Protect(jwtgate.RouteOptions{Scopes: []string{"reports:read"}}), func(c fiber.Ctx) error {
		return c.JSON(fiber.Map{"reports": []string{"q1", "q2"}})
	})
	api.Delete("/account", auth.Fresh(), func(c fiber.Ctx) error {
		return c.JSON(fiber.Map{"deleted": fibergate.Identity(c)})
	})
	return app
}
