package jwtgate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// ErrInsufficientScope: the token lacks a scope the route requires
// (RouteOptions.Scopes). The error also wraps a *ScopeError naming them.
var ErrInsufficientScope = errors.New("jwtgate: insufficient scope")

// ScopeError is the cause of an ErrInsufficientScope refusal.
type ScopeError struct {
	Required []string // the route's scopes, all of which are needed
	Missing  []string // those the token lacks
}

func (e *ScopeError) Error() string {
	return "missing scope " + strings.Join(e.Missing, " ")
}

// Scopes returns the token's scopes: the space-separated "scope" claim
// (RFC 9068, RFC 8693), or, without it, the "scp" claim, a JSON array of
// strings or a space-separated string, as some identity providers issue
// it. A claim of any other shape gives no scopes.
func (t *Token) Scopes() []string {
	s, _ := scopesOf(t)
	return s
}

// scopesOf reads the token's scopes, with an error for a claim of the
// wrong shape.
func scopesOf(t *Token) ([]string, error) {
	if raw, ok := t.RawClaim("scope"); ok {
		s, err := jsonString(raw)
		if err != nil {
			return nil, fmt.Errorf("scope claim: must be a string: %w", err)
		}
		return strings.Fields(s), nil
	}
	raw, ok := t.RawClaim("scp")
	if !ok {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := jsonString(raw)
		if err != nil {
			return nil, fmt.Errorf("scp claim: %w", err)
		}
		return strings.Fields(s), nil
	}
	if raw[0] != '[' {
		return nil, errors.New("scp claim: must be an array of strings or a string")
	}
	out, err := strictjson.StringArray(raw)
	if err != nil {
		return nil, fmt.Errorf("scp claim: must be an array of strings: %w", err)
	}
	return out, nil
}

// checkScopes refuses a token that lacks one of the required scopes.
func checkScopes(t *Token, required []string) error {
	have, err := scopesOf(t)
	if err != nil {
		return newError(ErrInvalid, "Invalid claim: "+err.Error(), err)
	}
	var missing []string
	for _, s := range required {
		if !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	if missing == nil {
		return nil
	}
	return newError(ErrInsufficientScope, "Insufficient scope: requires "+strings.Join(required, " "),
		&ScopeError{Required: required, Missing: missing})
}

// validScope reports an RFC 6749 section 3.3 scope-token: one or more of
// %x21 / %x23-5B / %x5D-7E.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
