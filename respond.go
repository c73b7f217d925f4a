package jwtgate

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Profile chooses the default error responses.
type Profile int

const (
	// ProfileRFC6750 answers as RFC 6750 says: 401 with
	// WWW-Authenticate: Bearer realm="...", error="invalid_token",
	// error_description="..." for bad tokens, 400 invalid_request for a
	// malformed header, 403 insufficient_scope when the claims hook
	// refuses or a scope of RouteOptions.Scopes is missing (with the
	// route's scope="..."), and a JSON body {"error","error_description"}.
	ProfileRFC6750 Profile = iota

	// ProfileFlask reproduces flask-jwt-extended 4.x: its status codes
	// (401, 422, 400) and {"msg": "..."} bodies, with its exact texts.
	ProfileFlask

	// ProfileFlaskJWT reproduces Flask-JWT: 401 with
	// {"status_code","error","description"} and
	// WWW-Authenticate: JWT realm="Login Required" when no token is sent.
	ProfileFlaskJWT
)

// Status returns the HTTP status the profile gives err.
func (p Profile) Status(err error) int {
	switch {
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrInsufficientScope):
		return http.StatusForbidden
	case p == ProfileFlaskJWT:
		return http.StatusUnauthorized
	case p == ProfileFlask:
		switch {
		case errors.Is(err, ErrBadHeader), errors.Is(err, ErrWrongType):
			return http.StatusUnprocessableEntity
		case errors.Is(err, ErrClaims):
			return http.StatusBadRequest
		case errors.Is(err, ErrInvalid):
			return http.StatusUnprocessableEntity
		}
		return http.StatusUnauthorized
	}
	switch {
	case errors.Is(err, ErrBadHeader):
		return http.StatusBadRequest
	case errors.Is(err, ErrClaims), errors.Is(err, ErrCSRF):
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// WriteError writes the Gate's default response for err (the one OnError
// replaces): the profile's status, headers and JSON body.
func (g *Gate) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	p := g.cfg.Profile
	status := p.Status(err)
	msg := messageOf(err)
	realm := g.cfg.Realm
	policy := DPoPAllowed
	var re *realmError
	if errors.As(err, &re) {
		if re.realm != "" {
			realm = re.realm
		}
		policy = re.dpop
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	var body any
	switch p {
	case ProfileFlask:
		body = map[string]string{g.cfg.MessageKey: msg}
	case ProfileFlaskJWT:
		title := "Invalid token"
		switch {
		case errors.Is(err, ErrNoToken):
			title = "Authorization Required"
			msg = "Request does not contain an access token"
			h.Set("WWW-Authenticate", `JWT realm="`+realm+`"`)
		case errors.Is(err, ErrBadHeader):
			title = "Invalid JWT header"
		case errors.Is(err, ErrUserLoad):
			title, msg = "Invalid JWT", "User does not exist"
		case errors.Is(err, ErrInsufficientScope):
			title = "Insufficient scope"
		}
		body = map[string]any{"status_code": status, "error": title, "description": msg}
	default:
		code := "invalid_token"
		switch {
		case errors.Is(err, ErrNoToken):
			code = ""
		case errors.Is(err, ErrBadHeader):
			code = "invalid_request"
		case errors.Is(err, ErrClaims), errors.Is(err, ErrInsufficientScope):
			code = "insufficient_scope"
		case errors.Is(err, ErrCSRF):
			code = "csrf_failed"
		case errors.Is(err, ErrUnavailable):
			code = "temporarily_unavailable"
		}
		switch {
		case errors.Is(err, ErrDPoP):
			code = "invalid_dpop_proof"
		case errors.Is(err, ErrDPoPNonce):
			code = "use_dpop_nonce"
			if g.cfg.DPoP != nil {
				h.Set("DPoP-Nonce", g.cfg.DPoP.Nonce())
			}
		}
		if status == http.StatusUnauthorized || status == http.StatusBadRequest || code == "insufficient_scope" {
			var scope string
			if se := (*ScopeError)(nil); errors.As(err, &se) {
				scope = `, scope="` + strings.Join(se.Required, " ") + `"`
			}
			var ds *dpopSchemeError
			switch {
			case g.cfg.DPoP == nil || policy == DPoPRefused:
				h.Set("WWW-Authenticate", bearerChallenge(realm, code, msg)+scope)
			case errors.As(err, &ds) || policy == DPoPRequired || code == "invalid_dpop_proof" || code == "use_dpop_nonce":
				// RFC 9449 section 7.1: the DPoP scheme's challenge.
				h.Set("WWW-Authenticate", dpopChallenge(g.cfg.DPoP.AlgsParam(), code, msg)+scope)
			default:
				// Both schemes are taken: a challenge for each.
				h.Set("WWW-Authenticate", bearerChallenge(realm, code, msg)+scope)
				h.Add("WWW-Authenticate", dpopChallenge(g.cfg.DPoP.AlgsParam(), "", ""))
			}
		}
		b := map[string]string{"error": code, "error_description": msg}
		if code == "" {
			b["error"] = "unauthorized"
		}
		body = b
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// bearerChallenge builds an RFC 6750 WWW-Authenticate value. Without an
// error code (no token sent) it carries only the realm (section 3.1).
func bearerChallenge(realm, code, desc string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	b.WriteString(realm)
	b.WriteByte('"')
	if code != "" {
		b.WriteString(`, error="`)
		b.WriteString(code)
		b.WriteString(`", error_description=`)
		b.WriteString(strconv.Quote(challengeSafe(desc)))
	}
	return b.String()
}

// dpopChallenge builds an RFC 9449 section 7.1 WWW-Authenticate value:
// the algorithms, and the error code and description if any.
func dpopChallenge(algs, code, desc string) string {
	c := `DPoP algs="` + algs + `"`
	if code != "" {
		c += `, error="` + code + `", error_description=` + strconv.Quote(challengeSafe(desc))
	}
	return c
}

// challengeSafe keeps the visible ASCII characters RFC 6750 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E).
func challengeSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '\''
		}
		return r
	}, s)
}
