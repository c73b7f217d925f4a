package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// Accounts makes the changes to users and sessions that the admin API,
// the account endpoints and the "jwtgate users" commands share, so that
// each is made, and recorded, one way:
//
//   - a change to a user (add, password, disable, enable, delete) and its
//     audit event are written in one SQL transaction: if the event cannot
//     be written, nothing is changed;
//   - ending sessions is written to the audit log first, then to the
//     revocation store (so that every instance refuses them), then marked
//     in the session registry; a revocation that fails after its event
//     adds an event with outcome "error".
//
// Changes that end a user's sessions (a new password, disable, delete)
// end them after the user change is committed: when that fails, the error
// wraps ErrSessionsNotEnded, and running the change again ends them.
type Accounts struct {
	Users *SQLUsers
	// Clients is the OAuth client registry, in the users' database (nil:
	// the client changes fail).
	Clients     *SQLClients
	Revocations revoke.Store
	Sessions    *SQLSessions
	Audit       *SQLAudit
	// MaxLifetime is the longest token lifetime the service issues (its
	// refresh TTL): sessions are revoked for that long.
	MaxLifetime time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Actor is who makes a change, and from where.
type Actor struct {
	Name      string
	Address   string
	UserAgent string
}

// CLIActor is the actor of the jwtgate commands run on the server's
// stores.
var CLIActor = Actor{Name: "cli"}

// ErrSessionsNotEnded: a change was made, but the user's sessions could
// not be ended; making the change again ends them.
var ErrSessionsNotEnded = errors.New("the change was made, but the user's sessions could not be ended: retry")

// ErrSessionNotFound: no such session of that user in the registry.
var ErrSessionNotFound = errors.New("no such session")

func (a *Accounts) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock()
}

func (a *Accounts) event(actor Actor, typ, subject, outcome string, details map[string]any) Event {
	return Event{Time: a.now(), Type: typ, Actor: actor.Name, Subject: subject, Address: actor.Address,
		UserAgent: actor.UserAgent, Outcome: outcome, Details: details}
}

// change writes a user change and its event in one transaction.
func (a *Accounts) change(ctx context.Context, e Event, f func(tx *sql.Tx) error) error {
	return inTx(ctx, a.Users.db, func(tx *sql.Tx) error {
		if err := f(tx); err != nil {
			return err
		}
		return a.Audit.record(ctx, tx, e)
	})
}

// AddUser creates a user (with the admin role when admin is true).
func (a *Accounts) AddUser(ctx context.Context, actor Actor, username, password string, admin bool) error {
	h, err := a.Users.newHash(username, password)
	if err != nil {
		return err
	}
	return a.addHashed(ctx, actor, username, h, admin)
}

// addHashed creates a user whose password hash is h (made in one of the
// server's hashing slots).
func (a *Accounts) addHashed(ctx context.Context, actor Actor, username, h string, admin bool) error {
	e := a.event(actor, evUserAdd, username, outcomeSuccess, map[string]any{"admin": admin})
	return a.change(ctx, e, func(tx *sql.Tx) error { return a.Users.insert(ctx, tx, username, h, false, admin) })
}

// SetPassword sets a user's password, as an administrator (or the users
// command) does, and ends every session of the user.
func (a *Accounts) SetPassword(ctx context.Context, actor Actor, username, password string) error {
	h, err := a.Users.newHash(username, password)
	if err != nil {
		return err
	}
	if err := a.setHash(ctx, actor, evUserPassword, username, h); err != nil {
		return err
	}
	_, err = a.endAllAgain(ctx, username, endedPasswordChange)
	return err
}

// setHash stores a new password hash with its event.
func (a *Accounts) setHash(ctx context.Context, actor Actor, typ, username, h string) error {
	e := a.event(actor, typ, username, outcomeSuccess, nil)
	return a.change(ctx, e, func(tx *sql.Tx) error { return a.Users.setHash(ctx, tx, username, h) })
}

// SetDisabled disables a user, ending its sessions, or enables it.
func (a *Accounts) SetDisabled(ctx context.Context, actor Actor, username string, disabled bool) error {
	typ := evUserEnable
	if disabled {
		typ = evUserDisable
	}
	e := a.event(actor, typ, username, outcomeSuccess, nil)
	if err := a.change(ctx, e, func(tx *sql.Tx) error { return a.Users.setDisabled(ctx, tx, username, disabled) }); err != nil {
		return err
	}
	if !disabled {
		return nil
	}
	_, err := a.endAllAgain(ctx, username, endedUserDisabled)
	return err
}

