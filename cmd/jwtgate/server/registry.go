package server

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/internal/sqlschema"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// SQLSessions is the session registry: one row per session (a refresh
// family, named by its sid), in the table jwtgate_sessions next to the
// users, so that a user can see their sessions and end them, and an
// administrator can do the same for any user.
//
// The registry describes sessions; it does not decide whether a token is
// valid: that is the revocation store's, which every request asks. A
// session is ended in the revocation store first (on every instance),
// then marked ended here.
type SQLSessions struct {
	db      *sql.DB
	dialect sqlstore.Dialect
	// touched remembers when this process last wrote a session's last
	// use, so that a session refreshed often costs at most one write per
	// TouchEvery per instance.
	mu      sync.Mutex
	touched map[string]time.Time
}

const sessionsSchema = `CREATE TABLE IF NOT EXISTS jwtgate_sessions (
	sid          TEXT PRIMARY KEY,
	username     TEXT NOT NULL,
	created_ms   BIGINT NOT NULL,
	last_used_ms BIGINT NOT NULL,
	expires_ms   BIGINT NOT NULL,
	user_agent   TEXT NOT NULL,
	address      TEXT NOT NULL,
	ended_ms     BIGINT,
	ended_reason TEXT
)`

// The indexes: a user's sessions (lists, ends), and the pruning's two
// conditions.
var sessionsIndexes = []string{
	`CREATE INDEX IF NOT EXISTS jwtgate_sessions_username ON jwtgate_sessions (username, created_ms)`,
	`CREATE INDEX IF NOT EXISTS jwtgate_sessions_expires ON jwtgate_sessions (expires_ms)`,
	`CREATE INDEX IF NOT EXISTS jwtgate_sessions_ended ON jwtgate_sessions (ended_ms)`,
}

// Registry limits.
const (
	// MaxUserAgentLen is the most bytes of a User-Agent header kept.
	maxUserAgentLen = 256
	// TouchEvery is how often, at most, one instance writes the last use
	// of a session that is refreshed again and again.
	touchEvery = time.Minute
	// maxTouched bounds the memory of those writes (cleared when full).
	maxTouched = 100_000
	// maxSIDLen bounds the session ids looked up (the service's are 22
	// characters).
	maxSIDLen = 64
	// maxSessionsListed bounds the sessions of one user listed at once.
	maxSessionsListed = 200
)

// Reasons a session ended, in the registry and the audit log.
const (
	endedLogout         = "logout"
	endedLogoutAll      = "logout_everywhere"
	endedReuse          = "refresh_reuse"
	endedByUser         = "ended_by_user"
	endedByAdmin        = "ended_by_admin"
	endedPasswordChange = "password_changed"
	endedUserDisabled   = "user_disabled"
	endedUserDeleted    = "user_deleted"
	endedRevoked        = "revoked" // found revoked in the revocation store
)

// Session is one row of the registry.
type Session struct {
	SID       string
	Username  string
	Created   time.Time
	LastUsed  time.Time
	Expires   time.Time
	UserAgent string
	Address   string
	// Ended is zero while the session is active.
	Ended       time.Time
	EndedReason string
}

// newSQLSessions returns the registry of db, creating its table.
func newSQLSessions(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (*SQLSessions, error) {
	if err := sqlschema.Create(ctx, db, dialect == sqlstore.Postgres, append([]string{sessionsSchema}, sessionsIndexes...)...); err != nil {
		return nil, fmt.Errorf("server: create sessions table: %w", err)
	}
	return &SQLSessions{db: db, dialect: dialect, touched: map[string]time.Time{}}, nil
}

func (s *SQLSessions) q(query string) string { return rebind(s.dialect, query) }

// cleanText makes a header value fit for storage: valid UTF-8 without
// control characters, at most n bytes.
func cleanText(v string, n int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	if len(v) > n {
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	return v
}

// Start records a new session of username, created at now and living
// until expires (its refresh token's expiry).
func (s *SQLSessions) Start(ctx context.Context, sid, username string, now, expires time.Time, userAgent, address string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO jwtgate_sessions (sid, username, created_ms, last_used_ms, expires_ms, user_agent, address)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sid) DO NOTHING`),
		sid, username, now.UnixMilli(), now.UnixMilli(), expires.UnixMilli(), cleanText(userAgent, maxUserAgentLen), cleanText(address, 64))
	if err != nil {
		return fmt.Errorf("server: record session: %w", err)
	}
	s.mu.Lock()
	s.remember(sid, now)
	s.mu.Unlock()
	return nil
}

func (s *SQLSessions) remember(sid string, now time.Time) {
	if len(s.touched) >= maxTouched {
		clear(s.touched)
	}
	s.touched[sid] = now
}

// Touch records a refresh of session sid at now, which lives until
// expires from then on, with the client's user agent and address. It
// writes at most once per TouchEvery per session in this process (it
// reports whether it wrote). A session the registry does not know (made
// before the registry existed) is added, with now as its creation.
func (s *SQLSessions) Touch(ctx context.Context, sid, username string, now, expires time.Time, userAgent, address string) (bool, error) {
	s.mu.Lock()
	last, ok := s.touched[sid]
	if ok && now.Sub(last) < touchEvery && now.Sub(last) >= 0 {
		s.mu.Unlock()
		return false, nil
	}
	s.remember(sid, now)
	s.mu.Unlock()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO jwtgate_sessions (sid, username, created_ms, last_used_ms, expires_ms, user_agent, address)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET last_used_ms = excluded.last_used_ms, expires_ms = excluded.expires_ms,
			user_agent = excluded.user_agent, address = excluded.address
		WHERE jwtgate_sessions.ended_ms IS NULL AND jwtgate_sessions.username = excluded.username`),
		sid, username, now.UnixMilli(), now.UnixMilli(), expires.UnixMilli(), cleanText(userAgent, maxUserAgentLen), cleanText(address, 64))
	if err != nil {
		s.mu.Lock()
		delete(s.touched, sid)
		s.mu.Unlock()
		return false, fmt.Errorf("server: record session use: %w", err)
	}
	return true, nil
}

