package jwtgate

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"
)

// contradictions refuses settings that cannot all take effect: each
// message names the fields and what to change. It reads cfg as given,
// before defaults are filled.
func contradictions(cfg *Config) error {
	switch {
	case cfg.DecodeKey != nil && cfg.Keys != nil:
		return fmt.Errorf("DecodeKey and Keys are both set, and DecodeKey replaces Keys: keep one of them (a DecodeKey hook can look its keys up in Keys itself)")
	case cfg.FailOpen && cfg.IsRevoked == nil:
		return fmt.Errorf("FailOpen is set but IsRevoked is nil, so there is no revocation check to fail open: set IsRevoked or drop FailOpen")
	case cfg.OmitNotBefore && cfg.NotBeforeDelta != 0:
		return fmt.Errorf("OmitNotBefore leaves nbf out, so NotBeforeDelta %s would not apply: drop one of them", cfg.NotBeforeDelta)
	}
	for i, f := range cfg.Finders {
		if f == nil {
			return fmt.Errorf("entry %d of Finders is nil: remove it", i)
		}
	}
	return nil
}

// ownTokensRefused reports, for a Gate that verifies with its own
// SigningKey, that Algorithms leaves out the algorithm it signs with, so
// that it would refuse every token it creates.
func ownTokensRefused(cfg *Config, alg jwt.Algorithm, keysGiven bool) error {
	if cfg.SigningKey == nil || keysGiven || cfg.DecodeKey != nil || alg == "" || slices.Contains(cfg.Algorithms, alg) {
		return nil
	}
	return fmt.Errorf("the Algorithms %v leave out %s, the algorithm SigningKey signs with, so the Gate would refuse its own tokens: add %s to Algorithms, or set Keys to verify other issuers' tokens", cfg.Algorithms, alg, alg)
}

// checkRealm refuses a realm that cannot be put in a quoted string.
func checkRealm(field, realm string) error {
	if strings.ContainsAny(realm, "\"\\\r\n") {
		return fmt.Errorf("%s %q must not contain quotes, backslashes or line breaks", field, realm)
	}
	return nil
}

// routeError checks a route's options, after Gate.route's defaults,
// against each other and the Gate's Config. Protect panics with it when the route is
// registered, as http.ServeMux does for a bad pattern; VerifyRequest
// returns it.
func (g *Gate) routeError(opts *RouteOptions) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: route: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	c := &g.cfg
	switch {
	case hasLocation[InCookie](opts.Locations) && c.Cookies == nil:
		return bad("the route reads cookies but Config.Cookies is nil: set Config.Cookies (DefaultCookies() is a start) or leave InCookie out of RouteOptions.Locations")
	case opts.IgnoreInvalid && !opts.Optional:
		return bad("RouteOptions.IgnoreInvalid without Optional: a route that needs a token cannot ignore an invalid one; set Optional too, or drop IgnoreInvalid")
	case opts.Fresh && opts.Refresh && !opts.SkipTypeCheck:
		return bad("RouteOptions.Fresh with Refresh: refresh tokens are never fresh, so the route would refuse every token; drop one of them")
	case opts.Refresh && !opts.SkipTypeCheck && c.Tokens == TokensRFC9068 && c.RefreshAudience == "":
		return bad("RouteOptions.Refresh on a TokensRFC9068 Gate without Config.RefreshAudience: no refresh token can be accepted; set Config.RefreshAudience")
	case opts.WebSocket && hasLocation[InJSON](opts.Locations):
		return bad("RouteOptions.WebSocket with InJSON in Locations: a WebSocket handshake is a GET without a body; leave InJSON out")
	}
	if err := checkRealm("RouteOptions.Realm", opts.Realm); err != nil {
		return bad("%v", err)
	}
	switch {
	case opts.DPoP > DPoPRefused:
		return bad("RouteOptions.DPoP %v is not a DPoPPolicy: use DPoPAllowed, DPoPRequired or DPoPRefused", opts.DPoP)
	case opts.DPoP == DPoPRequired && c.DPoP == nil:
		return bad("RouteOptions.DPoP is DPoPRequired but Config.DPoP is nil, so no proof can be checked: set Config.DPoP (dpop.NewVerifier)")
	case opts.DPoP == DPoPRequired && !readsAuthorization(opts.Locations):
		return bad("RouteOptions.DPoP is DPoPRequired but the route does not read the Authorization header, where DPoP tokens come: add InHeader{} to its Locations")
	}
	for _, s := range opts.Scopes {
		if !validScope(s) {
			return bad("RouteOptions.Scopes holds %q, which is not a scope: a scope is one or more visible ASCII characters other than '\"' and '\\' (RFC 6749 section 3.3); list scopes one per entry", s)
		}
	}
	return nil
}

// readsAuthorization reports whether locs read the Authorization header
// with a scheme, where DPoP tokens come.
func readsAuthorization(locs []Location) bool {
	for _, l := range locs {
		if h, ok := l.(InHeader); ok && !h.NoScheme && (h.Name == "" || http.CanonicalHeaderKey(h.Name) == "Authorization") {
			return true
		}
	}
	return false
}

// oneOption returns the single options value of a variadic call, the zero
// value for none, or an error naming the call for more than one: a second
// value would otherwise be silently ignored.
func oneOption[T any](call string, opts []T) (T, error) {
	var o T
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return o, fmt.Errorf("%w: %s takes at most one %T, got %d: merge them into one", ErrConfig, call, o, len(opts))
	}
	return o, nil
}
