package server

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// loginAs signs user in with a User-Agent and returns its tokens and its
// session id.
func (f *fixture) loginAs(t *testing.T, user, pw, agent string) (access, refresh string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	r := f.do(t, "POST", "/login", "application/json", string(b), "User-Agent", agent)
	wantStatus(t, "login "+user, r, 200)
	access, _ = r.body["access_token"].(string)
	refresh, _ = r.body["refresh_token"].(string)
	return access, refresh
}

// sessionList is the answer of GET /account/sessions or of the admin's
// list of a user's sessions.
type sessionList struct {
	Sessions []struct {
		SID       string `json:"sid"`
		UserAgent string `json:"user_agent"`
		Address   string `json:"address"`
		Current   bool   `json:"current"`
		Created   string `json:"created"`
		LastUsed  string `json:"last_used"`
	} `json:"sessions"`
}

func (f *fixture) sessions(t *testing.T, path string, hdr ...string) sessionList {
	t.Helper()
	r := f.do(t, "GET", path, "", "", hdr...)
	wantStatus(t, "GET "+path, r, 200)
	var l sessionList
	if err := json.Unmarshal([]byte(r.raw), &l); err != nil {
		t.Fatalf("%s: %v: %s", path, err, r.raw)
	}
	return l
}

func (l sessionList) current(t *testing.T) string {
	t.Helper()
	for _, s := range l.Sessions {
		if s.Current {
			return s.SID
		}
	}
	t.Fatalf("no current session in %+v", l)
	return ""
}

func (l sessionList) other(t *testing.T) string {
	t.Helper()
	for _, s := range l.Sessions {
		if !s.Current {
			return s.SID
		}
	}
	t.Fatalf("no other session in %+v", l)
	return ""
}

// TestAccountSessions: a user lists their sessions (markup in a user
// agent comes back as the same plain string), ends one of them (refused
// at once, its refresh token too), and cannot see or end another user's.
func TestAccountSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.data.Users.Add(ctx, "bob", testPassword); err != nil {
		t.Fatal(err)
	}
	const markup = `<script>alert("x")</script><b>phone</b>`
	a1, _ := f.loginAs(t, "alice", testPassword, "desktop browser")
	a2, r2 := f.loginAs(t, "alice", testPassword, markup)
	bobA, _ := f.loginAs(t, "bob", testPassword, "bob's browser")

	l := f.sessions(t, "/account/sessions", bearer(a1)...)
	if len(l.Sessions) != 2 {
		t.Fatalf("alice has %d sessions, want 2: %+v", len(l.Sessions), l)
	}
	var agents []string
	for _, s := range l.Sessions {
		agents = append(agents, s.UserAgent)
		if s.Address != "127.0.0.1" || s.Created == "" || s.LastUsed == "" {
			t.Errorf("session %+v: want address 127.0.0.1 and times", s)
		}
	}
	if !strings.Contains(strings.Join(agents, "\n"), markup) {
		t.Errorf("user agents %q: want %q among them, as it was sent", agents, markup)
	}
	other := l.other(t)
	bobSID := f.sessions(t, "/account/sessions", bearer(bobA)...).current(t)

	for _, c := range []struct {
		name, method, path string
		status             int
	}{
		{"another user's session", "DELETE", "/account/sessions/" + bobSID, 404},
		{"another user's session by POST", "POST", "/account/sessions/" + bobSID, 404},
		{"unknown session", "DELETE", "/account/sessions/nosuchsession", 404},
		{"own other session", "DELETE", "/account/sessions/" + other, 200},
		{"again (idempotent)", "POST", "/account/sessions/" + other, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantStatus(t, c.name, f.do(t, c.method, c.path, "", "", bearer(a1)...), c.status)
		})
	}
	f.wantAccess(t, "access token of the ended session", a2, 401)
	f.wantRefresh(t, "refresh token of the ended session", r2, 401)
	f.wantAccess(t, "the caller's own session", a1, 200)
	f.wantAccess(t, "bob's session", bobA, 200)
	if l := f.sessions(t, "/account/sessions", bearer(a1)...); len(l.Sessions) != 1 || !l.Sessions[0].Current {
		t.Fatalf("after ending one: %+v, want only the current one", l)
	}
}

