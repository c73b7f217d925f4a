//go:build !race

package jwtgate

import (
	"context"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// VerifyTokenContext makes one allocation for the token, its context and
// its payload (the race detector adds allocations: not checked there).
func TestVerifyTokenContextAllocs(t *testing.T) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	g, err := New(Config{SigningKey: key})
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := g.Route(RouteOptions{})
	ctx := context.Background()
	tok, _ := g.CreateAccessToken(ctx, "alice", TTL(time.Hour))
	if n := testing.AllocsPerRun(50, func() {
		if _, _, err := rt.VerifyTokenContext(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("VerifyTokenContext made %v allocations, want 1", n)
	}
}

// VerifyCall of a bearer token makes the same one allocation.
func TestVerifyCallAllocs(t *testing.T) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	g, err := New(Config{SigningKey: key})
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := g.Route(RouteOptions{})
	ctx := context.Background()
	tok, _ := g.CreateAccessToken(ctx, "alice", TTL(time.Hour))
	if n := testing.AllocsPerRun(50, func() {
		c := Call{Scheme: "Bearer", Token: tok, Method: "POST"}
		if _, _, err := rt.VerifyCall(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("VerifyCall made %v allocations, want 1", n)
	}
}
