package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
)

// The admin page is HTML over the admin API, as the account page is over
// the account endpoints: each request makes its requests to /admin/...
// in process, with the browser's cookies, so that the role check, the
// freshness check, the CSRF check and the audit events are the API's.
// It works without JavaScript and has none.
//
//	GET  /admin    the users (q: search, after: paging), delete=NAME (the
//	               confirmation step of a deletion), user=NAME (that
//	               user's sessions), audit_user and audit_type (the
//	               audit filter); 403 page without the admin role
//	POST /admin    action=add (username, password, admin), disable,
//	               enable, password (username, password), delete
//	               (username, confirm=yes), end-session (username, sid),
//	               end-sessions (username), reauth (password); with
//	               csrf_token: 303 to /admin, or the page again with why
//
// The HTML page is GET and POST /admin, exactly; the JSON API is under
// /admin/, so the two never share a path.
//
// Changes need a fresh access token, one from a sign-in: after a
// refresh the page says that changes need the password again and shows
// a form for it (action=reauth). That form signs the administrator in
// again (POST /login in process: a new session with a fresh token, and
// a login.success event) and then ends the session it replaces (POST
// /logout with its tokens), so that the browser keeps one session.

// Page sizes of the admin page.
const (
	adminUsersPage = 20
	adminAuditPage = 50
)

// adminAuditTypes are the choices of the audit filter: every event type,
// and the prefixes that group them.
var adminAuditTypes = []string{
	"admin.", evUserAdd, evUserDelete, evUserDisable, evUserEnable, evUserPassword, evUserRole,
	evAdminSessionEnd, evAdminSessionsAll, evAdminDenied,
	"login.", evLoginSuccess, evLoginFailure, evRefresh, evReuseDetected, evLogout, evLogoutAll,
	evPasswordChange, evSessionEnded, evSessionsEnded, evKeyRotate,
}

// adminNotices are the messages a redirect to /admin may ask for. They
// are fixed texts: a link cannot make the page say what it wants.
var adminNotices = map[string]string{
	"added":          "The user was added.",
	"disabled":       "The user is disabled: they cannot sign in, and their sessions have ended.",
	"enabled":        "The user is enabled: they can sign in again.",
	"password-reset": "The password was reset, and the user's sessions have ended.",
	"deleted":        "The user was deleted, and their sessions have ended.",
	"session-ended":  "The session has ended.",
	"sessions-ended": "Every session of the user has ended.",
	"reauth":         "You signed in again: you can make changes.",
}

// msgNotFresh says why a change needs the password.
const msgNotFresh = "Changes need a recent sign-in, and yours was renewed without your password. Enter your password to make changes."

// isAdmin reports whether the user store says name holds the admin role
// and is not disabled; false when it cannot answer.
func (s *Server) isAdmin(ctx context.Context, name string) bool {
	if s.accounts == nil || s.accounts.Users == nil || name == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	u, err := s.accounts.Users.Get(ctx, name)
	return err == nil && u.Admin && !u.Disabled
}

// adminPageRoutes registers the admin page.
func (s *Server) adminPageRoutes(m *http.ServeMux) {
	fresh, err := s.gate.Route(jwtgate.RouteOptions{Fresh: true})
	if err != nil {
		panic(err) // the options are constant: a Gate made by New accepts them
	}
	s.freshRoute = fresh
	m.HandleFunc("GET /admin", s.adminPage)
	m.Handle("POST /admin", bounded(http.HandlerFunc(s.adminForm)))
}

