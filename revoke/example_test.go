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
