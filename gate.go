package jwtgate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
)

// Token types, the values of the type claim.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// NoExpiry, as a TTL, issues tokens without an exp claim. They never
// expire: use it only with revocation.
const NoExpiry time.Duration = -1

// Config configures a Gate. The zero value of every field is a working
// default except the keys: give SigningKey (to issue tokens) or Keys (to
// only verify them), or both.
type Config struct {
	// SigningKey signs the tokens the Gate creates: an HMAC secret or a
	// private key (see jwt.NewHMACKey, jwt.NewPrivateKey, jwk.Load).
	SigningKey *jwt.Key

	// Algorithm is the signing algorithm. Default: the only algorithm the
	// key allows, else HS256 for secrets, RS256 for RSA keys.
	Algorithm jwt.Algorithm

	// Keys verifies tokens. Default: SigningKey (its public half for
	// asymmetric keys). A jwk.Set gives key rotation by kid.
	Keys jwt.KeySet

	// Algorithms accepted when verifying. Default: Algorithm alone, as
	// flask-jwt-extended does; for a verify-only Gate, what the keys allow.
	Algorithms []jwt.Algorithm

	// AccessTTL and RefreshTTL are token lifetimes. Defaults: 15 minutes
	// and 30 days. NoExpiry leaves exp out.
	AccessTTL  time.Duration
	RefreshTTL time.Duration

	// Issuer and Audience are put in created tokens when set. In
	// TokensRFC9068, Audience is required and is the aud of access tokens.
	Issuer   string
	Audience []string

	// Tokens is the token profile: TokensFlask (the default,
	// flask-jwt-extended's tokens) or TokensRFC9068 (typ at+jwt access
	// tokens, refresh tokens no resource server accepts).
	Tokens TokenProfile

	// RefreshAudience is the aud of refresh tokens in TokensRFC9068: the
	// URL of the endpoint that takes them, such as
	// https://id.example.com/refresh. Required there when the Gate creates
	// tokens, and never one of Audience or ExpectedAudiences.
	RefreshAudience string

	// ExpectedIssuers and ExpectedAudiences are checked when verifying. A
	// token with aud is refused when ExpectedAudiences is empty. In
	// TokensRFC9068 ExpectedAudiences defaults to Audience, and access
	// routes want one of them.
	ExpectedIssuers   []string
	ExpectedAudiences []string

	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration

	// RequiredClaims are claims a token must carry besides the identity
	// claim, e.g. "exp", "iat" and "nbf" (Flask-JWT's JWT_REQUIRED_CLAIMS).
	// Without them a token missing exp is accepted and never expires.
	RequiredClaims []string

	// OmitNotBefore leaves nbf out of created tokens; otherwise nbf is iat
	// plus NotBeforeDelta (Flask-JWT's JWT_NOT_BEFORE_DELTA, default 0).
	OmitNotBefore  bool
	NotBeforeDelta time.Duration

	// Claims names the claims the Gate reads and writes besides the
	// registered ones. See ClaimNames.
	Claims ClaimNames

	// Locations, in order: the first that holds a token is used. Each
	// carries its own settings (InHeader{Name: "X-Token"}, say).
	// Default: InHeader{}, the Authorization header with Bearer.
	Locations []Location

	// Finders are custom token extractors (Flask-JWT's request_handler),
	// tried before Locations: the first that returns a token wins. A
	// finder returns "" and nil when the request has no token for it, and
	// an error (ideally wrapping ErrBadHeader) to refuse the request.
	Finders []func(r *http.Request) (string, error)

	// DPoP, if set, checks the DPoP proofs (RFC 9449) of requests that
	// send their token as "Authorization: DPoP <token>": the token must be
	// bound to the proof's key (its cnf.jkt, see BindTo), and the proof
	// valid for the request. RouteOptions.DPoP says which routes take
	// such tokens. Without it, the DPoP scheme is not read, and tokens
	// bound to a key are refused.
	DPoP *dpop.Verifier

	// Cookies configures cookies and CSRF; required when Locations has
	// InCookie. See CookieConfig.
	Cookies *CookieConfig

	// CheckPreflight makes CORS preflight requests (OPTIONS with
	// Access-Control-Request-Method) need a token like any other.
	CheckPreflight bool

	// Hooks. All optional.

	// IdentityOf turns the value given to CreateAccessToken into the
	// identity claim's value (user_identity_loader). Default: the value
	// itself, which must then be a string for the "sub" claim.
	IdentityOf func(user any) (any, error)

	// ExtraClaims returns claims added to every created token
	// (additional_claims_loader); per-call claims win over them.
	ExtraClaims func(ctx context.Context, identity any) (map[string]any, error)

	// ExtraHeaders returns header members added to created tokens.
	ExtraHeaders func(ctx context.Context, identity any) (map[string]any, error)

	// EncodeKey returns the signing key for an identity
	// (encode_key_loader). Default: SigningKey.
	EncodeKey func(ctx context.Context, identity any) (*jwt.Key, error)

	// DecodeKey returns the verification key from the unverified header
	// and claims (decode_key_loader). Default: Keys.
	DecodeKey func(ctx context.Context, header *jwt.Header, claims map[string]any) (*jwt.Key, error)

	// VerifyClaims checks a verified token's claims
	// (token_verification_loader); an error refuses the request with
	// ErrClaims.
	VerifyClaims func(ctx context.Context, t *Token) error

	// IsRevoked reports whether a token is revoked
	// (token_in_blocklist_loader). An error refuses the request with
	// ErrUnavailable unless FailOpen is set; an *Error of another kind
	// (made with NewError) refuses it with that kind.
	IsRevoked func(ctx context.Context, t *Token) (bool, error)

	// FailOpen lets requests through when IsRevoked returns an error. The
	// default refuses them (503): a revocation that cannot be checked is
	// not known to be absent.
	FailOpen bool

	// LoadUser loads the user of a verified token (user_lookup_loader);
	// handlers get it with User. A nil user with a nil error refuses the
	// request with ErrUserLoad.
	LoadUser func(ctx context.Context, t *Token) (any, error)

	// OnError answers a refused request. Default: Profile's response.
	OnError func(w http.ResponseWriter, r *http.Request, err error)

	// Profile chooses the default error responses: ProfileRFC6750 (the
	// default), ProfileFlask (flask-jwt-extended's codes and texts) or
	// ProfileFlaskJWT.
	Profile Profile

	// MessageKey is the JSON member of error bodies in ProfileFlask
	// ("msg").
	MessageKey string

	// Realm appears in WWW-Authenticate (ProfileRFC6750, ProfileFlaskJWT).
	Realm string

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time

	// Logger receives warnings (revocation failing open, hooks failing).
	// Default: slog.Default().
	Logger *slog.Logger

	// MaxTokenSize bounds tokens (jwt.DefaultMaxSize).
	MaxTokenSize int

	// SignatureCache, if positive, keeps the outcome of up to that many
	// public-key signature checks, so that a client presenting the same
	// token again skips the public-key operation (see
	// jwt.VerifierOptions.SignatureCache: claims, revocation and every
	// other check still run on each request). 0: off.
	SignatureCache int
}

