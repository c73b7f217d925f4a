package revoke_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// A Gate checking revocations in the memory store: logout, then refresh
// rotation with reuse detection.
func Example() {
	ctx := context.Background()
	key, _ := jwt.NewHMACKey([]byte("an example secret of 32 bytes!!!"))
	store := revoke.NewMemory(revoke.MemoryOptions{})
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, IsRevoked: revoke.Check(store)})
	if err != nil {
		panic(err)
	}

	access, _ := g.CreateAccessToken(ctx, "alice")
	tok, _ := g.VerifyToken(ctx, access, jwtgate.RouteOptions{})
	_ = revoke.Logout(ctx, store, tok)
	_, err = g.VerifyToken(ctx, access, jwtgate.RouteOptions{})
	fmt.Println("after logout:", errors.Is(err, jwtgate.ErrRevoked))

	refresh, _ := g.CreateRefreshToken(ctx, "alice")
	old, _ := g.VerifyToken(ctx, refresh, jwtgate.RouteOptions{Refresh: true})
	_, err = revoke.RotateRefresh(ctx, store, g, old, "alice")
	fmt.Println("first rotation:", err)
	_, err = revoke.RotateRefresh(ctx, store, g, old, "alice")
	fmt.Println("old token again:", errors.Is(err, revoke.ErrReused))

	_ = revoke.LogoutEverywhere(ctx, store, "alice", time.Now().Add(time.Second), 30*24*time.Hour)
	_, err = g.VerifyToken(ctx, refresh, jwtgate.RouteOptions{Refresh: true})
	fmt.Println("after logout everywhere:", errors.Is(err, jwtgate.ErrRevoked))
	// Output:
	// after logout: true
	// first rotation: <nil>
	// old token again: true
	// after logout everywhere: true
}

// A session: the tokens of one login carry its id, the refresh keeps it,
// and ending it with any of its tokens refuses them all.
func ExampleEndSession() {
	ctx := context.Background()
	key, _ := jwt.NewHMACKey([]byte("an example secret of 32 bytes!!!"))
	store := revoke.NewMemory(revoke.MemoryOptions{})
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, IsRevoked: revoke.Check(store)})
	if err != nil {
		panic(err)
	}

	// Login: a new session for both tokens.
	sid, _ := revoke.NewSession()
	access1, _ := g.CreateAccessToken(ctx, "alice", revoke.InSession(sid))
	refresh1, _ := g.CreateRefreshToken(ctx, "alice", revoke.InSession(sid))

	// Refresh: RotateRefresh keeps the session; the access token joins it.
	old, _ := g.VerifyToken(ctx, refresh1, jwtgate.RouteOptions{Refresh: true})
	refresh2, _ := revoke.RotateRefresh(ctx, store, g, old, "alice")
	same, _ := revoke.SessionOf(old)
	access2, _ := g.CreateAccessToken(ctx, "alice", revoke.InSession(same))

	// Logout with the newest access token ends the whole session.
	tok, _ := g.VerifyToken(ctx, access2, jwtgate.RouteOptions{})
	_ = revoke.EndSession(ctx, store, tok, time.Now(), 30*24*time.Hour)

	_, err = g.VerifyToken(ctx, access1, jwtgate.RouteOptions{})
	fmt.Println("older access token:", errors.Is(err, jwtgate.ErrRevoked))
	_, err = g.VerifyToken(ctx, refresh2, jwtgate.RouteOptions{Refresh: true})
	fmt.Println("newest refresh token:", errors.Is(err, jwtgate.ErrRevoked))
	// Output:
	// older access token: true
	// newest refresh token: true
}

// A reused refresh token ends its session: the access tokens made with it
// are refused too.
func ExampleRotateRefresh() {
	ctx := context.Background()
	key, _ := jwt.NewHMACKey([]byte("an example secret of 32 bytes!!!"))
	store := revoke.NewMemory(revoke.MemoryOptions{})
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, IsRevoked: revoke.Check(store)})
	if err != nil {
		panic(err)
	}
	sid, _ := revoke.NewSession()
	access, _ := g.CreateAccessToken(ctx, "alice", revoke.InSession(sid))
	refresh, _ := g.CreateRefreshToken(ctx, "alice", revoke.InSession(sid))
	old, _ := g.VerifyToken(ctx, refresh, jwtgate.RouteOptions{Refresh: true})

	_, err = revoke.RotateRefresh(ctx, store, g, old, "alice")
	fmt.Println("rotation:", err)
	_, err = revoke.RotateRefresh(ctx, store, g, old, "alice") // stolen and replayed
	fmt.Println("replay:", errors.Is(err, revoke.ErrReused))
	_, err = g.VerifyToken(ctx, access, jwtgate.RouteOptions{})
	fmt.Println("access token of the session:", errors.Is(err, jwtgate.ErrRevoked))
	// Output:
	// rotation: <nil>
	// replay: true
	// access token of the session: true
}

// A single-use id, such as the jti of a client assertion: the first use
// is accepted, a replay is refused, on every instance sharing the store.
func ExampleOneTimeStore() {
	ctx := context.Background()
	var store revoke.Store = revoke.NewMemory(revoke.MemoryOptions{})
	exp := time.Now().Add(time.Minute) // the assertion's exp
	id := "client_assertion:billing:4f1c2a"
	for range 2 {
		first, err := revoke.UseOnce(ctx, store, id, exp)
		if err != nil {
			fmt.Println("refused: the store cannot tell:", err)
			continue
		}
		fmt.Println("first use:", first)
	}
	// Output:
	// first use: true
	// first use: false
}
