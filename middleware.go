package jwtgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jwtgate/jwtgate/internal/strictjson"
	"github.com/jwtgate/jwtgate/jwt"
)

// RouteOptions are the checks of one protected route: flask-jwt-extended's
// jwt_required(optional, fresh, refresh, locations, verify_type,
// skip_revocation_check).
type RouteOptions struct {
	// Optional lets requests without a token through, unauthenticated. A
	// token that is present must still be valid.
	Optional bool

	// Fresh requires a fresh access token. Refresh tokens are never
	// fresh: with Refresh, Protect refuses it unless SkipTypeCheck.
	Fresh bool

	// Refresh requires a refresh token (and reads the refresh cookie and
	// JSON key).
	Refresh bool

	// Locations overrides Config.Locations for this route, settings
	// included.
	Locations []Location

	// SkipTypeCheck accepts both access and refresh tokens (in
	// TokensRFC9068, a token whose typ is either, with that type's
	// audience).
	SkipTypeCheck bool

	// SkipRevocation does not ask Config.IsRevoked.
	SkipRevocation bool

	// WebSocket marks a WebSocket handshake route: unless Locations says
	// otherwise, tokens come from the query string (the InQuery of
	// Config.Locations, or InQuery{}; or the parameter "token") or from
	// cookies, and a cookie token needs the CSRF value in the query string
	// (CookieConfig.WebSocketCSRFParm) since browsers cannot set headers on
	// a handshake.
	WebSocket bool

	// IgnoreInvalid, with Optional, lets a request with an unusable token
	// through unauthenticated instead of refusing it, as flask_jwtlib's
	// optional_authentication does. Refusals for CSRF, revocation or an
	// unavailable store still apply. Without Optional, Protect refuses it.
	IgnoreInvalid bool

	// Realm overrides Config.Realm in this route's WWW-Authenticate.
	Realm string

	// Scopes must all be among the token's scopes (Token.Scopes): the
	// space-separated "scope" claim of RFC 9068 and RFC 8693, or else an
	// "scp" claim, a JSON array of strings or a space-separated string.
	// Otherwise the route refuses with an error wrapping
	// ErrInsufficientScope: 403, and in ProfileRFC6750 a challenge with
	// error="insufficient_scope" and the route's scope (RFC 6750 section
	// 3.1). Each scope must be a non-empty RFC 6749 scope-token (visible
	// ASCII but '"' and '\\').
	Scopes []string

	// DPoP says whether the route takes DPoP-bound tokens with their
	// proofs (Config.DPoP): DPoPAllowed (the zero value) takes them and
	// bearer tokens, DPoPRequired only them, DPoPRefused only bearer
	// tokens. A DPoP-bound token is never accepted as a bearer token.
	DPoP DPoPPolicy
}

// Required lets a request through only with a valid access token.
func (g *Gate) Required(next http.Handler) http.Handler { return g.Protect(RouteOptions{})(next) }

// Optional lets every request through; a valid token authenticates it, an
// invalid one is still refused.
func (g *Gate) Optional(next http.Handler) http.Handler {
	return g.Protect(RouteOptions{Optional: true})(next)
}

// Fresh lets a request through only with a fresh access token.
func (g *Gate) Fresh(next http.Handler) http.Handler {
	return g.Protect(RouteOptions{Fresh: true})(next)
}

// Refresh lets a request through only with a refresh token.
func (g *Gate) Refresh(next http.Handler) http.Handler {
	return g.Protect(RouteOptions{Refresh: true})(next)
}

// Protect returns middleware with the given checks.
//
// Protect checks opts when the route is registered: options that
// contradict each other or the Config (a cookie location on a Gate
// without Config.Cookies, IgnoreInvalid without Optional, ...) make it
// panic with an error wrapping ErrConfig that says what to change, as
// http.ServeMux does for a bad pattern. So do Required, Optional, Fresh
// and Refresh, which call it. Route returns the same error instead.
func (g *Gate) Protect(opts RouteOptions) func(http.Handler) http.Handler {
	rt, err := g.Route(opts)
	if err != nil {
		panic(err)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, err := rt.Verify(r)
			if err != nil {
				rt.Fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r2)
		})
	}
}