// TestAccountCookieCSRF: with cookies, reading the sessions needs no CSRF
// header, every change does.
func TestAccountCookieCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.cookieLogin(t)
	noCSRF := []string{"Cookie", c.header("access_token_cookie", "csrf_access_token")}
	wrongCSRF := []string{"Cookie", c.header("access_token_cookie", "csrf_access_token"), "X-CSRF-TOKEN", "not-the-value"}
	wantStatus(t, "list without CSRF", f.do(t, "GET", "/account/sessions", "", "", noCSRF...), 200)
	sid := f.sessions(t, "/account/sessions", noCSRF...).current(t)
	for _, c := range []struct{ method, path, body string }{
		{"DELETE", "/account/sessions/" + sid, ""},
		{"POST", "/account/sessions/" + sid, ""},
		{"POST", "/account/sessions/end-others", ""},
		{"POST", "/account/password", `{"current_password":"` + testPassword + `","new_password":"a new password"}`},
	} {
		for name, hdr := range map[string][]string{"no CSRF": noCSRF, "wrong CSRF": wrongCSRF} {
			r := f.do(t, c.method, c.path, "application/json", c.body, hdr...)
			if r.status != 401 && r.status != 403 {
				t.Errorf("%s %s with %s: status %d, want a refusal: %s", c.method, c.path, name, r.status, r.raw)
			}
		}
	}
	f.wantAccess(t, "session after the refused changes", c["access_token_cookie"], 200)
	// With the header, the session ends.
	r := f.do(t, "DELETE", "/account/sessions/"+sid, "", "", c.accessHeaders()...)
	wantStatus(t, "end own session with CSRF", r, 200)
	if r.body["current"] != true {
		t.Errorf("ending the current session: %s, want current true", r.raw)
	}
	f.wantAccess(t, "ended current session", c["access_token_cookie"], 401)
}

