// Command jwtlib reproduces flask_jwtlib's minimal example (its "Usage"):
// a service that only verifies tokens, with a permanent verification key
// (set_permanent_verification_key) and the default algorithm RS256
// (JWT_ALGO). Tokens are issued elsewhere; this program never signs one.
//
//	GET /        optional_authentication: says whether the request is authenticated
//	GET /secure  requires_authentication: 401 without a valid token
//
// Both answer with flask_jwtlib's flask.g values as JSON:
// {"authenticated": bool, "raw_token": "...", "json_token": {claims}}.
//
// As in flask_jwtlib, the token comes the ways RFC 6750 section 2 lists
// (here the Authorization: Bearer header and the access_token query
// parameter), a request that carries two different tokens is not
// authenticated, and on the optional route an invalid token just leaves
// the request unauthenticated.
//
// Try it:
//
//	go run ./examples/jwtlib -gen-key /tmp/jwtlib        # writes a key pair, prints a token for alice
//	go run ./examples/jwtlib -pubkey /tmp/jwtlib/public.pem -addr 127.0.0.1:8000
//	curl -s localhost:8000/secure -H "Authorization: Bearer $TOKEN"
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

func main() {
	fs := flag.NewFlagSet("jwtlib", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "`host:port` to listen on (port 0 picks a free port)")
	pubkey := fs.String("pubkey", "", "`file` with the verification key: a PEM public key, a JWK or a JWK Set")
	alg := fs.String("alg", "RS256", "the JWT algorithm (flask_jwtlib.JWT_ALGO)")
	genKey := fs.String("gen-key", "", "write a new RSA key pair (private.pem, public.pem) into `dir`, print a token for alice signed with it, and exit")
	_ = fs.Parse(os.Args[1:])
	log := demo.NewLogger()
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case *genKey != "":
		err = generate(*genKey, jwt.Algorithm(*alg))
	case *pubkey == "":
		err = errors.New("-pubkey is required: the verification key (see -gen-key to make one)")
	default:
		err = run(*addr, *pubkey, jwt.Algorithm(*alg), log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "jwtlib:", err)
		os.Exit(1)
	}
}

// loadVerificationKeys reads the key file and keeps only public keys: a
// verifier never needs a private key, and should not hold one. A file of
// one key without kid (a PEM file) is a single key, which verifies tokens
// whatever kid they name, as flask_jwtlib's does; a JWK Set finds keys by
// kid.
func loadVerificationKeys(path string, log *slog.Logger) (jwt.KeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	set, err := jwk.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if set.IsSymmetric() {
		return nil, fmt.Errorf("%s holds a secret key; flask_jwtlib verifies with a public key", path)
	}
	var public []*jwk.Key
	for _, k := range set.Keys() {
		if k.IsPrivate() {
			log.Warn("the key file holds a private key; only its public half is used. Give this service the public key alone.", "file", path)
		}
		public = append(public, k.Public())
	}
	if set.AnyKeyID() {
		return public[0].VerificationKey()
	}
	return jwk.NewSetFromKeys(public...)
}

func run(addr, pubkey string, alg jwt.Algorithm, log *slog.Logger) error {
	keys, err := loadVerificationKeys(pubkey, log)
	if err != nil {
		return err
	}
	gate, err := jwtgate.New(jwtgate.Config{
		Keys:       keys,
		Algorithms: []jwt.Algorithm{alg},
		Locations:  []jwtgate.Location{jwtgate.InHeader, jwtgate.InQuery},
		QueryParam: "access_token", // RFC 6750 section 2.3
		Realm:      "jwtlib",
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
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", optionalAuthentication(gate, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := "You don't have a (valid) token!"
		if gate.Authenticated(r.Context()) {
			msg = "Your JWT claims look like..."
		}
		writeG(w, gate, r, msg)
	})))
	mux.Handle("GET /secure", requiresAuthentication(gate, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeG(w, gate, r, "This JWT is valid")
	})))
	return mux
}

// tooManyTokens reports a request that carries two different tokens
// (RFC 6750 section 2: a client uses one method only), which
// flask_jwtlib refuses ("Too many tokens!").
func tooManyTokens(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	q := r.URL.Query().Get("access_token")
	return h != "" && q != "" && h != "Bearer "+q
}

// optionalAuthentication lets every request through; a valid token
// authenticates it. Unlike the Gate's Optional, an invalid token does not
// refuse the request: flask_jwtlib treats it as no token.
func optionalAuthentication(gate *jwtgate.Gate, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tooManyTokens(r) {
			next.ServeHTTP(w, r)
			return
		}
		r2, err := gate.VerifyRequest(r, jwtgate.RouteOptions{Optional: true})
		if err != nil {
			log.DebugContext(r.Context(), "token refused", "error", err)
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r2)
	})
}

// requiresAuthentication is the Gate's Required, after the two-token check.
func requiresAuthentication(gate *jwtgate.Gate, next http.Handler) http.Handler {
	required := gate.Required(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tooManyTokens(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="jwtlib", error="invalid_request", error_description="Too many tokens"`)
			demo.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Too many tokens"})
			return
		}
		required.ServeHTTP(w, r)
	})
}

// writeG answers with flask_jwtlib's flask.g values.
func writeG(w http.ResponseWriter, gate *jwtgate.Gate, r *http.Request, msg string) {
	g := map[string]any{"authenticated": false, "raw_token": nil, "json_token": nil, "message": msg}
	if t, ok := gate.TokenFrom(r.Context()); ok {
		var claims map[string]any
		if err := t.Decode(&claims); err == nil {
			g["json_token"] = claims
		}
		g["authenticated"] = true
		g["raw_token"] = t.Raw()
	}
	demo.WriteJSON(w, http.StatusOK, g)
}

// generate writes a new key pair into dir and prints a token signed with
// it, standing in for the service that issues tokens.
func generate(dir string, alg jwt.Algorithm) error {
	key, err := jwk.GenerateRSA(2048)
	if err != nil {
		return err
	}
	if key, err = key.WithAlgorithms(alg); err != nil {
		return err
	}
	priv, err := jwk.MarshalPrivatePEM(key)
	if err != nil {
		return err
	}
	pub, err := jwk.MarshalPublicPEM(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "private.pem"), priv, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "public.pem"), pub, 0o644); err != nil {
		return err
	}
	signer, err := jwt.NewSigner(key, alg)
	if err != nil {
		return err
	}
	now := time.Now()
	tok, err := signer.Sign(jwt.Claims{
		Subject:   "alice",
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	})
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
