package jwtgate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

func TestVerifyTokenContext(t *testing.T) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1767227400, 0)
	g, err := New(Config{SigningKey: key, Clock: func() time.Time { return now },
		LoadUser: func(_ context.Context, t *Token) (any, error) { return "user " + t.Identity, nil }})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := g.Route(RouteOptions{Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good, _ := g.CreateAccessToken(ctx, "alice", WithClaims(map[string]any{"scope": "read"}))
	noScope, _ := g.CreateAccessToken(ctx, "alice")

	ctx2, tok, err := rt.VerifyTokenContext(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := TokenFrom(ctx2); !ok || got != tok || got.Identity != "alice" {
		t.Errorf("TokenFrom: %v, %v", got, ok)
	}
	if u, ok := User[string](ctx2); !ok || u != "user alice" {
		t.Errorf("User: %q, %v", u, ok)
	}
	if tok.Raw() != good {
		t.Errorf("Raw: %q", tok.Raw())
	}
	for _, tt := range []struct {
		token string
		want  error
	}{
		{"", ErrNoToken},
		{"a.b.c", ErrInvalid},
		{noScope, ErrInsufficientScope},
	} {
		if c, tok, err := rt.VerifyTokenContext(ctx, tt.token); c != nil || tok != nil || !errors.Is(err, tt.want) {
			t.Errorf("%q: %v, %v, %v; want %v", tt.token, c, tok, err, tt.want)
		}
	}

}
