// Package revoke keeps token revocations for a jwtgate.Gate: single tokens
// (logout), sessions (every access and refresh token of one login), every
// token of a subject issued before a time (logout everywhere), and
// refresh-token families with rotation and reuse detection (OAuth 2.0
// Security Best Current Practice, section 4.14).
//
// A session is one refresh-token family. Its tokens, access and refresh,
// carry its id in the sid claim (SessionClaim, as in OpenID Connect):
// NewSession and InSession start one, RotateRefresh keeps it, and SessionOf
// reads it. Ending a session (EndSession, or a reused refresh token, which
// makes the store revoke the family) refuses every token that carries it,
// on every instance sharing the store: Check asks about the token's jti,
// its session and its subject in one store call, answered from the
// store's cache where it has one.
//
// A Store holds the revocations. This package has the interface, its
// contract, an in-memory store (NewMemory) and the glue to a Gate: Check
// makes a Config.IsRevoked hook, and Logout, EndSession, LogoutEverywhere
// and RotateRefresh are what a token service calls. Stores that outlive a
// process or serve several instances live in their own packages
// (revoke/sqlstore for SQLite and PostgreSQL, revoke/redisstore for Redis);
// revoke/storetest is the conformance suite every store passes.
//
// # Single-use ids
//
// The same stores record ids that may be used once, across instances:
// the jti of an OAuth 2 client assertion (RFC 7523), of a DPoP proof (RFC
// 9449). OneTimeStore's Use answers "first" to exactly one caller per id,
// on every instance sharing the store, until the id's own expiry; UseOnce
// calls it on any Store. A store that cannot answer makes Use fail, never
// answer "first": the id is then refused.
//
// # Security
//
// Revocations are kept until the token they revoke would expire, never
// less: a store that cannot keep one more (a full memory store) refuses it
// with an error instead of forgetting an older one. Check bounds each store
// call with a timeout, and the Gate refuses a request whose revocation
// cannot be checked (503) unless Config.FailOpen is set. Times compared are
// the token's own (iat, exp), so instances whose clocks disagree still agree
// on which tokens a "logout everywhere" covers.
package revoke

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors of the package. Stores wrap them so errors.Is works.
var (
	// ErrReused: a refresh token that was already rotated (or belongs to a
	// revoked family: an ended session) came back. Its whole family is now
	// revoked.
	ErrReused = errors.New("revoke: refresh token reused; family revoked")

	// ErrFull: a bounded store cannot keep one more revocation. Nothing
	// already stored was dropped.
	ErrFull = errors.New("revoke: store full")

	// ErrInvalidArgument: an empty jti, subject or family, or a zero or
	// past expiry time.
	ErrInvalidArgument = errors.New("revoke: invalid argument")

	// ErrNotOneTime: the store does not implement OneTimeStore, so it
	// cannot record single-use ids.
	ErrNotOneTime = errors.New("revoke: store cannot record single-use ids")
)

// Store keeps revocations. Implementations are safe for concurrent use.
//
// The contract, for every method: "not revoked" and "nothing stored" are
// answers (false, zero time, nil error), never errors. An error means only
// that the store could not answer or could not keep the change (it is down,
// slow, full, or returned data it cannot read); callers must then assume
// nothing, and the Gate fails closed. A method that returned nil has made
// its change durable to the store's own standard (memory: until the
// process ends; SQL and Redis: as their README files say) and visible to
// every later call on any instance sharing the store.
//
// Every entry carries an until time after which it may be forgotten: the
// expiry of the token(s) it concerns. A zero until is an error wrapping
// ErrInvalidArgument (a token without exp needs a retention chosen by the
// caller); an until already past makes Revoke, RevokeSubject and
// RevokeFamily a no-op returning nil, since such tokens are refused as
// expired anyway.
type Store interface {
	// Revoke revokes the token whose jti is given until the time the
	// token expires. Revoking twice keeps the later until.
	Revoke(ctx context.Context, jti string, until time.Time) error

	// Revoked reports whether jti is revoked.
	Revoked(ctx context.Context, jti string) (bool, error)

	// RevokeSubject revokes every token of subject issued up to the
	// cutoff, to the millisecond (CutoffRevokes: an iat in the cutoff's
	// millisecond or earlier), and keeps that rule until the given time
	// (the moment the last such token expires: before plus the longest
	// token lifetime). A store keeps cutoffs to the millisecond at least.
	// A later cutoff replaces an earlier one, never the reverse.
	RevokeSubject(ctx context.Context, subject string, before, until time.Time) error

	// SubjectCutoff returns the subject's cutoff, or the zero time when
	// there is none.
	SubjectCutoff(ctx context.Context, subject string) (time.Time, error)

	// Rotate replaces the current refresh token of family, oldJTI, by
	// newJTI, atomically; the family is kept until the given time (the new
	// token's expiry). A family the store does not know starts with
	// oldJTI as its current token, so the first refresh token needs no
	// registration.
	//
	// If oldJTI is not the family's current token (it was rotated
	// already: reuse), or the family is revoked, Rotate revokes the family
	// (as RevokeFamily, until the family's own expiry) and returns an
	// error wrapping ErrReused. Then any token of the family fails to
	// rotate, FamilyRevoked reports true, and CheckToken refuses every
	// token whose Query names the family.
	Rotate(ctx context.Context, family, oldJTI, newJTI string, until time.Time) error

	// RevokeFamily ends a session: every token carrying the family is
	// refused (CheckToken with Query.Family set to it) and Rotate of any
	// of its refresh tokens fails with ErrReused, until the given time
	// (the moment the session's last token expires). It works on a family
	// the store has never seen (a session whose first refresh token was
	// never rotated). Revoking twice keeps the later until.
	RevokeFamily(ctx context.Context, family string, until time.Time) error

	// FamilyRevoked reports whether family is revoked, by RevokeFamily or
	// by a reuse detected by Rotate.
	FamilyRevoked(ctx context.Context, family string) (bool, error)
}

