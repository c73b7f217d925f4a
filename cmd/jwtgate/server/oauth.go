package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// Paths of the OAuth 2.0 endpoints.
const (
	tokenPath      = "/oauth/token"
	introspectPath = "/oauth/introspect"
	revokePath     = "/oauth/revoke"
)

// Client authentication methods (RFC 8414's names).
const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
	authJWT   = "private_key_jwt"
)

// jwtBearerAssertion is the client_assertion_type of private_key_jwt
// (RFC 7523 section 2.2).
const jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLifetime bounds how far in the future a client assertion's
// exp may be: its jti is kept that long.
const maxAssertionLifetime = 10 * time.Minute

// oauthError is an error answer of RFC 6749 section 5.2.
type oauthError struct {
	status int
	code   string
	desc   string
	// challenge adds WWW-Authenticate: Basic (invalid_client), when the
	// client used the Authorization header.
	challenge bool
	// retry adds Retry-After: 1 (503).
	retry bool
}

func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func badRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

func invalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc, challenge: true}
}

func errCode(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, desc: desc}
}

func storeDown(desc string) *oauthError {
	return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", desc: desc, retry: true}
}

// writeOAuthError answers r with e, with the headers RFC 6749 section 5.1
// asks of every token endpoint answer. An invalid_client answer challenges
// with the Basic scheme only when the client sent an Authorization header
// (section 5.2): a client that authenticated in the form or with an
// assertion gets the error alone.
func writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	h := w.Header()
	h.Set("Pragma", "no-cache")
	if e.challenge && len(r.Header.Values("Authorization")) > 0 {
		h.Set("WWW-Authenticate", `Basic realm="jwtgate", charset="UTF-8"`)
	}
	if e.retry {
		h.Set("Retry-After", "1")
	}
	writeError(w, e.status, e.code, e.desc)
}

// oauthJSON answers 200 with v and the no-store headers.
func oauthJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, v)
}

// readForm reads the form body of an OAuth endpoint: POST with
// Content-Type application/x-www-form-urlencoded (charset UTF-8 if any),
// no query parameters, at most maxFormBody bytes.
func readForm(w http.ResponseWriter, r *http.Request) (*oauthForm, *oauthError) {
	if r.URL.RawQuery != "" {
		return nil, badRequest("parameters go in the form body, not in the URL")
	}
	if r.ContentLength > maxFormBody {
		return nil, &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", desc: "the body is larger than 16 KiB"}
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, badRequest("the body must be application/x-www-form-urlencoded")
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return nil, badRequest("the only Content-Type parameter taken is charset=utf-8")
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", desc: "the body is larger than 16 KiB"}
		}
		return nil, badRequest("cannot read the body")
	}
	f, err := parseForm(string(raw))
	if err != nil {
		return nil, badRequest(err.Error())
	}
	return f, nil
}

// authedClient is a client that authenticated.
type authedClient struct {
	*Client
	method string
	read   time.Time // when this instance read the client from the store
}

