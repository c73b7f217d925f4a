package jwk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/loopback"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// RemoteOptions configures NewRemoteSet and NewIssuerSet.
type RemoteOptions struct {
	CacheOptions

	// Client makes the requests; nil means a client of its own. Its
	// redirect policy is replaced by one that refuses redirects to other
	// hosts (and to http: URLs unless AllowHTTP). Give it no timeout of
	// its own: FetchTimeout bounds each fetch.
	Client *http.Client

	// MaxResponseSize is the largest response body accepted, in bytes;
	// 0 means MaxSetSize. A larger response fails the fetch.
	MaxResponseSize int64

	// AllowHTTP allows http: URLs for hosts other than loopback
	// addresses. By default only https: is allowed, and http: on
	// localhost, 127.0.0.0/8 and ::1 (for tests and sidecars).
	AllowHTTP bool

	// AllowedHosts are hosts (host or host:port) that a discovery
	// document's jwks_uri may name besides the issuer's own host.
	AllowedHosts []string
}

// remote fetches key sets over HTTP.
type remote struct {
	client    *http.Client
	maxSize   int64
	opts      RemoteOptions
	closeIdle func() // for a transport of its own, or nil
}

func (r *remote) newCachedSet(fetch FetchFunc) *CachedSet {
	c := NewCachedSet(fetch, r.opts.CacheOptions)
	c.onClose = r.closeIdle
	return c
}

func newRemote(opts RemoteOptions) *remote {
	r := &remote{opts: opts, maxSize: opts.MaxResponseSize}
	if r.maxSize <= 0 {
		r.maxSize = MaxSetSize
	}
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client
	} else {
		// A transport of its own, whose idle connections Close ends.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c.Transport = tr
		r.closeIdle = tr.CloseIdleConnections
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !sameHost(req.URL, via[0].URL) {
			return fmt.Errorf("redirect from %s to another host, %s, refused", via[0].URL.Host, req.URL.Host)
		}
		return r.checkURL(req.URL)
	}
	r.client = &c
	return r
}

func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

// checkURL allows https:, and http: for loopback hosts or with AllowHTTP.
func (r *remote) checkURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
	case "http":
		if !r.opts.AllowHTTP && !loopback.Host(u.Hostname()) {
			return fmt.Errorf("%s is not an https: URL (set AllowHTTP to allow it)", u.Redacted())
		}
	default:
		return fmt.Errorf("%q is not an https: URL", u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", u.Redacted())
	}
	if u.User != nil {
		return fmt.Errorf("%s carries user information", u.Redacted())
	}
	return nil
}

func (r *remote) parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if err := r.checkURL(u); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	return u, nil
}

// get fetches u and returns the body of a 200 response of at most maxSize
// bytes.
func (r *remote) get(ctx context.Context, u *url.URL, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("GET %s: %s: %w", u.Redacted(), resp.Status, errNotFound)
		}
		return nil, fmt.Errorf("GET %s: %s", u.Redacted(), resp.Status)
	}
	if resp.ContentLength > r.maxSize {
		return nil, fmt.Errorf("GET %s: %w: the response is %d bytes, the limit is %d", u.Redacted(), ErrTooLarge, resp.ContentLength, r.maxSize)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	if int64(len(body)) > r.maxSize {
		return nil, fmt.Errorf("GET %s: %w: the response is longer than the limit of %d bytes", u.Redacted(), ErrTooLarge, r.maxSize)
	}
	return body, nil
}

func (r *remote) fetchSet(ctx context.Context, u *url.URL) (*Set, error) {
	body, err := r.get(ctx, u, "application/jwk-set+json, application/json")
	if err != nil {
		return nil, err
	}
	s, err := ParsePublicSet(body)
	if err != nil {
		return nil, fmt.Errorf("JWK Set at %s: %w", u.Redacted(), err)
	}
	return s, nil
}

