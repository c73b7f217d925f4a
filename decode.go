package jwtgate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// DecodeOptions adjust DecodeToken.
type DecodeOptions struct {
	// AllowExpired accepts a token whose exp has passed (every other check
	// stays): to log out a session whose access token just expired.
	AllowExpired bool

	// CSRF, if set, must equal the token's csrf claim.
	CSRF string
}

// DecodeToken verifies a token string with every check of the Gate's keys
// and claims (flask-jwt-extended's decode_token); it does not look at a
// request, so no type, freshness, revocation or user check is made. It
// takes at most one DecodeOptions: more is refused with an error wrapping
// ErrConfig.
func (g *Gate) DecodeToken(ctx context.Context, token string, opts ...DecodeOptions) (*Token, error) {
	o, err := oneOption("DecodeToken", opts)
	if err != nil {
		return nil, err
	}
	t := new(Token)
	if err := g.verify(ctx, token, o.AllowExpired, t); err != nil {
		return nil, err
	}
	if o.CSRF != "" {
		if err := g.checkCSRF(t, o.CSRF); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// UnverifiedHeader returns a token's header without verifying anything
// (get_unverified_jwt_headers). Never trust it: it is for choosing a key
// or logging.
func UnverifiedHeader(token string) (map[string]any, error) {
	seg, _, ok := strings.Cut(token, ".")
	if !ok {
		return nil, fmt.Errorf("%w: not a compact JWS", jwt.ErrMalformed)
	}
	b, err := b64DecodeString(seg)
	if err != nil {
		return nil, err
	}
	var h map[string]any
	if err := strictjson.ScanObject(string(b), nil); err != nil {
		return nil, fmt.Errorf("%w: header: %w", jwt.ErrMalformed, err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", jwt.ErrMalformed, err)
	}
	return h, nil
}

// UnverifiedClaims returns a token's claims without verifying anything.
// Never trust them.
func UnverifiedClaims(token string) (map[string]any, error) { return unverifiedClaims(token) }

// JTIOf returns the jti of a token after verifying it (get_jti).
func (g *Gate) JTIOf(ctx context.Context, token string) (string, error) {
	t, err := g.DecodeToken(ctx, token)
	if err != nil {
		return "", err
	}
	return t.Claims.ID, nil
}

// CSRFOf returns the csrf claim of a token after verifying it
// (get_csrf_token): what a client must echo in the CSRF header.
func (g *Gate) CSRFOf(ctx context.Context, token string) (string, error) {
	t, err := g.DecodeToken(ctx, token, DecodeOptions{AllowExpired: true})
	if err != nil {
		return "", err
	}
	return t.CSRF, nil
}

func b64DecodeString(s string) ([]byte, error) {
	if len(s) > jwt.DefaultMaxSize {
		return nil, fmt.Errorf("%w: segment too long", jwt.ErrTooLarge)
	}
	b, err := b64url.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", jwt.ErrMalformed, err)
	}
	return b, nil
}
