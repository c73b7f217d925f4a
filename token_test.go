package jwtgate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type testUser struct{ Name string }

func TestTokenFromAndUser(t *testing.T) {
	tok := &Token{Identity: "alice"}
	alice := &testUser{"Alice A."}
	tests := []struct {
		name     string
		ctx      context.Context
		identity string // "" when no token
		user     *testUser
	}{
		{"empty context", context.Background(), "", nil},
		{"nil token", NewContext(context.Background(), nil, alice), "", nil},
		{"token without user", NewContext(context.Background(), tok, nil), "alice", nil},
		{"token and user", NewContext(context.Background(), tok, alice), "alice", alice},
		{"inner context wins", NewContext(NewContext(context.Background(), &Token{Identity: "bob"}, nil), tok, alice), "alice", alice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TokenFrom(tt.ctx)
			if ok != (tt.identity != "") || (ok && got.Identity != tt.identity) {
				t.Errorf("TokenFrom: %+v %v, want identity %q", got, ok, tt.identity)
			}
			u, ok := User[*testUser](tt.ctx)
			if u != tt.user || ok != (tt.user != nil) {
				t.Errorf("User[*testUser]: %v %v, want %v", u, ok, tt.user)
			}
			if s, ok := User[string](tt.ctx); ok || s != "" {
				t.Errorf("User[string]: %q %v, want nothing", s, ok)
			}
		})
	}
	if tok.user != nil {
		t.Error("NewContext changed the token it was given")
	}
}

// The middleware leaves the token and the loaded user where TokenFrom and
// User find them.
func TestTokenFromMiddleware(t *testing.T) {
	g := testGate(t, func(c *Config) {
		c.LoadUser = func(_ context.Context, t *Token) (any, error) { return &testUser{"user " + t.Identity}, nil }
	})
	var identity, name string
	h := g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := TokenFrom(r.Context()); ok {
			identity = tok.Identity
		}
		if u, ok := User[*testUser](r.Context()); ok {
			name = u.Name
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+access(t, g, "alice"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusNoContent || identity != "alice" || name != "user alice" {
		t.Errorf("status %d, identity %q, user %q", w.Code, identity, name)
	}
}

// Config.Claims renames every claim of the Gate: created tokens carry the
// new names, and the middleware reads them.
func TestClaimNames(t *testing.T) {
	names := ClaimNames{Identity: "uid", Type: "kind", Fresh: "recent", CSRF: "xsrf"}
	g := testGate(t, func(c *Config) { c.Claims = names })
	tok := access(t, g, "alice", Fresh())
	claims, err := UnverifiedClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"uid", "kind", "recent", "xsrf"} {
		if _, ok := claims[n]; !ok {
			t.Errorf("created token has no %q claim: %v", n, claims)
		}
	}
	for _, n := range []string{"sub", "type", "fresh", "csrf"} {
		if _, ok := claims[n]; ok {
			t.Errorf("created token has the default claim %q: %v", n, claims)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tok})
	r.Header.Set("X-CSRF-TOKEN", claims["xsrf"].(string))
	r2, err := g.VerifyRequest(r, RouteOptions{Fresh: true, Locations: []Location{InCookie{}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := TokenFrom(r2.Context())
	if got.Identity != "alice" || got.Type != TypeAccess || !got.Fresh || got.CSRF != claims["xsrf"] {
		t.Errorf("read back: %+v", got)
	}

	_, err = New(Config{SigningKey: g.cfg.SigningKey, Claims: ClaimNames{Type: "sub"}})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "Claims.Identity and Claims.Type") {
		t.Errorf("clashing names: %v", err)
	}
}

// The Gate's string claims are read with their escapes decoded, as
// encoding/json decodes them.
func TestGateClaimsEscaped(t *testing.T) {
	g := testGate(t, nil)
	tests := []struct {
		name, claims        string
		identity, typ, csrf string
	}{
		{"plain", `{"sub":"u","type":"access","csrf":"c"}`, "u", TypeAccess, "c"},
		{"escaped", `{"sub":"u\u00e9\/\"x\"\\","type":"acc\u0065ss","csrf":"c\td\ud83d\ude00"}`, "u\u00e9/\"x\"\\", TypeAccess, "c\td\U0001F600"},
		{"escaped refresh type", `{"sub":"u","type":"\u0072efresh"}`, "u", TypeRefresh, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := g.DecodeToken(context.Background(), signRaw(t, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if tok.Identity != tt.identity || tok.Type != tt.typ || tok.CSRF != tt.csrf {
				t.Errorf("Identity %q, Type %q, CSRF %q; want %q, %q, %q", tok.Identity, tok.Type, tok.CSRF, tt.identity, tt.typ, tt.csrf)
			}
		})
	}
}
