// Package server is jwtgate's token service as an http.Handler: the
// service behind "jwtgate serve".
//
// Endpoints:
//
//	POST /auth          {"username","password"} -> {"access_token"} (Flask-JWT;
//	                    path and member names: Config.AuthPath,
//	                    AuthUsernameKey, AuthPasswordKey)
//	POST /login         {"username","password"} -> {"access_token","refresh_token"}
//	POST /login?cookies=1  same credentials; the tokens are set as HttpOnly
//	                    cookies (access_token_cookie, refresh_token_cookie)
//	                    with readable CSRF cookies (csrf_access_token,
//	                    csrf_refresh_token) whose values must be echoed in
//	                    the X-CSRF-TOKEN header of state-changing requests;
//	                    the body is {"login": true}
//	POST /refresh       refresh token (header or cookie) -> new access and
//	                    refresh tokens, as JSON or as cookies, like /login.
//	                    The refresh token is rotated: the old one is spent,
//	                    and presenting it again ends its whole session (401),
//	                    its access tokens included
//	POST /logout        ends the access token's session: every access and
//	                    refresh token of that login, on every instance
//	POST /logout/all    ends every session of the user: every token of the
//	                    user issued until now
//	GET  /userinfo      {"username": ...}
//	GET  /.well-known/jwks.json   the public keys: every key that signs,
//	                    will sign or signed tokens still valid
//	POST /oauth/token   OAuth 2.0 token endpoint (RFC 6749 section 3.2) for
//	                    registered clients (Config.Clients): grants
//	                    client_credentials and refresh_token; client
//	                    authentication by client_secret_basic,
//	                    client_secret_post or private_key_jwt (RFC 7523)
//	POST /oauth/introspect  token introspection (RFC 7662)
//	POST /oauth/revoke  token revocation (RFC 7009)
//	GET  /.well-known/oauth-authorization-server
//	                    RFC 8414 metadata: issuer, jwks_uri and the OAuth
//	                    endpoints
//	GET  /healthz       200 while the process runs
//	GET  /readyz        200 when every store proves it works, else 503
//	                    naming the stores that did not (see below)
//	GET  /signin, POST /signin, GET /account, POST /account, POST /signout
//	GET  /admin, POST /admin (with the admin API: the admin page)
//	                    the sign-in, account and admin pages: HTML forms that work
//	                    without JavaScript, over the JSON endpoints (made
//	                    in process, with the browser's cookies); GET /
//	                    sends the browser to one of them; GET /ui/... their
//	                    style sheets and scripts
//	GET  /metrics       Prometheus text format: logins by outcome, tokens
//	                    issued by type, verifications by outcome, records
//	                    (audit events, session registry writes) lost, and
//	                    the latency of revocation checks
//
// With a session registry and an audit log (Config.Sessions and
// Config.Audit, which "jwtgate serve" always gives), every session is
// recorded (at login, refresh, logout and reuse), the events of sign-in,
// refresh and logout are written to the audit log, and two more groups of
// endpoints are served (JSON; docs/ADMIN.md has the details):
//
//	GET    /account/sessions             the caller's active sessions,
//	                                     "current": true for its own
//	DELETE /account/sessions/{sid}       end one of them (POST too)
//	POST   /account/sessions/end-others  end every other session of the user
//	POST   /account/password             change the password
//	/admin/...                           the admin API: users, their
//	                                     sessions, signing keys, audit
//	                                     events; for users with the admin
//	                                     role, fresh tokens for changes
//
// Access tokens follow RFC 9068: typ at+jwt, iss, sub, aud (Config.Audience),
// exp, iat (with milliseconds), jti. Refresh tokens have typ refresh+jwt and
// the audience ISSUER/refresh, the endpoint that takes them, so that no
// resource server checking typ or aud accepts one. Tokens from versions
// that made typ JWT tokens are refused: their users log in again.
//
// Credentials are JSON bodies of at most 64 KiB with Content-Type
// application/json; usernames are at most 256 bytes and passwords at most
// 1024 bytes. Each client IP address and each username (whether the user
// exists or not) may fail 10 credential checks at once, then one more
// every 6 seconds (429 with Retry-After beyond); right passwords spend
// nothing, and a login whose budget is held only by attempts still in
// flight waits for them rather than being refused. With Redis, every
// instance shares those budgets. A missing user costs the same password
// hash as a wrong password. Errors are JSON: {"error": code, "error_description": text}.
//
// # A store that is down or slow
//
// The store calls of a request have deadlines, so a store that stops
// answering (a partition, a frozen server) or cannot write (a full disk)
// costs 503, never a hang: the revocation check of a protected request
// has 250 ms (revoke.DefaultTimeout), its user lookup 1 s, and the writes
// of /logout, /logout/all and the rotation of /refresh 1.5 s together;
// /auth and /login have 10 s in all. A 503 of /logout or /logout/all
// (with Retry-After: 1) says which of two cases it is:
//
//   - "the logout has not happened": a check before it failed, nothing
//     was written;
//   - "...may or may not have taken effect. It is safe to retry": a write
//     failed or ran out of time, and the store may still have kept it
//     (the request may have reached the store when the answer did not
//     come back). Every write of a logout is idempotent, and the access
//     token is revoked last: a retry that gets 401 (token revoked) means
//     the logout was done in full.
//
// /readyz probes every store at once, on every request (no answer is
// remembered): the SQL user and revocation stores commit a small write
// (revoke.Prober), so a database that reads but cannot write (disk full,
// read-only file system, a PostgreSQL standby) is not ready; the key
// store is read. A store that fails, or has not answered within
// Config.StoreBound (1 s by default), makes the answer 503, with
// {"stores": {"users": "ok", "revocations": "timeout", "keys": "failed"}}
// (no error text; the log has it).
//
// Metadata: the service publishes only what it does. /login and /refresh
// take JSON credentials and tokens, not the form-encoded grants of an
// OAuth token endpoint; with a client registry (Config.Clients) the
// service also has /oauth/token, /oauth/introspect and /oauth/revoke,
// and its RFC 8414 document names them with their grant types
// (client_credentials, refresh_token), client authentication methods and
// assertion algorithms. There is no authorization endpoint: no
// authorization_endpoint and no response_types_supported (RFC 8414
// section 2 lists it as required, but its values are response_type
// values of the authorization endpoint: with none, section 3.2 says to
// leave the member out). Clients must not
// read the absence of grant_types_supported, in a service without
// clients, as its default ("authorization_code", "implicit"). There is
// no OpenID Connect discovery document
// (/.well-known/openid-configuration answers 404): the service issues no
// id tokens.
//
// OAuth requests are form bodies (application/x-www-form-urlencoded, at
// most 16 KiB, no parameter twice except resource, no query string), and
// every error is one of RFC 6749 section 5.2 (invalid_client with 401 and
// WWW-Authenticate: Basic). Failed client authentications spend the
// client's budget ("client:ID") and the address's, like failed logins.
//
// DPoP (RFC 9449), with Config.DPoP: a DPoP header on /oauth/token,
// /login, /auth or /refresh makes the tokens bound to the proof's key
// (token_type DPoP; the refresh token too, but for registered clients);
// the protected endpoints take bound tokens as "Authorization: DPoP
// <token>" with a proof by their key, and never as bearer tokens. With
// Config.DPoPRequired the service issues and takes nothing else.
//
// Keys: each key is bound to its own algorithm (ES256/384/512, EdDSA,
// RS256..PS512; never HMAC, whose secret cannot be published), signs
// with it and verifies only it. A rotated key is published in the JWKS at
// once and signs only from its activation time on, which
// KeyActivationDelay sets to the JWKS's max-age (Config.JWKSMaxAge) plus
// the key reload interval: a verifier that honours the max-age has the
// key before it meets a token signed with it. The key it replaces stays
// published until its last token expires.
//
// Open opens the stores: a data directory (SQLite and key files) by
// default, or PostgreSQL and Redis shared by many instances.
//
// # Public surface
//
// The package exports what the jwtgate command, its tests and the interop
// harness use, and the types those signatures need:
//
//   - the service: [New], [Config] and [Server];
//   - the stores: [Open], [StoreConfig] and [Stores]; [OpenDataDir] and
//     [DataDir]; [OpenPostgres]; [UserStore], its SQL implementation
//     [SQLUsers] and the errors [ErrUserNotFound], [ErrUserExists],
//     [ErrBadUsername] and [ErrBadPassword];
//   - keys: [KeyStore] ([DataDir], or [SQLKeys] from [NewSQLKeys]) with
//     [Keys], [StoredKey] and [Rotation]; [KeySource], served by
//     [LiveKeys] ([NewLiveKeys], [LiveKeysOptions]) and [KeyRing];
//     [KeyActivationDelay], [CheckSigningAlgorithm] and
//     [ErrUnsupportedAlgorithm]; the manifest of a data directory's
//     rotated keys, [ManifestFile], [Manifest] and [ManifestKey];
//   - login limits: [Limiter], [Grant] and [NewRedisLimiter];
//   - OAuth clients: [Client], [ClientStore], its SQL implementation
//     [SQLClients], [NewClientID], [NewClientSecret], [HashClientSecret],
//     [ValidScope], the errors [ErrClientNotFound], [ErrClientExists] and
//     [ErrBadClient];
//   - passwords: [PasswordPolicy], [DefaultMinPasswordLength],
//     [MaxPasswordLen], [ValidUsername], [ValidPassword], [RandomPassword],
//     [HashPassword], [VerifyPassword] and [ErrBadHash];
//   - sessions and the audit log: [SQLSessions] and its [Session];
//     [SQLAudit] with [Event], [AuditFilter], [Pruner] and
//     [DefaultAuditRetention];
//   - the changes the admin API and the users, clients and keys commands
//     share: [Accounts], [Actor], [CLIActor], [User], [ClientUpdate],
//     [MaxSecretGrace], [ErrSessionsNotEnded], [ErrSessionNotFound],
//     [RotateKey] and [RotationPlan];
//   - the pages: [UIConfig], and what their templates receive,
//     [SignInPage], [AccountPage], [SessionView], [AdminPage],
//     [AdminUserView] and [AuditView];
//   - [DefaultStoreBound].
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// maxBody bounds request bodies.
const maxBody = 64 << 10

