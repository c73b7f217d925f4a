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

type credentials struct {
	Username string
	Password string
}

// credentialKeys names the members of a credentials body.
type credentialKeys struct{ user, pass string }

var defaultKeys = credentialKeys{"username", "password"}

// readCredentials decodes a credentials body, a JSON object with exactly
// the members keys names, both strings, or answers the request with a 4xx
// error and reports false.
func readCredentials(w http.ResponseWriter, r *http.Request, keys credentialKeys) (credentials, bool) {
	var c credentials
	// A body announced too large is refused before any of it is read:
	// a client that sent Expect: 100-continue gets the answer instead of
	// a connection reset while it sends.
	if r.ContentLength > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
		return c, false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_request", "the body must be application/json")
		return c, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
			return c, false
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "cannot read the body")
		return c, false
	}
	if !utf8.Valid(raw) {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body is not UTF-8")
		return c, false
	}
	if err := decodeCredentials(raw, keys, &c); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("the body is not a JSON object with %s and %s: %v", keys.user, keys.pass, err))
		return c, false
	}
	if err := ValidUsername(c.Username); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return c, false
	}
	if err := ValidPassword(c.Password); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return c, false
	}
	return c, true
}

// decodeCredentials reads one JSON object with the two string members of
// keys and nothing else: no other member, no member twice, nothing after.
func decodeCredentials(raw []byte, keys credentialKeys, c *credentials) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil {
		return err
	} else if d, ok := t.(json.Delim); !ok || d != '{' {
		return errors.New("not an object")
	}
	var haveUser, havePass bool
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var dst *string
		switch {
		case name == keys.user && !haveUser:
			dst, haveUser = &c.Username, true
		case name == keys.pass && !havePass:
			dst, havePass = &c.Password, true
		case name == keys.user || name == keys.pass:
			return fmt.Errorf("member %q twice", name)
		default:
			return fmt.Errorf("unknown member %q", truncate(name, 64))
		}
		if err := dec.Decode(dst); err != nil {
			return fmt.Errorf("member %q: want a string", name)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value")
	}
	if !haveUser || !havePass || c.Username == "" || c.Password == "" {
		return fmt.Errorf("%s and %s are required", keys.user, keys.pass)
	}
	return nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// userLookupTimeout bounds the lookup of a login's user: a user store
// that does not answer in time refuses the login (503) before it takes a
// hashing slot, so a frozen store holds none.
const userLookupTimeout = 1500 * time.Millisecond

// errDummyHash: the hash verified for missing users could not be made.
var errDummyHash = errors.New("dummy password hash")

// authenticate checks credentials, answering the request itself when they
// are refused. A missing user costs the same hash as a wrong password. It
// returns the user and when its password hash was read: the caller checks
// again with signInEnded once it has made the tokens.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, keys credentialKeys) (string, time.Time, bool) {
	c, ok := readCredentials(w, r, keys)
	if !ok {
		s.stats.login("bad_request")
		return "", time.Time{}, false
	}
	settle, ok := s.reserve(w, r, c.Username)
	if !ok {
		s.stats.login("rate_limited")
		return "", time.Time{}, false
	}
	settled := false
	defer func() {
		if !settled {
			settle(false) // not checked, or right: the token goes back
		}
	}()
	ctx := r.Context()
	// The user first, under its own deadline and without a hashing slot:
	// a store that does not answer must not hold one.
	lookedUp := s.cfg.Clock()
	lctx, cancel := context.WithTimeout(ctx, userLookupTimeout)
	hash, found, err := s.cfg.Users.PasswordHash(lctx, c.Username)
	cancel()
	if err != nil {
		s.stats.login("unavailable")
		s.log.Error("user store", "err", err)
		unavailable(w, "the user store cannot answer")
		return "", time.Time{}, false
	}
	select {
	case s.hash <- struct{}{}:
	case <-ctx.Done():
		s.stats.login("unavailable")
		unavailable(w, "no password check could start in time")
		return "", time.Time{}, false
	}
	match, err := func() (bool, error) {
		defer func() { <-s.hash }()
		if !found {
			h, err := s.dummy.get() // made once, in a slot: it costs a hash
			if err != nil {
				return false, fmt.Errorf("%w: %w", errDummyHash, err)
			}
			hash = h
		}
		return s.verifyPassword(hash, c.Password)
	}()
	if errors.Is(err, errDummyHash) {
		s.fail(w, "dummy password hash", err)
		return "", time.Time{}, false
	}
	if err != nil {
		s.log.Error("unreadable password hash in the user store", "username", c.Username)
	}
	if !found || !match {
		settled = true
		settle(true)
		s.stats.login("bad_credentials")
		s.log.Info("login refused", "username", c.Username)
		s.record(ctx, r, evLoginFailure, "", c.Username, outcomeFailure, map[string]any{"reason": "bad_credentials"})
		writeError(w, http.StatusUnauthorized, "invalid_grant", "bad username or password")
		return "", time.Time{}, false
	}
	// Every session of the user may have ended since the hash was read
	// (jwtgate users passwd or delete, POST /logout/all): a sign-in that
	// sees it now issues nothing.
	if s.signInEnded(w, r, c.Username, lookedUp) {
		return "", time.Time{}, false
	}
	// The outcome is counted by the caller: ok once the tokens are sent,
	// or why they are not.
	if pc, ok := s.cfg.Users.(passwordClaimer); ok {
		// The password is known to someone now; a failure to record it
		// only repeats a hint at the next start. Its own deadline: a store
		// that froze after the lookup must not hold the login.
		cctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		if err := pc.ClaimPassword(cctx, c.Username); err != nil {
			s.log.Warn("cannot record the first use of a password", "username", c.Username, "err", err)
		}
	}
	return c.Username, lookedUp, true
}