// NewRemoteSet returns a CachedSet with the public keys of the JWK Set at
// jwksURL (parsed with ParsePublicSet, so a private or secret key in it
// refuses the whole set). The URL must be https:, or http: on a loopback
// host, unless AllowHTTP. Close it when done.
func NewRemoteSet(jwksURL string, opts RemoteOptions) (*CachedSet, error) {
	r := newRemote(opts)
	u, err := r.parseURL(jwksURL)
	if err != nil {
		return nil, err
	}
	return r.newCachedSet(func(ctx context.Context) (jwt.KeySet, error) {
		return r.fetchSet(ctx, u)
	}), nil
}

// errNotFound marks a 404 answer.
var errNotFound = errors.New("not found")

// NewIssuerSet returns a CachedSet with the public keys of issuer, found
// through its OpenID Connect discovery document at
// issuer + "/.well-known/openid-configuration", or, where that answers
// 404, its OAuth 2.0 authorization server metadata (RFC 8414 section
// 3.1: "/.well-known/oauth-authorization-server" inserted between the
// issuer's host and its path), which jwtgate serve publishes. The
// document's issuer must be exactly issuer, and its jwks_uri must be on
// the issuer's host (or one of AllowedHosts). Every refresh reads the
// document again. Close it when done.
func NewIssuerSet(issuer string, opts RemoteOptions) (*CachedSet, error) {
	r := newRemote(opts)
	iu, err := r.parseURL(issuer)
	if err != nil {
		return nil, err
	}
	oidc, err := r.parseURL(strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	oauth := *iu
	oauth.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(iu.Path, "/")
	oauth.RawPath, oauth.RawQuery, oauth.Fragment = "", "", ""
	return r.newCachedSet(func(ctx context.Context) (jwt.KeySet, error) {
		du := oidc
		body, err := r.get(ctx, du, "application/json")
		if errors.Is(err, errNotFound) {
			du = &oauth
			body, err = r.get(ctx, du, "application/json")
		}
		if err != nil {
			return nil, err
		}
		docIss, jwksURI, err := parseDiscovery(body)
		if err != nil {
			return nil, fmt.Errorf("discovery document at %s: %w", du.Redacted(), err)
		}
		if docIss != issuer {
			return nil, fmt.Errorf("discovery document at %s: its issuer is %q, not %q", du.Redacted(), docIss, issuer)
		}
		if jwksURI == "" {
			return nil, fmt.Errorf("discovery document at %s has no jwks_uri", du.Redacted())
		}
		ju, err := url.Parse(jwksURI)
		if err != nil {
			return nil, fmt.Errorf("discovery document at %s: jwks_uri: %w", du.Redacted(), err)
		}
		if err := r.checkURL(ju); err != nil {
			return nil, fmt.Errorf("discovery document at %s: jwks_uri: %w", du.Redacted(), err)
		}
		if !sameHost(ju, iu) && !slices.ContainsFunc(r.opts.AllowedHosts, func(h string) bool {
			return strings.EqualFold(h, ju.Host) || strings.EqualFold(h, ju.Hostname())
		}) {
			return nil, fmt.Errorf("discovery document at %s: jwks_uri %s is not on the issuer's host %s (add its host to AllowedHosts to trust it)", du.Redacted(), ju.Redacted(), iu.Host)
		}
		return r.fetchSet(ctx, ju)
	}), nil
}

// parseDiscovery reads issuer and jwks_uri from a discovery document,
// parsed with this package's strict JSON parser (no duplicate members,
// valid UTF-8, bounded depth, exact member names).
func parseDiscovery(data []byte) (issuer, jwksURI string, err error) {
	v, err := strictjson.Parse(data)
	if err != nil {
		return "", "", err
	}
	if v.Kind != strictjson.KindObject {
		return "", "", fmt.Errorf("not a JSON object")
	}
	if issuer, _, err = getString(v.Obj, "issuer"); err != nil {
		return "", "", err
	}
	if jwksURI, _, err = getString(v.Obj, "jwks_uri"); err != nil {
		return "", "", err
	}
	return issuer, jwksURI, nil
}