// authenticateClient authenticates the client of an OAuth request by
// exactly one method (RFC 6749 section 2.3): client_secret_basic,
// client_secret_post or private_key_jwt. Failures spend the client's and
// the address's budget of the login limiter.
func (s *Server) authenticateClient(w http.ResponseWriter, r *http.Request, f *oauthForm) (*authedClient, *oauthError, bool) {
	basicID, basicSecret, isBasic, berr := parseBasic(r.Header.Get("Authorization"))
	if berr != nil {
		return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: "the Authorization header is not Basic credentials as RFC 6749 section 2.3.1 makes them", challenge: true}, false
	}
	if !isBasic && r.Header.Get("Authorization") != "" {
		return nil, invalidClient("the Authorization header of a client must use the Basic scheme"), false
	}
	postSecret := f.has("client_secret")
	jwtAuth := f.has("client_assertion") || f.has("client_assertion_type")
	methods := 0
	for _, m := range []bool{isBasic, postSecret, jwtAuth} {
		if m {
			methods++
		}
	}
	if methods > 1 {
		return nil, badRequest("more than one client authentication method (RFC 6749 section 2.3)"), false
	}
	if methods == 0 {
		return nil, invalidClient("client authentication is required"), false
	}
	formID := f.get("client_id")
	var id, method string
	switch {
	case isBasic:
		if f.has("client_id") && formID != basicID {
			return nil, badRequest("client_id differs from the client of the Authorization header"), false
		}
		id, method = basicID, authBasic
	case postSecret:
		if formID == "" {
			return nil, badRequest("client_secret without client_id"), false
		}
		id, method = formID, authPost
	default:
		if f.get("client_assertion_type") == "" || f.get("client_assertion") == "" {
			return nil, badRequest("client_assertion and client_assertion_type go together"), false
		}
		if f.get("client_assertion_type") != jwtBearerAssertion {
			return nil, invalidClient("unsupported client_assertion_type"), false
		}
		var err *oauthError
		if id, err = assertionClient(f.get("client_assertion")); err != nil {
			return nil, err, false
		}
		if f.has("client_id") && formID != id {
			return nil, badRequest("client_id differs from the client of the assertion"), false
		}
		method = authJWT
	}
	if len(id) > 256 {
		return nil, invalidClient("unknown client"), false
	}
	settle, ok := s.reserveKey(w, r, "client:"+id, id)
	if !ok {
		return nil, nil, true // answered
	}
	e, oerr := s.checkClient(r, f, id, method, basicSecret)
	settle(oerr != nil && oerr.code == "invalid_client")
	if oerr != nil {
		s.log.Info("client authentication refused", "client_id", truncate(id, 64), "method", method, "reason", oerr.desc)
		if oerr.code == "invalid_client" {
			// Bounded by the login limiter, as sign-in failures are.
			s.record(r.Context(), r, evClientAuthFailure, "", truncate(id, 64), outcomeFailure,
				map[string]any{"method": method, "reason": truncate(oerr.desc, 200)})
		}
		return nil, oerr, false
	}
	return &authedClient{Client: e.c, method: method, read: e.read}, nil, false
}

