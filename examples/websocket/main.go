// Command websocket reproduces FastAPI JWT Auth's WebSocket flow
// (fastapi_jwt_auth "API Documentation": jwt_required(auth_from=
// "websocket", token=..., websocket=..., csrf_token=...)). Browsers cannot
// set headers on a WebSocket handshake, so the token comes either
//
//   - in the query string: ws://host/ws?token=<access token>, or
//   - in the access cookie set by POST /login/cookies, with the CSRF value
//     (the csrf_access_token cookie) in the query string:
//     ws://host/ws?csrf_token=<csrf value>.
//
// The Gate checks the handshake (RouteOptions{WebSocket: true}) before the
// connection is upgraded: a missing, expired or otherwise invalid token, or
// a cookie without the right CSRF value, gets an HTTP error and no
// WebSocket at all (FastAPI JWT Auth accepts first and then closes with
// 1008). The upgrade also checks the Origin header (same host unless
// -origins allows others). An open connection is closed with 1008 "Token
// has expired" when its token expires, and with 1001 when the server
// stops.
//
// Once connected, the server sends "Successfully Login!" and the decoded
// token, then echoes every message prefixed with the user's name.
//
//	go run ./examples/websocket -addr 127.0.0.1:8000
//	curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//	     -d '{"username":"alice","password":"alice-pw"}'
//	websocat "ws://127.0.0.1:8000/ws?token=$TOKEN"
//
// The secret comes from JWT_SECRET_KEY (at least 32 bytes); without it a
// random one is used.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwt"
)

// passwords holds SHA-256 digests to keep the example short; a real
// service uses a slow password hash.
var passwords = map[string][sha256.Size]byte{
	"alice": sha256.Sum256([]byte("alice-pw")),
	"bob":   sha256.Sum256([]byte("bob-pw")),
}

func checkPassword(name, password string) bool {
	want, found := passwords[name]
	got := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && found
}

func main() {
	fs := flag.NewFlagSet("websocket", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "`host:port` to listen on (port 0 picks a free port)")
	origins := fs.String("origins", "", "comma-separated host `patterns` of other origins allowed to open WebSockets (e.g. app.example.com)")
	_ = fs.Parse(os.Args[1:])
	log := demo.NewLogger()
	var err error
	if fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	} else {
		err = run(*addr, splitList(*origins), log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "websocket:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type app struct {
	gate    *jwtgate.Gate
	origins []string
	ctx     context.Context // done when the server stops
	log     *slog.Logger
}

func run(addr string, origins []string, log *slog.Logger) error {
	secret, err := demo.Secret(log, "JWT_SECRET_KEY", false)
	if err != nil {
		return err
	}
	key, err := jwt.NewHMACKey(secret, jwt.HS256)
	if err != nil {
		return err
	}
	gate, err := jwtgate.New(jwtgate.Config{
		SigningKey: key,
		Algorithm:  jwt.HS256,
		// The query string first (?token=), then the cookies.
		Locations:  []jwtgate.Location{jwtgate.InQuery, jwtgate.InCookie},
		QueryParam: "token",
		Cookies:    jwtgate.DefaultCookies(), // CSRF protection on; ?csrf_token= on handshakes
		Realm:      "websocket",
		Logger:     log,
	})
	if err != nil {
		return err
	}
	ctx, stop := demo.SignalContext()
	defer stop()
	a := &app{gate: gate, origins: origins, ctx: ctx, log: log}
	return demo.Run(ctx, demo.Server{Addr: addr, Handler: a.routes(), Logger: log, LongLived: true})
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /login/cookies", a.login)
	mux.Handle("GET /ws", a.gate.Protect(jwtgate.RouteOptions{WebSocket: true})(http.HandlerFunc(a.ws)))
	return mux
}

// login answers {"access_token": ...} on /login, and sets the access
// cookie and its CSRF cookie on /login/cookies.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil || !demo.IsJSON(r.Header.Get("Content-Type")) || json.Unmarshal(raw, &body) != nil || !checkPassword(body.Username, body.Password) {
		demo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Bad username or password"})
		return
	}
	token, err := a.gate.CreateAccessToken(r.Context(), body.Username, jwtgate.Fresh())
	if err != nil {
		a.log.ErrorContext(r.Context(), "creating a token", "error", err)
		demo.WriteJSON(w, http.StatusInternalServerError, map[string]string{"detail": "Internal Server Error"})
		return
	}
	if r.URL.Path == "/login/cookies" {
		if err := a.gate.SetAccessCookies(w, token); err != nil {
			a.log.ErrorContext(r.Context(), "setting cookies", "error", err)
			demo.WriteJSON(w, http.StatusInternalServerError, map[string]string{"detail": "Internal Server Error"})
			return
		}
		demo.WriteJSON(w, http.StatusOK, map[string]string{"msg": "Successfully login"})
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]string{"access_token": token})
}

// ws runs after the Gate accepted the handshake's token.
func (a *app) ws(w http.ResponseWriter, r *http.Request) {
	t, _ := a.gate.TokenFrom(r.Context())
	var claims map[string]any
	if err := t.Decode(&claims); err != nil {
		http.Error(w, "bad claims", http.StatusBadRequest)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: a.origins})
	if err != nil {
		return // Accept has answered the request
	}
	defer c.CloseNow()
	c.SetReadLimit(4 << 10)

	// The connection lives as long as the token and the server.
	life, cancel := context.WithCancel(a.ctx)
	defer cancel()
	if exp := t.Claims.ExpiresAt; exp != nil {
		life, cancel = context.WithDeadline(life, exp.Time)
		defer cancel()
	}
	stopClosing := context.AfterFunc(life, func() {
		if a.ctx.Err() != nil {
			_ = c.Close(websocket.StatusGoingAway, "server shutting down")
			return
		}
		if errors.Is(life.Err(), context.DeadlineExceeded) {
			_ = c.Close(websocket.StatusPolicyViolation, "Token has expired")
		}
	})
	defer stopClosing()

	decoded, _ := json.Marshal(claims)
	for _, msg := range []string{"Successfully Login!", "Here your decoded token: " + string(decoded)} {
		if err := c.Write(life, websocket.MessageText, []byte(msg)); err != nil {
			return
		}
	}
	for {
		typ, msg, err := c.Read(context.Background()) // ended by Close above or by the peer
		if err != nil {
			if s := websocket.CloseStatus(err); s != websocket.StatusNormalClosure && s != websocket.StatusGoingAway {
				a.log.Debug("websocket closed", "identity", t.Identity, "error", err)
			}
			return
		}
		ctx, done := context.WithTimeout(life, 10*time.Second)
		err = c.Write(ctx, typ, append([]byte(t.Identity+": "), msg...))
		done()
		if err != nil {
			return
		}
	}
}
