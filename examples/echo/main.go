// Command echo is an echo (v4) application protected by jwtgate's echo
// adapter (github.com/jwtgate/jwtgate/adapters/echo; for echo v5,
// adapters/echov5 has the same API): login with access and
// refresh tokens (as JSON, or as cookies with double-submit CSRF), a
// route group that needs an access token, a scope-checked route, a
// fresh-only route, a refresh-only route and an optional one. Refusals are
// the Gate's RFC 6750 answers; later handlers never run.
//
//	go run ./examples/echo -addr 127.0.0.1:8000
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
// The secret comes from JWT_SECRET_KEY (at least 32 bytes); without it a
// random one is used.
package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jwtgate/jwtgate"
	echogate "github.com/jwtgate/jwtgate/adapters/echo"
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
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
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
		fmt.Fprintln(os.Stderr, "echo:", err)
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
	return demo.Run(ctx, demo.Server{Addr: addr, Handler: routes(gate, log), Logger: log})
}

func routes(gate *jwtgate.Gate, log *slog.Logger) http.Handler {
	auth := echogate.New(gate)
	e := echo.New() // demo.Run logs requests and recovers from panics
	e.HideBanner, e.HidePort = true, true
	type msg = map[string]any

	// tokens logs in with a JSON body and returns fresh access and refresh
	// tokens, or the error to answer with.
	tokens := func(c echo.Context) (access, refresh string, err error) {
		var in struct{ Username, Password string }
		if err := c.Bind(&in); err != nil {
			return "", "", c.JSON(http.StatusBadRequest, msg{"msg": "Bad request"})
		}
		u, valid := checkPassword(in.Username, in.Password)
		if !valid {
			return "", "", c.JSON(http.StatusUnauthorized, msg{"msg": "Bad username or password"})
		}
		var opts []jwtgate.TokenOption
		if u.scope != "" {
			opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": u.scope}))
		}
		ctx := c.Request().Context()
		if access, err = gate.CreateAccessToken(ctx, in.Username, append(opts, jwtgate.Fresh())...); err != nil {
			return "", "", err
		}
		refresh, err = gate.CreateRefreshToken(ctx, in.Username, opts...)
		return access, refresh, err
	}
	e.POST("/login", func(c echo.Context) error {
		access, refresh, err := tokens(c)
		if err != nil || c.Response().Committed {
			return err
		}
		return c.JSON(http.StatusOK, msg{"access_token": access, "refresh_token": refresh})
	})
	e.POST("/login/cookies", func(c echo.Context) error {
		access, refresh, err := tokens(c)
		if err != nil || c.Response().Committed {
			return err
		}
		if err := auth.SetAccessCookies(c, access); err != nil {
			return err
		}
		if err := auth.SetRefreshCookies(c, refresh); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, msg{"login": true})
	})
	e.POST("/logout/cookies", func(c echo.Context) error {
		if err := auth.UnsetJWTCookies(c); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, msg{"logout": true})
	})
	e.POST("/refresh", func(c echo.Context) error {
		t, _ := echogate.Token(c)
		var opts []jwtgate.TokenOption
		if s := t.Scopes(); len(s) > 0 {
			opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": strings.Join(s, " ")}))
		}
		access, err := gate.CreateAccessToken(c.Request().Context(), t.Identity, opts...)
		if err != nil {
			log.ErrorContext(c.Request().Context(), "creating a token", "error", err)
			return err
		}
		return c.JSON(http.StatusOK, msg{"access_token": access})
	}, auth.Refresh())
	e.GET("/optional", func(c echo.Context) error {
		if id := echogate.Identity(c); id != "" {
			return c.JSON(http.StatusOK, msg{"user": id})
		}
		return c.JSON(http.StatusOK, msg{"user": nil})
	}, auth.Optional())

	api := e.Group("/api", auth.Required())
	api.GET("/me", func(c echo.Context) error {
		t, _ := echogate.Token(c)
		return c.JSON(http.StatusOK, msg{"user": t.Identity, "scopes": t.Scopes()})
	})
	api.GET("/reports", func(c echo.Context) error {
		return c.JSON(http.StatusOK, msg{"reports": []string{"q1", "q2"}})
	}, auth.Protect(jwtgate.RouteOptions{Scopes: []string{"reports:read"}}))
	api.DELETE("/account", func(c echo.Context) error {
		return c.JSON(http.StatusOK, msg{"deleted": echogate.Identity(c)})
	}, auth.Fresh())
	return e
}