// End marks session sid ended at now for reason, if it was active. It
// does not revoke anything: end the session in the revocation store
// first.
func (s *SQLSessions) End(ctx context.Context, sid string, now time.Time, reason string) error {
	return s.end(ctx, s.db, sid, now, reason)
}

func (s *SQLSessions) end(ctx context.Context, x execer, sid string, now time.Time, reason string) error {
	_, err := x.ExecContext(ctx, s.q(`UPDATE jwtgate_sessions SET ended_ms = ?, ended_reason = ? WHERE sid = ? AND ended_ms IS NULL`),
		now.UnixMilli(), reason, sid)
	if err != nil {
		return fmt.Errorf("server: mark session ended: %w", err)
	}
	return nil
}

// EndUser marks ended, for reason, every session of username created at
// or before cutoff (the sessions a revoke.LogoutEverywhere at cutoff
// ends: all their tokens were issued by then). It returns how many.
func (s *SQLSessions) EndUser(ctx context.Context, username string, cutoff time.Time, reason string) (int, error) {
	return s.endUser(ctx, s.db, username, cutoff, reason)
}

func (s *SQLSessions) endUser(ctx context.Context, x execer, username string, cutoff time.Time, reason string) (int, error) {
	res, err := x.ExecContext(ctx, s.q(`UPDATE jwtgate_sessions SET ended_ms = ?, ended_reason = ?
		WHERE username = ? AND created_ms <= ? AND ended_ms IS NULL`),
		cutoff.UnixMilli(), reason, username, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("server: mark sessions ended: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Get returns session sid; ok is false when the registry has no such
// session.
func (s *SQLSessions) Get(ctx context.Context, sid string) (Session, bool, error) {
	rows, err := s.db.QueryContext(ctx, s.q(sessionColumns+` WHERE sid = ?`), sid)
	if err != nil {
		return Session{}, false, fmt.Errorf("server: read session: %w", err)
	}
	list, err := scanSessions(rows)
	if err != nil || len(list) == 0 {
		return Session{}, false, err
	}
	return list[0], true, nil
}

// Active returns the sessions of username that are neither ended nor
// expired at now, newest first, at most maxSessionsListed.
func (s *SQLSessions) Active(ctx context.Context, username string, now time.Time) ([]Session, error) {
	rows, err := s.db.QueryContext(ctx, s.q(sessionColumns+` WHERE username = ? AND ended_ms IS NULL AND expires_ms > ?
		ORDER BY created_ms DESC, sid LIMIT ?`), username, now.UnixMilli(), maxSessionsListed)
	if err != nil {
		return nil, fmt.Errorf("server: list sessions: %w", err)
	}
	return scanSessions(rows)
}

// Prune deletes at most batch sessions that ended or expired before
// before, and returns how many it deleted.
func (s *SQLSessions) Prune(ctx context.Context, before time.Time, batch int) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM jwtgate_sessions WHERE sid IN (
		SELECT sid FROM jwtgate_sessions WHERE expires_ms < ? OR ended_ms < ? LIMIT ?)`),
		before.UnixMilli(), before.UnixMilli(), batch)
	if err != nil {
		return 0, fmt.Errorf("server: prune sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

const sessionColumns = `SELECT sid, username, created_ms, last_used_ms, expires_ms, user_agent, address, ended_ms, ended_reason FROM jwtgate_sessions`

// sessionRow is a row of sessionColumns.
type sessionRow struct {
	sid, username          string
	created, used, expires int64
	userAgent, address     string
	ended                  sql.NullInt64
	reason                 sql.NullString
}

// session returns the session of r; the error wraps errCorruptRow for a
// time out of years 1 to 9999.
func (r sessionRow) session() (Session, error) {
	x := Session{SID: r.sid, Username: r.username, UserAgent: r.userAgent, Address: r.address}
	var err error
	for _, t := range []struct {
		column string
		ms     int64
		dst    *time.Time
	}{{"created_ms", r.created, &x.Created}, {"last_used_ms", r.used, &x.LastUsed}, {"expires_ms", r.expires, &x.Expires}} {
		if *t.dst, err = storedTime(t.column, t.ms); err != nil {
			return Session{}, fmt.Errorf("session %q: %w", truncate(r.sid, 64), err)
		}
	}
	if r.ended.Valid {
		if x.Ended, err = storedTime("ended_ms", r.ended.Int64); err != nil {
			return Session{}, fmt.Errorf("session %q: %w", truncate(r.sid, 64), err)
		}
		x.EndedReason = r.reason.String
	}
	return x, nil
}

func scanSessions(rows *sql.Rows) ([]Session, error) {
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var r sessionRow
		if err := rows.Scan(&r.sid, &r.username, &r.created, &r.used, &r.expires, &r.userAgent, &r.address, &r.ended, &r.reason); err != nil {
			return nil, fmt.Errorf("server: read sessions: %w", err)
		}
		x, err := r.session()
		if err != nil {
			return nil, fmt.Errorf("server: read sessions: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("server: read sessions: %w", err)
	}
	return out, nil
}