// SetAdmin gives a user the admin role, or takes it away.
func (a *Accounts) SetAdmin(ctx context.Context, actor Actor, username string, admin bool) error {
	e := a.event(actor, evUserRole, username, outcomeSuccess, map[string]any{"admin": admin})
	return a.change(ctx, e, func(tx *sql.Tx) error { return a.Users.setAdmin(ctx, tx, username, admin) })
}

// DeleteUser deletes a user and ends its sessions. For a user already
// gone it still ends the sessions (so that a delete whose sessions could
// not be ended is completed by running it again), then returns an error
// wrapping ErrUserNotFound.
func (a *Accounts) DeleteUser(ctx context.Context, actor Actor, username string) error {
	e := a.event(actor, evUserDelete, username, outcomeSuccess, nil)
	derr := a.change(ctx, e, func(tx *sql.Tx) error { return a.Users.delete(ctx, tx, username) })
	if derr != nil && !errors.Is(derr, ErrUserNotFound) {
		return derr
	}
	if _, err := a.endAllAgain(ctx, username, endedUserDeleted); err != nil {
		if derr != nil {
			return fmt.Errorf("%w (%w)", err, derr)
		}
		return err
	}
	return derr
}

// endSessions ends every session of username (every token issued until
// now), audited as an event of type typ, with reason in the registry. It
// returns the number of sessions the registry marked ended.
func (a *Accounts) endSessions(ctx context.Context, actor Actor, typ, username, reason string) (int, error) {
	if err := a.Audit.Record(ctx, a.event(actor, typ, username, outcomeSuccess, map[string]any{"reason": reason})); err != nil {
		return 0, err
	}
	n, err := a.endAll(ctx, username, reason)
	if err != nil {
		a.Audit.Record(ctx, a.event(actor, typ, username, outcomeError, map[string]any{"reason": reason}))
	}
	return n, err
}

// endAll revokes every token of username issued until now and marks its
// sessions ended. A failure to mark them is only logged: the revocation
// is what refuses the tokens, and listings leave out the sessions the
// revocation store has ended.
func (a *Accounts) endAll(ctx context.Context, username, reason string) (int, error) {
	now := a.now()
	if err := revoke.LogoutEverywhere(ctx, a.Revocations, username, now, a.MaxLifetime); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSessionsNotEnded, err)
	}
	if a.Sessions == nil {
		return 0, nil
	}
	n, err := a.Sessions.EndUser(ctx, username, now, reason)
	if err != nil {
		a.Audit.logger().Error("sessions ended, but the registry could not mark them", "username", username, "err", err)
	}
	return n, nil
}

// endAllAgain is endAll, then endAll again endSessionsWait later, for
// the changes after which a credential read before them must issue
// nothing: a new password, a disabled or deleted user (and a disabled or
// deleted client). A sign-in that read the old password
// hash checks for a cutoff later than that reading after it has made its
// tokens and before it answers (Server.signInEnded), so a token it sends
// was made before it saw the first cutoff, at most crossProcessDelay
// after that cutoff was stored: the second cutoff, later still, revokes
// it. It returns the sessions the registry marked ended.
func (a *Accounts) endAllAgain(ctx context.Context, subject, reason string) (int, error) {
	n, err := a.endAll(ctx, subject, reason)
	if err != nil {
		return n, err
	}
	select {
	case <-time.After(endSessionsWait):
	case <-ctx.Done():
		return n, fmt.Errorf("%w: %w", ErrSessionsNotEnded, ctx.Err())
	}
	m, err := a.endAll(ctx, subject, reason)
	return n + m, err
}

// endSession ends session sid of username: the error wraps
// ErrSessionNotFound when the registry has no such session of that user
// (another user's session is not found either). Ending a session
// already ended does it again (it is idempotent). typ is the event's
// type, reason the registry's.
func (a *Accounts) endSession(ctx context.Context, actor Actor, typ, username, sid, reason string) error {
	if !plausibleSID(sid) {
		return fmt.Errorf("%w: %q", ErrSessionNotFound, truncate(sid, 32))
	}
	s, ok, err := a.Sessions.Get(ctx, sid)
	if err != nil {
		return err
	}
	if !ok || s.Username != username {
		return fmt.Errorf("%w: %q", ErrSessionNotFound, sid)
	}
	details := map[string]any{"session": sid, "reason": reason}
	if err := a.Audit.Record(ctx, a.event(actor, typ, username, outcomeSuccess, details)); err != nil {
		return err
	}
	now := a.now()
	// As revoke.EndSession does for a token of the session: every token of
	// it is refused until the last one can have expired.
	if err := a.Revocations.RevokeFamily(ctx, sid, now.Add(a.MaxLifetime+revoke.RetentionMargin)); err != nil {
		a.Audit.Record(ctx, a.event(actor, typ, username, outcomeError, details))
		return err
	}
	if err := a.Sessions.End(ctx, sid, now, reason); err != nil {
		a.Audit.logger().Error("session ended, but the registry could not mark it", "session", sid, "err", err)
	}
	return nil
}