// Config configures a Server.
type Config struct {
	// Users checks credentials (required).
	Users UserStore
	// Revocations keeps logouts and refresh rotations (required).
	Revocations revoke.Store
	// Keys signs and verifies the tokens (required): a *LiveKeys that
	// follows a KeyStore shared by instances, a *KeyRing, or a *jwk.Ring.
	// The keys of the first two are each bound to one algorithm: the
	// signer signs with its own, and each published key verifies only
	// its own.
	Keys KeySource
	// Algorithm signs the tokens when the signing key allows several (an
	// RSA key of a *jwk.Ring); a key bound to one algorithm signs with
	// that one. For a *jwk.Ring it is required, and the only algorithm
	// that verifies.
	Algorithm jwt.Algorithm
	// JWKSMaxAge is the Cache-Control max-age of the JWKS:
	// jwk.DefaultMaxAge (300 s) by default. A rotated key must be
	// published at least this long (plus the key reload interval) before
	// it signs, so that verifiers which cache the JWKS for that long know
	// it: see KeyActivationDelay, which "jwtgate keys rotate" applies.
	JWKSMaxAge time.Duration
	// Issuer is the iss of the tokens and the issuer of the metadata
	// document, a URL (required).
	Issuer string
	// Audience is the aud of access tokens: the resource servers that
	// accept them, usually a URL. Default: Issuer, which every resource
	// server already knows (it fetches the keys from there) and which is
	// never the refresh tokens' audience (Issuer + "/refresh").
	Audience string
	// AccessTTL and RefreshTTL: 15 minutes and 30 days by default.
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// SecureCookies marks cookies Secure (HTTPS only).
	SecureCookies bool
	// Logger: slog.Default() when nil.
	Logger *slog.Logger
	// MaxHashing bounds concurrent password hashes (each takes 19 MiB):
	// 2 × GOMAXPROCS by default.
	MaxHashing int
	// LoginBurst and LoginEvery limit failed credential checks (/auth,
	// /login) per client IP address and per username: LoginBurst failures
	// at once, then one more per LoginEvery; once failures have spent
	// either budget, a request gets 429 before its password is checked,
	// whether the user exists or not. Right passwords spend nothing. Each
	// attempt holds a token while it is checked, so that guesses sent at
	// once are counted at once; a login that finds the tokens left all
	// held waits for those attempts to settle (503 if they do not within
	// half of its 10 s deadline). Defaults: 10 and 6 s (10 per minute). A negative LoginBurst turns
	// the limits off. Behind a proxy, set TrustedProxies, or every client
	// has the proxy's address.
	LoginBurst int
	LoginEvery time.Duration
	// TrustedProxies are the addresses of the reverse proxies and load
	// balancers in front of the service: for a connection from one of
	// them, the client address is taken from X-Forwarded-For (the
	// rightmost address that is not a trusted proxy's). Empty: the
	// connection's address, and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
	// Limiter keeps those budgets, under the keys "ip:ADDRESS" and
	// "user:NAME". Nil: in this process's memory, with LoginBurst and
	// LoginEvery. A Redis one (NewRedisLimiter, made with the same burst
	// and period) shares them among instances. A Limiter that fails
	// refuses the login with 503.
	Limiter Limiter
	// AuthPath is the path of Flask-JWT's endpoint (JWT_AUTH_URL_RULE):
	// "/auth" by default. AuthUsernameKey and AuthPasswordKey are the
	// members of its body (JWT_AUTH_USERNAME_KEY, JWT_AUTH_PASSWORD_KEY):
	// "username" and "password" by default. /login always takes
	// "username" and "password".
	AuthPath        string
	AuthUsernameKey string
	AuthPasswordKey string
	// StoreBound is how long each store has to prove it works when
	// /readyz asks (DefaultStoreBound when zero): every store that can
	// (revoke.Prober: the SQL stores write a row, the key stores read)
	// is probed at once, and one that fails or has not answered within
	// StoreBound makes the answer 503.
	StoreBound time.Duration
	// UI brands the sign-in and account pages, or replaces them.
	UI UIConfig

	// Clients is the registry of OAuth 2.0 clients. With it, the service
	// has the endpoints /oauth/token (client_credentials and
	// refresh_token grants), /oauth/introspect (RFC 7662) and
	// /oauth/revoke (RFC 7009); without it, none of them.
	Clients ClientStore
	// OneTime keeps the jti of private_key_jwt client assertions, so that
	// each is accepted once on every instance: Revocations when it
	// implements revoke.OneTimeStore (the memory, SQL and Redis stores
	// do) and OneTime is nil. Without either, private_key_jwt is not
	// offered.
	OneTime revoke.OneTimeStore
	// Scopes are published as scopes_supported in the metadata when set:
	// the scopes the service's clients may be given.
	Scopes []string

	// DPoP, if set, makes the service take DPoP proofs (RFC 9449): the
	// token endpoint, /login, /auth and /refresh issue tokens bound to the
	// key of a request's proof, and the protected routes take them with
	// their proofs ("Authorization: DPoP <token>"). Its replay store must
	// be shared by every instance (the revocation store), and so must its
	// nonce secret, if it has nonces.
	DPoP *dpop.Verifier
	// DPoPRequired, with DPoP, makes the service issue and take only
	// DPoP-bound tokens: a request for tokens without a proof is refused
	// (invalid_dpop_proof), and so is a bearer token on the protected
	// routes.
	DPoPRequired bool
	// Sessions is the session registry and Audit the audit log (Stores
	// has both). With them, the service records every session and the
	// events of sign-in, refresh and logout, and serves the account
	// endpoints (/account/...) and, when Users is a *SQLUsers, the admin
	// API (/admin/...). Nil: none of these.
	Sessions *SQLSessions
	Audit    *SQLAudit
	// KeyStore is the store Keys follows (Stores.Keys), for the admin
	// API's key rotation; KeysReload is how often instances reload it.
	// A rotated key signs from KeyActivationDelay(JWKSMaxAge, KeysReload)
	// on. Nil: the admin API lists the keys but cannot rotate them.
	KeyStore   KeyStore
	KeysReload time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Server is the token service. Make one with New.
type Server struct {
	cfg                Config
	gate               *jwtgate.Gate
	mux                *http.ServeMux
	log                *slog.Logger
	hash               chan struct{}
	limitIP, limitUser Limiter
	settled            *settleSignal
	stats              *metrics
	present            *presence
	authKeys           credentialKeys
	dummy              dummyHash
	checks             []storeCheck // of /readyz
	cookies            *jwtgate.CookieConfig
	ui                 *ui
	// origins refuses cross-origin form posts to the pages.
	origins *http.CrossOriginProtection
	// accounts is set when Config has Sessions and Audit.
	accounts *Accounts
	// freshRoute checks that a page request's access token is fresh.
	freshRoute *jwtgate.Route
	// verifyPassword is VerifyPassword; tests count its calls.
	verifyPassword func(hash, password string) (bool, error)
	oauthState
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Users == nil || cfg.Revocations == nil || cfg.Keys == nil || cfg.Issuer == "" {
		return nil, errors.New("server: Config needs Users, Revocations, Keys and Issuer")
	}
	if cfg.DPoPRequired && cfg.DPoP == nil {
		return nil, errors.New("server: DPoPRequired needs DPoP")
	}
	algs, err := verifyAlgorithms(cfg)
	if err != nil {
		return nil, err
	}
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	if err := checkAuthConfig(cfg); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hash: make(chan struct{}, cfg.MaxHashing), stats: newMetrics(), settled: newSettleSignal(),
		present: &presence{ttl: userCacheTTL, max: 100_000, until: map[string]time.Time{}}, verifyPassword: VerifyPassword}
	s.checks = storeChecks(cfg)
	if s.ui, err = newUI(cfg.UI); err != nil {
		return nil, err
	}
	s.origins = http.NewCrossOriginProtection()
	s.setLimiters()
	s.algs = algs
	s.isRevoked = s.timedCheck(revoke.Check(cfg.Revocations))
	if s.gate, err = s.newGate(algs); err != nil {
		return nil, err
	}
	if cfg.Clients != nil {
		s.oneTime = cfg.OneTime
		if ot, ok := cfg.Revocations.(revoke.OneTimeStore); ok && s.oneTime == nil {
			s.oneTime = ot
		}
		for _, sc := range cfg.Scopes {
			if err := ValidScope(sc); err != nil {
				return nil, fmt.Errorf("server: Scopes: %w", err)
			}
		}
		base := strings.TrimSuffix(cfg.Issuer, "/")
		s.clients = newClientCache(cfg.Clients, cfg.Clock, []string{cfg.Issuer, base + tokenPath})
	}
	meta, err := metadataHandler(s.metadata())
	if err != nil {
		return nil, err
	}
	s.authKeys = credentialKeys{cfg.AuthUsernameKey, cfg.AuthPasswordKey}
	if cfg.Sessions != nil && cfg.Audit != nil {
		if cfg.Audit.log == nil {
			cfg.Audit.SetLogger(cfg.Logger)
		}
		users, _ := cfg.Users.(*SQLUsers)
		clients, _ := cfg.Clients.(*SQLClients)
		s.accounts = &Accounts{Users: users, Clients: clients, Revocations: cfg.Revocations, Sessions: cfg.Sessions, Audit: cfg.Audit,
			MaxLifetime: cfg.RefreshTTL, Clock: cfg.Clock}
	}
	s.mux = s.routes(meta)
	return s, nil
}

