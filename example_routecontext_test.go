package jwtgate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
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

// An interceptor of an RPC framework that takes DPoP-bound tokens gives
// VerifyCall the call's scheme, token and proofs, and the HTTP request
// the call is (here a gRPC call: POST to the service's origin and the
// method's path). A proof is good for one call.
func ExampleRoute_VerifyCall() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	verifier, _ := dpop.NewVerifier(dpop.Options{Replay: revoke.NewMemory(revoke.MemoryOptions{})})
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key, DPoP: verifier})
	route, err := gate.Route(jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired})
	if err != nil {
		panic(err)
	}

	// The client's key, and a token bound to it.
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	prover, _ := dpop.NewProver(clientKey, jwt.ES256, nil)
	token, _ := gate.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(prover.Thumbprint()))
	target, _ := url.Parse("https://api.example.com/shop.Orders/Get")
	proof, _ := prover.Proof("POST", target, token, "")

	call := &jwtgate.Call{Scheme: "DPoP", Token: token, Proofs: []string{proof}, Method: "POST", URL: target}
	if _, t, err := route.VerifyCall(context.Background(), call); err == nil {
		fmt.Println("called by", t.Identity)
	}
	_, _, err = route.VerifyCall(context.Background(), call)
	fmt.Println("again:", errors.Is(err, jwtgate.ErrDPoP))
	_, _, err = route.VerifyCall(context.Background(), &jwtgate.Call{Scheme: "Bearer", Token: token})
	fmt.Println("as a bearer token:", errors.Is(err, jwtgate.ErrInvalid))
	// Output:
	// called by alice
	// again: true
	// as a bearer token: true
}
