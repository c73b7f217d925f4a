// Package jwtgate is JWT authentication for net/http services: it issues
// access and refresh tokens and protects handlers with them, the way
// flask-jwt-extended, Quart-JWT-Extended, FastAPI JWT Auth, Flask-JWT and
// flask_jwtlib do for Python, on a strict JOSE core (package jwt).
//
// A Gate is made once from a Config with New, which checks the whole
// configuration and fails with ErrConfig on anything inconsistent. Its
// middleware, Required, Optional, Fresh, Refresh and Protect, finds the
// token in the configured locations, values that carry their own settings
// (InHeader, the Authorization header by default; InCookie, with
// double-submit CSRF protection; InQuery; InJSON, a JSON body; WebSocket
// handshakes), verifies it, checks its type, freshness, revocation and
// custom claims, loads the user, and puts the result in the request's
// context: TokenFrom returns the verified *Token (identity, type,
// registered claims, the raw token, and Decode for custom claims) and
// User[T] the user that Config.LoadUser loaded. VerifyRequest runs the same
// checks for custom middleware; NewContext puts a token in a context for
// tests.
//
// Tokens can be bound to a client's key with DPoP (RFC 9449, package
// dpop): with Config.DPoP, a request that sends "Authorization: DPoP
// <token>" must carry a proof signed by the key the token names (BindTo),
// and RouteOptions.DPoP chooses per route between bearer tokens, DPoP or
// either; a bound token is never accepted as a bearer token.
//
// Two token profiles: TokensFlask (the default) makes flask-jwt-extended's
// tokens, told apart by a private type claim; TokensRFC9068 makes access
// tokens as RFC 9068 describes them (typ at+jwt, aud) and refresh tokens
// with their own typ and audience, which no resource server accepts, and
// gives iat milliseconds so that a logout everywhere has no same-second
// hole.
//
// Every refusal is an error wrapping one sentinel (ErrNoToken,
// ErrExpired, ErrInvalid, ErrWrongType, ErrNotFresh, ErrRevoked, ErrCSRF,
// ErrClaims, ErrInsufficientScope, ErrDPoP, ErrDPoPNonce, ErrUserLoad,
// ErrUnavailable), answered by Config.OnError or,
// by default, by the Profile: RFC 6750 responses, or flask-jwt-extended's
// exact status codes and {"msg": ...} texts for clients ported from Python.
//
// # Security
//
// Tokens are verified with the jwt package's rules (keys bound to their
// algorithms, no "none", strict parsing, signature before claims). CSRF
// values are compared in constant time. A revocation check that cannot be
// answered refuses the request (503) unless Config.FailOpen is set. The
// package imports only the standard library.
package jwtgate
