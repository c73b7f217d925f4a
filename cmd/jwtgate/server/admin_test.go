package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// adminFixture is a fixture with the administrator root (testPassword)
// beside alice, and root's fresh access token.
func adminFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t)
	if err := f.s.accounts.AddUser(context.Background(), CLIActor, "root", testPassword, true); err != nil {
		t.Fatal(err)
	}
	a, _ := f.login(t, "root", testPassword)
	return f, a
}

// adminEndpoints are every endpoint of the admin API, with a body that
// would be accepted.
var adminEndpoints = []struct {
	method, path, body string
	change             bool
}{
	{"GET", "/admin/users", "", false},
	{"POST", "/admin/users", `{"username":"carol","password":"a long enough password"}`, true},
	{"GET", "/admin/users/alice", "", false},
	{"DELETE", "/admin/users/alice", "", true},
	{"POST", "/admin/users/alice/disable", "", true},
	{"POST", "/admin/users/alice/enable", "", true},
	{"POST", "/admin/users/alice/password", `{"password":"a long enough password"}`, true},
	{"POST", "/admin/users/alice/role", `{"admin":true}`, true},
	{"GET", "/admin/users/alice/sessions", "", false},
	{"DELETE", "/admin/users/alice/sessions", "", true},
	{"DELETE", "/admin/users/alice/sessions/nosuchsession", "", true},
	{"GET", "/admin/keys", "", false},
	{"GET", "/admin/audit", "", false},
}

// TestAdminRefusals: an ordinary user gets 403 everywhere; an admin's
// token that is not fresh reads but changes nothing; a cookie request
// without its CSRF header changes nothing; no token, 401.
func TestAdminRefusals(t *testing.T) {
	f, _ := adminFixture(t)
	alice, _ := f.login(t, "alice", testPassword)
	_, rootRefresh := f.login(t, "root", testPassword)
	stale, _ := f.refresh(t, rootRefresh) // not fresh
	c := f.cookieLoginAs(t, "root")
	noCSRF := []string{"Cookie", c.header("access_token_cookie", "csrf_access_token")}
	for _, e := range adminEndpoints {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			ctype := ""
			if e.body != "" {
				ctype = "application/json"
			}
			wantStatus(t, "ordinary user", f.do(t, e.method, e.path, ctype, e.body, bearer(alice)...), 403)
			wantStatus(t, "no token", f.do(t, e.method, e.path, ctype, e.body), 401)
			r := f.do(t, e.method, e.path, ctype, e.body, bearer(stale)...)
			if e.change {
				wantStatus(t, "not fresh", r, 401)
				if !strings.Contains(strings.ToLower(r.raw), "fresh") {
					t.Errorf("not fresh: %s, want it said", r.raw)
				}
				r = f.do(t, e.method, e.path, ctype, e.body, noCSRF...)
				if r.status != 401 && r.status != 403 {
					t.Errorf("cookie without CSRF: %d %s, want a refusal", r.status, r.raw)
				}
			} else {
				wantStatus(t, "read with a token that is not fresh", r, 200)
				wantStatus(t, "read by cookie without CSRF", f.do(t, e.method, e.path, "", "", noCSRF...), 200)
			}
		})
	}
	// Nothing was changed by the refused requests.
	f.wantAccess(t, "alice", alice, 200)
	if _, err := f.data.Users.Get(context.Background(), "carol"); err == nil {
		t.Error("carol was added by a refused request")
	}
	denied, err := f.data.Audit.Events(context.Background(), AuditFilter{User: "alice", Type: evAdminDenied})
	if err != nil || len(denied) != len(adminEndpoints) {
		t.Errorf("admin.denied events of alice: %d (%v), want %d", len(denied), err, len(adminEndpoints))
	}
}

func (f *fixture) cookieLoginAs(t *testing.T, user string) cookieSession {
	t.Helper()
	r := f.do(t, "POST", "/login?cookies=1", "application/json", `{"username":"`+user+`","password":"`+testPassword+`"}`)
	wantStatus(t, "cookie login", r, 200)
	return cookiesOf(t, r)
}

type usersPage struct {
	Users []struct {
		Username string `json:"username"`
		Admin    bool   `json:"admin"`
		Disabled bool   `json:"disabled"`
	} `json:"users"`
	Next *string `json:"next"`
}

