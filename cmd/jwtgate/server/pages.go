package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The sign-in and account pages are HTML over the JSON endpoints: each
// page request makes its own requests to the service's endpoints in
// process (POST /login?cookies=1, GET /userinfo, the /account endpoints,
// POST /logout), with the browser's cookies, address and user agent, so
// that a form sign-in goes through the same credential checks, rate
// limits and records as a JSON one, and the CSRF value of a form is
// checked by the same Gate as the X-CSRF-TOKEN header. The pages work
// without JavaScript; their scripts (/ui/signin.js, /ui/account.js) call
// the JSON endpoints directly.
//
//	GET  /         303 to /account with session cookies, else to /signin
//	GET  /signin   the sign-in form
//	POST /signin   username and password, form-encoded: 303 to /account
//	               with the session cookies, or the form again with why;
//	               or resume=1 and csrf_token (the refresh CSRF value): a
//	               refresh (POST /refresh) of a session whose access token
//	               expired, 303 to /account
//	GET  /account  the user's sessions and the password form (303 to
//	               /signin without a session)
//	POST /account  action=end-session (sid), end-others, or password
//	               (current_password, new_password), with csrf_token:
//	               303 to /account, or the page again with why
//	POST /signout  csrf_token: ends the session, 303 to /signin
//	GET  /ui/...   style sheets and scripts; /ui/custom/... the files of
//	               a template directory's static/

// The account endpoints the account page uses.
const (
	accountSessionsPath   = "/account/sessions"
	accountEndOthersPath  = "/account/sessions/end-others"
	accountPasswordPath   = "/account/password"
	accountSessionPattern = "/account/sessions/" // + sid
)

// formCSRFField is the form field that carries the CSRF value.
const formCSRFField = "csrf_token"

// pageHeaders sets the headers of every page and asset.
func (s *Server) pageHeaders(w http.ResponseWriter, contentType string, private bool) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", s.ui.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if private {
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
}

func (s *Server) render(w http.ResponseWriter, t *template.Template, status int, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.Error("page template", "page", t.Name(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.pageHeaders(w, "text/html; charset=utf-8", true)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// asset serves a file of /ui/.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.HasPrefix(r.URL.Path, "/ui/custom/") {
		name = "custom/" + name
	}
	a, ok := s.ui.assets[name]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no endpoint at this path")
		return
	}
	s.pageHeaders(w, a.contentType, false)
	w.Write(a.body)
}

// home sends a browser with session cookies to its account, others to
// the sign-in page.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	cc := s.cookies
	target := "/signin"
	for _, n := range []string{cc.AccessName, cc.RefreshName} {
		if c, err := r.Cookie(n); err == nil && c.Value != "" {
			target = "/account"
		}
	}
	s.pageHeaders(w, "text/plain; charset=utf-8", true)
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// Messages of the sign-in page. None says whether a username exists.
const (
	msgBadCredentials = "The username or password is not right."
	msgRateLimited    = "Too many attempts."
	msgUnavailable    = "The service cannot sign you in right now."
	msgCrossSite      = "This form was sent from another site, so it was not accepted. Sign in on this page."
	msgBadForm        = "Enter your username and password."
	msgFailed         = "Something went wrong on our side. Try again."
)

// signinNotices are the messages a redirect to /signin may ask for.
var signinNotices = map[string]string{
	"expired":    "Your session has ended. Sign in again.",
	"signed-out": "You have signed out.",
}

func (s *Server) signinData() SignInPage {
	return SignInPage{ServiceName: s.ui.name, LogoURL: s.ui.logo}
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	d := s.signinData()
	if m, ok := signinNotices[r.URL.Query().Get("notice")]; ok {
		d.Message, d.Kind = m, "info"
	}
	s.render(w, s.ui.signin, http.StatusOK, d)
}

// readPageForm parses a form-encoded body of at most maxBody bytes.
func readPageForm(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return errors.New("not a form")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	return r.ParseForm()
}