// TokenChecker is an optional interface for stores that answer the Gate's
// whole question in one call (one round trip): is the token revoked by its
// jti, by its session (q.Family, when not empty), or by its subject's
// cutoff (q.Subject, when not empty) later than q.IssuedAt.
type TokenChecker interface {
	CheckToken(ctx context.Context, q Query) (bool, error)
}

// CachedChecker is an optional interface for stores that keep answers in
// process (the Redis store's client-side cache): CheckCached answers q
// without I/O when it can (ok true), and Check then needs no timeout.
type CachedChecker interface {
	CheckCached(q Query) (revoked, ok bool)
}

// NonBlocking is an optional interface for stores whose calls never wait
// on I/O (the memory store): Check does not put a timeout on them, and
// package dpop records a proof's jti after its signature verified rather
// than during the check (a goroutine would cost more than it saves).
type NonBlocking interface {
	NonBlocking()
}

// OneTimeStore is implemented by stores that can record single-use ids
// (client assertion jti, later DPoP proof jti) across instances.
//
// Every store of jwtgate implements it (the memory store, revoke/sqlstore
// and revoke/redisstore), in a namespace of its own: an id recorded by
// Use is not a revoked jti, and Revoke does not consume an id. Callers
// should still put what the id is for in it (for example
// "client_assertion:"+clientID+":"+jti), since different issuers of ids
// may pick the same ones.
//
// Use fails closed: when the store cannot answer or cannot keep the record
// (down, slow, full, an unreadable reply), it returns an error and first
// false, never first true, and the caller must refuse the id. An id
// recorded once is refused by every instance sharing the store until the
// given time; after it, the store may forget it, and Use of the same id
// is first again.
type OneTimeStore interface {
	// Use records id as used until the given time; first is true only
	// for the first call with that id, on every instance (atomic).
	//
	// An empty id, a zero until or an until not after the store's current
	// time is an error wrapping ErrInvalidArgument (an id whose use is
	// already over cannot be recorded: refuse what carries it).
	Use(ctx context.Context, id string, until time.Time) (first bool, err error)
}

// UseOnce records id in s as used until the given time, with s's
// OneTimeStore. A store without one is an error wrapping ErrNotOneTime: a
// single-use id cannot be checked without a store that keeps it, and the
// caller must then refuse the id.
func UseOnce(ctx context.Context, s Store, id string, until time.Time) (first bool, err error) {
	o, ok := s.(OneTimeStore)
	if !ok {
		return false, fmt.Errorf("%w: %T", ErrNotOneTime, s)
	}
	return o.Use(ctx, id, until)
}

// Query names a token for a revocation check: its jti, its subject (for
// the subject's cutoff: "" when none applies), its session (the refresh
// family it belongs to: "" when it has none) and its iat (zero when it has
// none: any cutoff then revokes it).
type Query struct {
	JTI      string
	Subject  string
	Family   string
	IssuedAt time.Time
}

// Prober is an optional interface for stores that can prove they work:
// Probe makes one round trip to the store that no cache answers, and a
// write where the store takes writes, and returns nil only if both
// succeeded within ctx. Readiness checks (/readyz) call it.
type Prober interface {
	Probe(ctx context.Context) error
}

// CheckToken answers q with s's TokenChecker if it has one, else with
// Revoked, FamilyRevoked (when q.Family is set) and SubjectCutoff (when
// q.Subject is set): the token is revoked if its jti is, if its session is,
// or if its subject's cutoff is later than its iat.
func CheckToken(ctx context.Context, s Store, q Query) (bool, error) {
	if c, ok := s.(TokenChecker); ok {
		return c.CheckToken(ctx, q)
	}
	revoked, err := s.Revoked(ctx, q.JTI)
	if err != nil || revoked {
		return revoked, err
	}
	if q.Family != "" {
		if revoked, err = s.FamilyRevoked(ctx, q.Family); err != nil || revoked {
			return revoked, err
		}
	}
	if q.Subject == "" {
		return false, nil
	}
	cutoff, err := s.SubjectCutoff(ctx, q.Subject)
	if err != nil {
		return false, err
	}
	return CutoffRevokes(cutoff, q.IssuedAt), nil
}

// CutoffRevokes reports whether a subject cutoff revokes a token issued at
// issuedAt (zero: no iat claim, revoked by any cutoff). Both are compared
// to the millisecond, and a token of the cutoff's own millisecond is
// revoked: the order of two events in one millisecond is unknown, so the
// rule fails closed. Tokens with iat in whole seconds (jwtgate.TokensFlask)
// are revoked for the whole second of the cutoff; jwtgate.TokensRFC9068
// gives iat milliseconds, so a token issued in any later millisecond
// works.
func CutoffRevokes(cutoff, issuedAt time.Time) bool {
	if cutoff.IsZero() {
		return false
	}
	return issuedAt.IsZero() || issuedAt.UnixMilli() <= cutoff.UnixMilli()
}

// Validate returns an error wrapping ErrInvalidArgument when key is empty
// or until is zero: for stores checking their arguments.
func Validate(what, key string, until time.Time) error {
	if key == "" {
		return errors.Join(ErrInvalidArgument, errors.New("revoke: empty "+what))
	}
	if until.IsZero() {
		return errors.Join(ErrInvalidArgument, errors.New("revoke: zero until for "+what+" (give the token's expiry)"))
	}
	return nil
}
