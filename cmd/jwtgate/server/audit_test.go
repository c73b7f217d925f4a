package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// recordStores are the databases the audit log and the session registry
// are tested on.
var recordStores = []struct {
	name string
	open func(t *testing.T) (*sql.DB, sqlstore.Dialect)
}{
	{"sqlite", func(t *testing.T) (*sql.DB, sqlstore.Dialect) {
		d, err := OpenDataDir(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d.DB, sqlstore.SQLite
	}},
	{"postgres", func(t *testing.T) (*sql.DB, sqlstore.Dialect) {
		return openPG(t, needPostgres(t)), sqlstore.Postgres
	}},
}

// TestAuditRetention: with a controlled clock, pruning deletes the events
// and the ended or expired sessions older than the retention, in bounded
// batches, and keeps the rest; the table is append-only otherwise.
func TestAuditRetention(t *testing.T) {
	for _, st := range recordStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			db, dialect := st.open(t)
			audit, err := newSQLAudit(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			audit.SetLogger(slog.New(slog.DiscardHandler))
			sessions, err := newSQLSessions(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			clock := newTestClock()
			t0 := clock.Now()
			const retention = 90 * 24 * time.Hour
			// Seven events a day apart, the first 100 days ago.
			for i := range 7 {
				e := Event{Time: t0.Add(-100*24*time.Hour + time.Duration(i)*24*time.Hour), Type: evLoginSuccess,
					Actor: "alice", Subject: "alice", Outcome: outcomeSuccess, Details: map[string]any{"n": i}}
				if err := audit.Record(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			// Sessions: one ended 100 days ago, one expired 95 days ago, one
			// active, one ended yesterday.
			day := 24 * time.Hour
			for _, s := range []struct {
				sid          string
				start, until time.Time
				ended        time.Time
			}{
				{"ended-long-ago", t0.Add(-200 * day), t0.Add(100 * day), t0.Add(-100 * day)},
				{"expired-long-ago", t0.Add(-125 * day), t0.Add(-95 * day), time.Time{}},
				{"active", t0.Add(-day), t0.Add(29 * day), time.Time{}},
				{"ended-yesterday", t0.Add(-2 * day), t0.Add(28 * day), t0.Add(-day)},
			} {
				if err := sessions.Start(ctx, s.sid, "alice", s.start, s.until, "agent", "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
				if !s.ended.IsZero() {
					if err := sessions.End(ctx, s.sid, s.ended, endedLogout); err != nil {
						t.Fatal(err)
					}
				}
			}
			p := &Pruner{Audit: audit, Sessions: sessions, Retention: retention, Batch: 2, Clock: clock.Now}
			n, err := p.PruneOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Events of days -100 .. -91 are older than 90 days: the first
			// ten days hold events 0..6 at -100..-94: all seven.
			if n != 7+2 {
				t.Errorf("pruned %d rows, want 7 events and 2 sessions", n)
			}
			// Again: nothing more.
			if n, err := p.PruneOnce(ctx); err != nil || n != 0 {
				t.Errorf("second pass pruned %d (%v)", n, err)
			}
			left, err := sessions.Active(ctx, "alice", t0)
			if err != nil || len(left) != 1 || left[0].SID != "active" {
				t.Errorf("active sessions after pruning: %+v (%v)", left, err)
			}
			if _, ok, _ := sessions.Get(ctx, "ended-yesterday"); !ok {
				t.Error("a session ended yesterday was pruned")
			}
			// Newer events stay until they age past the retention.
			for i := range 5 {
				if err := audit.Record(ctx, Event{Time: t0.Add(time.Duration(i) * time.Hour), Type: evLogout, Subject: "bob", Outcome: outcomeSuccess}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(retention)
			// The session ended the day before t0 is now that old; no event is.
			if n, err := p.PruneOnce(ctx); err != nil || n != 1 {
				t.Errorf("at exactly the retention: pruned %d (%v), want 1 session", n, err)
			}
			clock.Advance(150 * time.Minute) // events 0, 1 and 2 are past
			if n, err := p.PruneOnce(ctx); err != nil || n != 3 {
				t.Errorf("pruned %d (%v), want 3", n, err)
			}
			events, err := audit.Events(ctx, AuditFilter{})
			if err != nil || len(events) != 2 {
				t.Errorf("events left: %+v (%v), want 2", events, err)
			}
			if _, err := (&Pruner{Audit: audit}).PruneOnce(ctx); err == nil {
				t.Error("pruning without a retention")
			}
		})
	}
}

// TestSessionRegistry: a session's last use is written at most once per
// touchEvery by one instance; an unknown session is added on its first
// refresh; an ended one stays ended; user agents are cut and cleaned.
func TestSessionRegistry(t *testing.T) {
	for _, st := range recordStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			db, dialect := st.open(t)
			s, err := newSQLSessions(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			t0 := newTestClock().Now()
			exp := t0.Add(time.Hour)
			long := strings.Repeat("é", 200) + "\x00\n\xff"
			if err := s.Start(ctx, "s1", "alice", t0, exp, long, "2001:db8::1"); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.Get(ctx, "s1")
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			if len(got.UserAgent) > maxUserAgentLen || strings.ContainsAny(got.UserAgent, "\x00\n") || !strings.HasPrefix(got.UserAgent, "éé") {
				t.Errorf("user agent stored as %q", got.UserAgent)
			}
			for _, c := range []struct {
				at    time.Duration
				wrote bool
			}{{time.Second, false}, {touchEvery - time.Second, false}, {touchEvery, true}, {touchEvery + time.Second, false}, {2 * touchEvery, true}} {
				wrote, err := s.Touch(ctx, "s1", "alice", t0.Add(c.at), exp.Add(c.at), "agent", "192.0.2.7")
				if err != nil || wrote != c.wrote {
					t.Errorf("touch at +%v: wrote %v (%v), want %v", c.at, wrote, err, c.wrote)
				}
			}
			got, _, _ = s.Get(ctx, "s1")
			if !got.LastUsed.Equal(t0.Add(2*touchEvery)) || got.Address != "192.0.2.7" || !got.Created.Equal(t0) {
				t.Errorf("after touches: %+v", got)
			}
			// A session made before the registry: added by its refresh.
			if wrote, err := s.Touch(ctx, "old", "alice", t0, exp, "agent", "192.0.2.8"); err != nil || !wrote {
				t.Fatalf("touch of an unknown session: %v %v", wrote, err)
			}
			// Ended sessions stay ended, and are not listed.
			if err := s.End(ctx, "s1", t0.Add(3*touchEvery), endedLogout); err != nil {
				t.Fatal(err)
			}
			s.touched = map[string]time.Time{} // another instance
			if _, err := s.Touch(ctx, "s1", "alice", t0.Add(4*touchEvery), exp, "agent", "x"); err != nil {
				t.Fatal(err)
			}
			got, _, _ = s.Get(ctx, "s1")
			if got.Ended.IsZero() || got.EndedReason != endedLogout || !got.LastUsed.Equal(t0.Add(2*touchEvery)) {
				t.Errorf("ended session after a touch: %+v", got)
			}
			// A touch naming another user changes nothing.
			if _, err := s.Touch(ctx, "old", "mallory", t0.Add(time.Hour), exp, "agent", "x"); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := s.Get(ctx, "old"); got.Username != "alice" || got.Address != "192.0.2.8" {
				t.Errorf("session of alice after mallory's touch: %+v", got)
			}
			list, err := s.Active(ctx, "alice", t0)
			if err != nil || len(list) != 1 || list[0].SID != "old" {
				t.Errorf("active: %+v (%v)", list, err)
			}
			// Expired sessions are not listed.
			if list, _ := s.Active(ctx, "alice", exp.Add(time.Hour)); len(list) != 0 {
				t.Errorf("active after expiry: %+v", list)
			}
			if n, err := s.EndUser(ctx, "alice", t0, endedLogoutAll); err != nil || n != 1 {
				t.Errorf("EndUser: %d %v", n, err)
			}
		})
	}
}

// TestRecordQueries: the admin API's queries (users by page and search,
// audit events by user, type prefix, time and page) on each database.
func TestRecordQueries(t *testing.T) {
	for _, st := range recordStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			db, dialect := st.open(t)
			users, err := newSQLUsers(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			audit, err := newSQLAudit(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			audit.SetLogger(slog.New(slog.DiscardHandler))
			for _, n := range []string{"ann", "bo%b", "b_ob", "carl", "<b>"} {
				h, err := HashPassword("x")
				if err != nil {
					t.Fatal(err)
				}
				if err := users.insert(ctx, db, n, h, false, n == "ann"); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct{ search, after, want string }{
				{"", "", "<b>,ann,b_ob,bo%b,carl"},
				{"b", "", "<b>,b_ob,bo%b"},
				{"%", "", "bo%b"},
				{"_", "", "b_ob"},
				{"", "b_ob", "bo%b,carl"},
				{"b", "<b>", "b_ob,bo%b"},
			} {
				list, err := users.Page(ctx, c.search, c.after, 10)
				var names []string
				for _, u := range list {
					names = append(names, u.Username)
				}
				if err != nil || strings.Join(names, ",") != c.want {
					t.Errorf("Page(%q, %q) = %v (%v), want %s", c.search, c.after, names, err, c.want)
				}
			}
			if u, err := users.Get(ctx, "ann"); err != nil || !u.Admin || u.Disabled {
				t.Errorf("ann: %+v %v", u, err)
			}
			t0 := newTestClock().Now()
			for i, e := range []Event{
				{Type: evLoginSuccess, Actor: "ann", Subject: "ann"},
				{Type: evUserAdd, Actor: "ann", Subject: "carl"},
				{Type: evUserDisable, Actor: "ann", Subject: "carl"},
				{Type: evLoginFailure, Subject: "carl"},
				{Type: "admin_other", Actor: "x", Subject: "x"},
			} {
				e.Time, e.Outcome = t0.Add(time.Duration(i)*time.Minute), outcomeSuccess
				if err := audit.Record(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			types := func(f AuditFilter) string {
				t.Helper()
				events, err := audit.Events(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, e := range events {
					out = append(out, e.Type)
				}
				return strings.Join(out, ",")
			}
			for _, c := range []struct {
				f    AuditFilter
				want string
			}{
				{AuditFilter{User: "carl"}, "login.failure,admin.user.disable,admin.user.add"},
				{AuditFilter{Type: "admin."}, "admin.user.disable,admin.user.add"},
				{AuditFilter{Type: "login.failure"}, "login.failure"},
				{AuditFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, "admin.user.disable,admin.user.add"},
				{AuditFilter{Limit: 2}, "admin_other,login.failure"},
			} {
				if got := types(c.f); got != c.want {
					t.Errorf("Events(%+v) = %s, want %s", c.f, got, c.want)
				}
			}
			first, _ := audit.Events(ctx, AuditFilter{Limit: 2})
			if got := types(AuditFilter{Before: first[1].ID, Limit: 2}); got != "admin.user.disable,admin.user.add" {
				t.Errorf("second page: %s", got)
			}
		})
	}
}

// TestBootstrapAudited: the first user, made by the service, is an admin,
// and its creation is an audit event of the service (never its password).
func TestBootstrapAudited(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	d.Audit.SetLogger(slog.New(slog.DiscardHandler))
	if err := d.Bootstrap(ctx, log); err != nil {
		t.Fatal(err)
	}
	pw := logField(logs.String(), "password")
	u, err := d.Users.Get(ctx, "admin")
	if err != nil || !u.Admin || pw == "" {
		t.Fatalf("first user: %+v %v (password logged: %v)", u, err, pw != "")
	}
	events, err := d.Audit.Events(ctx, AuditFilter{})
	if err != nil || len(events) != 1 || events[0].Actor != "jwtgate" || events[0].Type != evUserAdd || events[0].Subject != "admin" {
		t.Fatalf("events: %+v %v", events, err)
	}
	if strings.Contains(fmt.Sprint(events), pw) {
		t.Fatal("the password is in the audit log")
	}
}

// TestRecordRefusesUnreadable: Record refuses, writing nothing, an event
// whose type or outcome Events would refuse as a corrupt row, so no
// caller can make the log unreadable; the log reads on.
func TestRecordRefusesUnreadable(t *testing.T) {
	for _, st := range recordStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			db, dialect := st.open(t)
			audit, err := newSQLAudit(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			audit.SetLogger(slog.New(slog.DiscardHandler))
			for _, e := range []Event{
				{Type: "", Outcome: outcomeSuccess},
				{Type: "Admin.Custom", Outcome: outcomeSuccess},
				{Type: "admin custom", Outcome: outcomeSuccess},
				{Type: strings.Repeat("a", maxEventType+1), Outcome: outcomeSuccess},
				{Type: "admin.custom", Outcome: ""},
				{Type: "admin.custom", Outcome: "ok"},
			} {
				if err := audit.Record(ctx, e); !errors.Is(err, errBadEvent) {
					t.Errorf("Record(type %q, outcome %q) = %v, want errBadEvent", e.Type, e.Outcome, err)
				}
			}
			good := Event{Type: "admin.custom_2", Actor: "cli", Subject: "alice", Outcome: outcomeError}
			if err := audit.Record(ctx, good); err != nil {
				t.Fatal(err)
			}
			got, err := audit.Events(ctx, AuditFilter{})
			if err != nil {
				t.Fatalf("Events after refused records: %v", err)
			}
			if len(got) != 1 || got[0].Type != good.Type || got[0].Outcome != good.Outcome {
				t.Fatalf("Events = %+v, want the one good event", got)
			}
		})
	}
}