// signInEnded reports whether every session of user was ended (a subject
// cutoff: jwtgate users passwd or delete, POST /logout/all) at or after
// lookedUp, when a sign-in read the user's password hash, and then
// answers the request itself (401); also when the revocation store cannot
// say (503). Tokens made after that cutoff would outlive it, for a
// password that may no longer be the user's. A sign-in asks before it
// hashes, and again once its tokens are made and before it sends them: a
// cutoff stored after the first question and before the tokens' iat
// would not revoke them, but is seen by the second (the commands that
// end a password set their cutoff again later, Accounts.endAllAgain, for
// the tokens made before it could be seen).
func (s *Server) signInEnded(w http.ResponseWriter, r *http.Request, user string, lookedUp time.Time) bool {
	ctx := r.Context()
	cctx, cancel := context.WithTimeout(ctx, revoke.DefaultTimeout)
	cutoff, err := s.cfg.Revocations.SubjectCutoff(cctx, user)
	cancel()
	if err != nil {
		s.stats.login("unavailable")
		s.log.Error("revocation store", "err", err)
		unavailable(w, "the revocation store cannot answer")
		return true
	}
	if !revoke.CutoffRevokes(cutoff, lookedUp) {
		return false
	}
	s.stats.login("sessions_ended")
	s.log.Info("login refused: the user's sessions were ended during it", "username", user)
	s.record(ctx, r, evLoginFailure, "", user, outcomeFailure, map[string]any{"reason": "sessions_ended"})
	writeError(w, http.StatusUnauthorized, "invalid_grant", "the user's sessions were ended during this sign-in (a new password?); sign in again")
	return true
}