// activeSessions returns the sessions of username that are active at now:
// not ended nor expired in the registry, and not ended in the revocation
// store (a session whose end the registry missed is marked ended then).
func (a *Accounts) activeSessions(ctx context.Context, username string) ([]Session, error) {
	now := a.now()
	list, err := a.Sessions.Active(ctx, username, now)
	if err != nil || len(list) == 0 {
		return list, err
	}
	cutoff, err := a.Revocations.SubjectCutoff(ctx, username)
	if err != nil {
		return nil, fmt.Errorf("server: revocation store: %w", err)
	}
	out := list[:0]
	for _, s := range list {
		ended := revoke.CutoffRevokes(cutoff, s.Created)
		if !ended {
			if ended, err = a.Revocations.FamilyRevoked(ctx, s.SID); err != nil {
				return nil, fmt.Errorf("server: revocation store: %w", err)
			}
		}
		if ended {
			if err := a.Sessions.End(ctx, s.SID, now, endedRevoked); err != nil {
				a.Audit.logger().Warn("cannot mark an ended session", "session", s.SID, "err", err)
			}
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// RotateKey adds a signing key to ks as rot says, recorded in audit
// first: a rotation that cannot be recorded is not made.
func RotateKey(ctx context.Context, ks KeyStore, audit *SQLAudit, actor Actor, rot Rotation, now time.Time) (oldKID, newKID string, err error) {
	details := map[string]any{"alg": string(rot.Alg), "activate_after": rot.ActivateAfter.String(), "retire_after": rot.RetireAfter.String()}
	e := Event{Time: now, Type: evKeyRotate, Actor: actor.Name, Address: actor.Address, UserAgent: actor.UserAgent, Outcome: outcomeSuccess, Details: details}
	if err := audit.Record(ctx, e); err != nil {
		return "", "", err
	}
	oldKID, newKID, err = ks.RotateKey(ctx, rot, now)
	if err != nil {
		e.Outcome, e.Time = outcomeError, time.Now()
		audit.Record(ctx, e)
		return "", "", err
	}
	audit.logger().Info("key rotated", "old_kid", oldKID, "new_kid", newKID)
	return oldKID, newKID, nil
}

// RotationPlan is what a key rotation derives from the service's
// settings, read by "jwtgate keys rotate" and the admin API alike.
type RotationPlan struct {
	JWKSMaxAge, KeysReload time.Duration
	AccessTTL, RefreshTTL  time.Duration
	// Now skips the activation delay (an emergency).
	Now bool
	// RetireAfter, when not nil, overrides the default retirement: the
	// longest token lifetime (plus a key reload with Now).
	RetireAfter *time.Duration
}

// Rotation returns the Rotation of p for a key of algorithm alg ("" for
// the current signer's).
func (p RotationPlan) Rotation(alg jwt.Algorithm) Rotation {
	rot := Rotation{Alg: alg, ActivateAfter: KeyActivationDelay(p.JWKSMaxAge, p.KeysReload)}
	if p.RetireAfter != nil {
		rot.RetireAfter = *p.RetireAfter
	} else {
		// The old keys verify every token they signed until it expires:
		// with Now, servers sign with them until their next reload.
		rot.RetireAfter = max(p.RefreshTTL, p.AccessTTL)
		if p.Now {
			rot.RetireAfter += p.KeysReload
		}
	}
	if p.Now {
		rot.ActivateAfter = 0
	}
	return rot
}

// plausibleSID reports whether sid could be a session id (the service's
// are 22 characters of base64url): 1 to maxSIDLen bytes of printable
// ASCII. Others are found in no registry, and are not sent to one
// (PostgreSQL refuses NUL and invalid UTF-8 as a failure of the query).
func plausibleSID(sid string) bool {
	if sid == "" || len(sid) > maxSIDLen {
		return false
	}
	for i := 0; i < len(sid); i++ {
		if sid[i] < 0x21 || sid[i] > 0x7e {
			return false
		}
	}
	return true
}
