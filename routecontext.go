package jwtgate

import "context"

// VerifyTokenContext is VerifyToken for interceptors: it runs the route's
// checks on token and returns ctx carrying the verified token (and
// user), for TokenFrom and User, with the token. The token, the context
// and a payload of common size take one allocation, as in the Gate's own
// middleware, where VerifyToken and NewContext take three. An empty token
// is an error wrapping ErrNoToken, which the caller may let through.
func (rt *Route) VerifyTokenContext(ctx context.Context, token string) (context.Context, *Token, error) {
	if token == "" {
		return nil, nil, newError(ErrNoToken, "Request does not contain an access token", nil)
	}
	tc := &tokenContext{Context: ctx}
	if _, err := rt.g.check(ctx, found{token: token}, &rt.opts, &tc.tok, tc.buf[:]); err != nil {
		return nil, nil, err
	}
	return tc, &tc.tok, nil
}
