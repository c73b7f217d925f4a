package connectjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/jwtgate/jwtgate"
)

// Options is the policy of an Interceptor: the checks each procedure
// gets. Its zero value asks every procedure for a valid access token.
type Options struct {
	// Default is the checks of every procedure that Procedures and Public
	// do not name. Its zero value asks for a valid access token.
	// RouteOptions.Realm has no effect (RPC errors carry no
	// WWW-Authenticate); Locations, WebSocket and DPoPRequired are
	// refused. Tokens are bearer tokens: a DPoP-bound one is refused.
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

	// Token finds the token of a call to procedure in its request
	// header. It returns "" and no error for a call without a token, and
	// an error wrapping jwtgate.ErrBadHeader for credentials it cannot
	// use. Nil means BearerToken. It is the place for another header or
	// scheme; the token it returns is checked as a bearer token, so a
	// DPoP-bound token is refused (Connect calls are HTTP requests, but
	// the Gate's DPoP check needs the request, which interceptors do not
	// see).
	Token func(ctx context.Context, procedure string, header http.Header) (string, error)
}

// Interceptor authenticates Connect calls with a Gate; it is a
// connect.Interceptor (connect.WithInterceptors(in)). Make it with New;
// it is safe for concurrent use.
type Interceptor struct {
	def   *procedure
	procs map[string]*procedure // a nil value marks a public name
	token func(ctx context.Context, procedure string, header http.Header) (string, error)
}

var _ connect.Interceptor = (*Interceptor)(nil)

// procedure is one policy entry, compiled.
type procedure struct {
	route *jwtgate.Route
}

// New compiles opts with g's checks. Options that do not apply to RPCs
// (Locations, WebSocket, DPoPRequired), options that g.Route refuses, a badly
// formed procedure name and a name both public and in Procedures give an
// error wrapping jwtgate.ErrConfig.
func New(g *jwtgate.Gate, opts Options) (*Interceptor, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: connectjwt: nil Gate", jwtgate.ErrConfig)
	}
	def, err := compile(g, "Default", opts.Default)
	if err != nil {
		return nil, err
	}
	in := &Interceptor{def: def, procs: make(map[string]*procedure, len(opts.Procedures)+len(opts.Public)), token: opts.Token}
	if in.token == nil {
		in.token = func(_ context.Context, _ string, h http.Header) (string, error) { return BearerToken(h) }
	}
	for _, name := range opts.Public {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("%w: connectjwt: Public: %v", jwtgate.ErrConfig, err)
		}
		if _, ok := opts.Procedures[name]; ok {
			return nil, fmt.Errorf("%w: connectjwt: %q is in both Public and Procedures: keep one", jwtgate.ErrConfig, name)
		}
		in.procs[name] = nil
	}
	for name, ro := range opts.Procedures {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("%w: connectjwt: Procedures: %v", jwtgate.ErrConfig, err)
		}
		p, err := compile(g, "Procedures["+name+"]", ro)
		if err != nil {
			return nil, err
		}
		in.procs[name] = p
	}
	return in, nil
}

func compile(g *jwtgate.Gate, field string, ro jwtgate.RouteOptions) (*procedure, error) {
	switch {
	case len(ro.Locations) > 0:
		return nil, fmt.Errorf("%w: connectjwt: %s: Locations do not apply to RPCs, whose token is in the Authorization header (see Options.Token)", jwtgate.ErrConfig, field)
	case ro.WebSocket:
		return nil, fmt.Errorf("%w: connectjwt: %s: WebSocket does not apply to RPCs", jwtgate.ErrConfig, field)
	case ro.DPoP == jwtgate.DPoPRequired:
		return nil, fmt.Errorf("%w: connectjwt: %s: DPoPRequired: DPoP proofs are not checked on RPCs yet, so no call could pass (a DPoP-bound token is refused as a bearer token)", jwtgate.ErrConfig, field)
	}
	rt, err := g.Route(ro)
	if err != nil {
		return nil, fmt.Errorf("connectjwt: %s: %w", field, err)
	}
	return &procedure{route: rt}, nil
}

// checkName accepts "/service/method" and "/service/".
func checkName(name string) error {
	svc, m, ok := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	if !strings.HasPrefix(name, "/") || !ok || svc == "" || strings.Contains(m, "/") {
		return fmt.Errorf("procedure name %q: want \"/package.Service/Method\" or \"/package.Service/\"", name)
	}
	return nil
}

