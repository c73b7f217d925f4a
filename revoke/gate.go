package revoke

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
)

// DefaultTimeout bounds each store call made by Check.
const DefaultTimeout = 250 * time.Millisecond

// RetentionMargin is added by Logout, LogoutEverywhere and RotateRefresh
// to the time a store must keep an entry, so that a Gate accepting tokens a
// little after exp (Config.Leeway, up to this margin) still refuses revoked
// ones.
const RetentionMargin = 5 * time.Minute

// FamilyClaim is the claim that carries a refresh token's family in tokens
// made by RotateRefresh. The first refresh token of a family has none: its
// jti names the family.
const FamilyClaim = "fam"

// CheckOptions adjust Check.
type CheckOptions struct {
	// Timeout bounds each store call (DefaultTimeout). A store that does
	// not answer in time makes the check fail, and the Gate answer 503
	// unless Config.FailOpen is set. Stores that implement NonBlocking get
	// no timeout.
	Timeout time.Duration
}

// Check returns a Config.IsRevoked hook asking s whether a token is
// revoked: by its jti, or by a cutoff of its subject (the token's identity)
// later than its iat. A token without jti is refused as invalid: it could
// not be revoked.
func Check(s Store, opts ...CheckOptions) func(ctx context.Context, t *jwtgate.Token) (bool, error) {
	timeout := DefaultTimeout
	for _, o := range opts {
		if o.Timeout > 0 {
			timeout = o.Timeout
		}
	}
	_, nonBlocking := s.(NonBlocking)
	cached, _ := s.(CachedChecker)
	return func(ctx context.Context, t *jwtgate.Token) (bool, error) {
		if t == nil || t.Claims.ID == "" {
			// A new value each time: the Gate may adjust its message.
			return false, jwtgate.NewError(jwtgate.ErrInvalid, "Missing claim: jti", nil)
		}
		var iat time.Time
		if t.Claims.IssuedAt != nil {
			iat = t.Claims.IssuedAt.Time
		}
		if nonBlocking {
			return CheckToken(ctx, s, t.Claims.ID, t.Identity, iat)
		}
		if cached != nil {
			if revoked, ok := cached.CheckCached(t.Claims.ID, t.Identity, iat); ok {
				return revoked, nil
			}
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		revoked, err := CheckToken(ctx, s, t.Claims.ID, t.Identity, iat)
		if err != nil {
			return false, fmt.Errorf("revoke: checking token: %w", err)
		}
		return revoked, nil
	}
}

// expiry returns a token's exp, or an error for a token without one.
func expiry(t *jwtgate.Token) (time.Time, error) {
	if t == nil {
		return time.Time{}, fmt.Errorf("%w: nil token", ErrInvalidArgument)
	}
	if t.Claims.ExpiresAt == nil {
		return time.Time{}, fmt.Errorf("%w: token %q has no exp; revoke its jti with Store.Revoke and a retention of your choice", ErrInvalidArgument, t.Claims.ID)
	}
	return t.Claims.ExpiresAt.Time, nil
}

// Logout revokes token t (its jti) until it expires, plus RetentionMargin.
func Logout(ctx context.Context, s Store, t *jwtgate.Token) error {
	exp, err := expiry(t)
	if err != nil {
		return err
	}
	if t.Claims.ID == "" {
		return fmt.Errorf("%w: token has no jti", ErrInvalidArgument)
	}
	return s.Revoke(ctx, t.Claims.ID, exp.Add(RetentionMargin))
}

// LogoutEverywhere revokes every token of subject issued up to now (the
// current time of the caller), for as long as any of them can live:
// maxLifetime is the longest token lifetime the service issues (its refresh
// TTL). Tokens are compared by their own iat, so issuing instances need
// clocks only as close as the tokens' iat already assumes.
//
// The rule is CutoffRevokes': a token issued in now's millisecond is
// revoked, whether it came just before or just after. So that a token
// issued after LogoutEverywhere returns is never revoked by it,
// LogoutEverywhere returns only once the system clock has left that
// millisecond (it waits at most a millisecond, and not at all when now is
// not the current time). Tokens whose iat has whole seconds
// (jwtgate.TokensFlask) are revoked for the whole second of now.
func LogoutEverywhere(ctx context.Context, s Store, subject string, now time.Time, maxLifetime time.Duration) error {
	if maxLifetime <= 0 {
		return fmt.Errorf("%w: maxLifetime must be positive", ErrInvalidArgument)
	}
	if err := s.RevokeSubject(ctx, subject, now, now.Add(maxLifetime+RetentionMargin)); err != nil {
		return err
	}
	next := now.Truncate(time.Millisecond).Add(time.Millisecond)
	if d := time.Until(next); d > 0 && d <= time.Millisecond {
		time.Sleep(d)
	}
	return nil
}

// FamilyOf returns the refresh-token family of t: its fam claim, or its jti
// for the first token of a family.
func FamilyOf(t *jwtgate.Token) (string, error) {
	if raw, ok := t.RawClaim(FamilyClaim); ok {
		var fam string
		if err := json.Unmarshal([]byte(raw), &fam); err != nil || fam == "" {
			return "", fmt.Errorf("%w: claim %s is not a non-empty string", ErrInvalidArgument, FamilyClaim)
		}
		return fam, nil
	}
	if t.Claims.ID == "" {
		return "", fmt.Errorf("%w: refresh token has no jti", ErrInvalidArgument)
	}
	return t.Claims.ID, nil
}

// RotateRefresh is the refresh endpoint's rotation: it makes a new refresh
// token for user in old's family (a fresh jti and the fam claim), records
// the rotation in s, and returns the new token only if the store accepted
// it. When old was already rotated, the error wraps ErrReused and the whole
// family is revoked: answer 401 and make the user log in again. Pass the
// Gate's options for the new token in opts.
func RotateRefresh(ctx context.Context, s Store, g *jwtgate.Gate, old *jwtgate.Token, user any, opts ...jwtgate.TokenOption) (string, error) {
	if old == nil {
		return "", fmt.Errorf("%w: nil token", ErrInvalidArgument)
	}
	if old.Type != jwtgate.TypeRefresh {
		return "", fmt.Errorf("%w: token is not a refresh token", ErrInvalidArgument)
	}
	fam, err := FamilyOf(old)
	if err != nil {
		return "", err
	}
	jti, err := newJTI()
	if err != nil {
		return "", err
	}
	opts = append(opts, jwtgate.WithClaims(map[string]any{"jti": jti, FamilyClaim: fam}))
	tok, err := g.CreateRefreshToken(ctx, user, opts...)
	if err != nil {
		return "", err
	}
	nt, err := g.DecodeToken(ctx, tok)
	if err != nil {
		return "", err
	}
	exp, err := expiry(nt)
	if err != nil {
		return "", err
	}
	if err := s.Rotate(ctx, fam, old.Claims.ID, jti, exp.Add(RetentionMargin)); err != nil {
		if errors.Is(err, ErrReused) {
			return "", jwtgate.NewError(jwtgate.ErrRevoked, "Refresh token reused", err)
		}
		return "", err
	}
	return tok, nil
}

func newJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