// Route is a route's options checked once, with their defaults filled in:
// what Protect runs on each request. Adapters for other routers and RPC
// frameworks build one per route with Gate.Route. A Route is safe for
// concurrent use.
type Route struct {
	g    *Gate
	opts RouteOptions
	locs []locator
}

// Route checks opts, as Protect does when a route is registered, and
// returns the compiled route, or an error wrapping ErrConfig that says
// what to change. A route without Locations reads the Gate's; a
// WebSocket route without Locations reads the Gate's query parameter (or
// "token") and its cookies.
func (g *Gate) Route(opts RouteOptions) (*Route, error) {
	opts.Scopes = slices.Clone(opts.Scopes)
	rt := &Route{g: g, opts: opts, locs: g.locs}
	if len(opts.Locations) == 0 {
		rt.opts.Locations = g.cfg.Locations
		if opts.WebSocket {
			q := Location(InQuery{})
			for _, l := range g.cfg.Locations {
				if _, ok := l.(InQuery); ok {
					q = l
				}
			}
			rt.opts.Locations = []Location{q}
			if g.cfg.Cookies != nil {
				rt.opts.Locations = append(rt.opts.Locations, InCookie{})
			}
		}
	} else {
		rt.opts.Locations = slices.Clone(opts.Locations)
	}
	if len(opts.Locations) > 0 || opts.WebSocket {
		locs, err := locators(rt.opts.Locations)
		if err != nil {
			return nil, fmt.Errorf("%w: route: RouteOptions.Locations: %v", ErrConfig, err)
		}
		rt.locs = locs
	}
	if err := g.routeError(&rt.opts); err != nil {
		return nil, err
	}
	return rt, nil
}

// Options returns the route's options, with the defaults Gate.Route
// filled in (the locations it reads).
func (rt *Route) Options() RouteOptions {
	o := rt.opts
	o.Locations = slices.Clone(o.Locations)
	o.Scopes = slices.Clone(o.Scopes)
	return o
}

// Verify runs the route's checks on r and returns r with the token (and
// user) in its context, for TokenFrom and User. On an Optional route
// without a token (or, with IgnoreInvalid, with an unusable one) it
// returns r itself and no error. Errors wrap one of the Gate's
// sentinels; Fail answers them.
func (rt *Route) Verify(r *http.Request) (*http.Request, error) {
	return rt.g.verifyRequest(r, rt)
}

// VerifyToken runs the route's checks on a token given outside an HTTP
// request (gRPC metadata, a message): signature and claims, type,
// freshness, scopes, revocation, the claims hook and the user loader.
// Locations and CSRF do not apply; Optional does not either: an empty
// token is an error wrapping ErrNoToken, which the caller may let
// through. Put the result in a context with NewContext.
func (rt *Route) VerifyToken(ctx context.Context, token string) (*Token, error) {
	if token == "" {
		return nil, newError(ErrNoToken, "Request does not contain an access token", nil)
	}
	return rt.g.check(ctx, found{token: token}, &rt.opts, new(Token), nil)
}

// Fail answers a refusal of this route: Config.OnError if set, or the
// profile's response (WriteError), with the route's realm.
func (rt *Route) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if rt.opts.Realm != "" || rt.opts.DPoP != DPoPAllowed {
		err = &realmError{err, rt.opts.Realm, rt.opts.DPoP}
	}
	rt.g.fail(w, r, err)
}