// TestAccountEndOthers: every other session ends (tokens outside any
// session too); the caller continues in a new session.
func TestAccountEndOthers(t *testing.T) {
	f := newFixture(t)
	a1, r1 := f.login(t, "alice", testPassword)
	a2, r2 := f.login(t, "alice", testPassword)
	r := f.do(t, "POST", "/auth", "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
	wantStatus(t, "auth", r, 200)
	flask, _ := r.body["access_token"].(string)

	r = f.do(t, "POST", "/account/sessions/end-others", "", "", bearer(a1)...)
	wantStatus(t, "end others", r, 200)
	na, _ := r.body["access_token"].(string)
	nr, _ := r.body["refresh_token"].(string)
	if na == "" || nr == "" || r.body["ended"] != float64(2) {
		t.Fatalf("end others: %s, want new tokens and 2 sessions ended", r.raw)
	}
	for name, tok := range map[string]string{"a1": a1, "a2": a2, "flask": flask} {
		f.wantAccess(t, name+" after end-others", tok, 401)
	}
	f.wantRefresh(t, "r1 after end-others", r1, 401)
	f.wantRefresh(t, "r2 after end-others", r2, 401)
	f.wantAccess(t, "new access token", na, 200)
	l := f.sessions(t, "/account/sessions", bearer(na)...)
	if len(l.Sessions) != 1 || !l.Sessions[0].Current || l.Sessions[0].SID != r.body["session"] {
		t.Fatalf("sessions after end-others: %+v, want the new one only (%v)", l, r.body["session"])
	}
	f.refresh(t, nr)
}

// TestAccountPassword: the current password is required, the policy
// applies, and a change ends every other session and continues the
// caller's in a new one, fresh.
func TestAccountPassword(t *testing.T) {
	f := newFixture(t)
	a1, _ := f.login(t, "alice", testPassword)
	other, _ := f.login(t, "alice", testPassword)
	const next = "a brand new passphrase"
	body := func(cur, nw string) string {
		b, _ := json.Marshal(map[string]string{"current_password": cur, "new_password": nw})
		return string(b)
	}
	for _, c := range []struct {
		name, ctype, body string
		status            int
		code              string
	}{
		{"wrong current password", "application/json", body("wrong password", next), 400, "invalid_grant"},
		{"too short", "application/json", body(testPassword, "short"), 400, "invalid_request"},
		{"missing member", "application/json", `{"current_password":"x"}`, 400, "invalid_request"},
		{"unknown member", "application/json", `{"current_password":"x","new_password":"yyyyyyyyy","admin":true}`, 400, "invalid_request"},
		{"member twice", "application/json", `{"current_password":"x","new_password":"yyyyyyyyy","new_password":"z"}`, 400, "invalid_request"},
		{"not JSON", "application/json", `{"current_password":`, 400, "invalid_request"},
		{"two values", "application/json", body(testPassword, next) + `{}`, 400, "invalid_request"},
		{"array", "application/json", `[]`, 400, "invalid_request"},
		{"form", "application/x-www-form-urlencoded", "current_password=x", 415, "invalid_request"},
		{"huge", "application/json", `{"current_password":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "invalid_request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(t, "POST", "/account/password", c.ctype, c.body, bearer(a1)...)
			wantStatus(t, c.name, r, c.status)
			if r.body["error"] != c.code {
				t.Errorf("%s: %s, want error %q", c.name, r.raw, c.code)
			}
		})
	}
	f.wantAccess(t, "after refused changes", a1, 200)
	r := f.do(t, "POST", "/account/password", "application/json", body(testPassword, next), bearer(a1)...)
	wantStatus(t, "change password", r, 200)
	na, _ := r.body["access_token"].(string)
	f.wantAccess(t, "the old token", a1, 401)
	f.wantAccess(t, "the other session", other, 401)
	f.wantAccess(t, "the new token", na, 200)
	if tok, err := f.s.gate.DecodeToken(context.Background(), na); err != nil || !tok.Fresh {
		t.Errorf("the new access token: fresh %v, err %v; want fresh", tok != nil && tok.Fresh, err)
	}
	wantStatus(t, "login with the old password", f.do(t, "POST", "/login", "application/json",
		`{"username":"alice","password":"`+testPassword+`"}`), 401)
	f.login(t, "alice", next)

	events, err := f.data.Audit.Events(context.Background(), AuditFilter{User: "alice", Type: evPasswordChange})
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, e := range events {
		outcomes = append(outcomes, e.Outcome)
	}
	if strings.Join(outcomes, ",") != "success,failure" {
		t.Errorf("password change events (newest first): %v, want success,failure", outcomes)
	}
}

// TestSessionAddressAndRegistryDown: a session records the client's
// address as the login limits see it (X-Forwarded-For only from a
// trusted proxy; an IPv6 client's whole address); a login whose session
// the registry cannot record gets 503 and no token.
func TestSessionAddressAndRegistryDown(t *testing.T) {
	f, _ := newFixtureWith(t, nil, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	b := `{"username":"alice","password":"` + testPassword + `"}`
	r := f.do(t, "POST", "/login", "application/json", b, "X-Forwarded-For", "192.0.2.9, 2001:db8::5")
	wantStatus(t, "login through the proxy", r, 200)
	access, _ := r.body["access_token"].(string)
	refresh, _ := r.body["refresh_token"].(string)
	l := f.sessions(t, "/account/sessions", bearer(access)...)
	if len(l.Sessions) != 1 || l.Sessions[0].Address != "2001:db8::5" {
		t.Fatalf("session through a trusted proxy: %+v, want address 2001:db8::5", l)
	}

	if _, err := f.data.DB.Exec(`DROP TABLE jwtgate_sessions`); err != nil {
		t.Fatal(err)
	}
	r = f.do(t, "POST", "/login", "application/json", b)
	wantStatus(t, "login with the registry gone", r, 503)
	if strings.Contains(r.raw, "token") && !strings.Contains(r.raw, "nothing was issued") {
		t.Fatalf("login with the registry gone: %s", r.raw)
	}
	if r.header.Get("Set-Cookie") != "" || r.body["access_token"] != nil {
		t.Fatalf("login with the registry gone issued something: %v %s", r.header, r.raw)
	}
	// Refreshes go on (the session was recorded at its start); the lost
	// write is counted.
	f.wantAccess(t, "the earlier session", access, 200)
	f.data.Sessions.mu.Lock()
	clear(f.data.Sessions.touched) // as on an instance that has not written it yet
	f.data.Sessions.mu.Unlock()
	f.refresh(t, refresh)
	m := f.do(t, "GET", "/metrics", "", "")
	if !strings.Contains(m.raw, `jwtgate_records_lost_total{kind="session"} 1`) {
		t.Errorf("metrics do not count the lost registry write:\n%s", m.raw)
	}
}

// TestAccountPasswordCookies: with cookies, a password change answers
// with the cookies of the new session (and no token in the body); the old
// cookies are refused.
func TestAccountPasswordCookies(t *testing.T) {
	f := newFixture(t)
	old := f.cookieLogin(t)
	r := f.do(t, "POST", "/account/password", "application/json",
		`{"current_password":"`+testPassword+`","new_password":"a new long password"}`, old.accessHeaders()...)
	wantStatus(t, "change password by cookie", r, 200)
	if r.body["access_token"] != nil || r.body["refresh_token"] != nil || r.body["password_changed"] != true {
		t.Fatalf("answer: %s, want no token in the body", r.raw)
	}
	c := cookiesOf(t, r)
	f.wantAccess(t, "old access cookie", old["access_token_cookie"], 401)
	wantStatus(t, "old refresh cookie", f.do(t, "POST", "/refresh", "", "", old.refreshHeaders()...), 401)
	l := f.sessions(t, "/account/sessions", c.accessHeaders()...)
	if len(l.Sessions) != 1 || l.Sessions[0].SID != r.body["session"] || !l.Sessions[0].Current {
		t.Fatalf("sessions with the new cookies: %+v", l)
	}
	f.cookieRefresh(t, c)
}
