// Command extended reproduces the API of flask-jwt-extended and its port
// Quart-JWT-Extended (quart_jwt_extended's "API Documentation"): login
// with access and refresh tokens, refresh, fresh-only routes, optional
// routes, cookies with double-submit CSRF protection, revocation
// (token_in_blocklist_loader), additional claims (user_claims_loader),
// claims verification (claims_verification_loader) and the user loader
// (user_loader_callback_loader). It is also the
// conformance demo: with -profile flask it answers with flask-jwt-extended's
// exact status codes and {"msg": ...} bodies, with -profile rfc6750 as
// RFC 6750 says.
//
// Run it with a secret of at least 32 bytes:
//
//	JWT_SECRET_KEY=$(openssl rand -hex 32) go run ./examples/extended -addr 127.0.0.1:8000 -profile flask
//
// Users: alice (password alice-pw, roles ["admin"]) and bob (bob-pw, no
// roles). Tokens are read from the Authorization header, the cookies, the
// query string (?jwt=) and a JSON body, in that order. Routes:
//
//	POST   /login              {"username","password"} -> {"access_token" (fresh), "refresh_token"}
//	POST   /login/cookies      the same, set as cookies with CSRF cookies -> {"login": true}
//	POST   /logout/cookies     unsets the cookies -> {"logout": true}
//	POST   /refresh            refresh token -> {"access_token" (not fresh)}
//	GET    /protected          access token -> {"identity"}
//	GET    /optional           -> {"identity"} or {"identity": null}
//	GET    /fresh              fresh access token -> {"identity"}
//	DELETE /revoke             any token, access or refresh: revokes it -> {"msg": "revoked"}
//	GET    /admin              access token with the admin role, else 403 {"msg": "Admins only!"}
//	GET    /whoami             the loaded user -> {"username", "roles"}
//	POST   /users/{name}/delete  deletes a user (a test hook; no token needed)
//
// A session with curl:
//
//	curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//	     -d '{"username":"alice","password":"alice-pw"}'
//	curl -s localhost:8000/protected -H "Authorization: Bearer $ACCESS"
package main

import (
	"bytes"
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
	"slices"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwt"
)

func main() {
	fs := flag.NewFlagSet("extended", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "`host:port` to listen on (port 0 picks a free port)")
	profile := fs.String("profile", "flask", "error responses: flask (flask-jwt-extended's) or rfc6750")
	_ = fs.Parse(os.Args[1:])
	log := demo.NewLogger()
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "extended: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		os.Exit(2)
	}
	if err := run(*addr, *profile, log); err != nil {
		fmt.Fprintln(os.Stderr, "extended:", err)
		os.Exit(1)
	}
}

func run(addr, profile string, log *slog.Logger) error {
	var p jwtgate.Profile
	switch profile {
	case "flask":
		p = jwtgate.ProfileFlask
	case "rfc6750":
		p = jwtgate.ProfileRFC6750
	default:
		return fmt.Errorf("unknown -profile %q: use flask or rfc6750", profile)
	}
	secret, err := demo.Secret(log, "JWT_SECRET_KEY", true)
	if err != nil {
		return err
	}
	key, err := jwt.NewHMACKey(secret, jwt.HS256)
	if err != nil {
		return err
	}
	a, err := newApp(key, p, log)
	if err != nil {
		return err
	}
	ctx, stop := demo.SignalContext()
	defer stop()
	return demo.Run(ctx, demo.Server{Addr: addr, Handler: a.routes(), Logger: log})
}

// user is an account. Passwords are kept as SHA-256 digests here to keep
// the example short; a real service uses a slow password hash (argon2id,
// bcrypt, scrypt).
type user struct {
	Name     string
	Password [sha256.Size]byte
	Roles    []string
}

// userStore is the user table, safe for concurrent use.
type userStore struct {
	mu sync.RWMutex
	m  map[string]user
}

func newUserStore() *userStore {
	s := &userStore{m: map[string]user{}}
	s.add("alice", "alice-pw", "admin")
	s.add("bob", "bob-pw")
	return s
}

func (s *userStore) add(name, password string, roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = user{Name: name, Password: sha256.Sum256([]byte(password)), Roles: append([]string{}, roles...)}
}

func (s *userStore) get(name string) (user, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.m[name]
	return u, ok
}

func (s *userStore) delete(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[name]
	delete(s.m, name)
	return ok
}

// authenticate checks a password in constant time. An unknown user costs
// the same comparison, so timing does not tell which names exist.
func (s *userStore) authenticate(name, password string) (user, bool) {
	u, found := s.get(name)
	sum := sha256.Sum256([]byte(password))
	ok := subtle.ConstantTimeCompare(sum[:], u.Password[:]) == 1
	return u, found && ok
}

