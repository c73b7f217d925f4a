package middleware

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/jwtauth/v5"
	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	xjwt "github.com/lestrrat-go/jwx/v2/jwt"
)

// Payload is the JOSE core's benchmark claims set, byte for byte (the
// payloadJSON of ../bench and of jwtgate's own BenchmarkRequired).
const Payload = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

const (
	// Subject is the payload's sub claim.
	Subject = "user-12345"
	// Body is what every handler answers to an authenticated request.
	Body = `{"sub":"user-12345"}`

	// ClockUnix is the fixed verification time, inside the token's
	// validity.
	ClockUnix = 1767227400

	// payloadExp is the payload's exp; farExp replaces it for libraries
	// that read the real clock. Both have ten digits, so both tokens have
	// the same length.
	payloadExp = 1767229200
	farExp     = 4102444800 // 2100-01-01T00:00:00Z
)

// Now is the fixed clock handed to every library that takes one.
func Now() time.Time { return time.Unix(ClockUnix, 0) }

// LoadKey reads the 32-byte HS256 secret (../testdata/hs256.key).
func LoadKey(path string) ([]byte, error) {
	k, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("%s is %d bytes, want 32", path, len(k))
	}
	return k, nil
}

// Fixture is the key and the tokens every implementation is given.
type Fixture struct {
	Key []byte

	// Token is HS256 over Payload, header {"alg":"HS256","typ":"JWT"},
	// made with the standard library. It is valid at the fixed clock.
	Token string

	// FarToken has Payload's claims with exp = 2100-01-01, for libraries
	// that verify against the real clock.
	FarToken string

	// Expired has Payload's claims with exp one second before the fixed
	// clock, which is also in the past for the real clock.
	Expired string
}

// NewFixture mints the tokens with the standard library.
func NewFixture(key []byte) *Fixture {
	withExp := func(exp int64) string {
		return strings.Replace(Payload, fmt.Sprintf(`"exp":%d`, payloadExp), fmt.Sprintf(`"exp":%d`, exp), 1)
	}
	return &Fixture{
		Key:      key,
		Token:    signHS256(key, Payload),
		FarToken: signHS256(key, withExp(farExp)),
		Expired:  signHS256(key, withExp(ClockUnix-1)),
	}
}

func signHS256(key []byte, payload string) string {
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + b64.EncodeToString(m.Sum(nil))
}

// Tamper changes the first character of the signature, which changes the
// decoded signature bytes.
func Tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 1
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// Impl is one server under test.
type Impl struct {
	// Name is the benchmark's impl= value and the load test's row.
	Name string

	// Baseline names the unprotected Impl this one is compared with; it is
	// empty for the baselines themselves.
	Baseline string

	// Token is the valid token sent to it (sent to baselines too, so that
	// every request has the same bytes).
	Token string

	// Expired is a token it must refuse as expired.
	Expired string

	// Handler is what the in-process benchmark calls: the middleware
	// around the JSON handler, with no router for net/http; for echo, the
	// *echo.Echo with one route.
	Handler http.Handler

	// Routed is what the load test serves: the same on the library's
	// usual router (http.ServeMux, chi, echo).
	Routed http.Handler

	// Floor marks a lower bound rather than a verifier: it checks the
	// signature only, so Check does not ask it to refuse an expired token.
	Floor bool
}

// Protected reports whether the Impl checks tokens.
func (im *Impl) Protected() bool { return im.Baseline != "" }