// adminBase fills what every state of the admin page shows, or reports
// false having answered the request: no session (the sign-in page) or no
// admin role (the 403 page).
func (s *Server) adminBase(w http.ResponseWriter, r *http.Request) (AdminPage, bool) {
	d := AdminPage{ServiceName: s.ui.name, LogoURL: s.ui.logo, AuditTypes: adminAuditTypes}
	name, csrf, ok := s.pageUser(w, r)
	if !ok {
		return d, false
	}
	d.Username, d.CSRF = name, csrf
	if !s.isAdmin(r.Context(), name) {
		s.record(r.Context(), r, evAdminDenied, name, name, outcomeFailure,
			map[string]any{"method": r.Method, "path": "/admin"})
		d.Forbidden = true
		d.AuditTypes = nil
		d.Message, d.Kind = "This page is for administrators. Your account does not hold the admin role.", "error"
		s.render(w, s.ui.admin, http.StatusForbidden, d)
		return d, false
	}
	// Is the access token fresh? Asked as a GET, which needs no CSRF
	// value, also when the page answers a form.
	get := r.Clone(r.Context())
	get.Method = http.MethodGet
	_, err := s.freshRoute.Verify(get)
	d.Fresh = err == nil
	return d, true
}

// adminQuery are the parameters of GET /admin the page keeps across its
// forms.
type adminQuery struct {
	search, after, selected, confirmDelete, auditUser, auditType string
}

func readAdminQuery(q url.Values) adminQuery {
	cut := func(v string) string { return truncate(v, maxUsernameLen) }
	return adminQuery{search: cut(q.Get("q")), after: cut(q.Get("after")), selected: cut(q.Get("user")),
		confirmDelete: cut(q.Get("delete")), auditUser: cut(q.Get("audit_user")), auditType: truncate(q.Get("audit_type"), 64)}
}

// adminData fills the admin page from the admin API.
func (s *Server) adminData(r *http.Request, d *AdminPage, q adminQuery) {
	d.Search, d.After, d.AuditUser, d.AuditType = q.search, q.after, q.auditUser, q.auditType

	v := url.Values{"limit": {strconv.Itoa(adminUsersPage)}}
	if q.search != "" {
		v.Set("q", q.search)
	}
	if q.after != "" {
		v.Set("after", q.after)
	}
	res := s.subrequest(r, http.MethodGet, "/admin/users?"+v.Encode(), "", "", nil)
	var users struct {
		Users []userJSON `json:"users"`
		Next  string     `json:"next"`
	}
	if res.status != http.StatusOK || json.Unmarshal(res.body.Bytes(), &users) != nil {
		d.UsersError = listError(res, "The users cannot be listed right now.")
	}
	for _, u := range users.Users {
		d.Users = append(d.Users, AdminUserView{Username: u.Username, Created: stamp(u.Created), Admin: u.Admin, Disabled: u.Disabled})
	}
	d.Next = users.Next

	if q.confirmDelete != "" && ValidUsername(q.confirmDelete) == nil {
		d.ConfirmDelete = q.confirmDelete
	}
	if q.selected != "" && ValidUsername(q.selected) == nil {
		d.Selected = q.selected
		res := s.subrequest(r, http.MethodGet, "/admin/users/"+url.PathEscape(q.selected)+"/sessions", "", "", nil)
		var sessions struct {
			Sessions []struct {
				ID        string    `json:"sid"`
				Created   time.Time `json:"created"`
				LastUsed  time.Time `json:"last_used"`
				UserAgent string    `json:"user_agent"`
				Address   string    `json:"address"`
			} `json:"sessions"`
		}
		if res.status != http.StatusOK || json.Unmarshal(res.body.Bytes(), &sessions) != nil {
			d.SessionsError = listError(res, "The sessions of this user cannot be listed right now.")
		}
		for _, x := range sessions.Sessions {
			d.Sessions = append(d.Sessions, SessionView{ID: x.ID, Created: stamp(x.Created), LastUsed: stamp(x.LastUsed), UserAgent: x.UserAgent, Address: x.Address})
		}
	}

	a := url.Values{"limit": {strconv.Itoa(adminAuditPage)}}
	if q.auditUser != "" {
		a.Set("user", q.auditUser)
	}
	if q.auditType != "" {
		a.Set("type", q.auditType)
	}
	res = s.subrequest(r, http.MethodGet, "/admin/audit?"+a.Encode(), "", "", nil)
	var audit struct {
		Events []auditJSON `json:"events"`
	}
	if res.status != http.StatusOK || json.Unmarshal(res.body.Bytes(), &audit) != nil {
		d.AuditError = listError(res, "The audit log cannot be read right now.")
	}
	for _, e := range audit.Events {
		sid, _ := e.Details["session"].(string)
		d.Events = append(d.Events, AuditView{Time: stamp(e.Time), Type: e.Type, Actor: e.Actor, Subject: e.Subject,
			Address: e.Address, Outcome: e.Outcome, SessionID: sid})
	}
}