// revocations is an in-memory blocklist: the jti of each revoked token
// with the token's expiry. Entries of expired tokens are dropped, since
// an expired token is refused anyway. Safe for concurrent use.
type revocations struct {
	mu  sync.Mutex
	m   map[string]time.Time // jti -> exp; zero: the token never expires
	now func() time.Time
}

func (r *revocations) revoke(jti string, exp time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for id, e := range r.m {
		if !e.IsZero() && now.After(e) {
			delete(r.m, id)
		}
	}
	r.m[jti] = exp
}

func (r *revocations) revoked(jti string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	exp, ok := r.m[jti]
	if ok && !exp.IsZero() && r.now().After(exp) {
		delete(r.m, jti)
		return false
	}
	return ok
}

type app struct {
	gate    *jwtgate.Gate
	users   *userStore
	revoked *revocations
	profile jwtgate.Profile
	log     *slog.Logger
}

const realm = "jwtgate"

func newApp(key *jwt.Key, profile jwtgate.Profile, log *slog.Logger) (*app, error) {
	a := &app{
		users:   newUserStore(),
		revoked: &revocations{m: map[string]time.Time{}, now: time.Now},
		profile: profile,
		log:     log,
	}
	cookies := jwtgate.DefaultCookies() // not Secure (plain HTTP demo), CSRF on
	g, err := jwtgate.New(jwtgate.Config{
		SigningKey: key,
		Algorithm:  jwt.HS256,
		AccessTTL:  15 * time.Minute,
		RefreshTTL: 30 * 24 * time.Hour,
		Locations:  []jwtgate.Location{jwtgate.InHeader, jwtgate.InCookie, jwtgate.InQuery, jwtgate.InJSON},
		Cookies:    cookies,
		Profile:    profile,
		Realm:      realm,
		Logger:     log,

		// user_claims_loader / additional_claims_loader: the user's roles
		// go into every token.
		ExtraClaims: func(_ context.Context, identity any) (map[string]any, error) {
			roles := []string{}
			if name, ok := identity.(string); ok {
				if u, ok := a.users.get(name); ok {
					roles = append(roles, u.Roles...)
				}
			}
			return map[string]any{"roles": roles}, nil
		},

		// claims_verification_loader: roles, when present, must be a list.
		VerifyClaims: func(_ context.Context, t *jwtgate.Token) error {
			raw, ok := t.Claim("roles")
			if !ok {
				return nil
			}
			if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '[' {
				return errors.New("the roles claim is not a list")
			}
			return nil
		},

		// token_in_blocklist_loader.
		IsRevoked: func(_ context.Context, t *jwtgate.Token) (bool, error) {
			return t.Claims.ID != "" && a.revoked.revoked(t.Claims.ID), nil
		},

		// user_loader_callback_loader: runs on every protected route.
		LoadUser: func(_ context.Context, t *jwtgate.Token) (any, error) {
			if u, ok := a.users.get(t.Identity); ok {
				return u, nil
			}
			return nil, nil // refused: "Error loading the user <name>"
		},
	})
	if err != nil {
		return nil, err
	}
	a.gate = g
	return a, nil
}

func (a *app) routes() http.Handler {
	g := a.gate
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /login/cookies", a.loginCookies)
	mux.HandleFunc("POST /logout/cookies", a.logoutCookies)
	mux.Handle("POST /refresh", g.Refresh(http.HandlerFunc(a.refresh)))
	mux.Handle("GET /protected", g.Required(http.HandlerFunc(a.identity)))
	mux.Handle("GET /optional", g.Optional(http.HandlerFunc(a.identity)))
	mux.Handle("GET /fresh", g.Fresh(http.HandlerFunc(a.identity)))
	mux.Handle("DELETE /revoke", g.Protect(jwtgate.RouteOptions{SkipTypeCheck: true})(http.HandlerFunc(a.revoke)))
	mux.Handle("GET /admin", g.Required(http.HandlerFunc(a.admin)))
	mux.Handle("GET /whoami", g.Required(http.HandlerFunc(a.whoami)))
	mux.HandleFunc("POST /users/{name}/delete", a.deleteUser)
	return mux
}

// badLogin is the answer to wrong credentials and to any body that is not
// {"username": "...", "password": "..."} (in both profiles).
func badLogin(w http.ResponseWriter) {
	demo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"msg": "Bad username or password"})
}

