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
// the service does: its issuer and where its public keys are. The service
// has no OAuth endpoint: /login and /refresh take JSON credentials and
// tokens, not the form-encoded grants of an OAuth token endpoint (RFC 6749
// section 3.2), so there is no token_endpoint and no
// authorization_endpoint; response_types_supported and
// grant_types_supported would have no elements, and RFC 8414 section 3.2
// says to leave such members out. No OpenID Connect member is written:
// the service issues no id tokens.
type metadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// metadataHandler serves the metadata of issuer, cached for maxAge like
// the JWKS.
func metadataHandler(issuer string, maxAge time.Duration) (http.Handler, error) {
	// The JWKS path under the issuer, which may end with a slash (as
	// refreshAudience reads it).
	jwks := strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json"
	body, err := json.Marshal(metadata{Issuer: issuer, JWKSURI: jwks})
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
