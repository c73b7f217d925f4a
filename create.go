package jwtgate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// TokenOption adjusts one created token.
type TokenOption func(*tokenOptions)

type tokenOptions struct {
	fresh    bool
	freshFor time.Duration
	ttl      time.Duration
	ttlSet   bool
	claims   map[string]any
	headers  map[string]any
	audience []string
	issuer   *string
	alg      jwt.Algorithm
	clientID string
	jkt      string
}

// Fresh marks an access token fresh (flask-jwt-extended's fresh=True):
// routes behind Gate.Fresh accept it. Use it for tokens made right after
// the user typed a password.
func Fresh() TokenOption { return func(o *tokenOptions) { o.fresh = true } }

// FreshFor makes an access token fresh for d: its fresh claim is the time
// it stops being fresh.
func FreshFor(d time.Duration) TokenOption { return func(o *tokenOptions) { o.freshFor = d } }

// TTL overrides the token's lifetime; NoExpiry leaves exp out.
func TTL(d time.Duration) TokenOption {
	return func(o *tokenOptions) { o.ttl, o.ttlSet = d, true }
}

// WithClaims adds claims to the token. They win over Config.ExtraClaims
// and may replace the Gate's own claims, as in flask-jwt-extended; replace
// type, exp or jti only if you mean it. In TokensRFC9068 they cannot set
// aud (use WithAudience): the audience keeps refresh tokens away from
// resource servers.
func WithClaims(c map[string]any) TokenOption {
	return func(o *tokenOptions) {
		if o.claims == nil {
			o.claims = map[string]any{}
		}
		maps.Copy(o.claims, c)
	}
}

// WithHeaders adds JOSE header members (not alg, crit, b64).
func WithHeaders(h map[string]any) TokenOption {
	return func(o *tokenOptions) {
		if o.headers == nil {
			o.headers = map[string]any{}
		}
		maps.Copy(o.headers, h)
	}
}

// WithAudience sets the token's aud, replacing Config.Audience.
func WithAudience(aud ...string) TokenOption {
	return func(o *tokenOptions) { o.audience = aud }
}

// WithAlgorithm signs the token with alg instead of Config.Algorithm; the
// signing key must allow it (an RSA key allows RS* and PS*, a 64-byte
// secret HS256 to HS512).
func WithAlgorithm(alg jwt.Algorithm) TokenOption { return func(o *tokenOptions) { o.alg = alg } }

// WithIssuer sets the token's iss, replacing Config.Issuer.
func WithIssuer(iss string) TokenOption { return func(o *tokenOptions) { o.issuer = &iss } }

// WithClientID sets the token's client_id claim (RFC 9068 section 2.2):
// the OAuth client the token was issued to, where there is one.
func WithClientID(id string) TokenOption { return func(o *tokenOptions) { o.clientID = id } }

// BindTo binds the token to a DPoP key (RFC 9449 section 6): its cnf
// claim is {"jkt": thumbprint}, the RFC 7638 SHA-256 thumbprint of the
// client's public key, base64url (dpop.Proof.Thumbprint). A Gate then
// accepts the token only with a DPoP proof signed by that key, and never
// as a bearer token.
func BindTo(thumbprint string) TokenOption { return func(o *tokenOptions) { o.jkt = thumbprint } }

// CreateAccessToken returns a signed access token for user: its identity
// (Config.IdentityOf(user), or user itself), a random jti, iat, nbf, exp,
// the type claim, the fresh claim and, when cookies with CSRF protection
// are configured, a csrf value. In TokensRFC9068 the type is the typ
// header (at+jwt), aud is required, and fresh is there only when true.
func (g *Gate) CreateAccessToken(ctx context.Context, user any, opts ...TokenOption) (string, error) {
	return g.create(ctx, user, TypeAccess, opts)
}

// CreateRefreshToken returns a signed refresh token for user. Refresh
// tokens are never fresh.
func (g *Gate) CreateRefreshToken(ctx context.Context, user any, opts ...TokenOption) (string, error) {
	return g.create(ctx, user, TypeRefresh, opts)
}

// ErrNoSigningKey is returned by the Create methods of a Gate that has no
// SigningKey and no EncodeKey hook.
var ErrNoSigningKey = errors.New("jwtgate: this Gate has no signing key")

