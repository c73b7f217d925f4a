// Command pyjwt reproduces the PyJWT + Flask tutorial ("Python jwt
// example"): POST /login takes a form with username and password and
// returns an HS256 token whose payload holds username, user_id, iat and
// exp (one hour); GET /protected verifies it and greets the user.
//
// The tutorial's weak spots are fixed rather than copied: /login checks the
// password (the tutorial signs a token for any name), the secret is not
// hard-coded, the token must come as "Authorization: Bearer <token>",
// verification allows HS256 only and needs username, iat and exp, and
// every failure is 401 with a WWW-Authenticate challenge:
//
//	no token                 401 {"error": "Unauthorized"}
//	expired token            401 {"error": "Token has expired"}
//	any other invalid token  401 {"error": "Invalid token"}
//
// Try it:
//
//	go run ./examples/pyjwt -addr 127.0.0.1:8000
//	curl -s -X POST localhost:8000/login -d username=johnDoe -d password=johnDoe-pw
//	curl -s localhost:8000/protected -H "Authorization: Bearer $TOKEN"
//
// The secret comes from JWT_SECRET_KEY (at least 32 bytes); without it a
// random one is made, as the tutorial's os.urandom(32) does.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwt"
)

type account struct {
	userID   int
	password [sha256.Size]byte // a digest; a real service uses a slow password hash
}

var accounts = map[string]account{
	"johnDoe": {12345, sha256.Sum256([]byte("johnDoe-pw"))},
}

func checkPassword(username, password string) (account, bool) {
	a, found := accounts[username]
	got := sha256.Sum256([]byte(password))
	ok := subtle.ConstantTimeCompare(got[:], a.password[:]) == 1
	return a, found && ok
}

func main() {
	fs := flag.NewFlagSet("pyjwt", flag.ExitOnError)
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
		fmt.Fprintln(os.Stderr, "pyjwt:", err)
		os.Exit(1)
	}
}

func run(addr string, log *slog.Logger) error {
	secret, err := demo.Secret(log, "JWT_SECRET_KEY", false)
	if err != nil {
		return err
	}
	key, err := jwt.NewHMACKey(secret, jwt.HS256)
	if err != nil {
		return err
	}
	gate, err := jwtgate.New(jwtgate.Config{
		SigningKey:     key,
		Algorithm:      jwt.HS256,
		AccessTTL:      time.Hour,
		IdentityClaim:  "username",
		OmitNotBefore:  true,
		RequiredClaims: []string{"iat", "exp"},
		ExtraClaims: func(_ context.Context, identity any) (map[string]any, error) {
			name, _ := identity.(string)
			return map[string]any{"user_id": accounts[name].userID}, nil
		},
		OnError: tutorialError,
		Logger:  log,
	})
	if err != nil {
		return err
	}
	ctx, stop := demo.SignalContext()
	defer stop()
	return demo.Run(ctx, demo.Server{Addr: addr, Handler: routes(gate, log), Logger: log})
}

// tutorialError answers refused requests with the tutorial's bodies.
func tutorialError(w http.ResponseWriter, _ *http.Request, err error) {
	switch {
	case errors.Is(err, jwtgate.ErrNoToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="pyjwt"`)
		demo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
	case errors.Is(err, jwtgate.ErrExpired):
		w.Header().Set("WWW-Authenticate", `Bearer realm="pyjwt", error="invalid_token", error_description="Token has expired"`)
		demo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "Token has expired"})
	case errors.Is(err, jwtgate.ErrUnavailable):
		demo.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "Service Unavailable"})
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="pyjwt", error="invalid_token"`)
		demo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "Invalid token"})
	}
}

func routes(gate *jwtgate.Gate, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// request.form['username'], from a urlencoded or multipart form: a
		// missing field is 400 in Flask.
		err := r.ParseMultipartForm(32 << 10)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		if err != nil && !errors.Is(err, http.ErrNotMultipart) {
			demo.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "Bad Request"})
			return
		}
		username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
		if !r.PostForm.Has("username") || !r.PostForm.Has("password") {
			demo.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "Bad Request"})
			return
		}
		if _, ok := checkPassword(username, password); !ok {
			demo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "Invalid credentials"})
			return
		}
		token, err := gate.CreateAccessToken(r.Context(), username)
		if err != nil {
			log.ErrorContext(r.Context(), "creating a token", "error", err)
			demo.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "Internal Server Error"})
			return
		}
		demo.WriteJSON(w, http.StatusOK, map[string]string{"token": token})
	})
	mux.Handle("GET /protected", gate.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		demo.WriteJSON(w, http.StatusOK, map[string]string{"message": "Hello, authenticated user!", "username": gate.Identity(r.Context())})
	})))
	return mux
}