// credentials reads {"username": "...", "password": "..."}. Member names
// are matched exactly (encoding/json alone would also accept "USERNAME").
// A JSON content type is required, so that a cross-site HTML form cannot
// log a browser in (login CSRF).
func credentials(r *http.Request) (username, password string, ok bool) {
	if !demo.IsJSON(r.Header.Get("Content-Type")) {
		return "", "", false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return "", "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "", "", false
	}
	if json.Unmarshal(m["username"], &username) != nil || json.Unmarshal(m["password"], &password) != nil {
		return "", "", false
	}
	return username, password, username != "" && password != ""
}

// issue checks the credentials and returns a fresh access token and a
// refresh token, or answers the request itself.
func (a *app) issue(w http.ResponseWriter, r *http.Request) (access, refresh string, ok bool) {
	name, password, ok := credentials(r)
	if !ok {
		badLogin(w)
		return "", "", false
	}
	u, ok := a.users.authenticate(name, password)
	if !ok {
		badLogin(w)
		return "", "", false
	}
	ctx := r.Context()
	access, err := a.gate.CreateAccessToken(ctx, u.Name, jwtgate.Fresh())
	if err == nil {
		refresh, err = a.gate.CreateRefreshToken(ctx, u.Name)
	}
	if err != nil {
		a.internal(w, r, err)
		return "", "", false
	}
	return access, refresh, true
}

func (a *app) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "internal error", "path", r.URL.Path, "error", err)
	demo.WriteJSON(w, http.StatusInternalServerError, map[string]string{"msg": "Internal Server Error"})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	access, refresh, ok := a.issue(w, r)
	if !ok {
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]string{"access_token": access, "refresh_token": refresh})
}

func (a *app) loginCookies(w http.ResponseWriter, r *http.Request) {
	access, refresh, ok := a.issue(w, r)
	if !ok {
		return
	}
	if err := a.gate.SetAccessCookies(w, access); err != nil {
		a.internal(w, r, err)
		return
	}
	if err := a.gate.SetRefreshCookies(w, refresh); err != nil {
		a.internal(w, r, err)
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]bool{"login": true})
}

func (a *app) logoutCookies(w http.ResponseWriter, r *http.Request) {
	if err := a.gate.UnsetJWTCookies(w); err != nil {
		a.internal(w, r, err)
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]bool{"logout": true})
}

// refresh makes a new, not fresh, access token from a refresh token.
func (a *app) refresh(w http.ResponseWriter, r *http.Request) {
	access, err := a.gate.CreateAccessToken(r.Context(), a.gate.Identity(r.Context()))
	if err != nil {
		a.internal(w, r, err)
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]string{"access_token": access})
}

// identity answers {"identity": ...}, null on an optional route without a
// token.
func (a *app) identity(w http.ResponseWriter, r *http.Request) {
	var id any
	if a.gate.Authenticated(r.Context()) {
		id = a.gate.Identity(r.Context())
	}
	demo.WriteJSON(w, http.StatusOK, map[string]any{"identity": id})
}

func (a *app) revoke(w http.ResponseWriter, r *http.Request) {
	t, _ := a.gate.TokenFrom(r.Context())
	if t.Claims.ID == "" {
		demo.WriteJSON(w, http.StatusBadRequest, map[string]string{"msg": "The token has no jti claim"})
		return
	}
	var exp time.Time
	if t.Claims.ExpiresAt != nil {
		exp = t.Claims.ExpiresAt.Time
	}
	a.revoked.revoke(t.Claims.ID, exp)
	demo.WriteJSON(w, http.StatusOK, map[string]string{"msg": "revoked"})
}

func (a *app) admin(w http.ResponseWriter, r *http.Request) {
	var claims struct {
		Roles []string `json:"roles"`
	}
	if a.gate.Claims(r.Context(), &claims) != nil || !slices.Contains(claims.Roles, "admin") {
		if a.profile == jwtgate.ProfileRFC6750 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="insufficient_scope", error_description="Admins only!"`)
		}
		demo.WriteJSON(w, http.StatusForbidden, map[string]string{"msg": "Admins only!"})
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]any{"identity": a.gate.Identity(r.Context()), "admin": true})
}

func (a *app) whoami(w http.ResponseWriter, r *http.Request) {
	u, ok := jwtgate.User[user](a.gate, r.Context())
	if !ok {
		a.internal(w, r, errors.New("no user in the request context"))
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]any{"username": u.Name, "roles": u.Roles})
}

func (a *app) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !a.users.delete(name) {
		demo.WriteJSON(w, http.StatusNotFound, map[string]string{"msg": "No such user"})
		return
	}
	demo.WriteJSON(w, http.StatusOK, map[string]string{"deleted": name})
}
