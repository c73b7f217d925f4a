package connectjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"connectrpc.com/connect"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/internal/rpcauth"
)

// Options is the policy of an Interceptor: the checks each procedure
// gets. Its zero value asks every procedure for a valid access token.
type Options struct {
	// Default is the checks of every procedure that Procedures and Public
	// do not name. Its zero value asks for a valid access token.
	// RouteOptions.Realm has no effect (RPC errors carry no
	// WWW-Authenticate); Locations and WebSocket are refused.
	// RouteOptions.DPoP applies as on HTTP routes (see Origin).
	Default jwtgate.RouteOptions

	// Procedures gives procedures their own checks (Optional, Fresh,
	// Refresh, Scopes, SkipTypeCheck, SkipRevocation, IgnoreInvalid), by
	// name ("/package.Service/Method", as connect.Spec.Procedure says), or
	// every procedure of a service by the service's name and a slash
	// ("/package.Service/"). A procedure's own entry wins over its
	// service's.
	Procedures map[string]jwtgate.RouteOptions

	// Public lists the procedures (or services, "/package.Service/") that
	// get no check at all: their calls pass without reading the token.
	// A name may not be both in Public and in Procedures.
	Public []string

	// Origin is the public origin of the service, "https://api.example.com"
	// (an absolute http or https URL without path, query or fragment). A
	// DPoP proof (RFC 9449) is for the URL of the call as the client
	// addresses it: this origin followed by the procedure
	// ("https://api.example.com/package.Service/Method"), and the call's
	// HTTP method (POST, or GET for a unary call sent as one). Empty, the
	// origin is https and the call's Host header: an interceptor does not
	// see the connection, so it cannot tell TLS from plaintext, and a
	// service that takes DPoP-bound tokens is addressed over https, often
	// through a proxy that ends TLS. Set it when clients address another
	// host than the one the server receives (a proxy or load balancer
	// that rewrites Host) or plain http (h2c without a proxy).
	Origin string

	// Token finds the token of a call to procedure in its request
	// header. It returns "" and no error for a call without a token, and
	// an error wrapping jwtgate.ErrBadHeader for credentials it cannot
	// use. Nil means the Authorization header: one value, "Bearer
	// <token>", or, on a Gate with Config.DPoP, "DPoP <token>" with its
	// proof in the one DPoP header. It is the place for another header or
	// scheme; the token it returns is checked as a bearer token, so with
	// a Token hook a DPoP-bound token is refused, and New refuses
	// DPoPRequired.
	Token func(ctx context.Context, procedure string, header http.Header) (string, error)
}

// Interceptor authenticates Connect calls with a Gate; it is a
// connect.Interceptor (connect.WithInterceptors(in)). Make it with New;
// it is safe for concurrent use.
type Interceptor struct {
	gate   *jwtgate.Gate
	policy *rpcauth.Policy
	token  func(ctx context.Context, procedure string, header http.Header) (string, error)
	origin *url.URL // Options.Origin, nil if not given
}

var _ connect.Interceptor = (*Interceptor)(nil)

// words names things in errors about the options.
var words = rpcauth.Words{Package: "connectjwt", Method: "procedure", Field: "Procedures", TokenIn: "the Authorization header", Calls: "RPCs"}

// New compiles opts with g's checks. Options that do not apply to RPCs
// (Locations, WebSocket), DPoPRequired with a Token hook, an Origin that
// is not an absolute http(s) URL without path, options that g.Route
// refuses, a badly formed procedure name and a name both public and in
// Procedures give an error wrapping jwtgate.ErrConfig.
func New(g *jwtgate.Gate, opts Options) (*Interceptor, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: connectjwt: nil Gate", jwtgate.ErrConfig)
	}
	origin, err := rpcauth.ParseOrigin(opts.Origin)
	if err != nil {
		return nil, fmt.Errorf("%w: connectjwt: Origin: %v", jwtgate.ErrConfig, err)
	}
	policy, err := rpcauth.Compile(g, words, opts.Default, opts.Procedures, opts.Public, opts.Token != nil)
	if err != nil {
		return nil, err
	}
	return &Interceptor{gate: g, policy: policy, token: opts.Token, origin: origin}, nil
}

