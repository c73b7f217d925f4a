package adaptertest_test

import (
	"errors"
	"fmt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
)

// An RPC adapter maps each refusal to a status code; Sentinel tells which
// refusal an error is, for that mapping and for RPC.Code.
func ExampleSentinel() {
	code := func(err error) string {
		switch adaptertest.Sentinel(err) {
		case jwtgate.ErrUnavailable:
			return "Unavailable"
		case jwtgate.ErrNotFresh, jwtgate.ErrInsufficientScope, jwtgate.ErrClaims:
			return "PermissionDenied"
		case nil:
			return "Unknown"
		}
		return "Unauthenticated"
	}
	fmt.Println(code(jwtgate.NewError(jwtgate.ErrExpired, "Token has expired", nil)))
	fmt.Println(code(fmt.Errorf("revocation: %w", jwtgate.NewError(jwtgate.ErrUnavailable, "store down", nil))))
	fmt.Println(code(jwtgate.NewError(jwtgate.ErrInsufficientScope, "needs admin", nil)))
	fmt.Println(code(errors.New("something else")))
	// Output:
	// Unauthenticated
	// Unavailable
	// PermissionDenied
	// Unknown
}
