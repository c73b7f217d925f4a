package server

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// Stored times out of years 1 to 9999.
const (
	tooEarlyMillis = minStoredMillis - 1
	tooLateMillis  = maxStoredMillis + 1
)

func TestStoredTime(t *testing.T) {
	for _, c := range []struct {
		ms      int64
		want    string // RFC 3339 in UTC, "" for a corrupt row
		wantErr bool
	}{
		{0, "1970-01-01T00:00:00Z", false},
		{1_767_225_600_000, "2026-01-01T00:00:00Z", false},
		{-1, "1969-12-31T23:59:59.999Z", false},
		{minStoredMillis, "0001-01-01T00:00:00Z", false},
		{maxStoredMillis, "9999-12-31T23:59:59.999Z", false},
		{tooEarlyMillis, "", true},
		{tooLateMillis, "", true},
		{math.MaxInt64, "", true},
		{math.MinInt64, "", true},
	} {
		got, err := storedTime("created_ms", c.ms)
		if c.wantErr {
			if !errors.Is(err, errCorruptRow) {
				t.Errorf("storedTime(%d) = %v, %v; want errCorruptRow", c.ms, got, err)
			}
			continue
		}
		if err != nil || got.UTC().Format(time.RFC3339Nano) != c.want || got.UnixMilli() != c.ms {
			t.Errorf("storedTime(%d) = %v, %v; want %s", c.ms, got, err, c.want)
		}
	}
}

func TestUserFromRow(t *testing.T) {
	for _, c := range []struct {
		ms      int64
		wantErr bool
	}{
		{1_767_225_600_000, false},
		{minStoredMillis, false},
		{tooLateMillis, true},
		{math.MaxInt64, true},
		{math.MinInt64, true},
	} {
		u, err := userFromRow("ann", c.ms, 1, 0)
		if c.wantErr != (err != nil) || (err != nil && !errors.Is(err, errCorruptRow)) {
			t.Errorf("created_ms %d: %+v, %v", c.ms, u, err)
		}
		if err == nil && (u.Username != "ann" || !u.Admin || u.Disabled || u.Created.UnixMilli() != c.ms) {
			t.Errorf("created_ms %d: %+v", c.ms, u)
		}
	}
}

func TestSessionRow(t *testing.T) {
	const ok = 1_767_225_600_000
	ended := func(ms int64) sql.NullInt64 { return sql.NullInt64{Int64: ms, Valid: true} }
	for _, c := range []struct {
		name    string
		r       sessionRow
		wantErr bool
	}{
		{"active", sessionRow{created: ok, used: ok, expires: ok}, false},
		{"ended", sessionRow{created: ok, used: ok, expires: ok, ended: ended(ok), reason: sql.NullString{String: "logout", Valid: true}}, false},
		{"created late", sessionRow{created: tooLateMillis, used: ok, expires: ok}, true},
		{"used early", sessionRow{created: ok, used: tooEarlyMillis, expires: ok}, true},
		{"expires huge", sessionRow{created: ok, used: ok, expires: math.MaxInt64}, true},
		{"ended huge", sessionRow{created: ok, used: ok, expires: ok, ended: ended(math.MaxInt64)}, true},
		{"ended early", sessionRow{created: ok, used: ok, expires: ok, ended: ended(math.MinInt64)}, true},
		{"ended NULL, any value", sessionRow{created: ok, used: ok, expires: ok, ended: sql.NullInt64{Int64: math.MaxInt64}}, false},
	} {
		c.r.sid, c.r.username = "sid", "ann"
		x, err := c.r.session()
		if c.wantErr {
			if !errors.Is(err, errCorruptRow) {
				t.Errorf("%s: %+v, %v; want errCorruptRow", c.name, x, err)
			}
			continue
		}
		if err != nil || x.Created.UnixMilli() != c.r.created || x.Ended.IsZero() == c.r.ended.Valid {
			t.Errorf("%s: %+v, %v", c.name, x, err)
		}
	}
}