// Impls returns the servers under test, baselines first in each family,
// in the order of the benchmark's and the load test's output.
func Impls(f *Fixture) ([]Impl, error) {
	gate, err := jwtgateMiddleware(f)
	if err != nil {
		return nil, err
	}
	gjwtMW := golangJWTMiddleware(f)
	ja := jwtauth.New("HS256", f.Key, nil, xjwt.WithClock(xjwt.ClockFunc(Now)))

	unprotected := http.HandlerFunc(unprotectedHandler)
	gateH := gate.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := jwtgate.TokenFrom(r.Context())
		writeSub(w, t.Identity)
	}))
	pooledH, err := jwtgatePooled(f)
	if err != nil {
		return nil, err
	}
	floorH := hmacFloor(f)
	gjwtH := gjwtMW(http.HandlerFunc(golangJWTHandler))
	jwtauthH := jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(http.HandlerFunc(jwtauthHandler)))

	chiRouter := chi.NewRouter()
	chiRouter.Use(jwtauth.Verifier(ja), jwtauth.Authenticator(ja))
	chiRouter.Get("/", jwtauthHandler)

	echoBare := echo.New()
	echoBare.GET("/", echoUnprotectedHandler)
	echoJWT := echo.New()
	// echo-jwt's default parser (jwt.ParseWithClaims with MapClaims)
	// reads the real clock and cannot be given another: this server gets
	// FarToken.
	echoJWT.Use(echojwt.JWT(f.Key))
	echoJWT.GET("/", echoJWTHandler)

	return []Impl{
		{Name: "unprotected", Token: f.Token, Expired: f.Expired, Handler: unprotected, Routed: serveMux(unprotected)},
		{Name: "jwtgate", Baseline: "unprotected", Token: f.Token, Expired: f.Expired, Handler: gateH, Routed: serveMux(gateH)},
		{Name: "jwtgate-pooled", Baseline: "unprotected", Token: f.Token, Expired: f.Expired, Handler: pooledH, Routed: serveMux(pooledH)},
		{Name: "hmac-floor", Baseline: "unprotected", Token: f.Token, Expired: f.Expired, Handler: floorH, Routed: serveMux(floorH), Floor: true},
		{Name: "golang-jwt", Baseline: "unprotected", Token: f.Token, Expired: f.Expired, Handler: gjwtH, Routed: serveMux(gjwtH)},
		{Name: "jwtauth", Baseline: "unprotected", Token: f.Token, Expired: f.Expired, Handler: jwtauthH, Routed: chiRouter},
		{Name: "echo-jwt-unprotected", Token: f.FarToken, Expired: f.Expired, Handler: echoBare, Routed: echoBare},
		{Name: "echo-jwt", Baseline: "echo-jwt-unprotected", Token: f.FarToken, Expired: f.Expired, Handler: echoJWT, Routed: echoJWT},
	}, nil
}

func serveMux(h http.Handler) http.Handler {
	m := http.NewServeMux()
	m.Handle("GET /", h)
	return m
}

// ---- the JSON handler ----

// appendSubJSON appends {"sub":"<sub>"}.
func appendSubJSON(b []byte, sub string) []byte {
	for i := 0; i < len(sub); i++ {
		if c := sub[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(sub) // a string always marshals
			b = append(b, `{"sub":`...)
			b = append(b, q...)
			return append(b, '}')
		}
	}
	b = append(b, `{"sub":"`...)
	b = append(b, sub...)
	return append(b, `"}`...)
}

