package rpcauth

import (
	"context"
	"errors"

	"github.com/jwtgate/jwtgate"
)

// Class is what a refusal of the Gate means to an RPC; each adapter maps
// it to its own code.
type Class int

const (
	// Unauthenticated: no token, a malformed, invalid, expired or revoked
	// token, the wrong type, no user.
	Unauthenticated Class = iota
	// PermissionDenied: a valid token that is not enough (not fresh,
	// insufficient scope, refused by the claims hook, CSRF).
	PermissionDenied
	// Unavailable: a store or key source could not answer (fail closed).
	Unavailable
	// Internal: the Gate or the adapter is misconfigured.
	Internal
	// Canceled and DeadlineExceeded: the call's context ended.
	Canceled
	DeadlineExceeded
)

// Classify returns the class of err, a refusal of the Gate.
func Classify(err error) Class {
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	case errors.Is(err, jwtgate.ErrUnavailable):
		return Unavailable
	case errors.Is(err, jwtgate.ErrNotFresh), errors.Is(err, jwtgate.ErrInsufficientScope),
		errors.Is(err, jwtgate.ErrClaims), errors.Is(err, jwtgate.ErrCSRF):
		return PermissionDenied
	case errors.Is(err, jwtgate.ErrConfig):
		return Internal
	}
	return Unauthenticated
}

// Message returns the client-facing message of err, of class c: the
// Gate's message, which names the failed check and never quotes the
// token, except where it may quote the token's identity or typ. method
// is what the adapter calls a method ("method", "procedure").
func Message(err error, c Class, method string) string {
	var e *jwtgate.Error
	switch {
	case c == Internal:
		return "authentication is misconfigured"
	case c == Canceled || c == DeadlineExceeded:
		return "call ended during authentication"
	case !errors.As(err, &e) || e.Message == "":
		return "authentication failed"
	case e.Kind == jwtgate.ErrUserLoad:
		return "User could not be loaded"
	case e.Kind == jwtgate.ErrWrongType:
		return "Wrong token type for this " + method
	}
	return e.Message
}

// One returns the one value of vs, "" for none, and an error wrapping
// jwtgate.ErrBadHeader for several; what names them in the message.
func One(vs []string, what string) (string, error) {
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", jwtgate.NewError(jwtgate.ErrBadHeader, "Bad "+what+": more than one value", nil)
}

// ParseBearer returns the token of an authorization value,
// "Bearer <token>": "" for an empty value, an error wrapping
// jwtgate.ErrBadHeader for another scheme (DPoP included) or anything but
// one word after the scheme.
func ParseBearer(v, what string) (string, error) {
	scheme, tok, err := Parse(v, what)
	if scheme == "DPoP" {
		return "", Expected(what, "Bearer")
	}
	return tok, err
}
