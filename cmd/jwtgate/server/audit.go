package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/sqlschema"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// Types of audit events.
const (
	evLoginSuccess     = "login.success"
	evLoginFailure     = "login.failure"
	evRefresh          = "refresh"
	evReuseDetected    = "refresh.reuse_detected"
	evLogout           = "logout"
	evLogoutAll        = "logout.everywhere"
	evPasswordChange   = "password.change"
	evSessionEnded     = "session.ended"
	evSessionsEnded    = "sessions.ended"
	evUserAdd          = "admin.user.add"
	evUserDelete       = "admin.user.delete"
	evUserDisable      = "admin.user.disable"
	evUserRole         = "admin.user.role"
	evUserEnable       = "admin.user.enable"
	evUserPassword     = "admin.user.password_reset"
	evAdminSessionEnd  = "admin.session.end"
	evAdminSessionsAll = "admin.sessions.end_all"
	evKeyRotate        = "key.rotate"
	evAdminDenied      = "admin.denied"
)

// Outcomes of audit events.
const (
	outcomeSuccess = "success"
	outcomeFailure = "failure" // refused: wrong password, reuse, ...
	outcomeError   = "error"   // the service could not complete it
)

// Event is one entry of the audit log. It never holds a secret: no
// password, hash, token or key material, in any field.
type Event struct {
	// ID orders the events of one store (assigned when written).
	ID   int64
	Time time.Time
	// Type is what happened: "login.success", "admin.user.add", ...
	// (docs/ADMIN.md lists them).
	Type string
	// Actor is who did it: a username, "cli" for the jwtgate commands,
	// or "" for an unauthenticated request (a failed sign-in).
	Actor string
	// Subject is the user the event is about.
	Subject   string
	Address   string
	UserAgent string
	// Outcome is "success", "failure" or "error". Record refuses an event
	// whose Type (1 to 64 of a-z, 0-9, '_' and '.') or Outcome is not of
	// this form.
	Outcome string
	// Details are small facts as a JSON object: a session id, a reason, a
	// key id. Nil for none.
	Details map[string]any
}

// SQLAudit is the audit log: an append-only table (jwtgate_audit) next to
// the users. Events are only inserted, and deleted only once older than
// the retention (Prune). Every event is also logged as a structured line
// (event=TYPE).
type SQLAudit struct {
	db      *sql.DB
	dialect sqlstore.Dialect
	log     *slog.Logger
}

// maxDetails bounds the JSON of an event's details.
const maxDetails = 2048