// signin signs in with a form: the same request as the page's script
// makes, POST /login?cookies=1, made in process.
func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	d := s.signinData()
	fail := func(status int, msg string) {
		d.Message, d.Kind = msg, "error"
		s.render(w, s.ui.signin, status, d)
	}
	if err := s.origins.Check(r); err != nil {
		fail(http.StatusForbidden, msgCrossSite)
		return
	}
	if err := readPageForm(w, r); err != nil {
		fail(http.StatusBadRequest, msgBadForm)
		return
	}
	if r.PostForm.Get("resume") == "1" {
		s.resume(w, r)
		return
	}
	d.Username = r.PostForm.Get("username")
	password := r.PostForm.Get("password")
	if d.Username == "" || password == "" {
		fail(http.StatusBadRequest, msgBadForm)
		return
	}
	body, err := json.Marshal(map[string]string{"username": d.Username, "password": password})
	if err != nil {
		fail(http.StatusBadRequest, msgBadForm)
		return
	}
	res := s.subrequest(r, http.MethodPost, "/login?cookies=1", "application/json", "", body)
	switch res.status {
	case http.StatusOK:
		res.copyCookies(w)
		s.pageHeaders(w, "text/plain; charset=utf-8", true)
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	case http.StatusUnauthorized:
		fail(http.StatusUnauthorized, msgBadCredentials)
	case http.StatusTooManyRequests:
		d.RetryAfter = res.retryAfter()
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfter))
		fail(http.StatusTooManyRequests, msgRateLimited)
	case http.StatusServiceUnavailable:
		d.RetryAfter = res.retryAfter()
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfter))
		fail(http.StatusServiceUnavailable, msgUnavailable)
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		// The username or password breaks the limits every login checks
		// (length, UTF-8): the description says which.
		fail(http.StatusBadRequest, "Check your username and password: "+res.description()+".")
	default:
		fail(http.StatusInternalServerError, msgFailed)
	}
}

// resume refreshes the session of a browser whose access token expired:
// POST /refresh, in process, with the form's CSRF value.
func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	res := s.subrequest(r, http.MethodPost, "/refresh", "", r.PostForm.Get(formCSRFField), nil)
	switch {
	case res.status == http.StatusOK:
		res.copyCookies(w)
		s.pageHeaders(w, "text/plain; charset=utf-8", true)
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	case res.status >= 500:
		d := s.signinData()
		d.Message, d.Kind, d.RetryAfter = msgUnavailable, "error", res.retryAfter()
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfter))
		s.render(w, s.ui.signin, res.status, d)
	default:
		// Ended, reused, or a stale page: sign in again.
		s.gate.UnsetJWTCookies(w)
		s.toSignin(w, r, "expired")
	}
}

// resumePage offers to refresh the session of a browser that holds a
// refresh token but no working access token; without one, it sends the
// browser to sign in.
func (s *Server) resumePage(w http.ResponseWriter, r *http.Request) {
	cc := s.cookies
	rc, err1 := r.Cookie(cc.RefreshName)
	csrf, err2 := r.Cookie(cc.CSRFRefreshName)
	if err1 != nil || err2 != nil || rc.Value == "" || csrf.Value == "" {
		s.toSignin(w, r, "")
		return
	}
	d := s.signinData()
	d.Resume = csrf.Value
	d.Message, d.Kind = "Welcome back. Continue where you left off.", "info"
	s.render(w, s.ui.signin, http.StatusOK, d)
}

