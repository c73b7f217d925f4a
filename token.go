package jwtgate

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// Token is a verified token with the claims the Gate understands.
type Token struct {
	jwt.Token

	// Identity is the identity claim: a string claim's value, or the raw
	// JSON text of another value (a number, say).
	Identity string

	// Type is TypeAccess or TypeRefresh. In TokensFlask it is the type
	// claim ("access" when absent, as flask-jwt-extended reads it); in
	// TokensRFC9068 it comes from the typ header (at+jwt, refresh+jwt),
	// and is "" for any other typ.
	Type string

	// Fresh reports whether the token was fresh when it was verified: a
	// fresh claim of true, or a time still in the future.
	Fresh bool

	// CSRF is the csrf claim, if any.
	CSRF string

	// Location is where the request carried the token, as listed in the
	// Locations (nil for tokens from DecodeToken, VerifyToken or
	// Config.Finders).
	Location Location

	user any // what Config.LoadUser returned
}

// readGateClaims fills the Gate's fields from the captured raw claims of
// t.Token, which the verifier has just filled.
func (g *Gate) readGateClaims(t *Token, now time.Time) error {
	t.Type = TypeAccess
	jt := &t.Token
	c := &g.cfg
	if c.Tokens == TokensRFC9068 {
		t.Type = typeOfHeader(&jt.Header)
	}
	if raw, ok := jt.CapturedClaim(capIdentity); ok {
		if raw[0] == '"' {
			t.Identity = strictjson.StringValue(raw)
		} else {
			t.Identity = raw
		}
	}
	if raw, ok := jt.CapturedClaim(capType); ok && c.Tokens != TokensRFC9068 {
		s, err := jsonString(raw)
		if err != nil {
			return newError(ErrInvalid, fmt.Sprintf("Invalid %s claim: must be a string", c.Claims.Type), err)
		}
		t.Type = s
	}
	if raw, ok := jt.CapturedClaim(capFresh); ok {
		switch {
		case raw == "true":
			t.Fresh = true
		case raw == "false":
		case raw[0] >= '0' && raw[0] <= '9':
			var d jwt.NumericDate
			if err := d.UnmarshalJSON([]byte(raw)); err != nil {
				return newError(ErrInvalid, fmt.Sprintf("Invalid %s claim", c.Claims.Fresh), err)
			}
			t.Fresh = d.After(now)
		default:
			return newError(ErrInvalid, fmt.Sprintf("Invalid %s claim: must be a boolean or a numeric date", c.Claims.Fresh), nil)
		}
	}
	if raw, ok := jt.CapturedClaim(capCSRF); ok {
		s, err := jsonString(raw)
		if err != nil {
			return newError(ErrInvalid, fmt.Sprintf("Invalid %s claim: must be a string", c.Claims.CSRF), err)
		}
		t.CSRF = s
	}
	return nil
}

// jsonString returns the value of a raw claim, which the verifier's
// strict scanner has accepted, if it is a JSON string.
func jsonString(raw string) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", fmt.Errorf("not a JSON string: %.20s", raw)
	}
	return strictjson.StringValue(raw), nil
}

// tokenKey is the context key of a request's verified token.
type tokenKey struct{}

// NewContext returns ctx carrying t and, if not nil, user, as a Gate's
// middleware leaves them for TokenFrom and User; use it in tests and in
// custom middleware.
func NewContext(ctx context.Context, t *Token, user any) context.Context {
	if t != nil && user != nil {
		c := *t
		c.user = user
		t = &c
	}
	return context.WithValue(ctx, tokenKey{}, t)
}

// TokenFrom returns the verified token of the request whose context is
// ctx, and false if no Gate's middleware (or VerifyRequest) authenticated
// it. The token holds everything about it: Identity, Type, Fresh, the
// registered claims (Claims.ID is the jti), Raw for the token as sent, and
// Decode for the custom claims.
func TokenFrom(ctx context.Context) (*Token, bool) {
	t, _ := ctx.Value(tokenKey{}).(*Token)
	return t, t != nil
}

// User returns the user that Config.LoadUser loaded for the request whose
// context is ctx, as a T. It reports false if the request is not
// authenticated, no user was loaded, or the user is not a T.
func User[T any](ctx context.Context) (T, bool) {
	var zero T
	t, ok := TokenFrom(ctx)
	if !ok || t.user == nil {
		return zero, false
	}
	u, ok := t.user.(T)
	return u, ok
}