// newSQLAudit returns the audit log of db, creating its table.
func newSQLAudit(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (*SQLAudit, error) {
	id := "id INTEGER PRIMARY KEY AUTOINCREMENT"
	if dialect == sqlstore.Postgres {
		id = "id BIGSERIAL PRIMARY KEY"
	}
	if err := sqlschema.Create(ctx, db, dialect == sqlstore.Postgres,
		`CREATE TABLE IF NOT EXISTS jwtgate_audit (
			`+id+`,
			time_ms    BIGINT NOT NULL,
			type       TEXT NOT NULL,
			actor      TEXT NOT NULL,
			subject    TEXT NOT NULL,
			address    TEXT NOT NULL,
			user_agent TEXT NOT NULL,
			outcome    TEXT NOT NULL,
			details    TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS jwtgate_audit_time ON jwtgate_audit (time_ms)`,
		`CREATE INDEX IF NOT EXISTS jwtgate_audit_subject ON jwtgate_audit (subject, id)`,
		`CREATE INDEX IF NOT EXISTS jwtgate_audit_actor ON jwtgate_audit (actor, id)`,
	); err != nil {
		return nil, fmt.Errorf("server: create audit table: %w", err)
	}
	return &SQLAudit{db: db, dialect: dialect}, nil
}

func (a *SQLAudit) q(query string) string { return rebind(a.dialect, query) }

// SetLogger sets where the events are logged too: slog.Default() when nil.
func (a *SQLAudit) SetLogger(l *slog.Logger) { a.log = l }

func (a *SQLAudit) logger() *slog.Logger {
	if a == nil || a.log == nil {
		return slog.Default()
	}
	return a.log
}

// Record appends e to the log (and logs it). A write that fails is an
// error: the caller decides (see docs/SECURITY.md).
func (a *SQLAudit) Record(ctx context.Context, e Event) error {
	return a.record(ctx, a.db, e)
}

func (a *SQLAudit) record(ctx context.Context, x execer, e Event) error {
	// What Events would refuse as a corrupt row is not written: one such
	// row would make every page of the log that holds it unreadable.
	if !validEventType(e.Type) {
		return fmt.Errorf("server: audit event: %w: type %q, want 1 to %d of a-z, 0-9, '_' and '.'", errBadEvent, truncate(e.Type, 64), maxEventType)
	}
	switch e.Outcome {
	case outcomeSuccess, outcomeFailure, outcomeError:
	default:
		return fmt.Errorf("server: audit event: %w: outcome %q, want %s, %s or %s", errBadEvent, truncate(e.Outcome, 64), outcomeSuccess, outcomeFailure, outcomeError)
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("server: audit details: %w", err)
		}
		if len(b) > maxDetails {
			return fmt.Errorf("server: audit details of %d bytes (at most %d)", len(b), maxDetails)
		}
		details = string(b)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	ua, addr := cleanText(e.UserAgent, maxUserAgentLen), cleanText(e.Address, 64)
	_, err := x.ExecContext(ctx, a.q(`INSERT INTO jwtgate_audit (time_ms, type, actor, subject, address, user_agent, outcome, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), e.Time.UnixMilli(), e.Type, e.Actor, e.Subject, addr, ua, e.Outcome, details)
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("event", e.Type), slog.String("outcome", e.Outcome), slog.String("actor", e.Actor),
		slog.String("subject", e.Subject), slog.String("address", addr), slog.String("details", details)}
	if err != nil {
		attrs = append(attrs, slog.String("audit_error", err.Error()))
	}
	a.logger().LogAttrs(ctx, level, "audit", attrs...)
	if err != nil {
		return fmt.Errorf("server: write audit event: %w", err)
	}
	return nil
}

// AuditFilter selects events for Events. Zero fields select everything.
type AuditFilter struct {
	// User matches the events whose actor or subject is this user.
	User string
	// Type matches one type, or, ending in ".", every type it prefixes
	// ("admin.").
	Type string
	// Since and Until bound the time: Since <= time < Until.
	Since, Until time.Time
	// Before pages: only events whose ID is less (0: from the newest).
	Before int64
	// Limit is at most MaxAuditPage (MaxAuditPage when 0).
	Limit int
}

// MaxAuditPage is the most events one call of Events returns.
const maxAuditPage = 500

// Events returns the events f selects, newest first.
func (a *SQLAudit) Events(ctx context.Context, f AuditFilter) ([]Event, error) {
	var where []string
	var args []any
	if f.User != "" {
		where, args = append(where, "(subject = ? OR actor = ?)"), append(args, f.User, f.User)
	}
	if f.Type != "" {
		if strings.HasSuffix(f.Type, ".") {
			// A prefix match without LIKE's wildcards: types are ASCII.
			where, args = append(where, "substr(type, 1, ?) = ?"), append(args, len(f.Type), f.Type)
		} else {
			where, args = append(where, "type = ?"), append(args, f.Type)
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time_ms >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "time_ms < ?"), append(args, f.Until.UnixMilli())
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	if f.Limit <= 0 || f.Limit > maxAuditPage {
		f.Limit = maxAuditPage
	}
	q := `SELECT id, time_ms, type, actor, subject, address, user_agent, outcome, details FROM jwtgate_audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := a.db.QueryContext(ctx, a.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("server: read audit events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.id, &r.time, &r.typ, &r.actor, &r.subject, &r.address, &r.userAgent, &r.outcome, &r.details); err != nil {
			return nil, fmt.Errorf("server: read audit events: %w", err)
		}
		e, err := r.event()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("server: read audit events: %w", err)
	}
	return out, nil
}

// auditRow is a row of jwtgate_audit.
type auditRow struct {
	id, time                                                  int64
	typ, actor, subject, address, userAgent, outcome, details string
}

// errBadEvent is wrapped by the error of Record for an event whose type
// or outcome Events could not read back.
var errBadEvent = errors.New("event not recorded")

// maxEventType bounds the type of an event.
const maxEventType = 64

// validEventType reports whether typ has the form of an event type:
// 1 to 64 bytes of lowercase ASCII letters, digits, '_' and '.'. (The
// types are not a closed list: a newer version may record more.)
func validEventType(typ string) bool {
	if typ == "" || len(typ) > maxEventType {
		return false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// event returns the event of r; the error wraps errCorruptRow for a time
// out of years 1 to 9999, a type that is not one, an outcome other than
// success, failure and error, or details that are not a JSON object.
func (r auditRow) event() (Event, error) {
	e := Event{ID: r.id, Type: r.typ, Actor: r.actor, Subject: r.subject, Address: r.address, UserAgent: r.userAgent, Outcome: r.outcome}
	var err error
	if e.Time, err = storedTime("time_ms", r.time); err != nil {
		return Event{}, fmt.Errorf("server: read audit event %d: %w", r.id, err)
	}
	if !validEventType(r.typ) {
		return Event{}, fmt.Errorf("server: read audit event %d: %w: type %q", r.id, errCorruptRow, truncate(r.typ, 64))
	}
	switch r.outcome {
	case outcomeSuccess, outcomeFailure, outcomeError:
	default:
		return Event{}, fmt.Errorf("server: read audit event %d: %w: outcome %q", r.id, errCorruptRow, truncate(r.outcome, 64))
	}
	if err := json.Unmarshal([]byte(r.details), &e.Details); err != nil {
		return Event{}, fmt.Errorf("server: read audit event %d: %w: details: %w", r.id, errCorruptRow, err)
	}
	if e.Details == nil {
		return Event{}, fmt.Errorf("server: read audit event %d: %w: details: null, want a JSON object", r.id, errCorruptRow)
	}
	return e, nil
}

// Prune deletes at most batch events older than before, oldest first, and
// returns how many it deleted.
func (a *SQLAudit) Prune(ctx context.Context, before time.Time, batch int) (int, error) {
	res, err := a.db.ExecContext(ctx, a.q(`DELETE FROM jwtgate_audit WHERE id IN (
		SELECT id FROM jwtgate_audit WHERE time_ms < ? ORDER BY id LIMIT ?)`), before.UnixMilli(), batch)
	if err != nil {
		return 0, fmt.Errorf("server: prune audit events: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DefaultAuditRetention is how long audit events are kept by default.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Pruner deletes, in the background, the audit events older than the
// retention and the sessions that ended or expired that long ago, in
// bounded batches so that no delete holds the database for long.
type Pruner struct {
	Audit     *SQLAudit
	Sessions  *SQLSessions
	Retention time.Duration
	// Every is the interval of the runs: an hour when zero.
	Every time.Duration
	// Batch is the most rows one statement deletes: 1000 when zero.
	Batch int
	// Clock returns the current time; nil means time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
}

// maxPruneBatches bounds the batches of one run; the rest waits for the
// next run.
const maxPruneBatches = 100

// PruneOnce runs one pruning pass and returns how many rows it deleted.
func (p *Pruner) PruneOnce(ctx context.Context) (int, error) {
	if p.Retention <= 0 {
		return 0, errors.New("server: audit retention must be positive")
	}
	now := time.Now
	if p.Clock != nil {
		now = p.Clock
	}
	batch := p.Batch
	if batch <= 0 {
		batch = 1000
	}
	before := now().Add(-p.Retention)
	total := 0
	for _, prune := range []func(context.Context, time.Time, int) (int, error){p.auditPrune, p.sessionsPrune} {
		for range maxPruneBatches {
			n, err := prune(ctx, before, batch)
			total += n
			if err != nil {
				return total, err
			}
			if n < batch {
				break
			}
		}
	}
	return total, nil
}

func (p *Pruner) auditPrune(ctx context.Context, before time.Time, batch int) (int, error) {
	if p.Audit == nil {
		return 0, nil
	}
	return p.Audit.Prune(ctx, before, batch)
}

func (p *Pruner) sessionsPrune(ctx context.Context, before time.Time, batch int) (int, error) {
	if p.Sessions == nil {
		return 0, nil
	}
	return p.Sessions.Prune(ctx, before, batch)
}

// Run prunes at once, then every p.Every, until ctx ends.
func (p *Pruner) Run(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = time.Hour
	}
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := p.PruneOnce(ctx); err != nil && ctx.Err() == nil {
			log.Error("pruning the audit log and old sessions", "err", err)
		} else if n > 0 {
			log.Info("pruned the audit log and old sessions", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
