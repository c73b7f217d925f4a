package jwtgate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestRouteScopes(t *testing.T) {
	g := testGate(t, nil)
	tok := func(claims map[string]any) string { return access(t, g, "alice", WithClaims(claims)) }
	readWrite := tok(map[string]any{"scope": "read write"})
	scpArray := tok(map[string]any{"scp": []string{"read", "write"}})
	scpString := tok(map[string]any{"scp": "read  write"})
	both := tok(map[string]any{"scope": "read", "scp": []string{"write"}})
	none := tok(nil)
	badScope := tok(map[string]any{"scope": []string{"read"}})
	badScp := tok(map[string]any{"scp": 7})
	badScpMember := tok(map[string]any{"scp": []any{"read", 1}})

	tests := []struct {
		name      string
		token     string
		scopes    []string
		kind      error    // nil: allowed
		missing   []string // the ScopeError's Missing
		challenge string   // WWW-Authenticate, for refusals
	}{
		{name: "scope string has both", token: readWrite, scopes: []string{"read", "write"}},
		{name: "scope string has one", token: readWrite, scopes: []string{"write"}},
		{name: "scp array", token: scpArray, scopes: []string{"write", "read"}},
		{name: "scp string", token: scpString, scopes: []string{"write"}},
		{name: "no scopes required", token: none},
		{name: "scope lacks one", token: readWrite, scopes: []string{"read", "admin"}, kind: ErrInsufficientScope, missing: []string{"admin"},
			challenge: `Bearer realm="jwtgate", error="insufficient_scope", error_description="Insufficient scope: requires read admin", scope="read admin"`},
		{name: "no scope claim", token: none, scopes: []string{"read"}, kind: ErrInsufficientScope, missing: []string{"read"}},
		{name: "scope wins over scp", token: both, scopes: []string{"write"}, kind: ErrInsufficientScope, missing: []string{"write"}},
		{name: "scope not a string", token: badScope, scopes: []string{"read"}, kind: ErrInvalid},
		{name: "scp a number", token: badScp, scopes: []string{"read"}, kind: ErrInvalid},
		{name: "scp with a number", token: badScpMember, scopes: []string{"read"}, kind: ErrInvalid},
		{name: "prefix is not a scope", token: readWrite, scopes: []string{"rea"}, kind: ErrInsufficientScope, missing: []string{"rea"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := g.Route(RouteOptions{Scopes: tt.scopes})
			if err != nil {
				t.Fatal(err)
			}
			got, err := rt.VerifyToken(context.Background(), tt.token)
			if tt.kind == nil {
				if err != nil || got.Identity != "alice" {
					t.Fatalf("VerifyToken = %v, %v; want alice", got, err)
				}
			} else if !errors.Is(err, tt.kind) {
				t.Fatalf("VerifyToken error = %v, want %v", err, tt.kind)
			}
			var se *ScopeError
			if errors.As(err, &se) != (tt.missing != nil) || (se != nil && !slices.Equal(se.Missing, tt.missing)) {
				t.Errorf("ScopeError = %+v, want missing %q", se, tt.missing)
			}

			// The same through the middleware.
			res := serve(g.Protect(RouteOptions{Scopes: tt.scopes})(echo(g)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + tt.token}}.build())
			want := http.StatusOK
			switch tt.kind {
			case ErrInsufficientScope:
				want = http.StatusForbidden
			case ErrInvalid:
				want = http.StatusUnauthorized
			}
			if res.status != want {
				t.Fatalf("status %d, want %d (%v)", res.status, want, res.body)
			}
			if tt.kind == ErrInsufficientScope && res.body["error"] != "insufficient_scope" {
				t.Errorf("body %v, want error insufficient_scope", res.body)
			}
			if tt.challenge != "" && res.header.Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", res.header.Get("WWW-Authenticate"), tt.challenge)
			}
		})
	}
}

func TestTokenScopes(t *testing.T) {
	g := testGate(t, nil)
	for _, tt := range []struct {
		claims map[string]any
		want   []string
	}{
		{map[string]any{"scope": " a  b c "}, []string{"a", "b", "c"}},
		{map[string]any{"scp": []string{"x", "y z"}}, []string{"x", "y z"}},
		{map[string]any{"scp": []string{}}, []string{}},
		{map[string]any{"scope": 1}, nil},
		{nil, nil},
	} {
		tk, err := g.DecodeToken(context.Background(), access(t, g, "a", WithClaims(tt.claims)))
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.Scopes(); !slices.Equal(got, tt.want) {
			t.Errorf("Scopes of %v = %q, want %q", tt.claims, got, tt.want)
		}
	}
}

