package jwtgate

import (
	"context"
	"net/url"
	"strings"
)

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

// Call is what an HTTP request that the Gate does not see as an
// *http.Request (a gRPC or Connect call, read by an interceptor) presents
// for VerifyCall: the scheme and token of its Authorization value, and,
// for the DPoP scheme, its DPoP proofs and the request they are for.
type Call struct {
	// Scheme is the Authorization value's scheme, "Bearer" or "DPoP" (in
	// any case); Token is the word after it.
	Scheme, Token string

	// Proofs are the values of the DPoP header; exactly one is taken.
	Proofs []string

	// Method is the HTTP method of the call (htm): POST for gRPC.
	Method string

	// URL is the absolute URI the client addressed (htu): the public
	// origin of the service and the call's path. Its query is ignored.
	URL *url.URL
}

// VerifyCall is VerifyTokenContext for calls that may carry DPoP-bound
// tokens (RFC 9449). Under the Bearer scheme it checks c.Token as
// VerifyTokenContext does, with the same single allocation; a token
// bound to a DPoP key is refused there (section 7.2), and so is every
// bearer token on a DPoPRequired route. Under the DPoP scheme, on a Gate
// with Config.DPoP and a route that does not refuse DPoP, the token must
// be bound, and c.Proofs must be one proof by its key for c.Method and
// c.URL, as the Gate's middleware checks the DPoP header. Errors are the
// middleware's: ErrDPoP for a missing or bad proof, ErrDPoPNonce when a
// server nonce is needed (the client retries with Gate.DPoPNonce),
// ErrUnavailable when the replay store cannot answer. An empty token is
// an error wrapping ErrNoToken, whatever the scheme, which the caller may
// let through (Route.Admits); another scheme, or DPoP on a Gate without
// Config.DPoP, is one wrapping ErrBadHeader.
func (rt *Route) VerifyCall(ctx context.Context, c *Call) (context.Context, *Token, error) {
	if c == nil || c.Token == "" {
		return nil, nil, newError(ErrNoToken, "Request does not contain an access token", nil)
	}
	f := found{token: c.Token, proofs: c.Proofs, method: c.Method, url: c.URL}
	switch {
	case strings.EqualFold(c.Scheme, "Bearer"):
	case strings.EqualFold(c.Scheme, "DPoP") && rt.g.cfg.DPoP != nil:
		f.dpop = true
	default:
		return nil, nil, newError(ErrBadHeader, "Unsupported authorization scheme: expected 'Bearer <JWT>'"+rt.g.dpopHint(), nil)
	}
	tc := &tokenContext{Context: ctx}
	if _, err := rt.g.check(ctx, f, &rt.opts, &tc.tok, tc.buf[:]); err != nil {
		return nil, nil, err
	}
	return tc, &tc.tok, nil
}

// dpopHint completes the message of an unknown scheme.
func (g *Gate) dpopHint() string {
	if g.cfg.DPoP == nil {
		return ""
	}
	return " or 'DPoP <JWT>'"
}

// DPoPNonce returns the DPoP nonce clients must put in their proofs now
// (Config.DPoP's Nonce), for the answer to a refusal wrapping
// ErrDPoPNonce that the Gate does not write itself (an RPC's metadata);
// "" without Config.DPoP or its nonces.
func (g *Gate) DPoPNonce() string {
	if g.cfg.DPoP == nil {
		return ""
	}
	return g.cfg.DPoP.Nonce()
}
