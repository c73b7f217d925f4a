// Package authvalue reads the authorization value of a call for the RPC
// adapters (gRPC metadata, a Connect request's header): one parser, so
// that the adapters cannot come to disagree on what they accept.
package authvalue

import (
	"strings"

	"github.com/jwtgate/jwtgate"
)

// Parse returns the scheme, "Bearer" or "DPoP", and the token of an
// authorization value: "" and "" for an empty value, an error wrapping
// jwtgate.ErrBadHeader for another scheme or anything but one word after
// the scheme (with the DPoP scheme, so that a bearer-only caller can
// refuse it). what names the value in error messages ("authorization
// metadata", "Authorization header").
func Parse(v, what string) (scheme, tok string, err error) {
	// Fast path: "Bearer <token>" with nothing else.
	if len(v) > 7 && v[6] == ' ' && strings.EqualFold(v[:6], "Bearer") && OneWord(v[7:]) {
		return "Bearer", v[7:], nil
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", "", nil
	}
	s, rest, _ := strings.Cut(v, " ")
	tok = strings.TrimLeft(rest, " \t")
	switch {
	case strings.EqualFold(s, "Bearer"):
		scheme = "Bearer"
	case strings.EqualFold(s, "DPoP"):
		scheme = "DPoP"
	default:
		return "", "", Expected(what, "Bearer")
	}
	if tok == "" || !OneWord(tok) {
		return scheme, "", Expected(what, scheme)
	}
	return scheme, tok, nil
}

// Expected is the refusal of a value that is not "<scheme> <JWT>".
func Expected(what, scheme string) error {
	return jwtgate.NewError(jwtgate.ErrBadHeader, "Bad "+what+": expected '"+scheme+" <JWT>'", nil)
}

// OneWord reports whether s has no space, tab or comma. IndexByte is
// vectorised; IndexAny over a whole token is not.
func OneWord(s string) bool {
	return strings.IndexByte(s, ' ') < 0 && strings.IndexByte(s, '\t') < 0 && strings.IndexByte(s, ',') < 0
}