func TestClientRow(t *testing.T) {
	const ok = 1_767_225_600_000
	for _, c := range []struct {
		name         string
		ttl          int64
		oldUntil     int64
		created      int64
		wantErr      bool
		wantDuration time.Duration
	}{
		{"no ttl", 0, 0, ok, false, 0},
		{"an hour", 3_600_000, ok, ok, false, time.Hour},
		{"largest", maxStoredTTL, 0, ok, false, time.Duration(maxStoredTTL) * time.Millisecond},
		{"ttl wraps around", maxStoredTTL + 1, 0, ok, true, 0},
		{"ttl max int64", math.MaxInt64, 0, ok, true, 0},
		{"ttl min int64", math.MinInt64, 0, ok, true, 0},
		{"zero time as old secret until", 0, time.Time{}.UnixMilli(), ok, false, 0},
		{"old secret until huge", 0, math.MaxInt64, ok, true, 0},
		{"created huge", 0, 0, tooLateMillis, true, 0},
		{"created early", 0, 0, tooEarlyMillis, true, 0},
	} {
		r := clientRow{id: "jc_X", name: "svc", ttl: c.ttl, oldSecretUntil: c.oldUntil, created: c.created, scopes: " read  write "}
		cl, err := r.client()
		if c.wantErr {
			if !errors.Is(err, errCorruptRow) {
				t.Errorf("%s: %+v, %v; want errCorruptRow", c.name, cl, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if cl.TTL != c.wantDuration || cl.TTL.Milliseconds() != c.ttl || cl.OldSecretUntil.UnixMilli() != c.oldUntil ||
			cl.Created.UnixMilli() != c.created || strings.Join(cl.Scopes, ",") != "read,write" {
			t.Errorf("%s: %+v", c.name, cl)
		}
	}
}

// storedKeyPEM returns a new key of alg, with its kid, and its PEM.
func storedKeyPEM(t testing.TB, alg jwt.Algorithm) (kid, pem string) {
	t.Helper()
	key, err := jwk.Generate(alg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if key, err = jwk.EnsureKeyID(key); err != nil {
		t.Fatal(err)
	}
	b, err := jwk.MarshalPrivatePEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return key.ID(), string(b)
}

func TestKeyRowParse(t *testing.T) {
	kid, pem := storedKeyPEM(t, jwt.ES256)
	otherKID, otherPEM := storedKeyPEM(t, jwt.EdDSA)
	at := func(ms int64) sql.NullInt64 { return sql.NullInt64{Int64: ms, Valid: true} }
	const ok = 1_767_225_600_000
	for _, c := range []struct {
		name    string
		r       keyRow
		corrupt bool // the error wraps errCorruptRow
		wantErr string
	}{
		{"good", keyRow{kid: kid, alg: "ES256", pem: pem}, false, ""},
		{"good with times", keyRow{kid: kid, alg: "ES256", pem: pem, activate: at(ok), retire: at(ok + 1)}, false, ""},
		{"EdDSA", keyRow{kid: otherKID, alg: "EdDSA", pem: otherPEM}, false, ""},
		{"activate huge", keyRow{kid: kid, alg: "ES256", pem: pem, activate: at(math.MaxInt64)}, true, "activate_ms"},
		{"retire early", keyRow{kid: kid, alg: "ES256", pem: pem, retire: at(math.MinInt64)}, true, "retire_ms"},
		{"retire past 9999", keyRow{kid: kid, alg: "ES256", pem: pem, retire: at(tooLateMillis)}, true, "retire_ms"},
		{"empty key", keyRow{kid: kid, alg: "ES256", pem: ""}, false, "signing key"},
		{"not a key", keyRow{kid: kid, alg: "ES256", pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, false, "signing key"},
		{"other kid", keyRow{kid: "other", alg: "ES256", pem: pem}, false, "is key"},
		{"wrong alg", keyRow{kid: kid, alg: "EdDSA", pem: pem}, false, "cannot sign"},
		{"HMAC alg", keyRow{kid: kid, alg: "HS256", pem: pem}, false, "HMAC"},
		{"unknown alg", keyRow{kid: kid, alg: "none", pem: pem}, false, "unknown"},
		{"empty alg", keyRow{kid: kid, alg: "", pem: pem}, false, "unknown"},
	} {
		sk, err := c.r.parse()
		switch {
		case c.wantErr == "":
			if err != nil || sk.Key.ID() != c.r.kid || string(sk.Alg) != c.r.alg || !sk.Key.Allows(sk.Alg) ||
				sk.ActivateAt.IsZero() == c.r.activate.Valid || sk.RetireAt.IsZero() == c.r.retire.Valid {
				t.Errorf("%s: %+v, %v", c.name, sk, err)
			}
		case err == nil || !strings.Contains(err.Error(), c.wantErr) || errors.Is(err, errCorruptRow) != c.corrupt:
			t.Errorf("%s: %v, want an error with %q (corrupt row: %v)", c.name, err, c.wantErr, c.corrupt)
		}
	}
	if _, err := parseAll([]keyRow{{kid: kid, alg: "ES256", pem: pem}, {kid: kid, alg: "ES256", pem: pem, retire: at(math.MaxInt64)}}); !errors.Is(err, errCorruptRow) {
		t.Errorf("parseAll with a corrupt row: %v", err)
	}
}

func TestAuditRow(t *testing.T) {
	const ok = 1_767_225_600_000
	good := auditRow{id: 7, time: ok, typ: evLoginSuccess, actor: "ann", subject: "ann", outcome: outcomeSuccess, details: `{"session":"s"}`}
	for _, c := range []struct {
		name    string
		change  func(r *auditRow)
		wantErr bool
	}{
		{"good", func(*auditRow) {}, false},
		{"empty details", func(r *auditRow) { r.details = "{}" }, false},
		{"a type of a newer version", func(r *auditRow) { r.typ = "key.import_2" }, false},
		{"time huge", func(r *auditRow) { r.time = math.MaxInt64 }, true},
		{"time early", func(r *auditRow) { r.time = tooEarlyMillis }, true},
		{"empty type", func(r *auditRow) { r.typ = "" }, true},
		{"type with space", func(r *auditRow) { r.typ = "login success" }, true},
		{"type upper case", func(r *auditRow) { r.typ = "Login.success" }, true},
		{"type not UTF-8", func(r *auditRow) { r.typ = "login.\xff" }, true},
		{"type too long", func(r *auditRow) { r.typ = strings.Repeat("a", maxEventType+1) }, true},
		{"unknown outcome", func(r *auditRow) { r.outcome = "maybe" }, true},
		{"empty outcome", func(r *auditRow) { r.outcome = "" }, true},
		{"details not JSON", func(r *auditRow) { r.details = "{" }, true},
		{"details empty", func(r *auditRow) { r.details = "" }, true},
		{"details an array", func(r *auditRow) { r.details = "[1]" }, true},
		{"details null", func(r *auditRow) { r.details = "null" }, true},
		{"details a number out of range", func(r *auditRow) { r.details = `{"n":1e400}` }, true},
	} {
		r := good
		c.change(&r)
		e, err := r.event()
		if c.wantErr {
			if !errors.Is(err, errCorruptRow) {
				t.Errorf("%s: %+v, %v; want errCorruptRow", c.name, e, err)
			}
			continue
		}
		if err != nil || e.ID != r.id || e.Time.UnixMilli() != r.time || e.Type != r.typ || e.Details == nil {
			t.Errorf("%s: %+v, %v", c.name, e, err)
		}
	}
}

// TestCorruptRowsRefused: rows with values no version writes, put in
// the tables by hand, are refused by the stores with errCorruptRow.
func TestCorruptRowsRefused(t *testing.T) {
	for _, st := range recordStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			db, dialect := st.open(t)
			users, err := newSQLUsers(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			clients, err := newSQLClients(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			sessions, err := newSQLSessions(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			audit, err := newSQLAudit(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			audit.SetLogger(slog.New(slog.DiscardHandler))
			exec := func(query string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, rebind(dialect, query), args...); err != nil {
					t.Fatal(err)
				}
			}
			exec(`INSERT INTO jwtgate_users (username, password_hash, created_ms) VALUES (?, '', ?)`, "late", int64(math.MaxInt64))
			exec(`INSERT INTO jwtgate_clients (client_id, name, ttl_ms, secret_hash, created_ms) VALUES (?, ?, ?, 'x', ?)`,
				"jc_WRAP", "wrap", int64(math.MaxInt64/1000), int64(1_767_225_600_000))
			exec(`INSERT INTO jwtgate_sessions (sid, username, created_ms, last_used_ms, expires_ms, user_agent, address, ended_ms)
				VALUES (?, ?, ?, ?, ?, '', '', ?)`, "s1", "ann", 0, 0, 0, int64(math.MinInt64))
			if err := audit.Record(ctx, Event{Type: evLogout, Outcome: outcomeSuccess, Time: time.Unix(0, 0)}); err != nil {
				t.Fatal(err)
			}
			exec(`UPDATE jwtgate_audit SET details = '[]'`)
			for _, c := range []struct {
				what string
				err  error
			}{
				{"users.Get", func() error { _, err := users.Get(ctx, "late"); return err }()},
				{"users.Page", func() error { _, err := users.Page(ctx, "", "", 10); return err }()},
				{"clients.Client", func() error { _, _, err := clients.Client(ctx, "jc_WRAP"); return err }()},
				{"clients.Find", func() error { _, err := clients.Find(ctx, "wrap"); return err }()},
				{"clients.Page", func() error { _, err := clients.Page(ctx, "", 10); return err }()},
				{"sessions.Get", func() error { _, _, err := sessions.Get(ctx, "s1"); return err }()},
				{"audit.Events", func() error { _, err := audit.Events(ctx, AuditFilter{}); return err }()},
			} {
				if !errors.Is(c.err, errCorruptRow) {
					t.Errorf("%s: %v, want errCorruptRow", c.what, c.err)
				}
			}
		})
	}
}
