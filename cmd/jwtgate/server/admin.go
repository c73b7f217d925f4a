package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
)

// The admin API (JSON), for users with the admin role, checked in the
// user store on every request. Reads need an access token; changes need a
// fresh one (from a sign-in, not a refresh). Every change is written to
// the audit log (see Accounts); a change the audit log cannot record is
// not made (503).
//
//	GET    /admin/users?q=&after=&limit=        users, by name, paged
//	POST   /admin/users                         add {"username","password","admin"}
//	GET    /admin/users/{username}              one user
//	DELETE /admin/users/{username}              delete (ends its sessions)
//	POST   /admin/users/{username}/disable      disable (ends its sessions)
//	POST   /admin/users/{username}/enable       enable
//	POST   /admin/users/{username}/password     reset {"password"} (ends its sessions)
//	POST   /admin/users/{username}/role         {"admin": true|false}
//	GET    /admin/users/{username}/sessions     its active sessions
//	DELETE /admin/users/{username}/sessions     end them all
//	DELETE /admin/users/{username}/sessions/{sid}  end one
//	GET    /admin/keys                          signing keys, state and times
//	POST   /admin/keys/rotate                   rotate {"alg","now"} (both optional)
//	GET    /admin/audit?user=&type=&since=&until=&before=&limit=  events, newest first
//
// and, with a client registry, the OAuth clients (see adminClientRoutes).
func (s *Server) adminRoutes(m *http.ServeMux) {
	read := func(h http.HandlerFunc) http.Handler {
		return bounded(s.gate.Required(s.verified(s.requireAdmin(h))))
	}
	change := func(h http.HandlerFunc) http.Handler {
		return bounded(s.gate.Protect(jwtgate.RouteOptions{Fresh: true})(s.verified(s.requireAdmin(h))))
	}
	m.Handle("GET /admin/users", read(s.adminListUsers))
	m.Handle("POST /admin/users", change(s.adminAddUser))
	m.Handle("GET /admin/users/{username}", read(s.adminGetUser))
	m.Handle("DELETE /admin/users/{username}", change(s.adminDeleteUser))
	m.Handle("POST /admin/users/{username}/disable", change(s.adminSetDisabled(true)))
	m.Handle("POST /admin/users/{username}/enable", change(s.adminSetDisabled(false)))
	m.Handle("POST /admin/users/{username}/password", change(s.adminResetPassword))
	m.Handle("POST /admin/users/{username}/role", change(s.adminSetRole))
	m.Handle("GET /admin/users/{username}/sessions", read(s.adminSessions))
	m.Handle("DELETE /admin/users/{username}/sessions", change(s.adminEndSessions))
	m.Handle("DELETE /admin/users/{username}/sessions/{sid}", change(s.adminEndSession))
	m.Handle("GET /admin/keys", read(s.adminKeys))
	if s.cfg.KeyStore != nil {
		m.Handle("POST /admin/keys/rotate", change(s.adminRotateKey))
	}
	m.Handle("GET /admin/audit", read(s.adminAudit))
	if s.accounts.Clients != nil {
		s.adminClientRoutes(m, read, change)
	}
}

// requireAdmin lets the request through only when the token's user holds
// the admin role and is not disabled, as the user store says now.
func (s *Server) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, _ := jwtgate.TokenFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
		u, err := s.accounts.Users.Get(ctx, t.Identity)
		cancel()
		if err != nil && !errors.Is(err, ErrUserNotFound) {
			s.log.Error("user store", "err", err)
			unavailable(w, "the user store cannot answer")
			return
		}
		if err != nil || !u.Admin || u.Disabled {
			s.record(r.Context(), r, evAdminDenied, t.Identity, t.Identity, outcomeFailure,
				map[string]any{"method": r.Method, "path": truncate(r.URL.Path, 200)})
			writeError(w, http.StatusForbidden, "insufficient_scope", "the admin role is required")
			return
		}
		h(w, r)
	}
}

// userJSON is a user as the admin API shows it.
type userJSON struct {
	Username string    `json:"username"`
	Created  time.Time `json:"created"`
	Admin    bool      `json:"admin"`
	Disabled bool      `json:"disabled"`
}