func (f *fixture) usersPage(t *testing.T, admin, query string) usersPage {
	t.Helper()
	r := f.do(t, "GET", "/admin/users"+query, "", "", bearer(admin)...)
	wantStatus(t, "list users "+query, r, 200)
	var p usersPage
	if err := json.Unmarshal([]byte(r.raw), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p usersPage) names() string {
	var n []string
	for _, u := range p.Users {
		n = append(n, u.Username)
	}
	return strings.Join(n, ",")
}

// TestAdminUsers: add, list (paging, search, bounds), disable and
// enable, reset a password, delete; markup in a username comes back as
// the same string.
func TestAdminUsers(t *testing.T) {
	f, root := adminFixture(t)
	const markup = `<img src=x onerror="alert(1)">`
	add := func(name, pw string, admin bool) reply {
		b, _ := json.Marshal(map[string]any{"username": name, "password": pw, "admin": admin})
		return f.do(t, "POST", "/admin/users", "application/json", string(b), bearer(root)...)
	}
	for _, c := range []struct {
		name, ctype, body string
		status            int
	}{
		{"markup username", "application/json", `{"username":` + jsonString(markup) + `,"password":"a long enough password"}`, 201},
		{"bob, admin", "application/json", `{"username":"bob","password":"a long enough password","admin":true}`, 201},
		{"taken", "application/json", `{"username":"bob","password":"a long enough password"}`, 409},
		{"short password", "application/json", `{"username":"dave","password":"short"}`, 400},
		{"bad username", "application/json", `{"username":" dave","password":"a long enough password"}`, 400},
		{"unknown member", "application/json", `{"username":"dave","password":"a long enough password","role":"admin"}`, 400},
		{"admin not a bool", "application/json", `{"username":"dave","password":"a long enough password","admin":"yes"}`, 400},
		{"not JSON", "application/json", `{"username":`, 400},
		{"not an object", "application/json", `"dave"`, 400},
		{"text", "text/plain", `{"username":"dave","password":"a long enough password"}`, 415},
		{"huge", "application/json", `{"username":"` + strings.Repeat("d", 65<<10) + `"}`, 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantStatus(t, c.name, f.do(t, "POST", "/admin/users", c.ctype, c.body, bearer(root)...), c.status)
		})
	}
	wantStatus(t, "add carol", add("carol", "a long enough password", false), 201)

	// Listing and paging: alice, bob, carol, root and the markup name,
	// in byte order ('<' sorts before letters).
	all := f.usersPage(t, root, "")
	if all.names() != markup+",alice,bob,carol,root" || all.Next != nil {
		t.Fatalf("users: %q (next %v)", all.names(), all.Next)
	}
	var pages []string
	after := ""
	for i := 0; i < 10; i++ {
		p := f.usersPage(t, root, "?limit=2&after="+url.QueryEscape(after))
		pages = append(pages, p.names())
		if p.Next == nil {
			break
		}
		after = *p.Next
	}
	if got := strings.Join(pages, "|"); got != markup+",alice|bob,carol|root" {
		t.Errorf("pages of 2: %q", got)
	}
	if p := f.usersPage(t, root, "?q=ar"); p.names() != "carol" {
		t.Errorf("search ar: %q", p.names())
	}
	if p := f.usersPage(t, root, "?q="+url.QueryEscape("<img")); p.names() != markup {
		t.Errorf("search <img: %q", p.names())
	}
	for _, q := range []string{"?limit=0", "?limit=501", "?limit=x", "?limit=-1", "?q=" + strings.Repeat("x", 300)} {
		wantStatus(t, "list "+q, f.do(t, "GET", "/admin/users"+q, "", "", bearer(root)...), 400)
	}
	r := f.do(t, "GET", "/admin/users/"+url.PathEscape(markup), "", "", bearer(root)...)
	wantStatus(t, "get markup user", r, 200)
	if u, _ := r.body["user"].(map[string]any); u["username"] != markup {
		t.Errorf("markup user: %s", r.raw)
	}
	wantStatus(t, "get missing user", f.do(t, "GET", "/admin/users/nobody", "", "", bearer(root)...), 404)
	// A name with a slash is one path segment, percent-encoded.
	wantStatus(t, "add x/y", add("x/y", "a long enough password", false), 201)
	r = f.do(t, "GET", "/admin/users/x%2Fy", "", "", bearer(root)...)
	if u, _ := r.body["user"].(map[string]any); r.status != 200 || u["username"] != "x/y" {
		t.Errorf("get x%%2Fy: %d %s", r.status, r.raw)
	}
	wantStatus(t, "delete x/y", f.do(t, "DELETE", "/admin/users/x%2Fy", "", "", bearer(root)...), 200)

	// Disable: no sign-in, tokens and refresh refused; enable: sign-in.
	a1, r1 := f.login(t, "alice", testPassword)
	r = f.do(t, "POST", "/admin/users/alice/disable", "", "", bearer(root)...)
	wantStatus(t, "disable", r, 200)
	if u, _ := r.body["user"].(map[string]any); u["disabled"] != true {
		t.Errorf("disable: %s", r.raw)
	}
	f.wantAccess(t, "disabled user's token", a1, 401)
	f.wantRefresh(t, "disabled user's refresh", r1, 401)
	wantStatus(t, "disabled user's login", f.do(t, "POST", "/login", "application/json",
		`{"username":"alice","password":"`+testPassword+`"}`), 401)
	wantStatus(t, "enable", f.do(t, "POST", "/admin/users/alice/enable", "", "", bearer(root)...), 200)
	a2, _ := f.login(t, "alice", testPassword)

	// Reset: old tokens refused, the new password signs in.
	wantStatus(t, "reset with a short password", f.do(t, "POST", "/admin/users/alice/password", "application/json",
		`{"password":"short"}`, bearer(root)...), 400)
	wantStatus(t, "reset a missing user", f.do(t, "POST", "/admin/users/nobody/password", "application/json",
		`{"password":"a long enough password"}`, bearer(root)...), 404)
	wantStatus(t, "reset", f.do(t, "POST", "/admin/users/alice/password", "application/json",
		`{"password":"a new long password"}`, bearer(root)...), 200)
	f.wantAccess(t, "token before the reset", a2, 401)
	a3, _ := f.login(t, "alice", "a new long password")

	// Delete: itself refused; alice's tokens refused.
	wantStatus(t, "delete self", f.do(t, "DELETE", "/admin/users/root", "", "", bearer(root)...), 409)
	wantStatus(t, "disable self", f.do(t, "POST", "/admin/users/root/disable", "", "", bearer(root)...), 409)
	wantStatus(t, "delete alice", f.do(t, "DELETE", "/admin/users/alice", "", "", bearer(root)...), 200)
	f.wantAccess(t, "deleted user's token", a3, 401)
	wantStatus(t, "delete again", f.do(t, "DELETE", "/admin/users/alice", "", "", bearer(root)...), 404)
	wantStatus(t, "get deleted", f.do(t, "GET", "/admin/users/alice", "", "", bearer(root)...), 404)

	// bob, made admin, may use the API; carol may not, until she gets the
	// role; bob without it no longer may, at his next request.
	bob, _ := f.login(t, "bob", "a long enough password")
	wantStatus(t, "bob lists users", f.do(t, "GET", "/admin/users", "", "", bearer(bob)...), 200)
	carol, _ := f.login(t, "carol", "a long enough password")
	wantStatus(t, "carol lists users", f.do(t, "GET", "/admin/users", "", "", bearer(carol)...), 403)
	for _, c := range []struct {
		name, path, body string
		status           int
	}{
		{"no admin member", "/admin/users/carol/role", `{}`, 400},
		{"admin not a bool", "/admin/users/carol/role", `{"admin":1}`, 400},
		{"missing user", "/admin/users/nobody/role", `{"admin":true}`, 404},
		{"own role away", "/admin/users/root/role", `{"admin":false}`, 409},
		{"give carol the role", "/admin/users/carol/role", `{"admin":true}`, 200},
		{"take bob's away", "/admin/users/bob/role", `{"admin":false}`, 200},
	} {
		wantStatus(t, c.name, f.do(t, "POST", c.path, "application/json", c.body, bearer(root)...), c.status)
	}
	wantStatus(t, "carol, admin now, lists users", f.do(t, "GET", "/admin/users", "", "", bearer(carol)...), 200)
	wantStatus(t, "bob, no longer admin, lists users", f.do(t, "GET", "/admin/users", "", "", bearer(bob)...), 403)

	// Every change is in the audit log, with root as actor.
	var types []string
	events, err := f.data.Audit.Events(context.Background(), AuditFilter{User: "root", Type: "admin."})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Actor == "root" {
			types = append(types, e.Type+" "+e.Subject)
		}
	}
	want := []string{"admin.user.role bob", "admin.user.role carol", "admin.user.delete alice", "admin.user.password_reset alice", "admin.user.enable alice",
		"admin.user.disable alice", "admin.user.delete x/y", "admin.user.add x/y", "admin.user.add carol", "admin.user.add bob", "admin.user.add " + markup}
	if strings.Join(types, "\n") != strings.Join(want, "\n") {
		t.Errorf("root's admin events, newest first:\n%s\nwant\n%s", strings.Join(types, "\n"), strings.Join(want, "\n"))
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestAdminSessions: an admin lists a user's sessions, ends one (refused
// at once), ends all; another user's session is not found under alice.
func TestAdminSessions(t *testing.T) {
	f, root := adminFixture(t)
	const agent = `Mozilla/5.0 <script>document.cookie</script>`
	a1, r1 := f.loginAs(t, "alice", testPassword, agent)
	a2, r2 := f.loginAs(t, "alice", testPassword, "other")
	rootSID := f.sessions(t, "/account/sessions", bearer(root)...).current(t)

	l := f.sessions(t, "/admin/users/alice/sessions", bearer(root)...)
	if len(l.Sessions) != 2 {
		t.Fatalf("alice's sessions: %+v", l)
	}
	var first string
	for _, s := range l.Sessions {
		if s.UserAgent == agent {
			first = s.SID
		}
		if s.Current {
			t.Errorf("alice's session %s is marked current for root", s.SID)
		}
	}
	if first == "" {
		t.Fatalf("no session with user agent %q: %+v", agent, l)
	}
	wantStatus(t, "root's session under alice", f.do(t, "DELETE", "/admin/users/alice/sessions/"+rootSID, "", "", bearer(root)...), 404)
	wantStatus(t, "end one", f.do(t, "DELETE", "/admin/users/alice/sessions/"+first, "", "", bearer(root)...), 200)
	f.wantAccess(t, "ended session", a1, 401)
	f.wantRefresh(t, "ended session's refresh", r1, 401)
	f.wantAccess(t, "other session", a2, 200)
	r := f.do(t, "DELETE", "/admin/users/alice/sessions", "", "", bearer(root)...)
	wantStatus(t, "end all", r, 200)
	if r.body["ended"] != float64(1) {
		t.Errorf("end all: %s, want 1 ended", r.raw)
	}
	f.wantAccess(t, "after end all", a2, 401)
	f.wantRefresh(t, "after end all", r2, 401)
	f.wantAccess(t, "root", root, 200)
	if l := f.sessions(t, "/admin/users/alice/sessions", bearer(root)...); len(l.Sessions) != 0 {
		t.Errorf("alice's sessions after end all: %+v", l)
	}
}

// TestAdminAudit: filters by user, type and time, pages with before, and
// refuses bad parameters.
func TestAdminAudit(t *testing.T) {
	f, root := adminFixture(t)
	for i := range 3 {
		wantStatus(t, "bad login", f.do(t, "POST", "/login", "application/json",
			fmt.Sprintf(`{"username":"alice","password":"wrong %d"}`, i)), 401)
	}
	f.login(t, "alice", testPassword)
	type page struct {
		Events []struct {
			ID      int64          `json:"id"`
			Type    string         `json:"type"`
			Subject string         `json:"subject"`
			Outcome string         `json:"outcome"`
			Details map[string]any `json:"details"`
		} `json:"events"`
		NextBefore *int64 `json:"next_before"`
	}
	get := func(q string) page {
		t.Helper()
		r := f.do(t, "GET", "/admin/audit"+q, "", "", bearer(root)...)
		wantStatus(t, "audit "+q, r, 200)
		var p page
		if err := json.Unmarshal([]byte(r.raw), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := get("?user=alice")
	if len(p.Events) != 4 || p.Events[0].Type != evLoginSuccess || p.Events[1].Type != evLoginFailure {
		t.Fatalf("alice's events: %+v", p)
	}
	if strings.Contains(fmt.Sprint(p), "wrong") || strings.Contains(fmt.Sprint(p), testPassword) {
		t.Fatalf("a password in the audit log: %+v", p)
	}
	if p := get("?user=alice&type=login.failure"); len(p.Events) != 3 {
		t.Errorf("alice's failures: %d", len(p.Events))
	}
	if p := get("?type=login."); len(p.Events) != 5 { // root's login too
		t.Errorf("login events: %d", len(p.Events))
	}
	// Paging: two at a time, newest first, every event once.
	var ids []int64
	q := "?user=alice&limit=2"
	for range 5 {
		p := get(q)
		for _, e := range p.Events {
			ids = append(ids, e.ID)
		}
		if p.NextBefore == nil {
			break
		}
		q = fmt.Sprintf("?user=alice&limit=2&before=%d", *p.NextBefore)
	}
	if len(ids) != 4 || ids[0] <= ids[1] || ids[1] <= ids[2] || ids[2] <= ids[3] {
		t.Errorf("paged ids %v: want 4, decreasing", ids)
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	past := url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339))
	if p := get("?since=" + future); len(p.Events) != 0 {
		t.Errorf("events since an hour ahead: %d", len(p.Events))
	}
	if p := get("?user=alice&since=" + past + "&until=" + future); len(p.Events) != 4 {
		t.Errorf("alice's events of the last hour: %d", len(p.Events))
	}
	for _, q := range []string{"?limit=0", "?limit=501", "?since=yesterday", "?until=2026-13-01T00:00:00Z", "?before=0", "?before=x",
		"?type=" + strings.Repeat("t", 65)} {
		wantStatus(t, "audit "+q, f.do(t, "GET", "/admin/audit"+q, "", "", bearer(root)...), 400)
	}
}

// TestAdminStoreDown: with the database closed, the admin API and the
// account endpoints answer 503, never 500.
func TestAdminStoreDown(t *testing.T) {
	f, root := adminFixture(t)
	alice, _ := f.login(t, "alice", testPassword)
	f.data.DB.Close()
	for _, e := range adminEndpoints {
		ctype := ""
		if e.body != "" {
			ctype = "application/json"
		}
		r := f.do(t, e.method, e.path, ctype, e.body, bearer(root)...)
		if r.status != 503 {
			t.Errorf("%s %s with the store down: %d %s, want 503", e.method, e.path, r.status, r.raw)
		}
	}
	for _, e := range []struct{ method, path, body string }{
		{"GET", "/account/sessions", ""},
		{"POST", "/account/sessions/end-others", ""},
		{"DELETE", "/account/sessions/x", ""},
		{"POST", "/account/password", `{"current_password":"` + testPassword + `","new_password":"a new long password"}`},
	} {
		r := f.do(t, e.method, e.path, "application/json", e.body, bearer(alice)...)
		if r.status != 503 {
			t.Errorf("%s %s with the store down: %d %s, want 503", e.method, e.path, r.status, r.raw)
		}
	}
}

// TestAuditDown: when the audit log cannot be written, an admin change is
// not made (503), nor a password change, nor the end of sessions; a
// sign-in keeps its answer, and the lost event is logged at error level
// and counted.
func TestAuditDown(t *testing.T) {
	f, root := adminFixture(t)
	alice, _ := f.login(t, "alice", testPassword)
	if _, err := f.data.DB.Exec(`DROP TABLE jwtgate_audit`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, method, path, body, token string
	}{
		{"add a user", "POST", "/admin/users", `{"username":"carol","password":"a long enough password"}`, root},
		{"disable", "POST", "/admin/users/alice/disable", "", root},
		{"reset a password", "POST", "/admin/users/alice/password", `{"password":"a long enough password"}`, root},
		{"give a role", "POST", "/admin/users/alice/role", `{"admin":true}`, root},
		{"delete", "DELETE", "/admin/users/alice", "", root},
		{"end all sessions", "DELETE", "/admin/users/alice/sessions", "", root},
		{"end others", "POST", "/account/sessions/end-others", "", alice},
		{"change one's password", "POST", "/account/password", `{"current_password":"` + testPassword + `","new_password":"a new long password"}`, alice},
	} {
		ctype := ""
		if c.body != "" {
			ctype = "application/json"
		}
		wantStatus(t, c.name, f.do(t, c.method, c.path, ctype, c.body, bearer(c.token)...), 503)
	}
	// Nothing changed.
	if _, err := f.data.Users.Get(context.Background(), "carol"); err == nil {
		t.Error("carol was added without an audit event")
	}
	if u, err := f.data.Users.Get(context.Background(), "alice"); err != nil || u.Disabled || u.Admin {
		t.Errorf("alice after the refused changes: %+v %v", u, err)
	}
	f.wantAccess(t, "alice's session", alice, 200)
	// Sign-in goes on; the event is counted as lost, and logged.
	f.login(t, "alice", testPassword)
	m := f.do(t, "GET", "/metrics", "", "")
	if !strings.Contains(m.raw, `jwtgate_records_lost_total{kind="audit"}`) {
		t.Errorf("metrics do not count the lost audit events:\n%s", m.raw)
	}
	if !strings.Contains(f.logs.String(), "level=ERROR msg=audit event=login.success") {
		t.Errorf("the lost sign-in event is not logged at error level:\n%s", f.logs.String())
	}
}

// TestAdminTextParameters: text the stores cannot take (NUL, invalid
// UTF-8) or no name holds (control characters), in a query parameter or
// a path value of the admin API, is a 400 (404 for a session id) on each
// store, never a 503 from a store that refused the query.
func TestAdminTextParameters(t *testing.T) {
	for _, a := range adminServices(t) {
		t.Run(a.name, func(t *testing.T) {
			for _, c := range []struct {
				method, path, query string
				status              int
				desc                string // in the error description
			}{
				{"GET", "/admin/users", "q=%00", 400, "q: control character"},
				{"GET", "/admin/users", "q=%ff", 400, "q: not UTF-8"},
				{"GET", "/admin/users", "after=%C3%28", 400, "after: not UTF-8"},
				{"GET", "/admin/users", "after=a%7f", 400, "after: control character"},
				{"GET", "/admin/users", "q=" + strings.Repeat("a", 257), 400, "q: at most 256 bytes"},
				{"GET", "/admin/users", "q=al%C3%AF", 200, ""},
				{"GET", "/admin/users/%00", "", 400, "control character"},
				{"GET", "/admin/users/%ff/sessions", "", 400, "not UTF-8"},
				{"GET", "/admin/clients", "after=%00", 400, "after: control character"},
				{"GET", "/admin/clients", "after=%ff", 400, "after: not UTF-8"},
				{"GET", "/admin/clients", "after=s%C3%A9", 200, ""},
				{"GET", "/admin/clients/%00", "", 400, "the client"},
				{"GET", "/admin/clients/%ff", "", 400, "the client"},
				{"GET", "/admin/clients/a%C2%85b", "", 400, "the client"},
				{"GET", "/admin/clients/s%C3%A9", "", 404, "no such client"},
				{"GET", "/admin/audit", "user=%00", 400, "user: control character"},
				{"GET", "/admin/audit", "user=%ff", 400, "user: not UTF-8"},
				{"GET", "/admin/audit", "type=%00", 400, "type: control character"},
				{"GET", "/admin/audit", "type=login.%E2%82", 400, "type: not UTF-8"},
				{"GET", "/admin/audit", "type=" + strings.Repeat("a", 65), 400, "type: at most 64 bytes"},
				{"GET", "/admin/audit", "user=z%C3%B6e&type=login.", 200, ""},
				{"DELETE", "/admin/users/alice/sessions/%00", "", 404, "no such session"},
				{"DELETE", "/admin/users/alice/sessions/%ff", "", 404, "no such session"},
				{"DELETE", "/admin/users/alice/sessions/a%20b", "", 404, "no such session"},
			} {
				r := a.f.do(t, c.method, c.path+"?"+c.query, "", "", bearer(a.root)...)
				if r.status != c.status {
					t.Errorf("%s %s?%s: %d %s, want %d", c.method, c.path, c.query, r.status, r.raw, c.status)
					continue
				}
				if d, _ := r.body["error_description"].(string); !strings.Contains(d, c.desc) {
					t.Errorf("%s %s?%s: %s, want %q said", c.method, c.path, c.query, r.raw, c.desc)
				}
			}
		})
	}
}