// assertionClient reads the client of an unverified assertion: its iss,
// which must equal its sub (RFC 7523 section 3).
func assertionClient(assertion string) (string, *oauthError) {
	if len(assertion) > assertionMaxSize {
		return "", invalidClient("the client assertion is too large")
	}
	claims, err := jwtgate.UnverifiedClaims(assertion)
	if err != nil {
		return "", invalidClient("the client assertion is not a JWT")
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if iss == "" || iss != sub {
		return "", invalidClient("the client assertion's iss and sub must both be the client_id")
	}
	return iss, nil
}

// checkClient finds the client and checks its credential; it returns
// the client's cache entry.
func (s *Server) checkClient(r *http.Request, f *oauthForm, id, method, basicSecret string) (*clientEntry, *oauthError) {
	ctx := r.Context()
	e, err := s.clients.lookup(ctx, id)
	if err != nil {
		s.log.Error("client store", "err", err)
		return nil, storeDown("the client store cannot answer")
	}
	c := e.c
	if c == nil {
		return nil, invalidClient("unknown client or bad credentials")
	}
	if c.Disabled {
		return nil, invalidClient("the client is disabled")
	}
	now := s.cfg.Clock()
	switch method {
	case authBasic, authPost:
		secret := basicSecret
		if method == authPost {
			secret = f.get("client_secret")
		}
		if !c.CheckSecret(secret, now) {
			return nil, invalidClient("unknown client or bad credentials")
		}
		return e, nil
	}
	if s.oneTime == nil {
		return nil, invalidClient("private_key_jwt is not available: the revocation store cannot keep single-use values")
	}
	v, err := s.clients.verifier(e)
	if errors.Is(err, errNoKeys) {
		return nil, invalidClient("the client has no keys for private_key_jwt")
	}
	if err != nil {
		s.log.Error("client keys", "client_id", id, "err", err)
		return nil, invalidClient("the client's keys cannot be read")
	}
	t, err := v.Verify(ctx, f.get("client_assertion"))
	if err != nil {
		return nil, invalidClient("the client assertion is not valid: " + assertionReason(err))
	}
	if t.Claims.Subject != id {
		return nil, invalidClient("the client assertion's sub must be the client_id")
	}
	exp := t.Claims.ExpiresAt.Time
	if exp.After(now.Add(maxAssertionLifetime)) {
		return nil, invalidClient("the client assertion expires more than 10 minutes from now")
	}
	uctx, cancel := context.WithTimeout(ctx, storeTimeout)
	first, err := s.oneTime.Use(uctx, "client_assertion:"+id+":"+t.Claims.ID, exp.Add(clockSkew+revoke.RetentionMargin))
	cancel()
	if err != nil {
		s.log.Error("single-use store", "err", err)
		return nil, storeDown("the store of used assertions cannot answer")
	}
	if !first {
		return nil, invalidClient("the client assertion was used before (its jti)")
	}
	return e, nil
}

// clientCutOff refuses a client disabled or deleted since this instance
// read it (its copy is trusted for clientCacheTTL): the command that did
// it set a cutoff on the client's tokens, and tokens made now would be
// issued after that cutoff and outlive it. It asks the revocation store,
// as a login does.
func (s *Server) clientCutOff(ctx context.Context, c *authedClient) *oauthError {
	cctx, cancel := context.WithTimeout(ctx, revoke.DefaultTimeout)
	cutoff, err := s.cfg.Revocations.SubjectCutoff(cctx, c.ID)
	cancel()
	if err != nil {
		s.log.Error("revocation store", "err", err)
		return storeDown("the revocation store cannot answer")
	}
	if revoke.CutoffRevokes(cutoff, c.read) {
		s.log.Info("token request refused: the client was disabled or deleted since it was read", "client_id", c.ID)
		return invalidClient("the client is disabled or deleted")
	}
	return nil
}

// assertionReason says why an assertion failed, without echoing it.
func assertionReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrAlgorithm):
		return "algorithm not allowed (asymmetric algorithms only)"
	case errors.Is(err, jwt.ErrKeyNotFound):
		return "signed with a key the client has not registered"
	case errors.Is(err, jwt.ErrSignature):
		return "bad signature"
	case errors.Is(err, jwt.ErrExpired):
		return "expired"
	case errors.Is(err, jwt.ErrNotYetValid), errors.Is(err, jwt.ErrIssuedInFuture):
		return "not valid yet"
	case errors.Is(err, jwt.ErrAudience):
		return "aud must be the issuer or the token endpoint"
	case errors.Is(err, jwt.ErrIssuer):
		return "iss must be the client_id"
	case errors.Is(err, jwt.ErrMissingClaim):
		return "iss, sub, aud, exp and jti are required"
	case errors.Is(err, jwt.ErrTooLarge):
		return "too large"
	}
	return "malformed"
}

// token is POST /oauth/token (RFC 6749 section 3.2).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	f, oerr := readForm(w, r)
	var proof *dpop.Proof
	if oerr == nil {
		// The proof before the client: a client told to retry with a
		// nonce has spent no assertion and no login budget.
		proof, oerr = s.requestProof(w, r)
	}
	if oerr == nil {
		var answered bool
		var c *authedClient
		c, oerr, answered = s.authenticateClient(w, r, f)
		if answered {
			return
		}
		if oerr == nil {
			oerr = s.grant(w, r, f, c, proof)
		}
	}
	if oerr != nil {
		writeOAuthError(w, r, oerr)
	}
}

// grant answers a token request of an authenticated client.
func (s *Server) grant(w http.ResponseWriter, r *http.Request, f *oauthForm, c *authedClient, proof *dpop.Proof) *oauthError {
	if oerr := s.clientCutOff(r.Context(), c); oerr != nil {
		return oerr
	}
	switch gt := f.get("grant_type"); gt {
	case "":
		return badRequest("grant_type is required")
	case "client_credentials":
		if f.has("refresh_token") {
			return badRequest("refresh_token belongs to grant_type=refresh_token")
		}
		scopes, oerr := narrowScopes(f, c.Scopes)
		if oerr != nil {
			return oerr
		}
		aud, oerr := s.audienceOf(f, c.Client)
		if oerr != nil {
			return oerr
		}
		return s.issueClientTokens(w, r, c.Client, scopes, aud, proof)
	case "refresh_token":
		return s.refreshGrant(w, r, f, c, proof)
	default:
		return errCode("unsupported_grant_type", "grant types: client_credentials, refresh_token")
	}
}