// lookup returns the policy of name, nil for a public one.
func (in *Interceptor) lookup(name string) *procedure {
	if p, ok := in.procs[name]; ok {
		return p
	}
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		if p, ok := in.procs[name[:i+1]]; ok {
			return p
		}
	}
	return in.def
}

// WrapUnary authenticates unary calls to a handler; on a client it
// returns next.
func (in *Interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		spec := req.Spec()
		if spec.IsClient {
			return next(ctx, req)
		}
		ctx, err := in.Authenticate(ctx, spec.Procedure, req.Header())
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
		ctx, err := in.Authenticate(ctx, conn.Spec().Procedure, conn.RequestHeader())
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
// Error).
func (in *Interceptor) Authenticate(ctx context.Context, procedure string, header http.Header) (context.Context, error) {
	p := in.lookup(procedure)
	if p == nil {
		return ctx, nil
	}
	tok, err := in.token(ctx, procedure, header)
	var authed context.Context
	if err == nil {
		authed, _, err = p.route.VerifyTokenContext(ctx, tok)
	}
	if err != nil {
		if p.route.Admits(err) {
			return ctx, nil
		}
		return nil, Error(err)
	}
	return authed, nil
}

// Code returns the Connect code of a Gate's refusal: CodeUnavailable
// when a store or key source could not answer (fail closed),
// CodePermissionDenied for a valid token that is not enough (not fresh,
// insufficient scope, refused by the claims hook), CodeCanceled or
// CodeDeadlineExceeded when the call's context ended, and
// CodeUnauthenticated for the rest (no token, a malformed, invalid,
// expired or revoked token, the wrong type, no user).
func Code(err error) connect.Code {
	switch {
	case errors.Is(err, context.Canceled):
		return connect.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return connect.CodeDeadlineExceeded
	case errors.Is(err, jwtgate.ErrUnavailable):
		return connect.CodeUnavailable
	case errors.Is(err, jwtgate.ErrNotFresh), errors.Is(err, jwtgate.ErrInsufficientScope),
		errors.Is(err, jwtgate.ErrClaims), errors.Is(err, jwtgate.ErrCSRF):
		return connect.CodePermissionDenied
	case errors.Is(err, jwtgate.ErrConfig):
		return connect.CodeInternal
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
	c := Code(err)
	return connect.NewError(c, errors.New(message(err, c)))
}

func message(err error, c connect.Code) string {
	var e *jwtgate.Error
	switch {
	case c == connect.CodeInternal:
		return "authentication is misconfigured"
	case c == connect.CodeCanceled || c == connect.CodeDeadlineExceeded:
		return "call ended during authentication"
	case !errors.As(err, &e) || e.Message == "":
		return "authentication failed"
	// These messages may quote the token's identity or typ: say what
	// failed instead.
	case e.Kind == jwtgate.ErrUserLoad:
		return "User could not be loaded"
	case e.Kind == jwtgate.ErrWrongType:
		return "Wrong token type for this procedure"
	}
	return e.Message
}

// BearerToken returns the token of a request header: its Authorization
// header must be one value, "Bearer <token>" (the scheme in any case).
// No header gives "" and no error; several, another scheme or a
// malformed value give an error wrapping jwtgate.ErrBadHeader.
func BearerToken(h http.Header) (string, error) {
	vs := h["Authorization"]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return ParseBearer(vs[0])
	}
	return "", jwtgate.NewError(jwtgate.ErrBadHeader, "Bad Authorization header: more than one value", nil)
}

// ParseBearer returns the token of an Authorization value,
// "Bearer <token>": "" for an empty value, an error wrapping
// jwtgate.ErrBadHeader for another scheme or anything but one word after
// the scheme.
func ParseBearer(v string) (string, error) {
	// Fast path: "Bearer <token>" with nothing else.
	if len(v) > 7 && v[6] == ' ' && strings.EqualFold(v[:6], "Bearer") && oneWord(v[7:]) {
		return v[7:], nil
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	scheme, rest, _ := strings.Cut(v, " ")
	tok := strings.TrimLeft(rest, " \t")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" || !oneWord(tok) {
		return "", jwtgate.NewError(jwtgate.ErrBadHeader, "Bad Authorization header: expected 'Bearer <JWT>'", nil)
	}
	return tok, nil
}

// oneWord reports whether s has no space, tab or comma. IndexByte is
// vectorised; IndexAny over a whole token is not.
func oneWord(s string) bool {
	return strings.IndexByte(s, ' ') < 0 && strings.IndexByte(s, '\t') < 0 && strings.IndexByte(s, ',') < 0
}
