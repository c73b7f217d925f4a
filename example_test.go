package jwtgate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
)

// Issue a token at login and protect a handler with it.
func Example() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, err := jwtgate.New(jwtgate.Config{SigningKey: key})
	if err != nil {
		panic(err)
	}
	protected := gate.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := jwtgate.TokenFrom(r.Context())
		fmt.Fprintf(w, "hello %s", t.Identity)
	}))

	token, _ := gate.CreateAccessToken(context.Background(), "alice", jwtgate.Fresh())

	r := httptest.NewRequest("GET", "/protected", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	protected.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Body)
	fmt.Println(w.Code, string(body))

	w = httptest.NewRecorder()
	protected.ServeHTTP(w, httptest.NewRequest("GET", "/protected", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 hello alice
	// 401 Bearer realm="jwtgate"
}

// A role check built on VerifyRequest.
func ExampleGate_VerifyRequest() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key, Profile: jwtgate.ProfileFlask})
	adminOnly := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, err := gate.VerifyRequest(r, jwtgate.RouteOptions{})
			if err != nil {
				gate.WriteError(w, r, err)
				return
			}
			t, _ := jwtgate.TokenFrom(r.Context())
			var claims struct{ Roles []string }
			if t.Decode(&claims) != nil || len(claims.Roles) == 0 || claims.Roles[0] != "admin" {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"msg":"Admins only!"}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h := adminOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "welcome") }))
	for _, roles := range [][]string{{"admin"}, {}} {
		tok, _ := gate.CreateAccessToken(context.Background(), "u", jwtgate.WithClaims(map[string]any{"roles": roles}))
		r := httptest.NewRequest("GET", "/admin", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 welcome
	// 403 {"msg":"Admins only!"}
}

// Access tokens as RFC 9068 describes them, and refresh tokens that no
// resource server accepts.
func ExampleTokensRFC9068() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, err := jwtgate.New(jwtgate.Config{
		SigningKey:      key,
		Tokens:          jwtgate.TokensRFC9068,
		Issuer:          "https://id.example.com",
		Audience:        []string{"https://api.example.com"},
		RefreshAudience: "https://id.example.com/refresh",
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	access, _ := gate.CreateAccessToken(ctx, "alice", jwtgate.WithClientID("web-app"))
	refresh, _ := gate.CreateRefreshToken(ctx, "alice")
	for _, tok := range []string{access, refresh} {
		t, _ := gate.DecodeToken(ctx, tok)
		fmt.Println(t.Header.Type, t.Type, []string(t.Claims.Audience))
	}
	// An access route refuses the refresh token.
	_, err = gate.VerifyToken(ctx, refresh, jwtgate.RouteOptions{})
	fmt.Println(err)
	// Output:
	// at+jwt access [https://api.example.com]
	// refresh+jwt refresh [https://id.example.com/refresh]
	// jwtgate: wrong token type: Only access tokens (typ at+jwt) are allowed
}

// Route options that contradict each other or the Config are refused when
// the route is registered, not on each request.
func ExampleGate_Protect_refused() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key}) // no Cookies
	defer func() { fmt.Println(recover()) }()
	mux := http.NewServeMux()
	mux.Handle("/", gate.Protect(jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InCookie{}}})(http.NotFoundHandler()))
	// Output:
	// jwtgate: invalid configuration: route: the route reads cookies but Config.Cookies is nil: set Config.Cookies (DefaultCookies() is a start) or leave InCookie out of RouteOptions.Locations
}

// CSRF protection is on for any CookieConfig; DisableCSRF turns it off,
// and created tokens then carry no csrf claim.
func ExampleCookieConfig_disableCSRF() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	ctx := context.Background()
	for _, cc := range []*jwtgate.CookieConfig{{}, {DisableCSRF: true}} {
		gate, err := jwtgate.New(jwtgate.Config{SigningKey: key, Cookies: cc, Locations: []jwtgate.Location{jwtgate.InCookie{}}})
		if err != nil {
			panic(err)
		}
		tok, _ := gate.CreateAccessToken(ctx, "alice")
		t, _ := gate.DecodeToken(ctx, tok)
		_, hasCSRF := t.RawClaim("csrf")
		fmt.Println("DisableCSRF:", cc.DisableCSRF, "csrf claim:", hasCSRF)
	}
	// Output:
	// DisableCSRF: false csrf claim: true
	// DisableCSRF: true csrf claim: false
}

// A route that needs the "reports:read" scope, as a token issued for a
// service carries it (RFC 9068's space-separated scope claim).
func ExampleRouteOptions_scopes() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key})
	reports := gate.Protect(jwtgate.RouteOptions{Scopes: []string{"reports:read"}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "the reports") }))

	for _, scope := range []string{"reports:read reports:write", "profile"} {
		token, _ := gate.CreateAccessToken(context.Background(), "billing-job",
			jwtgate.WithClaims(map[string]any{"scope": scope}))
		r := httptest.NewRequest("GET", "/reports", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		reports.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(w.Code, w.Body)
			continue
		}
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 200 the reports
	// 403 Bearer realm="jwtgate", error="insufficient_scope", error_description="Insufficient scope: requires reports:read", scope="reports:read"
}

// A Route is a route's options checked once; adapters for other routers
// and RPC frameworks call its Verify (requests) or VerifyToken (a bare
// token, from gRPC metadata say) on each call.
func ExampleGate_Route() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key})
	route, err := gate.Route(jwtgate.RouteOptions{Fresh: true})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, opts := range [][]jwtgate.TokenOption{{jwtgate.Fresh()}, nil} {
		token, _ := gate.CreateAccessToken(ctx, "alice", opts...)
		t, err := route.VerifyToken(ctx, token)
		if err != nil {
			fmt.Println("refused:", errors.Is(err, jwtgate.ErrNotFresh))
			continue
		}
		fmt.Println("verified:", t.Identity)
	}
	// Output:
	// verified: alice
	// refused: true
}