// fillDefaults fills the settings left at zero and refuses negative
// bounds and an access audience that is the refresh endpoint.
func (cfg *Config) fillDefaults() error {
	if cfg.JWKSMaxAge < 0 {
		return errors.New("server: negative JWKSMaxAge")
	}
	if cfg.JWKSMaxAge == 0 {
		cfg.JWKSMaxAge = jwk.DefaultMaxAge
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.Issuer
	}
	if cfg.Audience == refreshAudience(cfg.Issuer) {
		return fmt.Errorf("the access tokens' audience %q is the refresh endpoint, the refresh tokens' audience: set --audience (Config.Audience) to the URL of the services that accept access tokens, or leave it out to use the issuer", cfg.Audience)
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxHashing <= 0 {
		cfg.MaxHashing = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.LoginBurst == 0 {
		cfg.LoginBurst = 10
	}
	if cfg.LoginEvery <= 0 {
		cfg.LoginEvery = 6 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.StoreBound < 0 {
		return errors.New("server: negative StoreBound")
	}
	if cfg.StoreBound == 0 {
		cfg.StoreBound = DefaultStoreBound
	}
	if cfg.AuthPath == "" {
		cfg.AuthPath = "/auth"
	}
	if cfg.AuthUsernameKey == "" {
		cfg.AuthUsernameKey = "username"
	}
	if cfg.AuthPasswordKey == "" {
		cfg.AuthPasswordKey = "password"
	}
	if cfg.KeysReload < 0 {
		return errors.New("server: negative KeysReload")
	}
	if (cfg.Sessions == nil) != (cfg.Audit == nil) {
		return errors.New("server: Config needs both Sessions and Audit, or neither")
	}
	return nil
}

// setLimiters sets the login limiters: none when LoginBurst is negative,
// Config.Limiter for both when given, else one table per client address
// and one per username.
func (s *Server) setLimiters() {
	cfg := s.cfg
	switch {
	case cfg.LoginBurst < 0:
	case cfg.Limiter != nil:
		s.limitIP, s.limitUser = cfg.Limiter, cfg.Limiter
	default:
		// Two tables, so that many usernames cannot crowd out addresses.
		s.limitIP = newLimiter(cfg.LoginBurst, cfg.LoginEvery, 100_000, cfg.Clock)
		s.limitUser = newLimiter(cfg.LoginBurst, cfg.LoginEvery, 100_000, cfg.Clock)
	}
}

// newGate returns the Gate that issues the service's RFC 9068 tokens and
// checks them on its protected endpoints.
func (s *Server) newGate(algs []jwt.Algorithm) (*jwtgate.Gate, error) {
	cfg := s.cfg
	cookies := jwtgate.DefaultCookies()
	cookies.Secure = cfg.SecureCookies
	s.cookies = cookies
	return jwtgate.New(jwtgate.Config{
		Keys: cfg.Keys,
		EncodeKey: func(context.Context, any) (*jwt.Key, error) {
			return cfg.Keys.SigningKey(), nil
		},
		Algorithm:       cfg.Algorithm,
		Algorithms:      algs,
		AccessTTL:       cfg.AccessTTL,
		RefreshTTL:      cfg.RefreshTTL,
		Issuer:          cfg.Issuer,
		ExpectedIssuers: []string{cfg.Issuer},
		Tokens:          jwtgate.TokensRFC9068,
		Audience:        []string{cfg.Audience},
		RefreshAudience: refreshAudience(cfg.Issuer),
		Leeway:          clockSkew,
		RequiredClaims:  []string{"exp", "iat", "jti"},
		Locations:       []jwtgate.Location{jwtgate.InHeader{}, jwtgate.InCookie{}},
		Cookies:         cookies,
		IsRevoked:       s.isRevoked,
		DPoP:            cfg.DPoP,
		OnError:         s.gateError,
		// Clients present the same access token many times: its signature
		// is checked once (claims and revocation on every request).
		SignatureCache: 1 << 16,
		LoadUser:       s.loadUser,
		Realm:          "jwtgate",
		Logger:         cfg.Logger,
		Clock:          cfg.Clock,
	})
}

// gateError answers a request the Gate refused, counting the outcome.
func (s *Server) gateError(w http.ResponseWriter, r *http.Request, err error) {
	s.stats.verification(verificationOutcome(err))
	if errors.Is(err, jwtgate.ErrUnavailable) && r.Method == http.MethodPost && (r.URL.Path == "/logout" || r.URL.Path == "/logout/all") {
		// The checks before a logout failed: nothing was written.
		unavailable(w, logoutNotDone)
		return
	}
	s.gate.WriteError(w, r, err)
}

// loadUser is the Gate's user loader: the token's user must still exist
// (answers are cached briefly); a store that cannot answer refuses the
// request with ErrUnavailable.
func (s *Server) loadUser(ctx context.Context, t *jwtgate.Token) (any, error) {
	ok, err := s.present.exists(ctx, t.Identity, s.cfg.Clock, func(ctx context.Context, user string) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		return s.cfg.Users.Exists(ctx, user)
	})
	if err != nil {
		return nil, jwtgate.NewError(jwtgate.ErrUnavailable, "the user store cannot answer", err)
	}
	if !ok {
		return nil, nil
	}
	return t.Identity, nil
}

// routes returns the service's endpoints.
func (s *Server) routes(meta http.Handler) *http.ServeMux {
	cfg, g := s.cfg, s.gate
	required := g.Protect(jwtgate.RouteOptions{DPoP: s.dpopPolicy()})
	m := http.NewServeMux()
	m.Handle("POST "+cfg.AuthPath, bounded(http.HandlerFunc(s.auth)))
	m.Handle("POST /login", bounded(http.HandlerFunc(s.login)))
	m.Handle("POST /refresh", bounded(g.Protect(jwtgate.RouteOptions{Refresh: true, DPoP: s.dpopPolicy()})(s.verified(s.refresh))))
	m.Handle("POST /logout", bounded(required(s.verified(s.logout))))
	m.Handle("POST /logout/all", bounded(required(s.verified(s.logoutAll))))
	m.Handle("GET /userinfo", required(s.verified(s.userinfo)))
	m.Handle("GET /metrics", s.stats)
	m.Handle("GET /.well-known/jwks.json", jwk.JWKSHandler(cfg.Keys, jwk.HandlerOptions{MaxAge: cfg.JWKSMaxAge}))
	m.Handle("GET "+metadataPath, meta)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", s.readyz)
	if s.clients != nil {
		m.Handle("POST "+tokenPath, bounded(http.HandlerFunc(s.token)))
		m.Handle("POST "+introspectPath, bounded(http.HandlerFunc(s.introspect)))
		m.Handle("POST "+revokePath, bounded(http.HandlerFunc(s.revokeToken)))
	}
	if s.accounts != nil {
		s.accountRoutes(m)
		if s.accounts.Users != nil {
			s.adminRoutes(m)
			s.adminPageRoutes(m)
		}
	}
	m.HandleFunc("GET /{$}", s.home)
	m.HandleFunc("GET /signin", s.signinPage)
	m.Handle("POST /signin", bounded(http.HandlerFunc(s.signin)))
	m.HandleFunc("GET /account", s.accountPage)
	m.Handle("POST /account", bounded(http.HandlerFunc(s.account)))
	m.Handle("POST /signout", bounded(http.HandlerFunc(s.signout)))
	m.HandleFunc("GET /ui/{file}", s.asset)
	m.HandleFunc("GET /ui/custom/{file}", s.asset)
	m.HandleFunc("/", s.noEndpoint)
	return m
}

// clockSkew is the difference between the clocks of instances that the
// service tolerates: iat has milliseconds, so without it a token issued
// by an instance whose clock is a few milliseconds ahead would be refused
// as issued in the future by the others for those milliseconds. Tokens
// also stay valid that much past exp (revocations are kept longer:
// revoke.RetentionMargin).
const clockSkew = time.Second

// refreshAudience returns the aud of the refresh tokens of the service
// whose issuer is issuer: the URL of its refresh endpoint.
func refreshAudience(issuer string) string { return strings.TrimSuffix(issuer, "/") + "/refresh" }

// DefaultStoreBound is the default Config.StoreBound.
const DefaultStoreBound = time.Second

// Time limits of the requests that wait on the stores: a store that
// stops answering (a network partition, a server that accepts and says
// nothing) costs a request 503 after this long, never a hang. The
// revocation check of a protected request has revoke.DefaultTimeout
// (250 ms), so with a frozen store a protected request, /logout included,
// gets 503 within about storeTimeout (1 s), and a logout whose store
// freezes after those checks passed within storeWriteTimeout (1.5 s)
// more.
const (
	// requestTimeout bounds /auth, /login, /refresh and /logout, which
	// may wait for a hashing slot and several store calls.
	requestTimeout = 10 * time.Second
	// storeTimeout bounds one lookup of a user on a protected request.
	storeTimeout = time.Second
	// storeWriteTimeout bounds the store calls of /logout, /logout/all
	// and the rotation of /refresh, all together.
	storeWriteTimeout = 1500 * time.Millisecond
)

// bounded gives h's requests a deadline of requestTimeout.
func bounded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// checkAuthConfig checks the path and member names of the Flask-JWT
// endpoint.
func checkAuthConfig(cfg Config) error {
	p := cfg.AuthPath
	if !strings.HasPrefix(p, "/") || len(p) > 128 || strings.ContainsAny(p, "{}?#% \t") || strings.Contains(p, "//") ||
		strings.IndexFunc(p, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return fmt.Errorf("server: AuthPath %q: want a plain absolute path such as /auth", p)
	}
	switch p {
	case "/", "/login", "/refresh", "/logout", "/logout/all", "/userinfo", "/metrics", "/healthz", "/readyz",
		"/signin", "/signout", "/account", "/admin", tokenPath, introspectPath, revokePath,
		"/.well-known/jwks.json", metadataPath:
		return fmt.Errorf("server: AuthPath %q is another endpoint's", p)
	}
	if strings.HasPrefix(p, "/account/") || strings.HasPrefix(p, "/admin/") || strings.HasPrefix(p, "/ui/") {
		return fmt.Errorf("server: AuthPath %q is under /account/, /admin/ or /ui/, the account and admin endpoints and the pages' files", p)
	}
	u, pw := cfg.AuthUsernameKey, cfg.AuthPasswordKey
	if u == pw || len(u) > 64 || len(pw) > 64 || !utf8.ValidString(u) || !utf8.ValidString(pw) {
		return fmt.Errorf("server: AuthUsernameKey %q and AuthPasswordKey %q: want two different names of at most 64 bytes", u, pw)
	}
	return nil
}

// userCacheTTL is how long a protected request trusts that a user seen
// in the user store still exists. Deleting a user with "jwtgate users
// delete" also revokes its tokens, which every request checks; this only
// delays the refusal of a user deleted some other way.
const userCacheTTL = 5 * time.Second

// presence remembers, for ttl, the users found in the user store. When
// the memory of a user runs out, the requests for it that arrive while one
// of them asks the store wait for that answer instead of asking too (a
// busy user's many clients would otherwise all ask at once).
type presence struct {
	mu     sync.Mutex
	ttl    time.Duration
	max    int
	until  map[string]time.Time
	asking map[string]*presenceCall
}

type presenceCall struct {
	done chan struct{}
	ok   bool
	err  error
}

// forget drops what p remembers of user: after disabling it, so that
// this instance refuses its tokens at once (others within the ttl; the
// sessions are also revoked).
func (p *presence) forget(user string) {
	p.mu.Lock()
	delete(p.until, user)
	p.mu.Unlock()
}

// exists reports whether user exists, from memory or from ask, which
// must bound its own time.
func (p *presence) exists(ctx context.Context, user string, now func() time.Time, ask func(context.Context, string) (bool, error)) (bool, error) {
	p.mu.Lock()
	if u, ok := p.until[user]; ok && now().Before(u) {
		p.mu.Unlock()
		return true, nil
	}
	if c, ok := p.asking[user]; ok {
		p.mu.Unlock()
		select {
		case <-c.done:
			return c.ok, c.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	c := &presenceCall{done: make(chan struct{})}
	if p.asking == nil {
		p.asking = map[string]*presenceCall{}
	}
	p.asking[user] = c
	p.mu.Unlock()

	// The lookup is everyone's: it does not end with the request that
	// started it (ask bounds it in time).
	// The waiters are released however ask ends, a panic included (the
	// panic then goes on to the request that asked).
	c.err = errors.New("user lookup ended without an answer")
	defer func() {
		p.mu.Lock()
		delete(p.asking, user)
		if c.err == nil && c.ok {
			if len(p.until) >= p.max {
				clear(p.until)
			}
			p.until[user] = now().Add(p.ttl)
		}
		p.mu.Unlock()
		close(c.done)
	}()
	c.ok, c.err = ask(context.WithoutCancel(ctx), user)
	return c.ok, c.err
}

// verified counts a successful verification, then runs h.
func (s *Server) verified(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.stats.verification("ok")
		h(w, r)
	})
}

// timedCheck records how long each revocation check takes.
func (s *Server) timedCheck(check func(context.Context, *jwtgate.Token) (bool, error)) func(context.Context, *jwtgate.Token) (bool, error) {
	return func(ctx context.Context, t *jwtgate.Token) (bool, error) {
		start := time.Now()
		revoked, err := check(ctx, t)
		s.stats.store.observe(time.Since(start))
		return revoked, err
	}
}

// Gate returns the Gate the server issues and checks tokens with.
func (s *Server) Gate() *jwtgate.Gate { return s.gate }

// ServeHTTP implements http.Handler. Each request is logged once, with
// its method, path (without the query), status and duration: never a
// body, a header or a token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if !sw.wrote {
				writeError(sw, http.StatusInternalServerError, "server_error", "internal error")
			}
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start).Round(time.Microsecond)))
	}()
	s.mux.ServeHTTP(sw, r)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