func TestScopeRefusalPerProfile(t *testing.T) {
	for _, tt := range []struct {
		profile Profile
		body    string
	}{
		{ProfileRFC6750, `{"error":"insufficient_scope","error_description":"Insufficient scope: requires admin"}`},
		{ProfileFlask, `{"msg":"Insufficient scope: requires admin"}`},
		{ProfileFlaskJWT, `{"description":"Insufficient scope: requires admin","error":"Insufficient scope","status_code":403}`},
	} {
		g := testGate(t, func(c *Config) { c.Profile = tt.profile })
		r := reqSpec{headers: map[string]string{"Authorization": "Bearer " + access(t, g, "alice")}}.build()
		w := httptest.NewRecorder()
		g.Protect(RouteOptions{Scopes: []string{"admin"}})(echo(g)).ServeHTTP(w, r)
		if w.Code != http.StatusForbidden || strings.TrimSpace(w.Body.String()) != tt.body {
			t.Errorf("profile %d: %d %s, want 403 %s", tt.profile, w.Code, w.Body, tt.body)
		}
	}
}

func TestRouteScopesCheckedAtRegistration(t *testing.T) {
	g := testGate(t, nil)
	for _, s := range []string{"", "a b", `a"b`, `a\b`, "é", "a\x00"} {
		if _, err := g.Route(RouteOptions{Scopes: []string{s}}); !errors.Is(err, ErrConfig) {
			t.Errorf("scope %q: Route error %v, want ErrConfig", s, err)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Protect with a bad scope did not panic")
			}
		}()
		g.Protect(RouteOptions{Scopes: []string{"a b"}})
	}()
}

func TestRoute(t *testing.T) {
	g := testGate(t, nil)
	ctx := context.Background()
	alice := access(t, g, "alice")
	rt, err := g.Route(RouteOptions{Optional: true})
	if err != nil {
		t.Fatal(err)
	}
	// Options reports the Gate's locations, and is a copy.
	o := rt.Options()
	if len(o.Locations) != 4 {
		t.Fatalf("Options().Locations = %v, want the Gate's four", o.Locations)
	}
	o.Locations[0] = InQuery{Param: "x"}
	if _, ok := rt.Options().Locations[0].(InHeader); !ok {
		t.Error("Options returned the route's own slice")
	}
	// Verify: optional without a token passes as is; with one, the context carries it.
	r := reqSpec{}.build()
	if r2, err := rt.Verify(r); err != nil || r2 != r {
		t.Fatalf("Verify without token = %v, %v", r2, err)
	}
	r = reqSpec{headers: map[string]string{"Authorization": "Bearer " + alice}}.build()
	r2, err := rt.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if tk, ok := TokenFrom(r2.Context()); !ok || tk.Identity != "alice" {
		t.Fatalf("TokenFrom = %v, %v", tk, ok)
	}
	// VerifyToken: an empty token is ErrNoToken even on an optional route.
	if _, err := rt.VerifyToken(ctx, ""); !errors.Is(err, ErrNoToken) {
		t.Errorf("VerifyToken(\"\") = %v, want ErrNoToken", err)
	}
	if _, err := rt.VerifyToken(ctx, alice+"x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("VerifyToken(bad) = %v, want ErrInvalid", err)
	}
	fresh, err := g.Route(RouteOptions{Fresh: true, Realm: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.VerifyToken(ctx, alice); !errors.Is(err, ErrNotFresh) {
		t.Errorf("fresh route: %v, want ErrNotFresh", err)
	}
	if _, err := fresh.VerifyToken(ctx, refresh(t, g, "alice")); !errors.Is(err, ErrWrongType) {
		t.Errorf("refresh token on an access route: %v, want ErrWrongType", err)
	}
	// Fail answers with the route's realm.
	w := httptest.NewRecorder()
	_, err = fresh.Verify(reqSpec{}.build())
	fresh.Fail(w, reqSpec{}.build(), err)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `realm="api"`) {
		t.Errorf("Fail: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// A bad route is an error, not a panic.
	if _, err := g.Route(RouteOptions{IgnoreInvalid: true}); !errors.Is(err, ErrConfig) {
		t.Errorf("Route(IgnoreInvalid alone) = %v, want ErrConfig", err)
	}
}

func TestRouteAdmits(t *testing.T) {
	g := testGate(t, nil)
	noToken := newError(ErrNoToken, "none", nil)
	expired := newError(ErrExpired, "expired", nil)
	scope := newError(ErrInsufficientScope, "scope", nil)
	down := newError(ErrUnavailable, "down", nil)
	for _, tt := range []struct {
		opts RouteOptions
		err  error
		want bool
	}{
		{RouteOptions{}, noToken, false},
		{RouteOptions{Optional: true}, nil, false},
		{RouteOptions{Optional: true}, noToken, true},
		{RouteOptions{Optional: true}, expired, false},
		{RouteOptions{Optional: true, IgnoreInvalid: true}, expired, true},
		{RouteOptions{Optional: true, IgnoreInvalid: true}, scope, false},
		{RouteOptions{Optional: true, IgnoreInvalid: true}, down, false},
	} {
		rt, err := g.Route(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := rt.Admits(tt.err); got != tt.want {
			t.Errorf("%+v Admits(%v) = %v, want %v", tt.opts, tt.err, got, tt.want)
		}
	}
}
