package jwtgate

import (
	"context"
	"net/http"
	"net/http/httptest"
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
