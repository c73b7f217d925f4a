package jwtgate

import (
	"errors"
	"fmt"
	"slices"

	"github.com/jwtgate/jwtgate/jwt"
)

// TokenProfile chooses the shape of the tokens a Gate creates and how its
// routes tell an access token from a refresh token.
type TokenProfile int

const (
	// TokensFlask makes flask-jwt-extended's tokens: typ "JWT", the type
	// claim ("access" or "refresh"), fresh, nbf, and dates in whole
	// seconds. Routes read the type claim. The default.
	TokensFlask TokenProfile = iota

	// TokensRFC9068 makes access tokens as RFC 9068 describes them: typ
	// "at+jwt", iss, sub, aud (Config.Audience), exp, iat, jti, and
	// client_id where WithClientID gives one. Refresh tokens have typ
	// "refresh+jwt" and the audience Config.RefreshAudience, which no
	// access audience may equal, so a resource server that checks typ or
	// aud (as RFC 9068 section 4 asks) never accepts one. Routes read the
	// typ header, not a claim: an access route wants at+jwt and an access
	// audience, a refresh route refresh+jwt and RefreshAudience.
	//
	// iat carries milliseconds (a fractional NumericDate such as
	// 1767225600.123) so that a subject cutoff (revoke.LogoutEverywhere)
	// tells a token issued just before it from one issued just after,
	// within the same second; exp is iat plus the lifetime, and nbf the
	// whole second of iat (verifiers that compare nbf with the current
	// whole second, as jose does, accept the token at once). PyJWT 2.6.0
	// compares iat with the current whole second (fixed in 2.7.0): give
	// it a leeway of a second or more.
	TokensRFC9068
)

// The typ header values of TokensRFC9068.
const (
	TypAccess  = "at+jwt"      // RFC 9068 section 2.1
	TypRefresh = "refresh+jwt" // refresh tokens: never a resource server's
)

// fillProfile checks and completes the settings of TokensRFC9068, for New.
func (c *Config) fillProfile() error {
	switch c.Tokens {
	case TokensFlask:
		if c.RefreshAudience != "" {
			return fmt.Errorf("RefreshAudience is set but Tokens is TokensFlask: set Tokens to TokensRFC9068, or leave RefreshAudience out")
		}
		return nil
	case TokensRFC9068:
	default:
		return fmt.Errorf("unknown Tokens %d (use TokensFlask or TokensRFC9068)", c.Tokens)
	}
	issues := c.SigningKey != nil || c.EncodeKey != nil
	if len(c.ExpectedAudiences) == 0 {
		c.ExpectedAudiences = slices.Clone(c.Audience)
	}
	switch {
	case issues && len(c.Audience) == 0:
		return fmt.Errorf("TokensRFC9068 needs Audience: the aud of access tokens, the resource servers that accept them (a URL such as https://api.example.com)")
	case issues && c.RefreshAudience == "":
		return fmt.Errorf("TokensRFC9068 needs RefreshAudience: the aud of refresh tokens, the URL of your refresh endpoint")
	case len(c.ExpectedAudiences) == 0:
		return fmt.Errorf("TokensRFC9068 needs ExpectedAudiences (or Audience): access tokens always carry aud")
	case c.AccessTTL == NoExpiry || c.RefreshTTL == NoExpiry:
		return fmt.Errorf("TokensRFC9068 tokens always expire (RFC 9068 requires exp): give AccessTTL and RefreshTTL a duration, not NoExpiry")
	}
	for _, a := range append(slices.Clone(c.Audience), c.ExpectedAudiences...) {
		if a == "" {
			return fmt.Errorf("empty audience in Audience or ExpectedAudiences")
		}
		if a == c.RefreshAudience {
			return fmt.Errorf("RefreshAudience %q is also an access audience (Audience or ExpectedAudiences): give refresh tokens their own audience, the URL of your refresh endpoint, so that no resource server accepts them", a)
		}
	}
	return nil
}

// profileAudiences returns the audiences the verifier accepts: those of
// access tokens and, in TokensRFC9068, RefreshAudience. Each route then
// checks the audience of its own token type.
func (c *Config) profileAudiences() []string {
	if c.Tokens != TokensRFC9068 || c.RefreshAudience == "" {
		return c.ExpectedAudiences
	}
	return append(slices.Clone(c.ExpectedAudiences), c.RefreshAudience)
}

// typeOfHeader returns the token type that a TokensRFC9068 token's typ
// header names, or "" for any other typ.
func typeOfHeader(h *jwt.Header) string {
	switch {
	case h.IsType(TypAccess):
		return TypeAccess
	case h.IsType(TypRefresh):
		return TypeRefresh
	}
	return ""
}

// checkProfileType is the type and audience check of a TokensRFC9068
// route: the typ header, and an audience of that type.
func (g *Gate) checkProfileType(t *Token, opts *RouteOptions) error {
	c := &g.cfg
	if t.Type == "" {
		return newError(ErrWrongType, fmt.Sprintf("Token type %q is not %s or %s", t.Header.Type, TypAccess, TypRefresh), nil)
	}
	want := TypeAccess
	if opts.Refresh {
		want = TypeRefresh
	}
	if opts.SkipTypeCheck {
		want = t.Type
	}
	if t.Type != want {
		if want == TypeRefresh {
			return newError(ErrWrongType, "Only refresh tokens are allowed", nil)
		}
		return newError(ErrWrongType, "Only access tokens (typ "+TypAccess+") are allowed", nil)
	}
	aud := t.Claims.Audience
	if want == TypeRefresh {
		if c.RefreshAudience == "" || !aud.Contains(c.RefreshAudience) {
			return newError(ErrInvalid, "Invalid audience", fmt.Errorf("%w: refresh token for %q", jwt.ErrAudience, []string(aud)))
		}
		return nil
	}
	for _, a := range c.ExpectedAudiences {
		if aud.Contains(a) {
			return nil
		}
	}
	return newError(ErrInvalid, "Invalid audience", fmt.Errorf("%w: access token for %q", jwt.ErrAudience, []string(aud)))
}

// checkProfileAudience refuses, in TokensRFC9068, a created token whose
// audience would blur the types: an access token for the refresh
// audience, or a refresh token for any other.
func (g *Gate) checkProfileAudience(typ string, asked, aud []string) error {
	c := &g.cfg
	if typ == TypeRefresh {
		if asked != nil && (len(asked) != 1 || asked[0] != c.RefreshAudience) {
			return fmt.Errorf("jwtgate: a refresh token's audience is Config.RefreshAudience (%q), not %q", c.RefreshAudience, asked)
		}
		return nil
	}
	if len(aud) == 0 || slices.Contains(aud, "") {
		return errors.New("jwtgate: an access token needs an audience (Config.Audience or WithAudience), without empty names")
	}
	if slices.Contains(aud, c.RefreshAudience) {
		return fmt.Errorf("jwtgate: an access token cannot have the refresh audience %q", c.RefreshAudience)
	}
	return nil
}
