// Package rpcauth is what the RPC adapters (gRPC, Connect) share: the
// policy of their methods, compiled once, the origin setting and the
// parser of authorization values, so that the adapters cannot come to
// disagree on what they accept.
package rpcauth

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/jwtgate/jwtgate"
)

// Words names things in an adapter's errors: its package ("grpcjwt"),
// what it calls a method ("method", "procedure") and its options field
// of per-method policies ("Methods", "Procedures"), where the token is
// ("the authorization metadata") and what a call is ("gRPC calls").
type Words struct {
	Package, Method, Field, TokenIn, Calls string
}

// Policy is the compiled per-method policy of an RPC adapter: a route of
// the Gate for each named method or service, public names, and the
// default route.
type Policy struct {
	def    *jwtgate.Route
	routes map[string]*jwtgate.Route // a nil value marks a public name
}

// Compile checks and compiles a policy: def for every method that named
// and public do not name, named by "/package.Service/Method" or
// "/package.Service/", public names that get no check. custom says that
// the adapter's Options.Token hook reads the token (bearer only). Errors
// wrap jwtgate.ErrConfig.
func Compile(g *jwtgate.Gate, w Words, def jwtgate.RouteOptions, named map[string]jwtgate.RouteOptions, public []string, custom bool) (*Policy, error) {
	d, err := compile(g, w, "Default", def, custom)
	if err != nil {
		return nil, err
	}
	p := &Policy{def: d, routes: make(map[string]*jwtgate.Route, len(named)+len(public))}
	for _, name := range public {
		if err := checkName(w, name); err != nil {
			return nil, fmt.Errorf("%w: %s: Public: %v", jwtgate.ErrConfig, w.Package, err)
		}
		if _, ok := named[name]; ok {
			return nil, fmt.Errorf("%w: %s: %q is in both Public and %s: keep one", jwtgate.ErrConfig, w.Package, name, w.Field)
		}
		p.routes[name] = nil
	}
	for name, ro := range named {
		if err := checkName(w, name); err != nil {
			return nil, fmt.Errorf("%w: %s: %s: %v", jwtgate.ErrConfig, w.Package, w.Field, err)
		}
		rt, err := compile(g, w, w.Field+"["+name+"]", ro, custom)
		if err != nil {
			return nil, err
		}
		p.routes[name] = rt
	}
	return p, nil
}

func compile(g *jwtgate.Gate, w Words, field string, ro jwtgate.RouteOptions, custom bool) (*jwtgate.Route, error) {
	switch {
	case len(ro.Locations) > 0:
		return nil, fmt.Errorf("%w: %s: %s: Locations do not apply to %s, whose token is in %s (see Options.Token)", jwtgate.ErrConfig, w.Package, field, w.Calls, w.TokenIn)
	case ro.WebSocket:
		return nil, fmt.Errorf("%w: %s: %s: WebSocket does not apply to %s", jwtgate.ErrConfig, w.Package, field, w.Calls)
	case ro.DPoP == jwtgate.DPoPRequired && custom:
		return nil, fmt.Errorf("%w: %s: %s: DPoPRequired with Options.Token, whose tokens are bearer tokens, so no call could pass", jwtgate.ErrConfig, w.Package, field)
	}
	rt, err := g.Route(ro)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", w.Package, field, err)
	}
	return rt, nil
}

// checkName accepts "/service/method" and "/service/".
func checkName(w Words, name string) error {
	svc, m, ok := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	if !strings.HasPrefix(name, "/") || !ok || svc == "" || strings.Contains(m, "/") {
		return fmt.Errorf("%s name %q: want \"/package.Service/Method\" or \"/package.Service/\"", w.Method, name)
	}
	return nil
}

// Lookup returns the route of a call to name ("/package.Service/Method"):
// its own, its service's, or the default; nil for a public one.
func (p *Policy) Lookup(name string) *jwtgate.Route {
	if rt, ok := p.routes[name]; ok {
		return rt
	}
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		if rt, ok := p.routes[name[:i+1]]; ok {
			return rt
		}
	}
	return p.def
}

// ParseOrigin checks an adapter's Options.Origin, the scheme and host
// clients address (behind a proxy): nil for "".
func ParseOrigin(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, err
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "", u.Opaque != "":
		return nil, fmt.Errorf("%q is not an absolute http or https URL", s)
	case u.User != nil, (u.Path != "" && u.Path != "/"), u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return nil, fmt.Errorf("%q: want scheme and host only, as \"https://api.example.com\"", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

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