func (s *Server) auth(w http.ResponseWriter, r *http.Request) {
	proof, oerr := s.requestProof(w, r)
	if oerr != nil {
		writeOAuthError(w, r, oerr)
		return
	}
	user, lookedUp, ok := s.authenticate(w, r, s.authKeys)
	if !ok {
		return
	}
	bind, tokenType := bindOpts(proof)
	access, err := s.gate.CreateAccessToken(r.Context(), user, append(bind, jwtgate.Fresh())...)
	if err != nil {
		s.stats.login("error")
		s.fail(w, "create access token", err)
		return
	}
	if s.signInEnded(w, r, user, lookedUp) {
		return
	}
	s.stats.login("ok")
	s.stats.tokenIssued("access")
	s.record(r.Context(), r, evLoginSuccess, user, user, outcomeSuccess, map[string]any{"endpoint": s.cfg.AuthPath})
	if proof == nil {
		writeJSON(w, http.StatusOK, map[string]string{"access_token": access})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": access, "token_type": tokenType})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("cookies")
	cookies := q == "1" || q == "true"
	// The proof before the password: a client told to retry with a nonce
	// has spent no password check.
	proof, oerr := s.requestProof(w, r)
	if oerr == nil && proof != nil && cookies {
		oerr = badRequest("DPoP-bound tokens are sent in the Authorization header with their proofs, never as cookies: leave out cookies=1")
	}
	if oerr != nil {
		writeOAuthError(w, r, oerr)
		return
	}
	user, lookedUp, ok := s.authenticate(w, r, defaultKeys)
	if !ok {
		return
	}
	// A user of /login is a public client: its refresh token is bound to
	// the proof's key too (RFC 9449 section 5).
	bind, _ := bindOpts(proof)
	sid, refresh, ok := s.newSession(w, r, user, bind)
	if !ok {
		s.stats.login("unavailable")
		return
	}
	// The tokens are sent only if the user's sessions were not ended
	// since its password was read (signInEnded); else the session never
	// started.
	asked := false
	sent := func() bool {
		asked = true
		if s.signInEnded(w, r, user, lookedUp) {
			s.sessionEnded(r.Context(), sid, endedRevoked)
			return false
		}
		s.stats.login("ok")
		s.record(r.Context(), r, evLoginSuccess, user, user, outcomeSuccess, map[string]any{"session": sid})
		return true
	}
	s.issue(w, r, user, sid, refresh, cookies, proof != nil, sent, append(bind, jwtgate.Fresh())...)
	if !asked { // the access token could not be made (500)
		s.stats.login("error")
	}
}

// newSession starts a session of user, signed in by request r: its id
// (in both tokens, naming the refresh family), recorded in the session
// registry, and its first refresh token, made with bind (a DPoP binding,
// or nothing). It answers the request itself (503, 500) and reports false
// when it cannot.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request, user string, bind []jwtgate.TokenOption) (sid, refresh string, ok bool) {
	sid, err := revoke.NewSession()
	if err != nil {
		s.fail(w, "new session", err)
		return "", "", false
	}
	if err := s.startSession(r.Context(), r, user, sid); err != nil {
		s.log.Error("session registry", "username", user, "err", err)
		unavailable(w, "the session registry cannot record the session: nothing was issued")
		return "", "", false
	}
	refresh, err = s.gate.CreateRefreshToken(r.Context(), user, append(bind, revoke.InSession(sid))...)
	if err != nil {
		s.fail(w, "create refresh token", err)
		return "", "", false
	}
	return sid, refresh, true
}

