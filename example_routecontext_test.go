package jwtgate_test

import (
	"context"
	"fmt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
)

// An interceptor of an RPC framework checks a token from the call's
// metadata and hands its handler a context that carries it.
func ExampleRoute_VerifyTokenContext() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key})
	route, err := gate.Route(jwtgate.RouteOptions{Scopes: []string{"orders:read"}})
	if err != nil {
		panic(err)
	}
	handler := func(ctx context.Context) {
		t, _ := jwtgate.TokenFrom(ctx)
		fmt.Println("handler: called by", t.Identity)
	}

	token, _ := gate.CreateAccessToken(context.Background(), "alice",
		jwtgate.WithClaims(map[string]any{"scope": "orders:read"}))
	if ctx, _, err := route.VerifyTokenContext(context.Background(), token); err == nil {
		handler(ctx)
	}

	token, _ = gate.CreateAccessToken(context.Background(), "bob")
	_, _, err = route.VerifyTokenContext(context.Background(), token)
	fmt.Println(err)
	// Output:
	// handler: called by alice
	// jwtgate: insufficient scope: Insufficient scope: requires orders:read: missing scope orders:read
}