func toUserJSON(u User) userJSON {
	return userJSON{Username: u.Username, Created: u.Created.UTC(), Admin: u.Admin, Disabled: u.Disabled}
}

// defaultPage is the page size when the request names none.
const defaultPage = 50

// pageLimit reads the limit parameter: 1 to max, defaultPage when absent.
func pageLimit(q url.Values, max int) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return min(defaultPage, max), true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, false
	}
	return n, true
}

// textParam checks a text parameter of the admin API (a query value or
// a path value) before it reaches a store: at most max bytes of UTF-8
// without control characters. No name holds anything else, and
// PostgreSQL refuses NUL and invalid UTF-8 as a failure of the query.
func textParam(name, v string, max int) error {
	switch {
	case len(v) > max:
		return fmt.Errorf("%s: at most %d bytes", name, max)
	case !utf8.ValidString(v):
		return fmt.Errorf("%s: not UTF-8", name)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return fmt.Errorf("%s: control character", name)
	}
	return nil
}

// pathUser reads and checks the {username} of the path, or answers 400.
func pathUser(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("username")
	if err := ValidUsername(name); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return "", false
	}
	return name, true
}

// userError answers a failed user change.
func (s *Server) userError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, ErrUserNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such user")
	case errors.Is(err, ErrUserExists):
		writeError(w, http.StatusConflict, "conflict", "a user of that name exists")
	case errors.Is(err, ErrBadUsername), errors.Is(err, ErrBadPassword):
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
	default:
		s.storeFailure(w, what, err)
	}
}

func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := pageLimit(q, maxUsersPage)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request", "limit: want 1 to "+strconv.Itoa(maxUsersPage))
		return
	}
	search, after := q.Get("q"), q.Get("after")
	for _, p := range []struct{ name, v string }{{"q", search}, {"after", after}} {
		if err := textParam(p.name, p.v, maxUsernameLen); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	list, err := s.accounts.Users.Page(ctx, search, after, limit)
	if err != nil {
		s.log.Error("list users", "err", err)
		unavailable(w, "the user store cannot answer")
		return
	}
	out := map[string]any{"users": mapSlice(list, toUserJSON)}
	if len(list) == limit {
		out["next"] = list[len(list)-1].Username
	}
	writeJSON(w, http.StatusOK, out)
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, x := range in {
		out = append(out, f(x))
	}
	return out
}

func (s *Server) adminGetUser(w http.ResponseWriter, r *http.Request) {
	name, ok := pathUser(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	u, err := s.accounts.Users.Get(ctx, name)
	if err != nil {
		s.userError(w, "get user", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": toUserJSON(u)})
}

// newUser is the body of POST /admin/users.
type newUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
}

func (s *Server) adminAddUser(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	var body newUser
	if !readJSON(w, r, &body) {
		return
	}
	if err := ValidUsername(body.Username); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "username: "+err.Error())
		return
	}
	if err := s.accounts.Users.Policy.Check(body.Username, body.Password); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "password: "+err.Error())
		return
	}
	h, ok := s.hashInSlot(w, r, body.Password)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	if err := s.accounts.addHashed(ctx, s.actor(r, t.Identity), body.Username, h, body.Admin); err != nil {
		s.userError(w, "add user", err)
		return
	}
	u, err := s.accounts.Users.Get(ctx, body.Username)
	if err != nil {
		u = User{Username: body.Username, Admin: body.Admin, Created: s.cfg.Clock()}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": toUserJSON(u)})
}