// ClaimNames are the names of the Gate's own claims. A zero field takes
// its default. Change them to accept tokens from another issuer
// (Flask-JWT puts the identity in "identity"); no two may be the same.
type ClaimNames struct {
	Identity string // the identity: "sub"
	Type     string // the token type in TokensFlask: "type"
	Fresh    string // freshness, a boolean or a numeric date: "fresh"
	CSRF     string // the double-submit CSRF value: "csrf"
}

// Gate issues and checks tokens for net/http handlers. It is safe for
// concurrent use. Make one with New.
type Gate struct {
	cfg        Config
	alg        jwt.Algorithm
	signer     *jwt.Signer // default signer; nil for a verify-only Gate
	refSigner  *jwt.Signer // default signer of refresh tokens in TokensRFC9068
	verifier   *jwt.Verifier
	expVerify  *jwt.Verifier // verifier that ignores exp (DecodeOptions.AllowExpired)
	clock      func() time.Time
	log        *slog.Logger
	csrfMethod map[string]bool
	locs       []locator // Config.Locations with their defaults
}

// New validates cfg and returns a Gate, or an error wrapping ErrConfig that
// says what is wrong.
func New(cfg Config) (*Gate, error) {
	g := &Gate{cfg: cfg}
	c := &g.cfg
	if c.SigningKey == nil && c.Keys == nil && c.DecodeKey == nil {
		return nil, fmt.Errorf("%w: no keys: set SigningKey to issue tokens, Keys or DecodeKey to verify them", ErrConfig)
	}
	// Each step checks and fills one group of settings, in this order, so
	// that the first mistake found is the one reported.
	for _, step := range []func() error{
		func() error { return contradictions(c) },
		g.setupSigning,
		c.fillLifetimes,
		g.fillNames,
		g.fillLocations,
		c.fillResponses,
		g.setupVerifiers,
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	return g, nil
}

// setupSigning chooses the algorithm the Gate signs with, makes its
// signers, and defaults Keys to the SigningKey's verifying half and
// Algorithms to that algorithm.
func (g *Gate) setupSigning() error {
	c := &g.cfg
	keysGiven := c.Keys != nil
	if c.SigningKey != nil && !c.SigningKey.CanSign() {
		return errors.New("SigningKey has no private part; put public keys in Keys")
	}
	g.alg = c.Algorithm
	if c.SigningKey != nil {
		if err := g.makeSigners(); err != nil {
			return err
		}
		if c.Keys == nil {
			if c.SigningKey.IsSymmetric() {
				c.Keys = c.SigningKey
			} else {
				c.Keys = c.SigningKey.Public()
			}
		}
	} else if g.alg != "" && !g.alg.Known() {
		return fmt.Errorf("unknown Algorithm %q", g.alg)
	}
	if len(c.Algorithms) == 0 && g.alg != "" {
		c.Algorithms = []jwt.Algorithm{g.alg}
	}
	for _, a := range c.Algorithms {
		if !a.Known() {
			return fmt.Errorf("unknown algorithm %q in Algorithms", a)
		}
	}
	return ownTokensRefused(c, g.alg, keysGiven)
}

// makeSigners settles the signing algorithm (Config.Algorithm, else the
// key's only one, else HS256 or RS256) and makes the signers of access
// and refresh tokens.
func (g *Gate) makeSigners() error {
	c := &g.cfg
	algs := c.SigningKey.Algorithms()
	switch {
	case g.alg != "":
		if !c.SigningKey.Allows(g.alg) {
			return fmt.Errorf("Algorithm %s is not allowed by SigningKey (it allows %v)", g.alg, algs)
		}
	case len(algs) == 1:
		g.alg = algs[0]
	case c.SigningKey.IsSymmetric():
		g.alg = jwt.HS256
	default:
		g.alg = jwt.RS256
	}
	s, err := jwt.NewSigner(c.SigningKey, g.alg, jwt.SignerOptions{})
	if err != nil {
		return err
	}
	g.signer, g.refSigner = s, s
	if c.Tokens == TokensRFC9068 {
		if g.signer, err = jwt.NewSigner(c.SigningKey, g.alg, jwt.SignerOptions{Type: TypAccess}); err != nil {
			return err
		}
		if g.refSigner, err = jwt.NewSigner(c.SigningKey, g.alg, jwt.SignerOptions{Type: TypRefresh}); err != nil {
			return err
		}
	}
	return nil
}

// fillLifetimes fills and checks the token lifetimes, the leeway, the
// profile's claim settings and RequiredClaims.
func (c *Config) fillLifetimes() error {
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if (c.AccessTTL < 0 && c.AccessTTL != NoExpiry) || (c.RefreshTTL < 0 && c.RefreshTTL != NoExpiry) {
		return errors.New("negative token lifetime (use NoExpiry for tokens without exp)")
	}
	if c.Leeway < 0 {
		return errors.New("negative Leeway")
	}
	if c.NotBeforeDelta < 0 {
		return errors.New("negative NotBeforeDelta")
	}
	if err := c.fillProfile(); err != nil {
		return err
	}
	for _, n := range c.RequiredClaims {
		if n == "" {
			return errors.New("empty name in RequiredClaims")
		}
	}
	return nil
}

// fillNames fills and checks the claim names, the header, query and JSON
// names, the error body's key and the JSON body limit.
func (g *Gate) fillNames() error {
	c := &g.cfg
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.Claims.Identity, "sub")
	def(&c.Claims.Type, "type")
	def(&c.Claims.Fresh, "fresh")
	def(&c.Claims.CSRF, "csrf")
	def(&c.MessageKey, "msg")
	names := map[string]string{}
	for _, n := range []struct{ field, name string }{
		{"Claims.Identity", c.Claims.Identity}, {"Claims.Type", c.Claims.Type}, {"Claims.Fresh", c.Claims.Fresh}, {"Claims.CSRF", c.Claims.CSRF},
	} {
		if prev, dup := names[n.name]; dup {
			return fmt.Errorf("%s and %s are both %q", prev, n.field, n.name)
		}
		names[n.name] = n.field
	}
	return nil
}