// VerifyRequest runs the checks of opts on r, as the middleware does, and
// returns r with the token (and user) in its context. On an Optional route
// without a token it returns r itself and no error. Options that Protect
// would refuse make it return an error wrapping ErrConfig. It checks opts
// on every call: a handler called often should build a Route once
// (Gate.Route) and call its Verify.
func (g *Gate) VerifyRequest(r *http.Request, opts RouteOptions) (*http.Request, error) {
	rt, err := g.Route(opts)
	if err != nil {
		return nil, err
	}
	return g.verifyRequest(r, rt)
}

// isPreflight reports a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

func (g *Gate) verifyRequest(r *http.Request, rt *Route) (*http.Request, error) {
	if !g.cfg.CheckPreflight && isPreflight(r) {
		return r, nil
	}
	opts := &rt.opts
	f, err := g.findToken(r, rt.locs, opts.Refresh, opts.WebSocket)
	if err == nil {
		f.req = r
		rc := &requestContext{tokenContext: tokenContext{Context: r.Context()}}
		tc := &rc.tokenContext
		if _, err = g.check(r.Context(), f, opts, &tc.tok, tc.buf[:]); err == nil {
			// WithContext is inlined and its copy does not escape: the
			// request the handler gets is the one in rc.
			rc.req = *r.WithContext(tc)
			return &rc.req, nil
		}
		if f.dpop {
			err = &dpopSchemeError{err}
		}
	}
	if rt.Admits(err) {
		return r, nil
	}
	return nil, err
}

// Admits reports whether the route lets a call through unauthenticated
// despite err, a refusal of its checks: on an Optional route, err wraps
// ErrNoToken, or, with IgnoreInvalid, it is about the token itself (not
// CSRF, scopes, DPoP, revocation or availability). Verify applies it;
// an adapter that reads the token itself (VerifyToken,
// VerifyTokenContext) calls it on their errors and on its own
// ErrBadHeader.
func (rt *Route) Admits(err error) bool {
	return err != nil && rt.opts.Optional && (errors.Is(err, ErrNoToken) || (rt.opts.IgnoreInvalid && ignorable(err)))
}

