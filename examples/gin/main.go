// Command gin is a gin application protected by jwtgate's gin adapter
// (github.com/jwtgate/jwtgate/adapters/gin): login with access and
// refresh tokens (as JSON, or as cookies with double-submit CSRF), a
// route group that needs an access token, a scope-checked route, a
// fresh-only route, a refresh-only route and an optional one. Refusals are
// the Gate's RFC 6750 answers; later handlers never run.
//
//	go run ./examples/gin -addr 127.0.0.1:8000
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

	"github.com/gin-gonic/gin"

	"github.com/jwtgate/jwtgate"
	gingate "github.com/jwtgate/jwtgate/adapters/gin"
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
	fs := flag.NewFlagSet("gin", flag.ExitOnError)
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
		fmt.Fprintln(os.Stderr, "gin:", err)
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
	gin.SetMode(gin.ReleaseMode)
	auth := gingate.New(gate)
	r := gin.New() // demo.Run logs requests and recovers from panics

	// tokens logs in with a JSON body and returns the user's name and
	// fresh access and refresh tokens, or answers the request and
	// returns ok false.
	tokens := func(c *gin.Context) (access, refresh string, ok bool) {
		var in struct{ Username, Password string }
		if err := c.ShouldBindJSON(&in); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Bad request"})
			return "", "", false
		}
		u, valid := checkPassword(in.Username, in.Password)
		if !valid {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad username or password"})
			return "", "", false
		}
		var opts []jwtgate.TokenOption
		if u.scope != "" {
			opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": u.scope}))
		}
		access, err := gate.CreateAccessToken(c, in.Username, append(opts, jwtgate.Fresh())...)
		if err == nil {
			refresh, err = gate.CreateRefreshToken(c, in.Username, opts...)
		}
		if err != nil {
			log.ErrorContext(c, "creating tokens", "error", err)
			c.AbortWithStatus(http.StatusInternalServerError)
			return "", "", false
		}
		return access, refresh, true
	}
	r.POST("/login", func(c *gin.Context) {
		if access, refresh, ok := tokens(c); ok {
			c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
		}
	})
	r.POST("/login/cookies", func(c *gin.Context) {
		access, refresh, ok := tokens(c)
		if !ok {
			return
		}
		if err := auth.SetAccessCookies(c, access); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		if err := auth.SetRefreshCookies(c, refresh); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"login": true})
	})
	r.POST("/logout/cookies", func(c *gin.Context) {
		if err := auth.UnsetJWTCookies(c); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"logout": true})
	})
	r.POST("/refresh", auth.Refresh(), func(c *gin.Context) {
		t, _ := gingate.Token(c)
		var opts []jwtgate.TokenOption
		if s := t.Scopes(); len(s) > 0 {
			opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": strings.Join(s, " ")}))
		}
		access, err := gate.CreateAccessToken(c, t.Identity, opts...)
		if err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access})
	})
	r.GET("/optional", auth.Optional(), func(c *gin.Context) {
		if id := gingate.Identity(c); id != "" {
			c.JSON(http.StatusOK, gin.H{"user": id})
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": nil})
	})

	api := r.Group("/api", auth.Required())
	api.GET("/me", func(c *gin.Context) {
		t, _ := gingate.Token(c)
		c.JSON(http.StatusOK, gin.H{"user": t.Identity, "scopes": t.Scopes()})
	})
	api.GET("/reports", auth.Protect(jwtgate.RouteOptions{Scopes: []string{"reports:read"}}), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"reports": []string{"q1", "q2"}})
	})
	api.DELETE("/account", auth.Fresh(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"deleted": gingate.Identity(c)})
	})
	r.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, gin.H{"msg": "Not found"}) })
	return r
}