// notSelf refuses a change that would lock the caller out (disabling or
// deleting its own account): another administrator must do it.
func notSelf(w http.ResponseWriter, r *http.Request, name string) bool {
	t, _ := jwtgate.TokenFrom(r.Context())
	if t.Identity == name {
		writeError(w, http.StatusConflict, "conflict", "an administrator cannot disable or delete their own account")
		return false
	}
	return true
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	name, ok := pathUser(w, r)
	if !ok || !notSelf(w, r, name) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	err := s.accounts.DeleteUser(ctx, s.actor(r, t.Identity), name)
	s.present.forget(name)
	if err != nil {
		s.userError(w, "delete user", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": name})
}

func (s *Server) adminSetDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, _ := jwtgate.TokenFrom(r.Context())
		name, ok := pathUser(w, r)
		if !ok || (disabled && !notSelf(w, r, name)) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
		defer cancel()
		if err := s.accounts.SetDisabled(ctx, s.actor(r, t.Identity), name, disabled); err != nil {
			s.userError(w, "disable or enable user", err)
			return
		}
		s.present.forget(name)
		u, err := s.accounts.Users.Get(ctx, name)
		if err != nil {
			u = User{Username: name, Disabled: disabled}
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": toUserJSON(u)})
	}
}

// roleChange is the body of POST /admin/users/{username}/role.
type roleChange struct {
	Admin *bool `json:"admin"`
}

func (s *Server) adminSetRole(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	name, ok := pathUser(w, r)
	if !ok {
		return
	}
	var body roleChange
	if !readJSON(w, r, &body) {
		return
	}
	if body.Admin == nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "admin (true or false) is required")
		return
	}
	if !*body.Admin && t.Identity == name {
		writeError(w, http.StatusConflict, "conflict", "an administrator cannot take their own admin role away")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	if err := s.accounts.SetAdmin(ctx, s.actor(r, t.Identity), name, *body.Admin); err != nil {
		s.userError(w, "set role", err)
		return
	}
	u, err := s.accounts.Users.Get(ctx, name)
	if err != nil {
		u = User{Username: name, Admin: *body.Admin}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": toUserJSON(u)})
}

// passwordReset is the body of POST /admin/users/{username}/password.
type passwordReset struct {
	Password string `json:"password"`
}

func (s *Server) adminResetPassword(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	name, ok := pathUser(w, r)
	if !ok {
		return
	}
	var body passwordReset
	if !readJSON(w, r, &body) {
		return
	}
	if err := s.accounts.Users.Policy.Check(name, body.Password); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "password: "+err.Error())
		return
	}
	h, ok := s.hashInSlot(w, r, body.Password)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	actor := s.actor(r, t.Identity)
	if err := s.accounts.setHash(ctx, actor, evUserPassword, name, h); err != nil {
		s.userError(w, "reset password", err)
		return
	}
	if _, err := s.accounts.endAllAgain(ctx, name, endedPasswordChange); err != nil {
		s.storeFailure(w, "reset password: end sessions", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"password_reset": name})
}