// narrowScopes returns the scopes of the request (all of allowed when it
// names none), each of which must be allowed.
func narrowScopes(f *oauthForm, allowed []string) ([]string, *oauthError) {
	if !f.has("scope") {
		return slices.Clone(allowed), nil
	}
	var out []string
	for s := range strings.SplitSeq(f.get("scope"), " ") {
		if s == "" {
			return nil, errCode("invalid_scope", "scope: scope tokens separated by single spaces")
		}
		if ValidScope(s) != nil {
			return nil, errCode("invalid_scope", "scope: malformed scope token")
		}
		if !slices.Contains(allowed, s) {
			return nil, errCode("invalid_scope", "scope "+strconv.Quote(s)+" is not allowed to this client")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// allowedAudiences are the audiences a client's tokens may have.
func (s *Server) allowedAudiences(c *Client) []string {
	if len(c.Audiences) > 0 {
		return c.Audiences
	}
	return []string{s.cfg.Audience}
}

// audienceOf returns the aud of the request's token: the resource
// parameters (RFC 8707), each allowed to the client, or the client's
// first audience.
func (s *Server) audienceOf(f *oauthForm, c *Client) ([]string, *oauthError) {
	allowed := s.allowedAudiences(c)
	if len(f.resources) == 0 {
		return allowed[:1], nil
	}
	var out []string
	for _, res := range f.resources {
		if validAudience(res) != nil {
			return nil, errCode("invalid_target", "resource must be an absolute URI without fragment")
		}
		if !slices.Contains(allowed, res) {
			return nil, errCode("invalid_target", "resource "+strconv.Quote(truncate(res, 128))+" is not allowed to this client")
		}
		if !slices.Contains(out, res) {
			out = append(out, res)
		}
	}
	return out, nil
}

// issueClientTokens answers a client_credentials grant: an access token
// for client c and, when the client may have one, a refresh token in a
// new session (RFC 6749 section 5.1).
//
// With a DPoP proof, the access token is bound to its key; the refresh
// token of a client, which authenticates itself when it uses it, is not
// (RFC 9449 section 5).
func (s *Server) issueClientTokens(w http.ResponseWriter, r *http.Request, c *Client, scopes, aud []string, proof *dpop.Proof) *oauthError {
	if !c.Refresh {
		return s.answerTokens(w, r, c, scopes, aud, "", "", proof)
	}
	sid, err := revoke.NewSession()
	if err != nil {
		s.fail(w, "new session", err)
		return nil
	}
	opts := []jwtgate.TokenOption{jwtgate.WithClientID(c.ID), revoke.InSession(sid)}
	if len(scopes) > 0 {
		opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": strings.Join(scopes, " ")}))
	}
	refresh, err := s.gate.CreateRefreshToken(r.Context(), c.ID, opts...)
	if err != nil {
		s.fail(w, "create refresh token", err)
		return nil
	}
	return s.answerTokens(w, r, c, scopes, aud, sid, refresh, proof)
}

// answerTokens makes client c's access token (of session sid, if any)
// and answers with it and the refresh token, if any. With a DPoP proof,
// the access token is bound to its key.
func (s *Server) answerTokens(w http.ResponseWriter, r *http.Request, c *Client, scopes, aud []string, sid, refresh string, proof *dpop.Proof) *oauthError {
	ttl := s.cfg.AccessTTL
	if c.TTL > 0 {
		ttl = c.TTL
	}
	bind, tokenType := bindOpts(proof)
	opts := append([]jwtgate.TokenOption{jwtgate.WithClientID(c.ID), jwtgate.WithAudience(aud...), jwtgate.TTL(ttl)}, bind...)
	if len(scopes) > 0 {
		opts = append(opts, jwtgate.WithClaims(map[string]any{"scope": strings.Join(scopes, " ")}))
	}
	if sid != "" {
		opts = append(opts, revoke.InSession(sid))
	}
	access, err := s.gate.CreateAccessToken(r.Context(), c.ID, opts...)
	if err != nil {
		s.fail(w, "create access token", err)
		return nil
	}
	s.stats.tokenIssued("access")
	if refresh != "" {
		s.stats.tokenIssued("refresh")
	}
	oauthJSON(w, tokenAnswer{AccessToken: access, TokenType: tokenType, ExpiresIn: int64(ttl / time.Second),
		Scope: strings.Join(scopes, " "), RefreshToken: refresh})
	return nil
}

// tokenAnswer is a successful token response (RFC 6749 section 5.1).
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// refreshGrant is grant_type=refresh_token (RFC 6749 section 6) with the
// service's rotation and reuse detection. A refresh token bound to a
// DPoP key is taken only with a proof by that key, and stays bound to it.
func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, f *oauthForm, c *authedClient, proof *dpop.Proof) *oauthError {
	ctx := r.Context()
	if !c.Refresh {
		return errCode("unauthorized_client", "this client is not allowed refresh tokens")
	}
	raw := f.get("refresh_token")
	if raw == "" {
		return badRequest("refresh_token is required")
	}
	t, err := s.gate.DecodeToken(ctx, raw)
	if err != nil || t.Type != jwtgate.TypeRefresh || claimString(t, "client_id") != c.ID {
		return errCode("invalid_grant", "the refresh token is not valid for this client")
	}
	if revoked, err := s.isRevoked(ctx, t); err != nil {
		s.log.Error("revocation store", "err", err)
		return storeDown("the revocation store cannot answer")
	} else if revoked {
		return errCode("invalid_grant", "the refresh token is revoked")
	}
	granted := strings.Fields(claimString(t, "scope"))
	var allowed []string
	for _, g := range granted {
		if c.HasScope(g) {
			allowed = append(allowed, g)
		}
	}
	scopes, oerr := narrowScopes(f, allowed)
	if oerr != nil {
		return oerr
	}
	aud, oerr := s.audienceOf(f, c.Client)
	if oerr != nil {
		return oerr
	}
	sid, err := revoke.SessionOf(t)
	if err != nil || sid == "" {
		return errCode("invalid_grant", "the refresh token has no session")
	}
	ropts := []jwtgate.TokenOption{jwtgate.WithClientID(c.ID)}
	if jkt := t.Thumbprint(); jkt != "" {
		switch {
		case proof == nil:
			return errCode("invalid_dpop_proof", "the refresh token is bound to a DPoP key: send a DPoP proof by it")
		case proof.Thumbprint != jkt:
			return errCode("invalid_dpop_proof", "the DPoP proof is signed by another key than the one the refresh token is bound to")
		}
		ropts = append(ropts, jwtgate.BindTo(jkt))
	}
	if len(granted) > 0 {
		// The refresh token keeps the scope it was granted (RFC 6749
		// section 6); the access token gets the narrowed one.
		ropts = append(ropts, jwtgate.WithClaims(map[string]any{"scope": strings.Join(granted, " ")}))
	}
	wctx, cancel := context.WithTimeout(ctx, storeWriteTimeout)
	refresh, err := revoke.RotateRefresh(wctx, s.cfg.Revocations, s.gate, t, c.ID, ropts...)
	cancel()
	if errors.Is(err, jwtgate.ErrRevoked) {
		s.log.Warn("client refresh token reused or revoked: its session is ended", "client_id", c.ID, "session", sid)
		return errCode("invalid_grant", "the refresh token was used before or is revoked")
	}
	if err != nil {
		s.log.Error("refresh rotation", "err", err)
		return storeDown(refreshUnknown)
	}
	return s.answerTokens(w, r, c.Client, scopes, aud, sid, refresh, proof)
}

// claimString returns a string claim of t, or "".
func claimString(t *jwtgate.Token, name string) string {
	raw, ok := t.Claim(name)
	if !ok {
		return ""
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v
}

// decodeIssued verifies a token this service issued, whatever its
// audience: the service's own, the refresh endpoint's, or one a client
// registry entry allows to the token's client. It reports nil for any
// other token, and an error when the client registry cannot say whether
// the token's audience is its client's: then it cannot tell.
func (s *Server) decodeIssued(ctx context.Context, raw string) (*jwtgate.Token, error) {
	if len(raw) > jwt.DefaultMaxSize {
		return nil, nil
	}
	claims, err := jwtgate.UnverifiedClaims(raw)
	if err != nil {
		return nil, nil
	}
	var auds []string
	switch a := claims["aud"].(type) {
	case string:
		auds = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	if len(auds) == 0 {
		return nil, nil
	}
	g := s.gate
	if !slices.Contains(auds, s.cfg.Audience) && !slices.Contains(auds, refreshAudience(s.cfg.Issuer)) {
		id, _ := claims["client_id"].(string)
		if id == "" || s.clients == nil {
			return nil, nil
		}
		e, err := s.clients.lookup(ctx, id)
		if err != nil {
			return nil, err
		}
		if e.c == nil || !slices.Contains(e.c.Audiences, auds[0]) {
			return nil, nil
		}
		if g, err = s.audienceGate(auds[0]); err != nil {
			s.log.Error("audience gate", "err", err)
			return nil, nil
		}
	}
	t, err := g.DecodeToken(ctx, raw)
	if err != nil {
		return nil, nil
	}
	return t, nil
}

// audienceGate returns a Gate that verifies the service's tokens for aud.
func (s *Server) audienceGate(aud string) (*jwtgate.Gate, error) {
	s.audMu.Lock()
	defer s.audMu.Unlock()
	if g, ok := s.audGates[aud]; ok {
		return g, nil
	}
	if len(s.audGates) >= maxAudienceGates {
		clear(s.audGates)
	}
	g, err := jwtgate.New(jwtgate.Config{
		Keys:            s.cfg.Keys,
		Algorithms:      s.algs,
		Issuer:          s.cfg.Issuer,
		ExpectedIssuers: []string{s.cfg.Issuer},
		Tokens:          jwtgate.TokensRFC9068,
		Audience:        []string{aud},
		RefreshAudience: refreshAudience(s.cfg.Issuer),
		Leeway:          clockSkew,
		RequiredClaims:  []string{"exp", "iat", "jti"},
		SignatureCache:  1 << 12,
		Logger:          s.cfg.Logger,
		Clock:           s.cfg.Clock,
	})
	if err != nil {
		return nil, err
	}
	if s.audGates == nil {
		s.audGates = map[string]*jwtgate.Gate{}
	}
	s.audGates[aud] = g
	return g, nil
}

// maxAudienceGates bounds the Gates kept for client audiences.
const maxAudienceGates = 1024

// activeToken returns the token raw if it is active: issued by this
// service, unexpired, not revoked, and, for a client's token, of a client
// that still exists and is not disabled. An error means a store could not
// answer.
func (s *Server) activeToken(ctx context.Context, raw string) (*jwtgate.Token, error) {
	t, err := s.decodeIssued(ctx, raw)
	if err != nil {
		return nil, err
	}
	if t == nil || (t.Type != jwtgate.TypeAccess && t.Type != jwtgate.TypeRefresh) {
		return nil, nil
	}
	if id := claimString(t, "client_id"); id != "" && id == t.Identity {
		e, err := s.clients.lookup(ctx, id)
		if err != nil {
			return nil, err
		}
		if e.c == nil || e.c.Disabled {
			return nil, nil
		}
	}
	revoked, err := s.isRevoked(ctx, t)
	var gerr *jwtgate.Error
	if errors.As(err, &gerr) && !errors.Is(err, jwtgate.ErrUnavailable) {
		return nil, nil // a token the revocation check refuses as invalid
	}
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, nil
	}
	return t, nil
}

// tokenRequest reads the form of an introspection or revocation request,
// authenticates its client and returns the client and the token
// parameter; it answers the request itself and reports false when it
// cannot.
func (s *Server) tokenRequest(w http.ResponseWriter, r *http.Request) (*authedClient, string, bool) {
	f, oerr := readForm(w, r)
	if oerr != nil {
		writeOAuthError(w, r, oerr)
		return nil, "", false
	}
	c, oerr, answered := s.authenticateClient(w, r, f)
	if answered {
		return nil, "", false
	}
	if oerr != nil {
		writeOAuthError(w, r, oerr)
		return nil, "", false
	}
	raw := f.get("token")
	if raw == "" {
		writeOAuthError(w, r, badRequest("token is required"))
		return nil, "", false
	}
	return c, raw, true
}

// introspect is POST /oauth/introspect (RFC 7662).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	c, raw, ok := s.tokenRequest(w, r)
	if !ok {
		return
	}
	t, err := s.activeToken(r.Context(), raw)
	if err != nil {
		s.log.Error("introspection", "err", err)
		writeOAuthError(w, r, storeDown("the stores cannot answer"))
		return
	}
	if t == nil || (t.Type == jwtgate.TypeRefresh && claimString(t, "client_id") != c.ID) {
		oauthJSON(w, map[string]bool{"active": false})
		return
	}
	out := map[string]any{"active": true, "sub": t.Identity, "iss": t.Claims.Issuer, "jti": t.Claims.ID,
		"exp": t.Claims.ExpiresAt.Unix(), "token_type": boundType(t)}
	if jkt := t.Thumbprint(); jkt != "" {
		out["cnf"] = map[string]string{"jkt": jkt} // RFC 9449 section 6.2
	}
	if t.Claims.IssuedAt != nil {
		out["iat"] = t.Claims.IssuedAt.Unix()
	}
	if t.Claims.NotBefore != nil {
		out["nbf"] = t.Claims.NotBefore.Unix()
	}
	if len(t.Claims.Audience) == 1 {
		out["aud"] = t.Claims.Audience[0]
	} else if len(t.Claims.Audience) > 1 {
		out["aud"] = t.Claims.Audience
	}
	if v := claimString(t, "scope"); v != "" {
		out["scope"] = v
	}
	if v := claimString(t, "client_id"); v != "" {
		out["client_id"] = v
	} else {
		out["username"] = t.Identity
	}
	if t.Type == jwtgate.TypeRefresh {
		out["token_type"] = "refresh_token"
	}
	oauthJSON(w, out)
}

// revokeToken is POST /oauth/revoke (RFC 7009): a client revokes one of
// its own tokens; a refresh token ends its whole session.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	c, raw, ok := s.tokenRequest(w, r)
	if !ok {
		return
	}
	// token_type_hint (access_token, refresh_token, or another) is only
	// a hint: the token's own typ says what it is.
	ctx := r.Context()
	t, err := s.decodeIssued(ctx, raw)
	if err != nil {
		s.log.Error("client registry", "err", err)
		writeOAuthError(w, r, storeDown("the client registry cannot answer; it is safe to retry"))
		return
	}
	if t == nil {
		oauthJSON(w, struct{}{}) // unknown, invalid or expired: 200 (RFC 7009 section 2.2)
		return
	}
	if claimString(t, "client_id") != c.ID {
		s.log.Warn("a client asked to revoke a token that is not its own", "client_id", c.ID)
		oauthJSON(w, struct{}{})
		return
	}
	wctx, cancel := context.WithTimeout(ctx, storeWriteTimeout)
	defer cancel()
	if t.Type == jwtgate.TypeRefresh {
		err = revoke.EndSession(wctx, s.cfg.Revocations, t, s.cfg.Clock(), s.cfg.RefreshTTL)
	} else {
		err = revoke.Logout(wctx, s.cfg.Revocations, t)
	}
	if err != nil {
		s.log.Error("revocation", "err", err)
		writeOAuthError(w, r, storeDown("the revocation store did not confirm the revocation; it is safe to retry"))
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "token revoked", slog.String("client_id", c.ID), slog.String("type", t.Type))
	oauthJSON(w, struct{}{})
}

// oauthState is the Server's OAuth part.
type oauthState struct {
	clients *clientCache
	oneTime revoke.OneTimeStore
	algs    []jwt.Algorithm
	// isRevoked is the revocation check of the Gate.
	isRevoked func(context.Context, *jwtgate.Token) (bool, error)
	audMu     sync.Mutex
	audGates  map[string]*jwtgate.Gate
}

// Close stops what the server runs in the background: the fetches of
// clients' jwks_uri key sets.
func (s *Server) Close() error {
	if s.clients != nil {
		s.clients.close()
	}
	return nil
}
