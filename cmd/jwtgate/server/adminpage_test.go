package server

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// browser is the cookies of one browser of the page tests.
type browser map[string]string

func (b browser) header() string {
	var names []string
	for n := range b {
		names = append(names, n)
	}
	sort.Strings(names)
	var pairs []string
	for _, n := range names {
		pairs = append(pairs, n+"="+b[n])
	}
	return strings.Join(pairs, "; ")
}

// keep takes the cookies resp sets, forgetting the ones it deletes.
func (b browser) keep(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b, c.Name)
		} else {
			b[c.Name] = c.Value
		}
	}
}

// pageSignin signs in with the sign-in form.
func (f *fixture) pageSignin(t *testing.T, user, pw string) browser {
	t.Helper()
	resp, body := f.page(t, "POST", "/signin", url.Values{"username": {user}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %q: %d\n%s", user, resp.StatusCode, body)
	}
	b := browser{}
	b.keep(resp)
	return b
}

func (f *fixture) adminPost(t *testing.T, b browser, form url.Values) (*http.Response, string) {
	t.Helper()
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b["csrf_access_token"])
	}
	resp, body := f.page(t, "POST", "/admin", form, "Cookie", b.header())
	b.keep(resp)
	return resp, body
}

func TestAdminPageAccess(t *testing.T) {
	f, _ := adminFixture(t)
	// Without a session: the sign-in page.
	if resp, _ := f.page(t, "GET", "/admin", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Errorf("GET /admin without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// An ordinary user: 403, the page says why and shows nothing else;
	// the refusal is audited; no link from the account page.
	alice := f.pageSignin(t, "alice", testPassword)
	resp, body := f.page(t, "GET", "/admin", nil, "Cookie", alice.header())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "does not hold the admin role") ||
		strings.Contains(body, `id="users"`) || strings.Contains(body, `id="audit"`) {
		t.Errorf("GET /admin as alice: %d\n%s", resp.StatusCode, body)
	}
	resp, body = f.adminPost(t, alice, url.Values{"action": {"disable"}, "username": {"root"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "does not hold the admin role") {
		t.Errorf("POST /admin as alice: %d\n%s", resp.StatusCode, body)
	}
	events, err := f.s.cfg.Audit.Events(context.Background(), AuditFilter{Type: evAdminDenied, User: "alice", Limit: 10})
	if err != nil || len(events) == 0 {
		t.Errorf("admin.denied events of alice: %v, %v", events, err)
	}
	if _, page := f.page(t, "GET", "/account", nil, "Cookie", alice.header()); strings.Contains(page, `href="/admin"`) {
		t.Error("alice's account page links to the admin page")
	}

	// The administrator: the page, with the pages' headers, no inline
	// script or style, and a link from the account page.
	root := f.pageSignin(t, "root", testPassword)
	if _, page := f.page(t, "GET", "/account", nil, "Cookie", root.header()); !strings.Contains(page, `<a id="admin-link" href="/admin">`) {
		t.Error("root's account page does not link to the admin page")
	}
	resp, body = f.page(t, "GET", "/admin", nil, "Cookie", root.header())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin as root: %d\n%s", resp.StatusCode, body)
	}
	for k, v := range map[string]string{"Content-Security-Policy": wantCSP, "X-Frame-Options": "DENY", "Cache-Control": "no-store",
		"Content-Type": "text/html; charset=utf-8", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("GET /admin: %s %q, want %q", k, got, v)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<style") || strings.Contains(body, " style=") || inlineHandler.MatchString(body) {
		t.Error("the admin page has script or inline style")
	}
	for _, want := range []string{`data-username="alice"`, `data-username="root"`, `id="add-form"`, `id="audit"`, "login.success",
		`name="csrf_token" value="` + root["csrf_access_token"] + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the admin page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="reauth-form"`) {
		t.Error("the admin page asks for the password after a sign-in")
	}
	// The JSON API is still under /admin/.
	wantStatus(t, "GET /admin/users", f.do(t, "GET", "/admin/users", "", "", "Cookie", root.header()), 200)
	if resp, _ := f.page(t, "PUT", "/admin", nil, "Cookie", root.header()); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT /admin: %d, want 405", resp.StatusCode)
	}
}

func TestAdminPageForms(t *testing.T) {
	f, _ := adminFixture(t)
	root := f.pageSignin(t, "root", testPassword)
	const carolPassword = "carol's long password"
	post := func(form url.Values, status int, location string) string {
		t.Helper()
		resp, body := f.adminPost(t, root, form)
		if resp.StatusCode != status || (location != "" && resp.Header.Get("Location") != location) {
			t.Fatalf("%v: %d to %q, want %d to %q\n%s", form, resp.StatusCode, resp.Header.Get("Location"), status, location, body)
		}
		return body
	}

	post(url.Values{"action": {"add"}, "username": {"carol"}, "password": {carolPassword}}, http.StatusSeeOther, "/admin?notice=added")
	// A notice is a fixed text: the link's user is not shown in it.
	_, page := f.page(t, "GET", "/admin?notice=added&user=Mallory+says+hello", nil, "Cookie", root.header())
	if !strings.Contains(page, `role="alert" tabindex="-1">`+adminNotices["added"]+`</p>`) || !strings.Contains(page, `data-username="carol"`) {
		t.Errorf("the page after adding carol:\n%s", page)
	}
	carol := f.pageSignin(t, "carol", carolPassword)
	wantStatus(t, "carol's userinfo", f.do(t, "GET", "/userinfo", "", "", "Cookie", carol.header()), 200)

	// Refused forms change nothing and say why.
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"no CSRF value", url.Values{"action": {"disable"}, "username": {"carol"}, "csrf_token": {""}}, 403, "This page was out of date, so nothing was changed."},
		{"wrong CSRF value", url.Values{"action": {"disable"}, "username": {"carol"}, "csrf_token": {"wrong"}}, 403, "This page was out of date, so nothing was changed."},
		{"name taken", url.Values{"action": {"add"}, "username": {"carol"}, "password": {carolPassword}}, 409, "A user of that name exists."},
		{"short password", url.Values{"action": {"add"}, "username": {"dave"}, "password": {"short"}}, 400, "at least 8 characters"},
		{"own account", url.Values{"action": {"disable"}, "username": {"root"}}, 409, "An administrator cannot disable or delete their own account."},
		{"no such user", url.Values{"action": {"disable"}, "username": {"nobody"}}, 404, "There is no user of that name."},
		{"no user", url.Values{"action": {"disable"}}, 400, "No user was chosen."},
		{"delete unconfirmed", url.Values{"action": {"delete"}, "username": {"carol"}}, 400, "Confirm the deletion first."},
		{"unknown action", url.Values{"action": {"nothing"}, "username": {"carol"}}, 400, "The form could not be read."},
		{"unknown session", url.Values{"action": {"end-session"}, "username": {"carol"}, "sid": {"nope"}}, 404, "That session has already ended."},
	} {
		resp, body := f.adminPost(t, root, c.form)
		// The page shown again knows the token is fresh.
		if resp.StatusCode != c.status || !strings.Contains(body, html.EscapeString(c.msg)) || strings.Contains(body, `id="reauth-form"`) {
			t.Errorf("%s: %d, want %d with %q\n%s", c.name, resp.StatusCode, c.status, c.msg, body)
		}
	}
	resp, _ := f.page(t, "POST", "/admin", url.Values{"action": {"disable"}, "username": {"carol"}, "csrf_token": {root["csrf_access_token"]}},
		"Cookie", root.header(), "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site form: %d, want 403", resp.StatusCode)
	}
	wantStatus(t, "carol's userinfo after refused forms", f.do(t, "GET", "/userinfo", "", "", "Cookie", carol.header()), 200)

	// Sessions: listed, one ended, then all.
	carol2 := f.pageSignin(t, "carol", carolPassword)
	_, page = f.page(t, "GET", "/admin?user=carol", nil, "Cookie", root.header())
	if n := strings.Count(page, `<li class="session" data-sid=`); n != 2 {
		t.Fatalf("carol's sessions on the page: %d, want 2\n%s", n, page)
	}
	sid := sessionOf(t, f, carol)
	post(url.Values{"action": {"end-session"}, "username": {"carol"}, "sid": {sid}}, http.StatusSeeOther, "/admin?notice=session-ended&user=carol")
	wantStatus(t, "carol's ended session", f.do(t, "GET", "/userinfo", "", "", "Cookie", carol.header()), 401)
	wantStatus(t, "carol's other session", f.do(t, "GET", "/userinfo", "", "", "Cookie", carol2.header()), 200)
	post(url.Values{"action": {"end-sessions"}, "username": {"carol"}}, http.StatusSeeOther, "/admin?notice=sessions-ended&user=carol")
	wantStatus(t, "carol's sessions after end-sessions", f.do(t, "GET", "/userinfo", "", "", "Cookie", carol2.header()), 401)

	// Disable: sessions end, sign-in refused; enable; reset the password.
	carol = f.pageSignin(t, "carol", carolPassword)
	post(url.Values{"action": {"disable"}, "username": {"carol"}}, http.StatusSeeOther, "/admin?notice=disabled")
	wantStatus(t, "disabled carol's session", f.do(t, "GET", "/userinfo", "", "", "Cookie", carol.header()), 401)
	if resp, _ := f.page(t, "POST", "/signin", url.Values{"username": {"carol"}, "password": {carolPassword}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled carol's sign-in: %d, want 401", resp.StatusCode)
	}
	_, page = f.page(t, "GET", "/admin", nil, "Cookie", root.header())
	if !strings.Contains(page, `<span class="badge off">Disabled</span>`) {
		t.Error("the page does not show carol disabled")
	}
	post(url.Values{"action": {"enable"}, "username": {"carol"}}, http.StatusSeeOther, "/admin?notice=enabled")
	const carolNew = "carol's brand new password"
	post(url.Values{"action": {"password"}, "username": {"carol"}, "password": {carolNew}}, http.StatusSeeOther, "/admin?notice=password-reset")
	f.pageSignin(t, "carol", carolNew)

	// Delete, with the confirmation step.
	_, page = f.page(t, "GET", "/admin?delete=carol", nil, "Cookie", root.header())
	if !strings.Contains(page, `id="confirm-delete"`) || !strings.Contains(page, `<input type="hidden" name="confirm" value="yes">`) {
		t.Errorf("no confirmation step:\n%s", page)
	}
	post(url.Values{"action": {"delete"}, "username": {"carol"}, "confirm": {"yes"}}, http.StatusSeeOther, "/admin?notice=deleted")
	_, page = f.page(t, "GET", "/admin?notice=deleted", nil, "Cookie", root.header())
	if strings.Contains(page, `data-username="carol"`) {
		t.Error("carol is listed after the deletion")
	}

	// The audit view, filtered by user and type.
	_, page = f.page(t, "GET", "/admin?audit_user=carol&audit_type=admin.", nil, "Cookie", root.header())
	audit := page[strings.Index(page, `<table id="audit">`):]
	for _, typ := range []string{evUserAdd, evAdminSessionEnd, evAdminSessionsAll, evUserDisable, evUserEnable, evUserPassword, evUserDelete} {
		if !strings.Contains(audit, "<td>"+typ+"</td>") {
			t.Errorf("the audit view lacks %s", typ)
		}
	}
	if !strings.Contains(audit, "<td><code>"+sid+"</code></td>") {
		t.Errorf("the audit view does not name the session %s that the admin ended", sid)
	}
	if strings.Contains(audit, "<td>"+evLoginSuccess+"</td>") {
		t.Error("the audit view filtered on admin. shows sign-ins")
	}
	if !strings.Contains(page, `<option value="admin." selected>`) {
		t.Error("the type filter does not show its choice")
	}
}

// sessionOf returns the session id of a browser's session, from the
// account endpoints.
func sessionOf(t *testing.T, f *fixture, b browser) string {
	t.Helper()
	r := f.do(t, "GET", "/account/sessions", "", "", "Cookie", b.header())
	list, _ := r.body["sessions"].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		if m["current"] == true {
			sid, _ := m["sid"].(string)
			return sid
		}
	}
	t.Fatalf("no current session: %s", r.raw)
	return ""
}

func TestAdminPageMarkup(t *testing.T) {
	f, _ := adminFixture(t)
	const markup = `<b id="x">bold</b> & "q" <script>alert(1)</script>`
	root := f.pageSignin(t, "root", testPassword)
	resp, body := f.adminPost(t, root, url.Values{"action": {"add"}, "username": {markup}, "password": {"a long enough password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a user with markup in the name: %d\n%s", resp.StatusCode, body)
	}
	for _, path := range []string{resp.Header.Get("Location"), "/admin?user=" + url.QueryEscape(markup), "/admin?delete=" + url.QueryEscape(markup),
		"/admin?audit_user=" + url.QueryEscape(markup)} {
		_, page := f.page(t, "GET", path, nil, "Cookie", root.header())
		if strings.Contains(page, `<b id="x">`) || strings.Contains(page, "<script>alert") || !strings.Contains(page, html.EscapeString("<b id=\"x\">bold</b>")) {
			t.Errorf("GET %s: the name is not shown as text\n%s", path, page)
		}
	}
}

func TestAdminPageNotFresh(t *testing.T) {
	f, _ := adminFixture(t)
	root := f.pageSignin(t, "root", testPassword)
	old := sessionOf(t, f, root)
	// A refresh: the new access token is not fresh.
	resp, body := f.page(t, "POST", "/refresh", nil, "Cookie", root.header(), "X-CSRF-TOKEN", root["csrf_refresh_token"])
	if resp.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	root.keep(resp)
	_, page := f.page(t, "GET", "/admin", nil, "Cookie", root.header())
	if !strings.Contains(page, `id="reauth-form"`) || !strings.Contains(page, html.EscapeString(msgNotFresh)) {
		t.Fatalf("the page does not ask for the password:\n%s", page)
	}
	resp, body = f.adminPost(t, root, url.Values{"action": {"disable"}, "username": {"alice"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Nothing was changed.") {
		t.Errorf("a change with a token that is not fresh: %d\n%s", resp.StatusCode, body)
	}
	if u, err := f.s.accounts.Users.Get(context.Background(), "alice"); err != nil || u.Disabled {
		t.Errorf("alice after the refused change: %+v, %v", u, err)
	}
	// The password again: wrong, then without CSRF, then right.
	resp, body = f.adminPost(t, root, url.Values{"action": {"reauth"}, "password": {"wrong password"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "That password is not right.") || len(resp.Cookies()) != 0 {
		t.Errorf("reauth with a wrong password: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = f.adminPost(t, root, url.Values{"action": {"reauth"}, "password": {testPassword}, "csrf_token": {"wrong"}})
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("reauth without the CSRF value: %d", resp.StatusCode)
	}
	before := root.header()
	resp, _ = f.adminPost(t, root, url.Values{"action": {"reauth"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin?notice=reauth" || len(resp.Cookies()) < 4 {
		t.Fatalf("reauth: %d to %q, cookies %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header["Set-Cookie"])
	}
	wantStatus(t, "the replaced session", f.do(t, "GET", "/userinfo", "", "", "Cookie", before), 401)
	if sid := sessionOf(t, f, root); sid == old {
		t.Error("reauth kept the old session")
	}
	_, page = f.page(t, "GET", "/admin?notice=reauth", nil, "Cookie", root.header())
	if strings.Contains(page, `id="reauth-form"`) || !strings.Contains(page, adminNotices["reauth"]) {
		t.Errorf("the page after reauth:\n%s", page)
	}
	resp, body = f.adminPost(t, root, url.Values{"action": {"disable"}, "username": {"alice"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a change after reauth: %d\n%s", resp.StatusCode, body)
	}
}

func TestAdminPagePaging(t *testing.T) {
	f, _ := adminFixture(t)
	ctx := context.Background()
	for i := range adminUsersPage + 5 {
		if err := f.s.accounts.Users.Add(ctx, "user"+string(rune('a'+i)), testPassword); err != nil {
			t.Fatal(err)
		}
	}
	root := f.pageSignin(t, "root", testPassword)
	_, page := f.page(t, "GET", "/admin", nil, "Cookie", root.header())
	if n := strings.Count(page, `<li class="session user"`); n != adminUsersPage {
		t.Errorf("first page: %d users, want %d", n, adminUsersPage)
	}
	// alice, root, then usera...: the page ends at user r.
	if !strings.Contains(page, `<a id="next-page" href="/admin?q=&amp;after=userr">`) || strings.Contains(page, "First page") {
		t.Fatalf("first page's links:\n%s", page)
	}
	_, page = f.page(t, "GET", "/admin?q=&after=userr", nil, "Cookie", root.header())
	if n := strings.Count(page, `<li class="session user"`); n != 7 || strings.Contains(page, `id="next-page"`) || !strings.Contains(page, "First page") ||
		!strings.Contains(page, `data-username="users"`) || strings.Contains(page, `data-username="userr"`) {
		t.Errorf("second page: %d users\n%s", n, page)
	}
	// A query the API refuses says why, on the panel it concerns.
	for _, c := range []struct{ query, panel string }{
		{"q=a%01b", "UsersError"},
		{"audit_user=a%01b", "AuditError"},
	} {
		_, page = f.page(t, "GET", "/admin?"+c.query, nil, "Cookie", root.header())
		if !strings.Contains(page, "The search was refused: ") || !strings.Contains(page, "control character") || strings.Contains(page, "right now") {
			t.Errorf("%s (%s): the page does not give the API's reason\n%s", c.query, c.panel, page)
		}
	}
	_, page = f.page(t, "GET", "/admin?q=userc", nil, "Cookie", root.header())
	if n := strings.Count(page, `<li class="session user"`); n != 1 || !strings.Contains(page, `data-username="userc"`) || !strings.Contains(page, `value="userc"`) {
		t.Errorf("search for userc: %d users\n%s", n, page)
	}
	_, page = f.page(t, "GET", "/admin?q=nobody", nil, "Cookie", root.header())
	if !strings.Contains(page, "No user matches.") {
		t.Errorf("search for nobody:\n%s", page)
	}
}

func TestAdminTemplate(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"signin.html":  `<p>{{.Message}}</p>`,
		"account.html": `<p>{{.Username}}</p>`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Without admin.html: the built-in admin page.
	u, err := newUI(UIConfig{TemplateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := u.admin.Execute(&b, AdminPage{ServiceName: "x"}); err != nil || !strings.Contains(b.String(), "<h1>Administration</h1>") {
		t.Errorf("the built-in admin page: %v\n%s", err, b.String())
	}
	// With it: that one, checked like the others.
	if err := os.WriteFile(filepath.Join(dir, "admin.html"), []byte(`<p>{{.Nothing}}</p>`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newUI(UIConfig{TemplateDir: dir}); err == nil || !strings.Contains(err.Error(), "admin.html does not render") {
		t.Errorf("with an admin.html that does not render: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "admin.html"), []byte(`<p>admin of {{.Username}}</p>`), 0o600); err != nil {
		t.Fatal(err)
	}
	if u, err = newUI(UIConfig{TemplateDir: dir}); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := u.admin.Execute(&b, AdminPage{Username: "<b>"}); err != nil || b.String() != "<p>admin of &lt;b&gt;</p>" {
		t.Errorf("the custom admin page: %v %q", err, b.String())
	}
}