// listError is what the page says of a listing that failed: the API's
// reason when it refused the page's query (400), else unavailable.
func listError(res *subResponse, unavailable string) string {
	if res.status == http.StatusBadRequest {
		return "The search was refused: " + sentence(res.description())
	}
	return unavailable
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.adminBase(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	aq := readAdminQuery(q)
	s.adminData(r, &d, aq)
	if m, ok := adminNotices[q.Get("notice")]; ok {
		d.Message, d.Kind = m, "info"
	}
	if !d.Fresh && d.Message == "" {
		d.Message, d.Kind = msgNotFresh, "info"
	}
	s.render(w, s.ui.admin, http.StatusOK, d)
}

// adminFailed shows the admin page again, with the state of the form's
// page, and why the form failed.
func (s *Server) adminFailed(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d, ok := s.adminBase(w, r)
	if !ok {
		return
	}
	var q adminQuery
	if a := r.PostForm.Get("action"); a == "end-session" || a == "end-sessions" {
		q.selected = r.PostForm.Get("username")
	}
	s.adminData(r, &d, q)
	d.Message, d.Kind = msg, "error"
	s.render(w, s.ui.admin, status, d)
}

// adminForm runs one form of the admin page through the admin API.
func (s *Server) adminForm(w http.ResponseWriter, r *http.Request) {
	if err := s.origins.Check(r); err != nil {
		s.adminFailed(w, r, http.StatusForbidden, "This form was sent from another site, so it was not accepted.")
		return
	}
	if err := readPageForm(w, r); err != nil {
		s.adminFailed(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := r.PostForm
	action, name, csrf := f.Get("action"), f.Get("username"), f.Get(formCSRFField)
	if action == "reauth" {
		s.adminReauth(w, r)
		return
	}
	if err := ValidUsername(name); err != nil {
		s.adminFailed(w, r, http.StatusBadRequest, "No user was chosen.")
		return
	}
	user := "/admin/users/" + url.PathEscape(name)
	var res *subResponse
	var notice string
	jsonBody := func(v any) []byte {
		b, _ := json.Marshal(v) // strings and booleans only
		return b
	}
	switch action {
	case "add":
		body := jsonBody(newUser{Username: name, Password: f.Get("password"), Admin: f.Get("admin") == "yes"})
		res, notice = s.subrequest(r, http.MethodPost, "/admin/users", "application/json", csrf, body), "added"
	case "disable", "enable":
		res, notice = s.subrequest(r, http.MethodPost, user+"/"+action, "", csrf, nil), action+"d"
	case "password":
		body := jsonBody(passwordReset{Password: f.Get("password")})
		res, notice = s.subrequest(r, http.MethodPost, user+"/password", "application/json", csrf, body), "password-reset"
	case "delete":
		if f.Get("confirm") != "yes" {
			s.adminFailed(w, r, http.StatusBadRequest, "Confirm the deletion first.")
			return
		}
		res, notice = s.subrequest(r, http.MethodDelete, user, "", csrf, nil), "deleted"
	case "end-session":
		sid := f.Get("sid")
		if sid == "" || strings.ContainsAny(sid, "/?#%") {
			s.adminFailed(w, r, http.StatusBadRequest, "No session was chosen.")
			return
		}
		res, notice = s.subrequest(r, http.MethodDelete, user+"/sessions/"+url.PathEscape(sid), "", csrf, nil), "session-ended"
	case "end-sessions":
		res, notice = s.subrequest(r, http.MethodDelete, user+"/sessions", "", csrf, nil), "sessions-ended"
	default:
		s.adminFailed(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	res.copyCookies(w)
	switch {
	case res.status >= 200 && res.status < 300:
		v := url.Values{"notice": {notice}}
		if action == "end-session" || action == "end-sessions" {
			v.Set("user", name) // back to that user's sessions
		}
		target := "/admin?" + v.Encode()
		s.pageHeaders(w, "text/plain; charset=utf-8", true)
		http.Redirect(w, r, target, http.StatusSeeOther)
	case res.status == http.StatusUnauthorized && strings.Contains(strings.ToLower(res.description()), "fresh"):
		s.adminFailed(w, r, http.StatusUnauthorized, "Nothing was changed. "+msgNotFresh)
	case res.status == http.StatusUnauthorized:
		// The access token expired or the session ended: the page
		// resumes the session if it can, else asks to sign in.
		s.pageHeaders(w, "text/plain; charset=utf-8", true)
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
	case res.status == http.StatusForbidden && res.code() == "csrf_failed":
		s.adminFailed(w, r, http.StatusForbidden, "This page was out of date, so nothing was changed. Try again.")
	case res.status == http.StatusNotFound && action == "end-session":
		s.adminFailed(w, r, http.StatusNotFound, "That session has already ended.")
	case res.status == http.StatusNotFound:
		s.adminFailed(w, r, http.StatusNotFound, "There is no user of that name.")
	case res.status >= 500:
		s.adminFailed(w, r, res.status, "The service cannot do this right now. Nothing may have changed: try again in a moment.")
	default:
		// 400 and 409 (a name taken, a password the policy refuses,
		// one's own account): the API's reason; 403 (the role was
		// taken away meanwhile): adminBase answers with the 403 page.
		s.adminFailed(w, r, res.status, sentence(res.description()))
	}
}

// adminReauth signs the administrator in again with their password, for
// a fresh token, and ends the session it replaces.
func (s *Server) adminReauth(w http.ResponseWriter, r *http.Request) {
	name, _, ok := s.pageUser(w, r)
	if !ok {
		return
	}
	// The Gate checks the CSRF value of the logout below; this form
	// also signs in, which needs none, so check it first, as the Gate
	// does: the form's value against the CSRF cookie.
	c, err := r.Cookie(s.cookies.CSRFAccessName)
	got := r.PostForm.Get(formCSRFField)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) != 1 {
		s.adminFailed(w, r, http.StatusForbidden, "This page was out of date, so nothing was changed. Try again.")
		return
	}
	body, err := json.Marshal(map[string]string{"username": name, "password": r.PostForm.Get("password")})
	if err != nil {
		s.adminFailed(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	res := s.subrequest(r, http.MethodPost, "/login?cookies=1", "application/json", "", body)
	switch res.status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusBadRequest:
		s.adminFailed(w, r, http.StatusUnauthorized, "That password is not right. "+msgNotFresh)
		return
	case http.StatusTooManyRequests:
		s.adminFailed(w, r, http.StatusTooManyRequests, "Too many attempts: try again later.")
		return
	default:
		s.adminFailed(w, r, http.StatusServiceUnavailable, "The service cannot sign you in right now. Try again in a moment.")
		return
	}
	// The old session ends; its answer's cookies are not passed on: the
	// new session's are.
	if out := s.subrequest(r, http.MethodPost, "/logout", "", got, nil); out.status != http.StatusOK {
		s.log.Warn("admin page: the session replaced by a new sign-in did not end", "status", out.status, "error", out.code())
	}
	res.copyCookies(w)
	s.pageHeaders(w, "text/plain; charset=utf-8", true)
	http.Redirect(w, r, "/admin?notice=reauth", http.StatusSeeOther)
}
