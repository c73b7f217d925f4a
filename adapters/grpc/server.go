package grpcjwt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/internal/rpcauth"
)

// Options is the policy of an Interceptor: the checks each method gets.
// Its zero value asks every method for a valid access token.
type Options struct {
	// Default is the checks of every method that Methods and Public do
	// not name. Its zero value asks for a valid access token.
	// RouteOptions.Realm has no effect (RPC errors carry no
	// WWW-Authenticate); Locations and WebSocket are refused.
	// RouteOptions.DPoP applies as on HTTP routes (see Origin).
	Default jwtgate.RouteOptions

	// Methods gives methods their own checks (Optional, Fresh, Refresh,
	// Scopes, SkipTypeCheck, SkipRevocation, IgnoreInvalid), by full
	// method name ("/package.Service/Method", as grpc.UnaryServerInfo
	// and grpc.StreamServerInfo name it), or every method of a service by
	// the service's name and a slash ("/package.Service/"). A method's
	// own entry wins over its service's.
	Methods map[string]jwtgate.RouteOptions

	// Public lists the methods (or services, "/package.Service/") that
	// get no check at all: their calls pass without reading the token.
	// A name may not be both in Public and in Methods.
	Public []string

	// Origin is the public origin of the service, "https://api.example.com"
	// (an absolute http or https URL without path, query or fragment), for
	// a service that clients reach through a proxy or load balancer. A
	// DPoP proof (RFC 9449) is for the URL of the call as the client
	// addresses it: method POST, and this origin followed by the full
	// method name ("https://api.example.com/package.Service/Method").
	// Empty, the origin is the :authority the server received, after
	// https on a connection with TLS and http on one without, and without
	// a port 443, which gRPC clients leave out of the URI their
	// credentials sign (see Credentials); behind a proxy that is not what
	// the client addressed, and every proof would be refused.
	Origin string

	// Token finds the token of a call to fullMethod. It returns "" and no
	// error for a call without a token, and an error wrapping
	// jwtgate.ErrBadHeader for credentials it cannot use. Nil means the
	// authorization metadata: one value, "Bearer <token>", or, on a Gate
	// with Config.DPoP, "DPoP <token>" with its proof in the one value of
	// the dpop metadata. It is the place for another metadata key or
	// scheme; the token it returns is checked as a bearer token, so with
	// a Token hook a DPoP-bound token is refused, and New refuses
	// DPoPRequired.
	Token func(ctx context.Context, fullMethod string) (string, error)
}

// Interceptor authenticates gRPC calls with a Gate: Unary and Stream are
// its server interceptors. Make it with New; it is safe for concurrent
// use.
type Interceptor struct {
	gate   *jwtgate.Gate
	policy *rpcauth.Policy
	token  func(ctx context.Context, fullMethod string) (string, error)
	origin *url.URL // Options.Origin, nil if not given
}

// words names things in errors about the options.
var words = rpcauth.Words{Package: "grpcjwt", Method: "method", Field: "Methods", TokenIn: "the authorization metadata", Calls: "gRPC calls"}

// New compiles opts with g's checks. Options that do not apply to gRPC
// (Locations, WebSocket), DPoPRequired with a Token hook, an Origin that
// is not an absolute http(s) URL without path, options that g.Route
// refuses, a badly formed method name and a name both public and in
// Methods give an error wrapping jwtgate.ErrConfig.
func New(g *jwtgate.Gate, opts Options) (*Interceptor, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: grpcjwt: nil Gate", jwtgate.ErrConfig)
	}
	origin, err := rpcauth.ParseOrigin(opts.Origin)
	if err != nil {
		return nil, fmt.Errorf("%w: grpcjwt: Origin: %v", jwtgate.ErrConfig, err)
	}
	policy, err := rpcauth.Compile(g, words, opts.Default, opts.Methods, opts.Public, opts.Token != nil)
	if err != nil {
		return nil, err
	}
	return &Interceptor{gate: g, policy: policy, token: opts.Token, origin: origin}, nil
}

// Unary is the grpc.UnaryServerInterceptor: grpc.UnaryInterceptor(in.Unary).
func (in *Interceptor) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := in.Authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Stream is the grpc.StreamServerInterceptor:
// grpc.StreamInterceptor(in.Stream). The handler's stream carries the
// authenticated context.
func (in *Interceptor) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := ss.Context()
	ctx2, err := in.Authenticate(ctx, info.FullMethod)
	if err != nil {
		return err
	}
	if ctx2 != ctx {
		ss = &serverStream{ss, ctx2}
	}
	return handler(srv, ss)
}