// toSignin sends the browser to the sign-in page with a notice.
func (s *Server) toSignin(w http.ResponseWriter, r *http.Request, notice string) {
	s.pageHeaders(w, "text/plain; charset=utf-8", true)
	target := "/signin"
	if notice != "" {
		target += "?notice=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// accountNotices are the messages a redirect to /account may ask for.
var accountNotices = map[string]string{
	"ended":            "The session has ended.",
	"others-ended":     "Every other session has ended.",
	"password-changed": "Your password has changed. Your other sessions have ended.",
}

// pageUser finds the signed-in user of a page request, with the CSRF
// value of the forms, through GET /userinfo in process. It reports false,
// having answered the request, when the browser has no working session:
// the page to resume it, or the sign-in page.
func (s *Server) pageUser(w http.ResponseWriter, r *http.Request) (username, csrf string, ok bool) {
	cc := s.cookies
	if c, err := r.Cookie(cc.AccessName); err != nil || c.Value == "" {
		s.resumePage(w, r)
		return "", "", false
	}
	who := s.subrequest(r, http.MethodGet, "/userinfo", "", "", nil)
	switch who.status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		if c, err := r.Cookie(cc.RefreshName); err == nil && c.Value != "" {
			s.resumePage(w, r)
			return "", "", false
		}
		s.toSignin(w, r, "expired")
		return "", "", false
	default:
		s.render(w, s.ui.signin, who.status, SignInPage{ServiceName: s.ui.name, LogoURL: s.ui.logo, Message: msgUnavailable, Kind: "error", RetryAfter: who.retryAfter()})
		return "", "", false
	}
	var u struct {
		Username string `json:"username"`
	}
	json.Unmarshal(who.body.Bytes(), &u)
	if c, err := r.Cookie(cc.CSRFAccessName); err == nil {
		csrf = c.Value
	}
	return u.Username, csrf, true
}

// accountData fills the account page from the JSON endpoints. It reports
// false, having answered the request, when the browser has no session.
func (s *Server) accountData(w http.ResponseWriter, r *http.Request) (AccountPage, bool) {
	d := AccountPage{ServiceName: s.ui.name, LogoURL: s.ui.logo}
	name, csrf, ok := s.pageUser(w, r)
	if !ok {
		return d, false
	}
	d.Username, d.CSRF = name, csrf
	d.Admin = s.isAdmin(r.Context(), name)
	list := s.subrequest(r, http.MethodGet, accountSessionsPath, "", "", nil)
	if list.status != http.StatusOK {
		d.SessionsError = "Your sessions cannot be listed right now."
		return d, true
	}
	var sessions struct {
		Sessions []struct {
			ID        string    `json:"sid"`
			Created   time.Time `json:"created"`
			LastUsed  time.Time `json:"last_used"`
			UserAgent string    `json:"user_agent"`
			Address   string    `json:"address"`
			Current   bool      `json:"current"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(list.body.Bytes(), &sessions); err != nil {
		s.log.Error("account page: the sessions list", "err", err)
		d.SessionsError = "Your sessions cannot be listed right now."
		return d, true
	}
	for _, x := range sessions.Sessions {
		v := SessionView{ID: x.ID, Created: stamp(x.Created), LastUsed: stamp(x.LastUsed), UserAgent: x.UserAgent, Address: x.Address, Current: x.Current}
		if v.Current {
			d.Sessions = append([]SessionView{v}, d.Sessions...)
		} else {
			d.Sessions = append(d.Sessions, v)
		}
	}
	return d, true
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.accountData(w, r)
	if !ok {
		return
	}
	if m, ok := accountNotices[r.URL.Query().Get("notice")]; ok {
		d.Message, d.Kind = m, "info"
	}
	s.render(w, s.ui.account, http.StatusOK, d)
}

// account runs one form of the account page.
func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	if err := s.origins.Check(r); err != nil {
		s.accountFailed(w, r, http.StatusForbidden, "This form was sent from another site, so it was not accepted.")
		return
	}
	if err := readPageForm(w, r); err != nil {
		s.accountFailed(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	csrf := r.PostForm.Get(formCSRFField)
	var res *subResponse
	notice := ""
	switch r.PostForm.Get("action") {
	case "end-session":
		sid := r.PostForm.Get("sid")
		if sid == "" || strings.ContainsAny(sid, "/?#%") {
			s.accountFailed(w, r, http.StatusBadRequest, "No session was chosen.")
			return
		}
		res = s.subrequest(r, http.MethodDelete, accountSessionPattern+url.PathEscape(sid), "", csrf, nil)
		notice = "ended"
	case "end-others":
		res = s.subrequest(r, http.MethodPost, accountEndOthersPath, "", csrf, nil)
		notice = "others-ended"
	case "password":
		body, err := json.Marshal(map[string]string{
			"current_password": r.PostForm.Get("current_password"),
			"new_password":     r.PostForm.Get("new_password"),
		})
		if err != nil {
			s.accountFailed(w, r, http.StatusBadRequest, "The form could not be read.")
			return
		}
		res = s.subrequest(r, http.MethodPost, accountPasswordPath, "application/json", csrf, body)
		notice = "password-changed"
	default:
		s.accountFailed(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	res.copyCookies(w)
	switch {
	case res.status >= 200 && res.status < 300:
		s.pageHeaders(w, "text/plain; charset=utf-8", true)
		http.Redirect(w, r, "/account?notice="+notice, http.StatusSeeOther)
	case res.status == http.StatusUnauthorized:
		// The access token expired or the session ended: the account
		// page resumes the session if it can, else asks to sign in.
		s.pageHeaders(w, "text/plain; charset=utf-8", true)
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	case res.status == http.StatusForbidden && res.code() == "csrf_failed":
		s.accountFailed(w, r, http.StatusForbidden, "This page was out of date, so nothing was changed. Try again.")
	case res.status == http.StatusNotFound:
		s.accountFailed(w, r, http.StatusNotFound, "That session has already ended.")
	case res.status >= 500:
		s.accountFailed(w, r, res.status, "The service cannot do this right now. Try again in a moment.")
	default:
		s.accountFailed(w, r, res.status, formMessage(res.description()))
	}
}

// formMessage turns the description of a refused account request into a
// sentence about the form's fields.
func formMessage(desc string) string {
	for _, f := range []struct{ member, field string }{
		{"new_password: ", "The new password is not accepted: "},
		{"current_password: ", "The current password is not accepted: "},
	} {
		if rest, ok := strings.CutPrefix(desc, f.member); ok {
			_, why, found := strings.Cut(rest, ": ")
			if !found {
				why = rest
			}
			return f.field + strings.TrimSuffix(why, ".") + "."
		}
	}
	return sentence(desc)
}

// accountFailed shows the account page again with why a form failed.
func (s *Server) accountFailed(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d, ok := s.accountData(w, r)
	if !ok {
		return
	}
	d.Message, d.Kind = msg, "error"
	s.render(w, s.ui.account, status, d)
}

// signout ends the session with a form: POST /logout, in process.
func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	if err := s.origins.Check(r); err != nil {
		s.accountFailed(w, r, http.StatusForbidden, "This form was sent from another site, so it was not accepted.")
		return
	}
	if err := readPageForm(w, r); err != nil {
		s.accountFailed(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	res := s.subrequest(r, http.MethodPost, "/logout", "", r.PostForm.Get(formCSRFField), nil)
	switch {
	case res.status == http.StatusOK:
		res.copyCookies(w)
		s.toSignin(w, r, "signed-out")
	case res.status == http.StatusUnauthorized:
		// The session had already ended: forget its cookies.
		s.gate.UnsetJWTCookies(w)
		s.toSignin(w, r, "expired")
	case res.status == http.StatusForbidden && res.code() == "csrf_failed":
		s.accountFailed(w, r, http.StatusForbidden, "This page was out of date, so you are still signed in. Try again.")
	default:
		s.accountFailed(w, r, res.status, "The service cannot sign you out right now. Try again in a moment.")
	}
}

// sentence makes an error description a sentence.
func sentence(s string) string {
	if s == "" {
		return "The change was refused."
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// subResponse is the answer of an in-process request.
type subResponse struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *subResponse) Header() http.Header { return c.header }

func (c *subResponse) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *subResponse) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// copyCookies passes the Set-Cookie lines of the answer on to w.
func (c *subResponse) copyCookies(w http.ResponseWriter) {
	for _, v := range c.header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", v)
	}
}

// retryAfter is the answer's Retry-After in seconds, at least 1.
func (c *subResponse) retryAfter() int {
	n, err := strconv.Atoi(c.header.Get("Retry-After"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (c *subResponse) jsonError() (code, desc string) {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	json.Unmarshal(c.body.Bytes(), &e)
	return e.Error, e.Description
}

func (c *subResponse) code() string { code, _ := c.jsonError(); return code }

func (c *subResponse) description() string { _, d := c.jsonError(); return d }

// subrequest makes a request to the service's endpoints in process, with
// r's context, address and headers (cookies, user agent, forwarding), and
// returns the answer. contentType and body are the request's; csrf, when
// not empty, goes in the CSRF header, where the Gate checks it against
// the CSRF cookie as it checks the scripts' requests.
func (s *Server) subrequest(r *http.Request, method, target, contentType, csrf string, body []byte) *subResponse {
	u, err := url.Parse(target)
	if err != nil {
		panic("server: bad in-process target " + target)
	}
	req := r.Clone(r.Context())
	req.Method = method
	req.URL = u
	req.RequestURI = u.RequestURI()
	req.Pattern = ""
	cc := s.cookies
	for _, h := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Expect", cc.CSRFAccessHeader, cc.CSRFRefreshHeader} {
		req.Header.Del(h)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if csrf != "" {
		req.Header.Set(cc.CSRFAccessHeader, csrf)
		req.Header.Set(cc.CSRFRefreshHeader, csrf)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = nil
	res := &subResponse{header: http.Header{}}
	s.mux.ServeHTTP(res, req)
	if res.status == 0 {
		res.status = http.StatusOK
	}
	return res
}
