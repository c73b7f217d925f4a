package revoke

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// SessionClaim is the claim that carries a token's session, the id of its
// refresh-token family, in both the access and the refresh tokens of the
// session (OpenID Connect's sid). InSession adds it; RotateRefresh keeps
// it.
const SessionClaim = "sid"

// FamilyClaim carried the family in refresh tokens made by RotateRefresh
// before tokens carried SessionClaim; SessionOf still reads it.
const FamilyClaim = "fam"

// legacyAccessFamily is the claim in which jwtgate serve put the family of
// an access token's refresh token before SessionClaim; SessionOf reads it.
const legacyAccessFamily = "rfam"

// CheckOptions adjust Check.
type CheckOptions struct {
	// Timeout bounds each store call (DefaultTimeout). A store that does
	// not answer in time makes the check fail, and the Gate answer 503
	// unless Config.FailOpen is set. Stores that implement NonBlocking get
	// no timeout.
	Timeout time.Duration
}

// Check returns a Config.IsRevoked hook asking s whether a token is
// revoked: by its jti, by its session (SessionOf: ended by EndSession or by
// a reused refresh token), or by a cutoff of its subject (the token's
// identity) later than its iat; one store call (CheckToken), or none when
// the store's cache answers. A token without jti is refused as invalid: it
// could not be revoked; so is one whose session claim is not a non-empty
// string.
//
// Check takes at most one CheckOptions: it panics, when the hook is made,
// on more, as a second value would otherwise be silently ignored.
func Check(s Store, opts ...CheckOptions) func(ctx context.Context, t *jwtgate.Token) (bool, error) {
	if len(opts) > 1 {
		panic(fmt.Sprintf("revoke.Check takes at most one CheckOptions, got %d: merge them into one", len(opts)))
	}
	timeout := DefaultTimeout
	if len(opts) == 1 && opts[0].Timeout > 0 {
		timeout = opts[0].Timeout
	}
	_, nonBlocking := s.(NonBlocking)
	cached, _ := s.(CachedChecker)
	return func(ctx context.Context, t *jwtgate.Token) (bool, error) {
		if t == nil || t.Claims.ID == "" {
			// A new value each time: the Gate may adjust its message.
			return false, jwtgate.NewError(jwtgate.ErrInvalid, "Missing claim: jti", nil)
		}
		fam, err := SessionOf(t)
		if err != nil {
			return false, jwtgate.NewError(jwtgate.ErrInvalid, "Invalid claim: "+SessionClaim, err)
		}
		q := queryOf(t, fam)
		if nonBlocking {
			return CheckToken(ctx, s, q)
		}
		if cached != nil {
			if revoked, ok := cached.CheckCached(q); ok {
				return revoked, nil
			}
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		revoked, err := CheckToken(ctx, s, q)
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

// queryOf is the Query for token t of session fam (SessionOf(t)).
func queryOf(t *jwtgate.Token, fam string) Query {
	q := Query{JTI: t.Claims.ID, Subject: t.Identity, Family: fam}
	if t.Claims.IssuedAt != nil {
		q.IssuedAt = t.Claims.IssuedAt.Time
	}
	return q
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

// SessionOf returns the session of t, the id of its refresh-token family:
// its sid claim (SessionClaim); in tokens made before that claim, a
// refresh token's fam claim (FamilyClaim) or an access token's rfam claim
// (jwtgate serve's); else, for a refresh token, its own jti (the first
// token of a family names it). An access token outside any session has
// none: "" and a nil error. A session claim that is not a non-empty string
// is an error wrapping ErrInvalidArgument.
func SessionOf(t *jwtgate.Token) (string, error) {
	if t == nil {
		return "", fmt.Errorf("%w: nil token", ErrInvalidArgument)
	}
	for _, name := range [...]string{SessionClaim, FamilyClaim, legacyAccessFamily} {
		if raw, ok := t.RawClaim(name); ok {
			return sessionValue(name, raw)
		}
	}
	if t.Type == jwtgate.TypeRefresh {
		if t.Claims.ID == "" {
			return "", fmt.Errorf("%w: refresh token has no jti", ErrInvalidArgument)
		}
		return t.Claims.ID, nil
	}
	return "", nil
}

// sessionValue decodes a session claim's raw JSON: a non-empty string.
func sessionValue(name, raw string) (string, error) {
	if len(raw) > 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && !strings.ContainsRune(raw, '\\') {
		return raw[1 : len(raw)-1], nil
	}
	var v string
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v == "" {
		return "", fmt.Errorf("%w: claim %s is not a non-empty string", ErrInvalidArgument, name)
	}
	return v, nil
}

// FamilyOf returns the refresh-token family of t, which is its session.
//
// Deprecated: use SessionOf, which also reads access tokens.
func FamilyOf(t *jwtgate.Token) (string, error) {
	fam, err := SessionOf(t)
	if err == nil && fam == "" {
		err = fmt.Errorf("%w: token carries no family", ErrInvalidArgument)
	}
	return fam, err
}

// NewSession returns the id of a new session: 128 random bits. Give it to
// the first access and refresh tokens of a login with InSession.
func NewSession() (string, error) { return newJTI() }

// InSession makes a created token part of session sid (the SessionClaim).
// Use it for the tokens of a login (with a NewSession id) and for the
// access tokens made after a refresh (with SessionOf of the refresh
// token), so that EndSession and reuse detection refuse them all.
func InSession(sid string) jwtgate.TokenOption {
	return jwtgate.WithClaims(map[string]any{SessionClaim: sid})
}

// EndSession ends the session of t, an access or a refresh token: it
// revokes t's jti, and the session itself (Store.RevokeFamily), so that
// every access and refresh token of the session is refused by Check and
// no refresh token of it can be rotated. The session is kept revoked until
// every token of it can have expired: now plus maxLifetime (the longest
// token lifetime the service issues, its refresh TTL), plus
// RetentionMargin. A token outside any session (SessionOf is "") is only
// revoked itself, as by Logout.
func EndSession(ctx context.Context, s Store, t *jwtgate.Token, now time.Time, maxLifetime time.Duration) error {
	if maxLifetime <= 0 {
		return fmt.Errorf("%w: maxLifetime must be positive", ErrInvalidArgument)
	}
	sid, err := SessionOf(t)
	if err != nil {
		return err
	}
	// Check what Logout needs before anything is written.
	exp, err := expiry(t)
	if err != nil {
		return err
	}
	if t.Claims.ID == "" {
		return fmt.Errorf("%w: token has no jti", ErrInvalidArgument)
	}
	if sid != "" {
		until := now.Add(maxLifetime + RetentionMargin)
		if e := exp.Add(RetentionMargin); e.After(until) {
			until = e
		}
		if err := s.RevokeFamily(ctx, sid, until); err != nil {
			return err
		}
	}
	return Logout(ctx, s, t)
}

// RotateRefresh is the refresh endpoint's rotation: it makes a new refresh
// token for user in old's session (a fresh jti and the sid claim of
// SessionOf(old)), records the rotation in s, and returns the new token
// only if the store accepted it. When old was already rotated, or its
// session was ended, the error wraps ErrReused and the whole session is
// revoked: answer 401 and make the user log in again. Pass the Gate's
// options for the new token in opts; make the access tokens that go with
// it with InSession(sid), sid being SessionOf(old).
//
// After the rotation it asks the store again whether old is revoked (one
// more store call): a LogoutEverywhere of its subject that was stored
// after the request's revocation check, but before the rotation, makes
// it fail too (the error wraps jwtgate.ErrRevoked), so a refresh under
// way cannot carry a session past the end of all the user's sessions.
func RotateRefresh(ctx context.Context, s Store, g *jwtgate.Gate, old *jwtgate.Token, user any, opts ...jwtgate.TokenOption) (string, error) {
	if old == nil {
		return "", fmt.Errorf("%w: nil token", ErrInvalidArgument)
	}
	if old.Type != jwtgate.TypeRefresh {
		return "", fmt.Errorf("%w: token is not a refresh token", ErrInvalidArgument)
	}
	fam, err := SessionOf(old)
	if err != nil {
		return "", err
	}
	jti, err := newJTI()
	if err != nil {
		return "", err
	}
	opts = append(opts, jwtgate.WithClaims(map[string]any{"jti": jti, SessionClaim: fam}))
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
	// The check that let old in came before the rotation: a cutoff of its
	// subject (LogoutEverywhere) stored in between revokes the session
	// old continues, yet would not revoke the new token, issued after it.
	// Asked again now, after the rotation, the store has it.
	revoked, err := CheckToken(ctx, s, queryOf(old, fam))
	if err != nil {
		return "", fmt.Errorf("revoke: checking the rotated token: %w", err)
	}
	if revoked {
		return "", jwtgate.NewError(jwtgate.ErrRevoked, "Token has been revoked", nil)
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