// serverStream is a ServerStream with the authenticated context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// Authenticate runs the checks of fullMethod on the call whose incoming
// context is ctx, as Unary and Stream do, for other interceptor chains.
// It returns ctx carrying the token (jwtgate.TokenFrom, jwtgate.User),
// ctx itself for a call let through unauthenticated, or a status error
// (see Status). A refusal for want of a DPoP nonce also sets the fresh
// nonce in the call's dpop-nonce response header (grpc.SetHeader).
func (in *Interceptor) Authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	m := in.policy.Lookup(fullMethod)
	if m == nil {
		return ctx, nil
	}
	var c jwtgate.Call
	var err error
	if in.token != nil {
		c.Scheme = "Bearer"
		c.Token, err = in.token(ctx, fullMethod)
	} else {
		err = in.read(ctx, fullMethod, &c)
	}
	var authed context.Context
	if err == nil {
		authed, _, err = m.VerifyCall(ctx, &c)
	}
	if err != nil {
		if m.Admits(err) {
			return ctx, nil
		}
		if errors.Is(err, jwtgate.ErrDPoPNonce) {
			if n := in.gate.DPoPNonce(); n != "" {
				_ = grpc.SetHeader(ctx, metadata.Pairs("dpop-nonce", n))
			}
		}
		return nil, Status(err).Err()
	}
	return authed, nil
}

// read fills c from the call's metadata: the scheme and token of its one
// authorization value, and for the DPoP scheme its dpop values, method
// and URL.
func (in *Interceptor) read(ctx context.Context, fullMethod string, c *jwtgate.Call) error {
	v, err := rpcauth.One(metadata.ValueFromIncomingContext(ctx, "authorization"), "authorization metadata")
	if v == "" || err != nil {
		return err
	}
	scheme, tok, err := rpcauth.Parse(v, "authorization metadata")
	if err != nil || scheme != "DPoP" {
		c.Scheme, c.Token = scheme, tok
		return err
	}
	// The DPoP scheme goes to VerifyCall, which refuses it on a Gate
	// without Config.DPoP.
	c.Scheme, c.Token = "DPoP", tok
	c.Proofs = metadata.ValueFromIncomingContext(ctx, "dpop")
	c.Method = "POST"
	c.URL = in.url(ctx, fullMethod)
	return nil
}

// url returns the URL of a call to fullMethod as its client addressed
// it: Options.Origin, or the scheme of the connection and the
// :authority, and the method's path; nil if there is no :authority.
// A port 443 is left out of the :authority whatever the scheme, as
// grpc-go's clients leave it out of the URI they give credentials (so
// a plaintext service on port 443 checks http://host/..., what they
// sign); over TLS that is the default port, which the proof's check
// ignores anyway.
func (in *Interceptor) url(ctx context.Context, fullMethod string) *url.URL {
	if in.origin != nil {
		return &url.URL{Scheme: in.origin.Scheme, Host: in.origin.Host, Path: fullMethod}
	}
	as := metadata.ValueFromIncomingContext(ctx, ":authority")
	if len(as) != 1 || as[0] == "" {
		return nil
	}
	scheme := "http"
	if p, ok := peer.FromContext(ctx); ok && p.AuthInfo != nil && p.AuthInfo.AuthType() == "tls" {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: strings.TrimSuffix(as[0], ":443"), Path: fullMethod}
}

// Code returns the status code of a Gate's refusal: Unavailable when a
// store or key source could not answer (fail closed), PermissionDenied
// for a valid token that is not enough (not fresh, insufficient scope,
// refused by the claims hook), Canceled or DeadlineExceeded when the
// call's context ended, and Unauthenticated for the rest (no token, a
// malformed, invalid, expired or revoked token, the wrong type, no user).
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return code(rpcauth.Classify(err))
}

// code is the status code of a class of refusal.
func code(c rpcauth.Class) codes.Code {
	switch c {
	case rpcauth.PermissionDenied:
		return codes.PermissionDenied
	case rpcauth.Unavailable:
		return codes.Unavailable
	case rpcauth.Internal:
		return codes.Internal
	case rpcauth.Canceled:
		return codes.Canceled
	case rpcauth.DeadlineExceeded:
		return codes.DeadlineExceeded
	}
	return codes.Unauthenticated
}

// Status returns the gRPC status of a Gate's refusal: Code's code and the
// Gate's client-facing message, which names the failed check and never
// quotes the token.
func Status(err error) *status.Status {
	if err == nil {
		return status.New(codes.OK, "")
	}
	c := rpcauth.Classify(err)
	return status.New(code(c), rpcauth.Message(err, c, "method"))
}

// BearerToken returns the token of the incoming call whose context is
// ctx: its authorization metadata must hold exactly one value,
// "Bearer <token>" (the scheme in any case). No value gives "" and no
// error; several values, another scheme or a malformed value give an
// error wrapping jwtgate.ErrBadHeader.
func BearerToken(ctx context.Context) (string, error) {
	vs := metadata.ValueFromIncomingContext(ctx, "authorization")
	v, err := rpcauth.One(vs, "authorization metadata")
	if err != nil {
		return "", err
	}
	return ParseBearer(v)
}

// ParseBearer returns the token of an authorization value,
// "Bearer <token>": "" for an empty value, an error wrapping
// jwtgate.ErrBadHeader for another scheme or anything but one word after
// the scheme.
func ParseBearer(v string) (string, error) {
	return rpcauth.ParseBearer(v, "authorization metadata")
}
