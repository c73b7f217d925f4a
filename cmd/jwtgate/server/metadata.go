package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metadataPath is where the service publishes its OAuth 2.0 authorization
// server metadata (RFC 8414 section 3).
const metadataPath = "/.well-known/oauth-authorization-server"

// metadata is the RFC 8414 document of the service. It lists only what
// the service does. Without a client registry that is its issuer and
// where its public keys are: /login and /refresh take JSON credentials,
// not the form-encoded grants of an OAuth token endpoint. With one
// (Config.Clients) it adds the token, introspection and revocation
// endpoints, the grant types client_credentials and refresh_token, the
// client authentication methods and, for private_key_jwt, the algorithms
// of client assertions. There is no authorization endpoint, so
// response_types_supported (required by RFC 8414 section 2; its values
// are the authorization endpoint's response_type values) would have no
// elements and is left out, as section 3.2 says of every such member. No OpenID Connect member is written: the
// service issues no id tokens.
type metadata struct {
	Issuer                   string   `json:"issuer"`
	JWKSURI                  string   `json:"jwks_uri"`
	TokenEndpoint            string   `json:"token_endpoint,omitempty"`
	GrantTypes               []string `json:"grant_types_supported,omitempty"`
	TokenAuthMethods         []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenAuthAlgs            []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	IntrospectionEndpoint    string   `json:"introspection_endpoint,omitempty"`
	IntrospectionAuthMethods []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	IntrospectionAuthAlgs    []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpoint       string   `json:"revocation_endpoint,omitempty"`
	RevocationAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	RevocationAuthAlgs       []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	Scopes                   []string `json:"scopes_supported,omitempty"`
	DPoPAlgs                 []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// metadata returns the service's metadata document and how long it may
// be cached.
func (s *Server) metadata() (metadata, time.Duration) {
	base := strings.TrimSuffix(s.cfg.Issuer, "/")
	m := metadata{Issuer: s.cfg.Issuer, JWKSURI: base + "/.well-known/jwks.json"}
	if s.cfg.DPoP != nil {
		for _, a := range s.cfg.DPoP.Algorithms() {
			m.DPoPAlgs = append(m.DPoPAlgs, string(a))
		}
	}
	if s.clients == nil {
		return m, s.cfg.JWKSMaxAge
	}
	methods := []string{authBasic, authPost}
	var algs []string
	if s.oneTime != nil {
		methods = append(methods, authJWT)
		for _, a := range asymmetric {
			algs = append(algs, string(a))
		}
	}
	m.TokenEndpoint = base + tokenPath
	m.GrantTypes = []string{"client_credentials", "refresh_token"}
	m.TokenAuthMethods, m.TokenAuthAlgs = methods, algs
	m.IntrospectionEndpoint = base + introspectPath
	m.IntrospectionAuthMethods, m.IntrospectionAuthAlgs = methods, algs
	m.RevocationEndpoint = base + revokePath
	m.RevocationAuthMethods, m.RevocationAuthAlgs = methods, algs
	m.Scopes = s.cfg.Scopes
	return m, s.cfg.JWKSMaxAge
}

// metadataHandler serves a metadata document, cached for maxAge like
// the JWKS.
func metadataHandler(doc metadata, maxAge time.Duration) (http.Handler, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("server: metadata: %w", err)
	}
	body = append(body, '\n')
	cc := "public, max-age=" + strconv.Itoa(int(maxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", cc)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	}), nil
}