// issue makes an access token of session sid, which the refresh token
// carries too, and answers with both, as JSON or as cookies. bound says
// that opts bind the tokens to a DPoP key: the answer's token_type is DPoP.
// send, when not nil, is asked once the tokens are made: false, it has
// answered the request itself and nothing is sent.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, user, sid, refresh string, cookies, bound bool, send func() bool, opts ...jwtgate.TokenOption) {
	opts = append(opts, revoke.InSession(sid))
	access, err := s.gate.CreateAccessToken(r.Context(), user, opts...)
	if err != nil {
		s.fail(w, "create access token", err)
		return
	}
	if send != nil && !send() {
		return
	}
	s.stats.tokenIssued("access")
	s.stats.tokenIssued("refresh")
	if !cookies {
		body := map[string]string{"access_token": access, "refresh_token": refresh}
		if bound {
			body["token_type"] = "DPoP"
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	if err := errors.Join(s.gate.SetAccessCookies(w, access), s.gate.SetRefreshCookies(w, refresh)); err != nil {
		s.fail(w, "set cookies", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"login": true})
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, _ := jwtgate.TokenFrom(ctx)
	sid, err := revoke.SessionOf(t)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "invalid_token", "the refresh token has no session")
		return
	}
	// A refresh token bound to a DPoP key came with a proof by it (the
	// Gate checked it): the new tokens are bound to the same key.
	var bind []jwtgate.TokenOption
	if jkt := t.Thumbprint(); jkt != "" {
		bind = []jwtgate.TokenOption{jwtgate.BindTo(jkt)}
	}
	wctx, cancel := context.WithTimeout(ctx, storeWriteTimeout)
	refresh, err := revoke.RotateRefresh(wctx, s.cfg.Revocations, s.gate, t, t.Identity, bind...)
	cancel()
	if errors.Is(err, revoke.ErrReused) {
		// The store has revoked the family: every access and refresh
		// token of the session is refused from now on.
		s.log.Warn("refresh token reused: its session is ended", "username", t.Identity, "session", sid)
		s.sessionEnded(ctx, sid, endedReuse)
		s.record(ctx, r, evReuseDetected, t.Identity, t.Identity, outcomeFailure, map[string]any{"session": sid})
		writeError(w, http.StatusUnauthorized, "invalid_grant", "refresh token reused; log in again")
		return
	}
	if errors.Is(err, jwtgate.ErrRevoked) {
		// Every session of the user was ended while this refresh was
		// under way (revoke.RotateRefresh asks again after the rotation).
		s.log.Info("refresh of an ended session", "username", t.Identity, "session", sid)
		writeError(w, http.StatusUnauthorized, "invalid_grant", "the session has ended; log in again")
		return
	}
	if err != nil {
		s.log.Error("refresh rotation", "err", err)
		unavailable(w, refreshUnknown)
		return
	}
	s.touchSession(ctx, r, t.Identity, sid)
	s.record(ctx, r, evRefresh, t.Identity, t.Identity, outcomeSuccess, map[string]any{"session": sid})
	s.issue(w, r, t.Identity, sid, refresh, t.Location == jwtgate.InCookie{}, bind != nil, nil, bind...)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	t, _ := jwtgate.TokenFrom(ctx)
	// The whole session: every access and refresh token of this login.
	// EndSession revokes the token's jti last: a retry of a logout that
	// failed half way is refused (401) only once the session has ended.
	if err := revoke.EndSession(ctx, s.cfg.Revocations, t, s.cfg.Clock(), s.cfg.RefreshTTL); err != nil {
		s.log.Error("logout", "err", err)
		unavailable(w, logoutUnknown)
		return
	}
	if t.Location == (jwtgate.InCookie{}) {
		s.gate.UnsetJWTCookies(w)
	}
	s.log.Info("logout", "username", t.Identity)
	sid, _ := revoke.SessionOf(t) // EndSession has read it
	s.sessionEnded(ctx, sid, endedLogout)
	s.record(ctx, r, evLogout, t.Identity, t.Identity, outcomeSuccess, map[string]any{"session": sid})
	writeJSON(w, http.StatusOK, map[string]bool{"logout": true})
}

func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), storeWriteTimeout)
	defer cancel()
	t, _ := jwtgate.TokenFrom(ctx)
	cutoff := s.cfg.Clock()
	if err := revoke.LogoutEverywhere(ctx, s.cfg.Revocations, t.Identity, cutoff, s.cfg.RefreshTTL); err != nil {
		s.log.Error("logout everywhere", "err", err)
		unavailable(w, logoutUnknown)
		return
	}
	if t.Location == (jwtgate.InCookie{}) {
		s.gate.UnsetJWTCookies(w)
	}
	s.log.Info("logout everywhere", "username", t.Identity)
	s.userSessionsEnded(ctx, t.Identity, cutoff, endedLogoutAll)
	s.record(ctx, r, evLogoutAll, t.Identity, t.Identity, outcomeSuccess, nil)
	writeJSON(w, http.StatusOK, map[string]bool{"logout": true})
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	t, _ := jwtgate.TokenFrom(r.Context())
	name, err := json.Marshal(t.Identity)
	if err != nil {
		s.fail(w, "userinfo", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// The same bytes as writeJSON's encoder: {"username":NAME}\n
	b := make([]byte, 0, len(name)+14)
	b = append(b, `{"username":`...)
	b = append(append(b, name...), "}\n"...)
	w.Write(b)
}

// What a 503 of the endpoints that write to the revocation store says.
// A store that failed or timed out may still have kept the write (the
// request reached it, the answer did not come back), so the outcome is
// unknown; every such write is idempotent, so a retry is safe.
const (
	logoutUnknown = "the revocation store did not confirm the logout: it may or may not have taken effect. " +
		"It is safe to retry; a retry refused with 401 (token revoked) means the logout was done"
	logoutNotDone  = "the logout has not happened: the stores cannot answer. It is safe to retry"
	refreshUnknown = "the revocation store did not confirm the refresh: it may or may not have spent the refresh token. " +
		"Retry; if the retry is refused, log in again"
)

// unavailable answers 503 with a description, and Retry-After: 1.
func unavailable(w http.ResponseWriter, desc string) {
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", desc)
}

// fail answers 500 for a failure of the service itself (never of input).
func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	writeError(w, http.StatusInternalServerError, "server_error", "internal error")
}
