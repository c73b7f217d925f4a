package jwk

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// SetSource gives the current key set to publish: a *Set (itself) or a
// *Ring (its snapshot at the time of the request).
type SetSource interface {
	CurrentSet() *Set
}

// CurrentSet implements SetSource: a Set is its own current set.
func (s *Set) CurrentSet() *Set { return s }

// CurrentSet implements SetSource with the ring's current keys.
func (r *Ring) CurrentSet() *Set { return r.Set() }

// DefaultMaxAge is the Cache-Control max-age of the handlers, and the
// default time a fetched key set is cached: flask_jwtlib's
// VERIFICATION_KEY_CACHE_TIMEOUT.
const DefaultMaxAge = 300 * time.Second

// HandlerOptions configures JWKSHandler and DiscoveryHandler.
type HandlerOptions struct {
	// MaxAge is the Cache-Control max-age; 0 means DefaultMaxAge, a
	// negative value sends "no-cache".
	MaxAge time.Duration
}

func (o HandlerOptions) cacheControl() string {
	switch {
	case o.MaxAge < 0:
		return "no-cache"
	case o.MaxAge == 0:
		return "public, max-age=" + strconv.Itoa(int(DefaultMaxAge/time.Second))
	default:
		return "public, max-age=" + strconv.Itoa(int(o.MaxAge/time.Second))
	}
}

// JWKSHandler returns an http.Handler that serves the public keys of src
// as a JWK Set (for /.well-known/jwks.json), with Content-Type
// application/jwk-set+json, Cache-Control and a strong ETag; a request
// whose If-None-Match names the current ETag gets 304 Not Modified. Only
// public keys are ever written (Set.MarshalJSON): the private halves of a
// ring's keys and secret keys are left out. GET and HEAD only.
func JWKSHandler(src SetSource, opts HandlerOptions) http.Handler {
	return &jwksHandler{src: src, cc: opts.cacheControl()}
}

type jwksHandler struct {
	src   SetSource
	cc    string
	cache atomic.Pointer[jwksBody]
}

type jwksBody struct {
	set  *Set
	body []byte
	etag string
	err  error
}

func (h *jwksHandler) body() *jwksBody {
	set := h.src.CurrentSet()
	if b := h.cache.Load(); b != nil && b.set == set {
		return b
	}
	b := &jwksBody{set: set}
	if set == nil {
		b.err = fmt.Errorf("%w: no key set", ErrInvalidSet)
	} else {
		b.body, b.err = set.MarshalJSON()
		b.etag = strongETag(b.body)
	}
	h.cache.Store(b)
	return b
}

func (h *jwksHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := h.body()
	if b.err != nil {
		http.Error(w, "key set unavailable", http.StatusInternalServerError)
		return
	}
	serveCached(w, r, "application/jwk-set+json", h.cc, b.etag, b.body)
}

// strongETag is a quoted base64url SHA-256 of body.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

func serveCached(w http.ResponseWriter, r *http.Request, ctype, cc, etag string, body []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", cc)
	hd.Set("ETag", etag)
	if etagMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", ctype)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatch applies If-None-Match's weak comparison (RFC 9110 section
// 13.1.2) of the listed entity tags with etag.
func etagMatch(values []string, etag string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// Discovery is the part of an OpenID Provider configuration (OpenID
// Connect Discovery 1.0 section 3) that token verifiers need.
type Discovery struct {
	Issuer     string          // issuer: the iss of the tokens
	JWKSURI    string          // jwks_uri: where the JWK Set is served
	Algorithms []jwt.Algorithm // id_token_signing_alg_values_supported

	// Extra holds more members (token_endpoint, ...); it cannot override
	// the three above.
	Extra map[string]any
}

// DiscoveryHandler returns an http.Handler that serves d as a discovery
// document (for /.well-known/openid-configuration), with Cache-Control
// and a strong ETag like JWKSHandler. It fails if d lacks an issuer or a
// jwks_uri, or if Extra cannot be written as JSON.
func DiscoveryHandler(d Discovery, opts HandlerOptions) (http.Handler, error) {
	if d.Issuer == "" || d.JWKSURI == "" {
		return nil, fmt.Errorf("jwk: a discovery document needs an issuer and a jwks_uri")
	}
	m := make(map[string]any, len(d.Extra)+3)
	for k, v := range d.Extra {
		m[k] = v
	}
	m["issuer"] = d.Issuer
	m["jwks_uri"] = d.JWKSURI
	algs := d.Algorithms
	if algs == nil {
		algs = []jwt.Algorithm{}
	}
	m["id_token_signing_alg_values_supported"] = algs
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("jwk: discovery document: %w", err)
	}
	etag := strongETag(body)
	cc := opts.cacheControl()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveCached(w, r, "application/json", cc, etag, body)
	}), nil
}