func (s *Server) adminSessions(w http.ResponseWriter, r *http.Request) {
	_, current := caller(r)
	name, ok := pathUser(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	list, err := s.accounts.activeSessions(ctx, name)
	if err != nil {
		s.log.Error("list sessions", "err", err)
		unavailable(w, "the stores cannot answer")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": sessionsJSON(list, current)})
}

func (s *Server) adminEndSessions(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	name, ok := pathUser(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	n, err := s.accounts.endSessions(ctx, s.actor(r, t.Identity), evAdminSessionsAll, name, endedByAdmin)
	if err != nil {
		s.storeFailure(w, "end sessions", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ended": n})
}

func (s *Server) adminEndSession(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	name, ok := pathUser(w, r)
	if !ok {
		return
	}
	sid := r.PathValue("sid")
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	err := s.accounts.endSession(ctx, s.actor(r, t.Identity), evAdminSessionEnd, name, sid, endedByAdmin)
	if errors.Is(err, ErrSessionNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such session of that user")
		return
	}
	if err != nil {
		s.storeFailure(w, "end session", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ended": sid})
}

// keyJSON is a signing key as the admin API shows it (never its private
// part).
type keyJSON struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	// State: "signing" (the signer now), "pending" (published, signs from
	// activate_at), "verifying" (replaced; verifies its tokens until
	// retire_at).
	State      string     `json:"state"`
	ActivateAt *time.Time `json:"activate_at,omitempty"`
	RetireAt   *time.Time `json:"retire_at,omitempty"`
}

func (s *Server) adminKeys(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Clock()
	var out []keyJSON
	var stored []StoredKey
	switch k := s.cfg.Keys.(type) {
	case *LiveKeys:
		stored = k.Ring().Keys()
	case *KeyRing:
		stored = k.Keys()
	}
	if stored != nil {
		si := Keys{Keys: stored}.signer(now)
		for i, k := range stored {
			j := keyJSON{KID: k.Key.ID(), Alg: string(k.Alg), State: "verifying", ActivateAt: timePtr(k.ActivateAt), RetireAt: timePtr(k.RetireAt)}
			switch {
			case i == si:
				j.State = "signing"
			case now.Before(k.ActivateAt):
				j.State = "pending"
			}
			out = append(out, j)
		}
	} else {
		signer := s.cfg.Keys.SigningKey().ID()
		for _, k := range s.cfg.Keys.CurrentSet().Keys() {
			j := keyJSON{KID: k.KeyID(), Alg: k.Algorithm(), State: "verifying"}
			if k.KeyID() == signer {
				j.State = "signing"
			}
			out = append(out, j)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// keyRotation is the body of POST /admin/keys/rotate.
type keyRotation struct {
	Alg string `json:"alg"`
	// Now signs with the new key at the next key reload, without waiting
	// for verifiers to have it: an emergency.
	Now bool `json:"now"`
}

func (s *Server) adminRotateKey(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	var body keyRotation
	if r.ContentLength != 0 && !readJSON(w, r, &body) {
		return
	}
	alg := jwt.Algorithm(body.Alg)
	if alg != "" {
		if err := CheckSigningAlgorithm(alg); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "alg: "+err.Error())
			return
		}
	}
	plan := RotationPlan{JWKSMaxAge: s.cfg.JWKSMaxAge, KeysReload: s.cfg.KeysReload, AccessTTL: s.cfg.AccessTTL,
		RefreshTTL: s.cfg.RefreshTTL, Now: body.Now}
	rot := plan.Rotation(alg)
	now := s.cfg.Clock()
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	oldKID, newKID, err := RotateKey(ctx, s.cfg.KeyStore, s.cfg.Audit, s.actor(r, t.Identity), rot, now)
	if errors.Is(err, ErrUnsupportedAlgorithm) {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if err != nil {
		s.storeFailure(w, "rotate key", err)
		return
	}
	if lk, ok := s.cfg.Keys.(*LiveKeys); ok {
		// This instance publishes it at once; the others at their next
		// reload.
		if err := lk.Reload(ctx); err != nil {
			s.log.Warn("reload keys after a rotation", "err", err)
		}
	}
	activate := now.Add(rot.ActivateAfter).UTC()
	writeJSON(w, http.StatusOK, map[string]any{"old_kid": oldKID, "new_kid": newKID, "activate_at": activate,
		"old_retire_at": activate.Add(rot.RetireAfter)})
}

// auditJSON is an audit event as the admin API shows it.
type auditJSON struct {
	ID        int64          `json:"id"`
	Time      time.Time      `json:"time"`
	Type      string         `json:"type"`
	Actor     string         `json:"actor"`
	Subject   string         `json:"subject"`
	Address   string         `json:"address"`
	UserAgent string         `json:"user_agent"`
	Outcome   string         `json:"outcome"`
	Details   map[string]any `json:"details"`
}

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := pageLimit(q, maxAuditPage)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request", "limit: want 1 to "+strconv.Itoa(maxAuditPage))
		return
	}
	f := AuditFilter{User: q.Get("user"), Type: q.Get("type"), Limit: limit}
	for _, p := range []struct {
		name, v string
		max     int
	}{{"user", f.User, maxUsernameLen}, {"type", f.Type, maxEventType}} {
		if err := textParam(p.name, p.v, p.max); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalid_request", p.name+": want an RFC 3339 time such as 2026-01-02T15:04:05Z")
				return
			}
			*p.dst = t
		}
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "invalid_request", "before: want an event id")
			return
		}
		f.Before = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	events, err := s.cfg.Audit.Events(ctx, f)
	if err != nil {
		s.log.Error("read audit events", "err", err)
		unavailable(w, "the audit log cannot answer")
		return
	}
	out := map[string]any{"events": mapSlice(events, func(e Event) auditJSON {
		d := e.Details
		if d == nil {
			d = map[string]any{}
		}
		return auditJSON{ID: e.ID, Time: e.Time.UTC(), Type: e.Type, Actor: e.Actor, Subject: e.Subject, Address: e.Address,
			UserAgent: e.UserAgent, Outcome: e.Outcome, Details: d}
	})}
	if len(events) == limit {
		out["next_before"] = events[len(events)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}
