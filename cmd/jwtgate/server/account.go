package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/revoke"
)

// The account endpoints, for a signed-in user (an access token in the
// Authorization header, or in the cookie with the CSRF header on
// state-changing requests, as every protected endpoint):
//
//	GET    /account/sessions              the user's active sessions
//	DELETE /account/sessions/{sid}        end one of them (POST works too)
//	POST   /account/sessions/end-others   end every other session
//	POST   /account/password              change the password
func (s *Server) accountRoutes(m *http.ServeMux) {
	g := s.gate
	m.Handle("GET /account/sessions", bounded(g.Required(s.verified(s.accountSessions))))
	m.Handle("DELETE /account/sessions/{sid}", bounded(g.Required(s.verified(s.accountEndSession))))
	m.Handle("POST /account/sessions/{sid}", bounded(g.Required(s.verified(s.accountEndSession))))
	m.Handle("POST /account/sessions/end-others", bounded(g.Required(s.verified(s.accountEndOthers))))
	m.Handle("POST /account/password", bounded(g.Required(s.verified(s.accountPassword))))
}

// sessionJSON is a session as the account and admin endpoints show it.
type sessionJSON struct {
	SID       string    `json:"sid"`
	Created   time.Time `json:"created"`
	LastUsed  time.Time `json:"last_used"`
	Expires   time.Time `json:"expires"`
	UserAgent string    `json:"user_agent"`
	Address   string    `json:"address"`
	Current   bool      `json:"current"`
}

func sessionsJSON(list []Session, current string) []sessionJSON {
	out := make([]sessionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionJSON{SID: x.SID, Created: x.Created.UTC(), LastUsed: x.LastUsed.UTC(), Expires: x.Expires.UTC(),
			UserAgent: x.UserAgent, Address: x.Address, Current: current != "" && x.SID == current})
	}
	return out
}

// caller returns the verified token of the request and its session ("" for
// a token outside any session, as those of the Flask-JWT endpoint).
func caller(r *http.Request) (*jwtgate.Token, string) {
	t, _ := jwtgate.TokenFrom(r.Context())
	sid, _ := revoke.SessionOf(t) // the Gate's revocation check has read it
	return t, sid
}

// storeFailure answers a request whose store call failed: 503 for a store
// that could not answer in time or at all.
func (s *Server) storeFailure(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	if errors.Is(err, ErrSessionsNotEnded) {
		unavailable(w, "the change was made, but the sessions could not be ended yet: make the same request again")
		return
	}
	unavailable(w, "the stores cannot answer: nothing was changed. It is safe to retry")
}

func (s *Server) accountSessions(w http.ResponseWriter, r *http.Request) {
	t, sid := caller(r)
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	list, err := s.accounts.activeSessions(ctx, t.Identity)
	if err != nil {
		s.log.Error("list sessions", "err", err)
		unavailable(w, "the stores cannot answer")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": sessionsJSON(list, sid)})
}

func (s *Server) accountEndSession(w http.ResponseWriter, r *http.Request) {
	t, current := caller(r)
	sid := r.PathValue("sid")
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	err := s.accounts.endSession(ctx, s.actor(r, t.Identity), evSessionEnded, t.Identity, sid, endedByUser)
	if errors.Is(err, ErrSessionNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such session")
		return
	}
	if err != nil {
		s.storeFailure(w, "end session", err)
		return
	}
	if sid == current && t.Location == (jwtgate.InCookie{}) {
		s.gate.UnsetJWTCookies(w)
	}
	writeJSON(w, http.StatusOK, map[string]any{"ended": sid, "current": sid == current})
}

// accountEndOthers ends every other session of the caller: every token of
// the user issued until now is revoked (the sessions the registry lists,
// and tokens outside any session too), and the caller gets the tokens of
// a new session, as cookies or as JSON like /login (fresh if its token
// was).
func (s *Server) accountEndOthers(w http.ResponseWriter, r *http.Request) {
	t, _ := caller(r)
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	n, err := s.accounts.endSessions(ctx, s.actor(r, t.Identity), evSessionsEnded, t.Identity, endedByUser)
	if err != nil {
		s.storeFailure(w, "end other sessions", err)
		return
	}
	var opts []jwtgate.TokenOption
	if t.Fresh {
		opts = append(opts, jwtgate.Fresh())
	}
	s.continueSession(w, r, t, map[string]any{"ended": n}, opts...)
}

// continueSession gives the caller, whose tokens have just been revoked
// with every other of its user's, the tokens of a new session: as cookies
// when its token came in a cookie (body: body), else as JSON (body with
// access_token and refresh_token).
func (s *Server) continueSession(w http.ResponseWriter, r *http.Request, t *jwtgate.Token, body map[string]any, opts ...jwtgate.TokenOption) {
	// A caller whose token was bound to a DPoP key (and proven by it)
	// gets new tokens bound to the same key.
	var bind []jwtgate.TokenOption
	if jkt := t.Thumbprint(); jkt != "" {
		bind = []jwtgate.TokenOption{jwtgate.BindTo(jkt)}
	}
	sid, refresh, ok := s.newSession(w, r, t.Identity, bind)
	if !ok {
		return
	}
	opts = append(opts, bind...)
	access, err := s.gate.CreateAccessToken(r.Context(), t.Identity, append(opts, revoke.InSession(sid))...)
	if err != nil {
		s.fail(w, "create access token", err)
		return
	}
	s.stats.tokenIssued("access")
	s.stats.tokenIssued("refresh")
	body["session"] = sid
	if t.Location == (jwtgate.InCookie{}) {
		if err := errors.Join(s.gate.SetAccessCookies(w, access), s.gate.SetRefreshCookies(w, refresh)); err != nil {
			s.fail(w, "set cookies", err)
			return
		}
	} else {
		body["access_token"], body["refresh_token"] = access, refresh
	}
	writeJSON(w, http.StatusOK, body)
}

// passwordChange is the body of POST /account/password.
type passwordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// accountPassword changes the caller's password: the current one is
// checked (a wrong one spends the user's login budget, as a failed
// sign-in does), the new one must pass the policy. Then every token of
// the user issued until now is revoked, and the caller gets the tokens
// of a new session (fresh: it has just given its password), as
// /account/sessions/end-others does.
func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	t, _ := caller(r)
	var body passwordChange
	if !readJSON(w, r, &body) {
		return
	}
	if body.Current == "" || body.New == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "current_password and new_password are required")
		return
	}
	if err := ValidPassword(body.Current); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "current_password: "+err.Error())
		return
	}
	users := s.accounts.Users
	if users == nil {
		writeError(w, http.StatusNotFound, "not_found", "passwords cannot be changed here")
		return
	}
	if err := users.Policy.Check(t.Identity, body.New); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "new_password: "+err.Error())
		return
	}
	if !s.checkPassword(w, r, t.Identity, body.Current) {
		return
	}
	h, ok := s.hashInSlot(w, r, body.New)
	if !ok {
		return
	}
	actor := s.actor(r, t.Identity)
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	if err := s.accounts.setHash(ctx, actor, evPasswordChange, t.Identity, h); err != nil {
		s.storeFailure(w, "change password", err)
		return
	}
	if _, err := s.accounts.endAllAgain(ctx, t.Identity, endedPasswordChange); err != nil {
		s.log.Error("change password: end sessions", "err", err)
		unavailable(w, "the password was changed, but the other sessions could not be ended yet: end them with POST /account/sessions/end-others")
		return
	}
	s.continueSession(w, r, t, map[string]any{"password_changed": true}, jwtgate.Fresh())
}