// writeSub answers {"sub":"<sub>"}, or 500 when the middleware left no
// subject in the context (so a middleware that lets requests through
// unchecked fails the setup checks).
func writeSub(w http.ResponseWriter, sub string) {
	if sub == "" {
		http.Error(w, "no subject in the request context", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(appendSubJSON(make([]byte, 0, 16+len(sub)), sub))
}

// unprotectedHandler is the baseline: the same response, the subject
// being a constant.
func unprotectedHandler(w http.ResponseWriter, _ *http.Request) { writeSub(w, Subject) }

// ---- jwtgate ----

func jwtgateMiddleware(f *Fixture) (*jwtgate.Gate, error) {
	key, err := jwt.NewHMACKey(f.Key, jwt.HS256)
	if err != nil {
		return nil, err
	}
	return jwtgate.New(jwtgate.Config{SigningKey: key, Clock: Now})
}

// ---- golang-jwt/jwt/v5, as a plain middleware ----

type gjwtClaimsKey struct{}

// golangJWTMiddleware is a typical hand-written golang-jwt middleware: a
// "Bearer" header, a parser allowing HS256 only and checking exp, nbf and
// iat at the fixed clock, typed registered claims put in the context.
func golangJWTMiddleware(f *Fixture) func(http.Handler) http.Handler {
	p := gjwt.NewParser(
		gjwt.WithValidMethods([]string{"HS256"}),
		gjwt.WithTimeFunc(Now),
		gjwt.WithIssuedAt(),
	)
	key := f.Key
	keyFunc := func(*gjwt.Token) (any, error) { return key, nil }
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			if len(auth) <= 7 || !strings.EqualFold(auth[:7], "Bearer ") {
				unauthorized(w)
				return
			}
			claims := new(gjwt.RegisteredClaims)
			if _, err := p.ParseWithClaims(auth[7:], claims, keyFunc); err != nil {
				unauthorized(w)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), gjwtClaimsKey{}, claims)))
		})
	}
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

func golangJWTHandler(w http.ResponseWriter, r *http.Request) {
	var sub string
	if c, ok := r.Context().Value(gjwtClaimsKey{}).(*gjwt.RegisteredClaims); ok {
		sub = c.Subject
	}
	writeSub(w, sub)
}

// ---- go-chi/jwtauth/v5 ----

// jwtauthHandler reads the verified token that jwtauth.Verifier put in the
// context. It takes the jwt.Token directly rather than calling
// jwtauth.FromContext, which also converts every claim to a map: the
// cheaper of the two documented ways.
func jwtauthHandler(w http.ResponseWriter, r *http.Request) {
	var sub string
	if t, ok := r.Context().Value(jwtauth.TokenCtxKey).(xjwt.Token); ok && t != nil {
		sub = t.Subject()
	}
	writeSub(w, sub)
}

// ---- labstack/echo-jwt/v4 ----

func echoWriteSub(c echo.Context, sub string) error {
	if sub == "" {
		return c.String(http.StatusInternalServerError, "no subject in the request context")
	}
	return c.JSONBlob(http.StatusOK, appendSubJSON(make([]byte, 0, 16+len(sub)), sub))
}

func echoUnprotectedHandler(c echo.Context) error { return echoWriteSub(c, Subject) }

// echoJWTHandler reads the *jwt.Token echo-jwt stored under "user".
func echoJWTHandler(c echo.Context) error {
	var sub string
	if t, ok := c.Get("user").(*gjwt.Token); ok {
		sub, _ = t.Claims.GetSubject()
	}
	return echoWriteSub(c, sub)
}

// Check proves im's setup through do, which sends one GET / with
// "Authorization: Bearer <token>", or no Authorization header when token
// is empty, and returns the response's status and body. The valid token
// must get 200 and Body; for protected servers, a tampered signature, an
// expired token and a missing token must get 401.
func (im *Impl) Check(do func(token string) (status int, body string, err error)) error {
	type want struct {
		what, token string
		status      int
	}
	cases := []want{{"valid token", im.Token, http.StatusOK}}
	if im.Protected() {
		cases = append(cases,
			want{"tampered signature", Tamper(im.Token), http.StatusUnauthorized},
			want{"missing token", "", http.StatusUnauthorized})
		if !im.Floor {
			cases = append(cases, want{"expired token", im.Expired, http.StatusUnauthorized})
		}
	}
	for _, c := range cases {
		status, body, err := do(c.token)
		if err != nil {
			return fmt.Errorf("%s, %s: %w", im.Name, c.what, err)
		}
		if status != c.status {
			return fmt.Errorf("%s, %s: status %d, want %d (body %q)", im.Name, c.what, status, c.status, body)
		}
		if status == http.StatusOK && body != Body {
			return fmt.Errorf("%s, %s: body %q, want %q", im.Name, c.what, body, Body)
		}
	}
	return nil
}
