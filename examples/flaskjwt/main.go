// Command flaskjwt reproduces Flask-JWT's quickstart ("Flask-JWT ...
// Minimum viable application configuration"): an authentication
// handler and an identity handler, POST /auth for a token, and a route
// behind jwt_required() that prints current_identity. The Gate runs in
// ProfileFlaskJWT, so errors look like Flask-JWT's:
// {"status_code": 401, "error": ..., "description": ...}.
//
// Flask-JWT's defaults are kept: the header is "Authorization: JWT <token>"
// (the scheme in any case), the identity claim is "identity" and holds the
// user's id (a number), tokens live 300 seconds, 10 seconds of leeway,
// and exp, iat and nbf are required claims.
//
//	go run ./examples/flaskjwt -addr 127.0.0.1:8000
//	curl -s -X POST localhost:8000/auth -H 'Content-Type: application/json' \
//	     -d '{"username": "user1", "password": "abcxyz"}'
//	curl -s localhost:8000/protected -H "Authorization: JWT $TOKEN"    # User(id='1')
//
// The secret comes from JWT_SECRET_KEY (at least 32 bytes); without it a
// random secret is used, and tokens end with the process.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwt"
)

// User is the quickstart's user. Its String method is the quickstart's
// __str__, which GET /protected prints.
type User struct {
	ID       int
	Username string
	Password [sha256.Size]byte // a digest; use a slow password hash in a real service
}

func (u *User) String() string { return fmt.Sprintf("User(id='%d')", u.ID) }

func newUser(id int, name, password string) *User {
	return &User{ID: id, Username: name, Password: sha256.Sum256([]byte(password))}
}

// The tables never change after start, so they need no lock.
var (
	users         = []*User{newUser(1, "user1", "abcxyz"), newUser(2, "user2", "abcxyz")}
	usernameTable = map[string]*User{}
	useridTable   = map[int]*User{}
)

func init() {
	for _, u := range users {
		usernameTable[u.Username] = u
		useridTable[u.ID] = u
	}
}

// authenticate is the authentication handler: the user, or nil. The
// password check takes the same time whether the user exists or not
// (Flask-JWT's example uses safe_str_cmp).
func authenticate(username, password string) *User {
	u, found := usernameTable[username]
	var want [sha256.Size]byte
	if found {
		want = u.Password
	}
	got := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(got[:], want[:]) == 1 && found {
		return u
	}
	return nil
}

// identity is the identity handler: the user whose id is the token's
// identity claim, or nil (then the Gate answers "User does not exist").
// The claim must be a JSON integer, as Python's userid_table.get would
// not find "1" (a string) either.
func identity(_ context.Context, t *jwtgate.Token) (any, error) {
	raw, _ := t.RawClaim("identity")
	id, err := strconv.Atoi(raw)
	if err != nil {
		return nil, nil
	}
	if u, ok := useridTable[id]; ok {
		return u, nil
	}
	return nil, nil
}

func main() {
	fs := flag.NewFlagSet("flaskjwt", flag.ExitOnError)
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
		fmt.Fprintln(os.Stderr, "flaskjwt:", err)
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
	gate, err := newGate(key, log)
	if err != nil {
		return err
	}
	ctx, stop := demo.SignalContext()
	defer stop()
	return demo.Run(ctx, demo.Server{Addr: addr, Handler: routes(gate, log), Logger: log})
}

func newGate(key *jwt.Key, log *slog.Logger) (*jwtgate.Gate, error) {
	return jwtgate.New(jwtgate.Config{
		SigningKey:     key,
		Algorithm:      jwt.HS256,
		Profile:        jwtgate.ProfileFlaskJWT, // realm "Login Required"
		HeaderScheme:   "JWT",
		IdentityClaim:  "identity",
		AccessTTL:      300 * time.Second,
		Leeway:         10 * time.Second,
		RequiredClaims: []string{"exp", "iat", "nbf"},
		Logger:         log,
		// The payload handler's identity: the user's id.
		IdentityOf: func(u any) (any, error) {
			user, ok := u.(*User)
			if !ok {
				return nil, fmt.Errorf("not a user: %T", u)
			}
			return user.ID, nil
		},
		LoadUser: identity,
	})
}

func routes(gate *jwtgate.Gate, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth", func(w http.ResponseWriter, r *http.Request) { auth(gate, log, w, r) })
	mux.Handle("GET /protected", gate.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		currentIdentity, _ := jwtgate.User[*User](gate, r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s", currentIdentity)
	})))
	return mux
}

// invalidCredentials is Flask-JWT's JWTError('Bad Request', 'Invalid
// credentials'), which it sends with status 401.
func invalidCredentials(w http.ResponseWriter) {
	demo.WriteJSON(w, http.StatusUnauthorized, map[string]any{"status_code": 401, "error": "Bad Request", "description": "Invalid credentials"})
}

// auth is Flask-JWT's auth endpoint: a JSON object with exactly the two
// members username and password. Flask-JWT answers a body that is not
// JSON with a 500; here it is one more "Invalid credentials".
func auth(gate *jwtgate.Gate, log *slog.Logger, w http.ResponseWriter, r *http.Request) {
	if !demo.IsJSON(r.Header.Get("Content-Type")) {
		invalidCredentials(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		invalidCredentials(w)
		return
	}
	var data map[string]json.RawMessage
	var username, password string
	if json.Unmarshal(body, &data) != nil || len(data) != 2 ||
		json.Unmarshal(data["username"], &username) != nil || json.Unmarshal(data["password"], &password) != nil ||
		username == "" || password == "" {
		invalidCredentials(w)
		return
	}
	user := authenticate(username, password)
	if user == nil {
		invalidCredentials(w)
		return
	}
	token, err := gate.CreateAccessToken(r.Context(), user)
	if err != nil {
		log.ErrorContext(r.Context(), "creating a token", "error", err)
		demo.WriteJSON(w, http.StatusInternalServerError, map[string]any{"status_code": 500, "error": "Internal Server Error", "description": "Could not create a token"})
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]string{"access_token": token})
}