// fillLocations fills and checks Locations (a copy of the caller's
// slice) and the cookie settings with the methods that need CSRF.
func (g *Gate) fillLocations() error {
	c := &g.cfg
	if len(c.Locations) == 0 {
		c.Locations = []Location{InHeader{}}
	}
	locs, locErr := locators(c.Locations)
	if locErr != nil {
		//lint:ignore ST1005 the text starts with the name of the Config field
		return fmt.Errorf("Locations: %v", locErr)
	}
	g.locs = locs
	if hasLocation[InCookie](c.Locations) && c.Cookies == nil {
		return errors.New("InCookie is a location but Cookies is nil: set Cookies (DefaultCookies() is a start)")
	}
	if c.Cookies != nil {
		cc := *c.Cookies
		if err := cc.fill(); err != nil {
			//lint:ignore ST1005 the text starts with the name of the Config field
			return fmt.Errorf("Cookies: %v", err)
		}
		c.Cookies = &cc
		g.csrfMethod = map[string]bool{}
		for _, m := range cc.CSRFMethods {
			g.csrfMethod[strings.ToUpper(m)] = true
		}
	}
	c.Locations = slices.Clone(c.Locations)
	return nil
}

// fillResponses checks Profile and fills and checks Realm.
func (c *Config) fillResponses() error {
	switch c.Profile {
	case ProfileRFC6750, ProfileFlask, ProfileFlaskJWT:
	default:
		return fmt.Errorf("unknown Profile %d", c.Profile)
	}
	if c.Realm == "" {
		c.Realm = "jwtgate"
		if c.Profile == ProfileFlaskJWT {
			c.Realm = "Login Required"
		}
	}
	return checkRealm("Realm", c.Realm)
}