// checkPassword checks that password is user's current password, under
// the login limits of the client and of the user (a wrong password
// spends them as a failed sign-in does), and answers the request itself
// when it is not (400), or when it cannot tell (429, 503).
func (s *Server) checkPassword(w http.ResponseWriter, r *http.Request, user, password string) bool {
	settle, ok := s.reserve(w, r, user)
	if !ok {
		return false
	}
	failed := false
	defer func() { settle(failed) }()
	ctx, cancel := context.WithTimeout(r.Context(), userLookupTimeout)
	hash, found, err := s.cfg.Users.PasswordHash(ctx, user)
	cancel()
	if err != nil {
		s.log.Error("user store", "err", err)
		unavailable(w, "the user store cannot answer")
		return false
	}
	if !found {
		// Disabled or deleted since its token was checked.
		writeError(w, http.StatusUnauthorized, "invalid_token", "the user no longer exists")
		return false
	}
	var match bool
	if !s.inSlot(w, r, func() { match, err = s.verifyPassword(hash, password) }) {
		return false
	}
	if err != nil {
		s.log.Error("unreadable password hash in the user store", "username", user)
	}
	if !match {
		failed = true
		s.record(r.Context(), r, evPasswordChange, user, user, outcomeFailure, map[string]any{"reason": "wrong_current_password"})
		writeError(w, http.StatusBadRequest, "invalid_grant", "the current password is wrong")
		return false
	}
	return true
}

// inSlot runs f, a password hash, in one of the hashing slots, or answers
// 503 and reports false when none frees up before the request's deadline.
func (s *Server) inSlot(w http.ResponseWriter, r *http.Request, f func()) bool {
	select {
	case s.hash <- struct{}{}:
	case <-r.Context().Done():
		unavailable(w, "no password check could start in time")
		return false
	}
	defer func() { <-s.hash }()
	f()
	return true
}

// hashInSlot hashes a new password in a hashing slot.
func (s *Server) hashInSlot(w http.ResponseWriter, r *http.Request, password string) (string, bool) {
	var h string
	var err error
	if !s.inSlot(w, r, func() { h, err = HashPassword(password) }) {
		return "", false
	}
	if err != nil {
		s.fail(w, "hash password", err)
		return "", false
	}
	return h, true
}

// readJSON decodes a request body that is one JSON object into dst (a
// pointer to a struct): application/json, at most 64 KiB of UTF-8, no
// unknown or repeated member, nothing after it. It answers the request
// itself (400, 413, 415) and reports false otherwise.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if r.ContentLength > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_request", "the body must be application/json")
		return false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "cannot read the body")
		return false
	}
	if err := decodeObject(raw, dst); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body is not a valid JSON object: "+err.Error())
		return false
	}
	return true
}

// decodeObject is readJSON's decoder.
func decodeObject(raw []byte, dst any) error {
	if !utf8.Valid(raw) {
		return errors.New("not UTF-8")
	}
	if err := uniqueMembers(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value")
	}
	return nil
}

// uniqueMembers checks that raw is a JSON object whose members, at the
// top level, are named once each (encoding/json would keep the last).
func uniqueMembers(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil {
		return err
	} else if d, ok := t.(json.Delim); !ok || d != '{' {
		return errors.New("not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		if seen[name] {
			return fmt.Errorf("member %q twice", truncate(name, 64))
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}