// WrapUnary authenticates unary calls to a handler; on a client it
// returns next.
func (in *Interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		spec := req.Spec()
		if spec.IsClient {
			return next(ctx, req)
		}
		method := req.HTTPMethod()
		if method == "" {
			// A request made by connect.NewRequest and handed to the
			// interceptor directly, not received: POST, as Authenticate.
			method = http.MethodPost
		}
		ctx, err := in.authenticate(ctx, spec.Procedure, method, req.Header(), nil)
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient returns next: the Interceptor guards handlers.
func (in *Interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler authenticates streaming calls before the handler
// runs; the handler's context carries the token.
func (in *Interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := in.authenticate(ctx, conn.Spec().Procedure, http.MethodPost, conn.RequestHeader(), conn)
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// Authenticate runs the checks of procedure on a call with the given
// request header, as the interceptor does, for custom chains. It returns
// ctx carrying the token (jwtgate.TokenFrom, jwtgate.User), ctx itself
// for a call let through unauthenticated, or a *connect.Error (see
// Error). A DPoP proof is checked for method POST, that of every call but
// unary ones sent as GET, which the interceptor checks for GET. A
// refusal for want of a DPoP nonce carries the fresh nonce in its
// DPoP-Nonce metadata, and in the DPoP-Nonce response header when ctx
// is a unary handler's (connect.CallInfoForHandlerContext).
func (in *Interceptor) Authenticate(ctx context.Context, procedure string, header http.Header) (context.Context, error) {
	return in.authenticate(ctx, procedure, http.MethodPost, header, nil)
}

// authenticate is Authenticate for a call with the given HTTP method. A
// DPoP nonce goes in the error's metadata, for Connect clients, and in
// the HTTP response header, where other clients (dpop.Transport) look
// for it, and where Connect does not put a streaming error's metadata,
// nor the gRPC protocol any error's: that of conn, a streaming call, or
// for a unary call (conn nil) its handler context's (connect.CallInfo).
func (in *Interceptor) authenticate(ctx context.Context, procedure, method string, header http.Header, conn connect.StreamingHandlerConn) (context.Context, error) {
	p := in.policy.Lookup(procedure)
	if p == nil {
		return ctx, nil
	}
	var c jwtgate.Call
	var err error
	if in.token != nil {
		c.Scheme = "Bearer"
		c.Token, err = in.token(ctx, procedure, header)
	} else {
		err = in.read(header, procedure, method, &c)
	}
	var authed context.Context
	if err == nil {
		authed, _, err = p.VerifyCall(ctx, &c)
	}
	if err != nil {
		if p.Admits(err) {
			return ctx, nil
		}
		ce := Error(err)
		if errors.Is(err, jwtgate.ErrDPoPNonce) {
			if n := in.gate.DPoPNonce(); n != "" {
				ce.Meta().Set("DPoP-Nonce", n)
				var response http.Header
				if conn != nil {
					response = conn.ResponseHeader()
				} else if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
					response = ci.ResponseHeader()
				}
				if response != nil {
					response.Set("DPoP-Nonce", n)
				}
			}
		}
		return nil, ce
	}
	return authed, nil
}

// read fills c from a request header: the scheme and token of its one
// Authorization header, and for the DPoP scheme its DPoP headers and the
// call's method and URL.
func (in *Interceptor) read(h http.Header, procedure, method string, c *jwtgate.Call) error {
	v, err := rpcauth.One(h["Authorization"], "Authorization header")
	if v == "" || err != nil {
		return err
	}
	scheme, tok, err := rpcauth.Parse(v, "Authorization header")
	if err != nil || scheme != "DPoP" {
		c.Scheme, c.Token = scheme, tok
		return err
	}
	// The DPoP scheme goes to VerifyCall, which refuses it on a Gate
	// without Config.DPoP.
	c.Scheme, c.Token = "DPoP", tok
	c.Proofs = h.Values("DPoP")
	c.Method = method
	c.URL = in.url(h, procedure)
	return nil
}

// url returns the URL of a call to procedure as its client addressed it:
// Options.Origin, or https and the Host header, and the procedure's path;
// nil without either.
func (in *Interceptor) url(h http.Header, procedure string) *url.URL {
	if in.origin != nil {
		return &url.URL{Scheme: in.origin.Scheme, Host: in.origin.Host, Path: procedure}
	}
	host := h.Values("Host")
	if len(host) != 1 || host[0] == "" {
		return nil
	}
	return &url.URL{Scheme: "https", Host: host[0], Path: procedure}
}

// Code returns the Connect code of a Gate's refusal: CodeUnavailable
// when a store or key source could not answer (fail closed),
// CodePermissionDenied for a valid token that is not enough (not fresh,
// insufficient scope, refused by the claims hook), CodeCanceled or
// CodeDeadlineExceeded when the call's context ended, and
// CodeUnauthenticated for the rest (no token, a malformed, invalid,
// expired or revoked token, the wrong type, no user).
func Code(err error) connect.Code { return code(rpcauth.Classify(err)) }

// code is the Connect code of a class of refusal.
func code(c rpcauth.Class) connect.Code {
	switch c {
	case rpcauth.PermissionDenied:
		return connect.CodePermissionDenied
	case rpcauth.Unavailable:
		return connect.CodeUnavailable
	case rpcauth.Internal:
		return connect.CodeInternal
	case rpcauth.Canceled:
		return connect.CodeCanceled
	case rpcauth.DeadlineExceeded:
		return connect.CodeDeadlineExceeded
	}
	return connect.CodeUnauthenticated
}

// Error returns the *connect.Error of a Gate's refusal (nil for nil):
// Code's code and the Gate's client-facing message, which names the
// failed check and never quotes the token.
func Error(err error) *connect.Error {
	if err == nil {
		return nil
	}
	c := rpcauth.Classify(err)
	return connect.NewError(code(c), errors.New(rpcauth.Message(err, c, "procedure")))
}

// BearerToken returns the token of a request header: its Authorization
// header must be one value, "Bearer <token>" (the scheme in any case).
// No header gives "" and no error; several, another scheme or a
// malformed value give an error wrapping jwtgate.ErrBadHeader.
func BearerToken(h http.Header) (string, error) {
	vs := h["Authorization"]
	v, err := rpcauth.One(vs, "Authorization header")
	if err != nil {
		return "", err
	}
	return ParseBearer(v)
}

// ParseBearer returns the token of an Authorization value,
// "Bearer <token>": "" for an empty value, an error wrapping
// jwtgate.ErrBadHeader for another scheme or anything but one word after
// the scheme.
func ParseBearer(v string) (string, error) {
	return rpcauth.ParseBearer(v, "Authorization header")
}