// setupVerifiers sets the clock and the logger, and makes the verifier of
// requests and the one that ignores exp (DecodeOptions.AllowExpired).
func (g *Gate) setupVerifiers() error {
	c := &g.cfg
	g.clock = c.Clock
	if g.clock == nil {
		g.clock = time.Now
	}
	g.log = c.Logger
	if g.log == nil {
		g.log = slog.Default()
	}
	var keys jwt.KeySet = c.Keys
	if c.DecodeKey != nil {
		keys = decodeKeySet{c.DecodeKey}
	}
	required := append([]string{c.Claims.Identity}, c.RequiredClaims...)
	if c.Tokens == TokensRFC9068 {
		required = append(required, "exp", "iat", "jti")
	}
	opts := jwt.VerifierOptions{
		Algorithms:     c.Algorithms,
		Leeway:         c.Leeway,
		Clock:          g.clock,
		Issuers:        c.ExpectedIssuers,
		Audiences:      c.profileAudiences(),
		RequiredClaims: required,
		// sid, fam and rfam: the session claims that revoke.Check reads
		// on every request (fam and rfam in tokens made before sid); cnf:
		// the DPoP binding, checked on every request.
		CaptureClaims:  captureClaims(&c.Claims),
		MaxSize:        c.MaxTokenSize,
		SignatureCache: c.SignatureCache,
	}
	var err error
	if g.verifier, err = jwt.NewVerifier(keys, opts); err != nil {
		return err
	}
	opts.IgnoreExpiry = true
	opts.SignatureCache = 0 // rarely used: no cache of its own
	g.expVerify, err = jwt.NewVerifier(keys, opts)
	return err
}

// Algorithm returns the algorithm the Gate signs with ("" for a
// verify-only Gate).
// The claims the Gate's verifiers capture, by index (Token.CapturedClaim).
const (
	capIdentity = iota
	capType
	capFresh
	capCSRF
	capSID
	capFam
	capRFam
	capCNF
)

func captureClaims(n *ClaimNames) []string {
	return []string{capIdentity: n.Identity, capType: n.Type, capFresh: n.Fresh, capCSRF: n.CSRF,
		capSID: "sid", capFam: "fam", capRFam: "rfam", capCNF: "cnf"}
}

func (g *Gate) Algorithm() jwt.Algorithm { return g.alg }