// ignorable reports the errors RouteOptions.IgnoreInvalid lets through:
// those about the token itself, not CSRF, revocation or availability.
func ignorable(err error) bool {
	for _, e := range []error{ErrBadHeader, ErrInvalid, ErrExpired, ErrWrongType, ErrNotFresh, ErrUserLoad, ErrClaims} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// VerifyToken runs every check of opts on a token string given outside a
// request (FastAPI JWT Auth's jwt_required(token=...)): signature and
// claims, then csrf if given, type, freshness, revocation, the claims hook
// and the user loader. Locations and Optional do not apply. More than one
// csrf value is refused with an error wrapping ErrConfig.
func (g *Gate) VerifyToken(ctx context.Context, token string, opts RouteOptions, csrf ...string) (*Token, error) {
	f := found{token: token}
	if len(csrf) > 0 {
		v, err := oneOption("VerifyToken's csrf", csrf)
		if err != nil {
			return nil, err
		}
		f.csrf, f.check = v, true
	}
	return g.check(ctx, f, &opts, new(Token), nil)
}

// tokenContext is a context carrying a request's verified token, as
// context.WithValue(parent, tokenKey{}, &tok) would, with the token and
// the context in one allocation.
type tokenContext struct {
	context.Context
	tok Token
	// buf holds the payload of tokens up to its size, so that verifying
	// a request's token allocates once (jwt.Verifier.VerifyIntoBuffer).
	buf [payloadRoom]byte
}

// payloadRoom is the payload size kept inside a tokenContext: enough for
// the Gate's own tokens with a few custom claims, and the context fills
// the 704-byte size class with its 8-byte allocation header
// (TestTokenContextSize).
const payloadRoom = 240

func (c *tokenContext) Value(key any) any {
	if _, ok := key.(tokenKey); ok {
		return &c.tok
	}
	return c.Context.Value(key)
}

func (c *tokenContext) String() string { return fmt.Sprint(c.Context) + ".WithValue(jwtgate token)" }

// requestContext is the tokenContext of a request the middleware
// verified, with the request that carries it: the copy of the request
// with the new context lives in the same allocation, so that a verified
// request costs one allocation, not two.
type requestContext struct {
	tokenContext
	req http.Request
}

// check runs the checks that follow finding a token, verifying it into t.
func (g *Gate) check(ctx context.Context, f found, opts *RouteOptions, t *Token, buf []byte) (*Token, error) {
	if err := g.verifyBuf(ctx, f.token, false, t, buf); err != nil {
		return nil, err
	}
	t.Location = f.loc
	if f.check {
		if err := g.checkCSRF(t, f.csrf); err != nil {
			return nil, err
		}
	}
	if g.cfg.Tokens == TokensRFC9068 {
		if err := g.checkProfileType(t, opts); err != nil {
			return nil, err
		}
	} else if !opts.SkipTypeCheck {
		if opts.Refresh && t.Type != TypeRefresh {
			return nil, newError(ErrWrongType, "Only refresh tokens are allowed", nil)
		}
		if !opts.Refresh && t.Type == TypeRefresh {
			return nil, newError(ErrWrongType, "Only non-refresh tokens are allowed", nil)
		}
	}
	if opts.Fresh && !t.Fresh {
		return nil, newError(ErrNotFresh, "Fresh token required", nil)
	}
	if len(opts.Scopes) > 0 {
		if err := checkScopes(t, opts.Scopes); err != nil {
			return nil, err
		}
	}
	if err := g.checkRevoked(ctx, t, opts.SkipRevocation); err != nil {
		return nil, err
	}
	if err := g.checkDPoP(ctx, f, opts, t); err != nil {
		return nil, err
	}
	if g.cfg.VerifyClaims != nil {
		if err := g.cfg.VerifyClaims(ctx, t); err != nil {
			return nil, newError(ErrClaims, "User claims verification failed", err)
		}
	}
	if g.cfg.LoadUser != nil {
		u, err := g.cfg.LoadUser(ctx, t)
		switch {
		case err != nil && !errors.Is(err, ErrUserLoad):
			return nil, newError(ErrUnavailable, "User store unavailable", err)
		case err != nil || u == nil:
			return nil, newError(ErrUserLoad, "Error loading the user "+t.Identity, err)
		}
		t.user = u
	}
	return t, nil
}

// realmError carries a route's realm and DPoP policy to WriteError.
type realmError struct {
	error
	realm string
	dpop  DPoPPolicy
}

func (e *realmError) Unwrap() error { return e.error }

func (g *Gate) checkRevoked(ctx context.Context, t *Token, skip bool) error {
	if skip || g.cfg.IsRevoked == nil {
		return nil
	}
	revoked, err := g.cfg.IsRevoked(ctx, t)
	if err != nil {
		// A hook that judged the token itself (a token without jti when
		// revocation is on, say) answers with a Gate error: pass it on.
		if e := (*Error)(nil); errors.As(err, &e) && e.Kind != ErrUnavailable {
			return err
		}
		if g.cfg.FailOpen {
			g.log.WarnContext(ctx, "jwtgate: revocation check failed; letting the request through (FailOpen)", "jti", t.Claims.ID, "error", err)
			return nil
		}
		return newError(ErrUnavailable, "Revocation check unavailable", err)
	}
	if revoked {
		return newError(ErrRevoked, "Token has been revoked", nil)
	}
	return nil
}

// verify is the one verification step of the Gate, for the middleware,
// VerifyToken, DecodeToken and the cookie methods: it verifies token into t
// with the Gate's keys and claim rules (every one but exp if
// allowExpired), then reads the Gate's claims. Its errors are Gate errors
// in the profile's words.
func (g *Gate) verify(ctx context.Context, token string, allowExpired bool, t *Token) error {
	return g.verifyBuf(ctx, token, allowExpired, t, nil)
}

// verifyBuf is verify keeping the payload in buf when it fits.
func (g *Gate) verifyBuf(ctx context.Context, token string, allowExpired bool, t *Token, buf []byte) error {
	v := g.verifier
	if allowExpired {
		v = g.expVerify
	}
	if g.cfg.DecodeKey != nil {
		ctx = context.WithValue(ctx, rawTokenKey{}, token)
	}
	if err := v.VerifyIntoBuffer(ctx, token, &t.Token, buf); err != nil {
		return g.classify(err, token)
	}
	return g.readGateClaims(t, g.clock())
}

// checkCSRF is the one double-submit check: csrf, the value a request or a
// caller gave, must equal the token's csrf claim, compared in constant
// time.
func (g *Gate) checkCSRF(t *Token, csrf string) error {
	if t.CSRF == "" {
		return newError(ErrInvalid, "Missing claim: "+g.cfg.Claims.CSRF, nil)
	}
	if !csrfEqual(csrf, t.CSRF) {
		return newError(ErrCSRF, "CSRF double submit tokens do not match", nil)
	}
	return nil
}

// classify maps the error of verifying token to a Gate error, with
// messages in the profile's words. It reads the error's type, never its
// text.
func (g *Gate) classify(err error, token string) *Error {
	e := classify(err)
	if g.cfg.Profile == ProfileFlaskJWT {
		// PyJWT's texts, which Flask-JWT passes on.
		switch {
		case errors.Is(err, jwt.ErrExpired):
			e.Message = "Signature has expired"
		case errors.Is(err, jwt.ErrMissingClaim):
			if ce := claimError(err); ce != nil {
				e.Message = `Token is missing the "` + ce.Claim + `" claim`
			}
		case wrongSegments(err, token):
			e.Message = "Not enough segments"
		}
	}
	if g.cfg.Profile == ProfileFlask {
		switch {
		case errors.Is(err, jwt.ErrMissingClaim) && missing(err, g.cfg.Claims.Identity):
			e.Message = "Missing claim: " + g.cfg.Claims.Identity
		case errors.Is(err, jwt.ErrAudience) && missing(err, "aud"):
			e.Message = `Token is missing the "aud" claim`
		case errors.Is(err, jwt.ErrIssuer) && missing(err, "iss"):
			e.Message = `Token is missing the "iss" claim`
		case wrongSegments(err, token):
			e.Message = "Not enough segments"
		}
	}
	return e
}

// rawTokenKey carries the raw token to decodeKeySet.
type rawTokenKey struct{}

// decodeKeySet adapts Config.DecodeKey to jwt.KeySet: it gives the hook
// the unverified header and claims of the token being verified.
type decodeKeySet struct {
	f func(ctx context.Context, header *jwt.Header, claims map[string]any) (*jwt.Key, error)
}

func (d decodeKeySet) LookupKeys(ctx context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	var claims map[string]any
	if raw, _ := ctx.Value(rawTokenKey{}).(string); raw != "" {
		claims, _ = unverifiedClaims(raw)
	}
	k, err := d.f(ctx, h, claims)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("%w: decode key hook returned no key", jwt.ErrKeyNotFound)
	}
	return []*jwt.Key{k}, nil
}

// unverifiedClaims decodes a token's payload without verifying anything.
func unverifiedClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not three segments", jwt.ErrMalformed)
	}
	b, err := b64DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	// One object by the rules tokens are verified with: not null, nothing
	// after it, no duplicate member whose last copy would silently win.
	payload := string(b)
	if err := strictjson.ScanObject(payload, nil); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", jwt.ErrMalformed, err)
	}
	d := json.NewDecoder(strings.NewReader(payload))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", jwt.ErrMalformed, err)
	}
	return m, nil
}

func (g *Gate) fail(w http.ResponseWriter, r *http.Request, err error) {
	if g.cfg.OnError != nil {
		g.cfg.OnError(w, r, err)
		return
	}
	g.WriteError(w, r, err)
}