func (g *Gate) create(ctx context.Context, user any, typ string, opts []TokenOption) (string, error) {
	c := &g.cfg
	var o tokenOptions
	for _, opt := range opts {
		opt(&o)
	}
	identity := user
	if c.IdentityOf != nil {
		var err error
		if identity, err = c.IdentityOf(user); err != nil {
			return "", fmt.Errorf("jwtgate: identity of user: %w", err)
		}
	}
	if identity == nil {
		return "", errors.New("jwtgate: nil identity")
	}
	if _, isString := identity.(string); c.Claims.Identity == "sub" && !isString {
		return "", fmt.Errorf("jwtgate: identity %v is a %T; the sub claim must be a string (set Config.IdentityOf)", identity, identity)
	}
	// Whole seconds, as flask-jwt-extended makes them; TokensRFC9068 gives
	// iat and exp milliseconds (see TokensRFC9068).
	issued := g.clock()
	now := issued.Truncate(time.Second)
	profile := c.Tokens == TokensRFC9068
	iat := now
	if profile {
		iat = issued.Truncate(time.Millisecond)
	}
	claims := map[string]any{}
	if c.ExtraClaims != nil {
		extra, err := c.ExtraClaims(ctx, identity)
		if err != nil {
			return "", fmt.Errorf("jwtgate: extra claims: %w", err)
		}
		maps.Copy(claims, extra)
	}
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	claims["jti"] = jti
	claims[c.Claims.Identity] = identity
	if !profile {
		claims[c.Claims.Type] = typ
	}
	claims["iat"] = jwt.NewNumericDate(iat)
	if !c.OmitNotBefore {
		claims["nbf"] = jwt.NewNumericDate(now.Add(c.NotBeforeDelta))
	}
	ttl := c.AccessTTL
	if typ == TypeRefresh {
		ttl = c.RefreshTTL
	}
	if o.ttlSet {
		ttl = o.ttl
	}
	if ttl != NoExpiry {
		if ttl <= 0 {
			return "", errors.New("jwtgate: token lifetime must be positive (or NoExpiry)")
		}
		claims["exp"] = jwt.NewNumericDate(iat.Add(ttl))
	}
	switch {
	case typ == TypeRefresh:
		if !profile {
			claims[c.Claims.Fresh] = false
		}
	case o.freshFor > 0:
		claims[c.Claims.Fresh] = jwt.NewNumericDate(now.Add(o.freshFor))
	case o.fresh || !profile:
		claims[c.Claims.Fresh] = o.fresh
	}
	if o.jkt != "" {
		claims["cnf"] = map[string]string{"jkt": o.jkt}
	}
	if o.clientID != "" {
		claims["client_id"] = o.clientID
	}
	if c.Cookies != nil && c.Cookies.csrf() {
		csrf, err := randomID()
		if err != nil {
			return "", err
		}
		claims[c.Claims.CSRF] = csrf
	}
	iss := c.Issuer
	if o.issuer != nil {
		iss = *o.issuer
	}
	if iss != "" {
		claims["iss"] = iss
	}
	aud := c.Audience
	if o.audience != nil {
		aud = o.audience
	}
	if profile {
		if _, ok := o.claims["aud"]; ok {
			// The audience keeps the token types apart: it is checked, so
			// only WithAudience sets it.
			return "", errors.New("jwtgate: in TokensRFC9068 aud is set by Config.Audience or WithAudience, not WithClaims")
		}
		if err := g.checkProfileAudience(typ, o.audience, aud); err != nil {
			return "", err
		}
		if typ == TypeRefresh {
			aud = []string{c.RefreshAudience}
		}
	}
	if len(aud) > 0 {
		claims["aud"] = jwt.Audience(aud)
	}
	maps.Copy(claims, o.claims)

	signer, err := g.signerFor(ctx, identity, typ, o.headers, o.alg)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwtgate: encoding claims: %w", err)
	}
	return signer.Sign(payload)
}

// signerFor returns the signer for an identity, a token type and extra
// headers.
func (g *Gate) signerFor(ctx context.Context, identity any, typ string, headers map[string]any, alg jwt.Algorithm) (*jwt.Signer, error) {
	c := &g.cfg
	var opts jwt.SignerOptions
	def := g.signer
	if c.Tokens == TokensRFC9068 {
		if _, ok := headers["typ"]; ok {
			return nil, errors.New("jwtgate: typ is the token type in TokensRFC9068; it cannot be set by WithHeaders")
		}
		opts.Type = TypAccess
		if typ == TypeRefresh {
			opts.Type, def = TypRefresh, g.refSigner
		}
	}
	var extra map[string]any
	if c.ExtraHeaders != nil {
		h, err := c.ExtraHeaders(ctx, identity)
		if err != nil {
			return nil, fmt.Errorf("jwtgate: extra headers: %w", err)
		}
		extra = maps.Clone(h)
		if _, ok := extra["typ"]; ok && c.Tokens == TokensRFC9068 {
			return nil, errors.New("jwtgate: typ is the token type in TokensRFC9068; Config.ExtraHeaders cannot set it")
		}
	}
	if headers != nil {
		if extra == nil {
			extra = map[string]any{}
		}
		maps.Copy(extra, headers)
	}
	key := c.SigningKey
	if c.EncodeKey != nil {
		k, err := c.EncodeKey(ctx, identity)
		if err != nil {
			return nil, fmt.Errorf("jwtgate: encode key: %w", err)
		}
		key = k
	}
	if key == nil {
		return nil, ErrNoSigningKey
	}
	if key == c.SigningKey && extra == nil && def != nil && (alg == "" || alg == g.alg) {
		return def, nil
	}
	if alg != "" {
		if !key.Allows(alg) {
			return nil, fmt.Errorf("jwtgate: the signing key does not allow %s (it allows %v)", alg, key.Algorithms())
		}
	} else if alg = g.alg; alg == "" || !key.Allows(alg) {
		algs := key.Algorithms()
		if len(algs) == 0 {
			return nil, ErrNoSigningKey
		}
		alg = algs[0]
	}
	opts.Header = extra
	return jwt.NewSigner(key, alg, opts)
}

// randomID returns a random UUID (version 4) string.
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("jwtgate: random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:]), nil
}
