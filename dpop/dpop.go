package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// MaxProofSize is the longest proof Verify reads, in bytes.
const MaxProofSize = 8 << 10

// maxJTI bounds the jti of a proof, which is kept in the replay store.
const maxJTI = 256

// Type is the typ header of a DPoP proof.
const Type = "dpop+jwt"

// Errors. Every error of Verify wraps one of them.
var (
	// ErrInvalidProof: the proof is missing, malformed, signed wrongly,
	// for another request, too old, replayed, or not by the key the
	// access token is bound to (RFC 9449 error invalid_dpop_proof).
	ErrInvalidProof = errors.New("dpop: invalid DPoP proof")

	// ErrUseNonce: the proof has no nonce, or one that is not valid (any
	// more); the client should retry with Verifier.Nonce (RFC 9449 error
	// use_dpop_nonce).
	ErrUseNonce = errors.New("dpop: a DPoP nonce is required")

	// ErrUnavailable: the replay store could not answer, so the proof is
	// refused.
	ErrUnavailable = errors.New("dpop: replay check unavailable")

	// ErrConfig: NewVerifier, NewNonces or NewProver was given bad options.
	ErrConfig = errors.New("dpop: invalid options")
)

// ReplayStore records the proofs already used. Every store of package
// revoke implements it (revoke.OneTimeStore): memory for one instance,
// SQLite, PostgreSQL or Redis for several.
type ReplayStore interface {
	// Use records id as used until the given time and reports whether
	// this was the first use, atomically across every instance sharing
	// the store.
	Use(ctx context.Context, id string, until time.Time) (first bool, err error)
}

// DefaultAlgorithms are the proof algorithms accepted by default: every
// asymmetric JWS algorithm of package jwt.
var defaultAlgorithms = []jwt.Algorithm{jwt.ES256, jwt.ES384, jwt.ES512, jwt.EdDSA, jwt.PS256, jwt.PS384, jwt.PS512, jwt.RS256, jwt.RS384, jwt.RS512}

// DefaultAlgorithms returns the proof algorithms accepted when
// Options.Algorithms is empty: every asymmetric algorithm of package jwt.
func DefaultAlgorithms() []jwt.Algorithm { return slices.Clone(defaultAlgorithms) }

// Options configure a Verifier.
type Options struct {
	// Replay records the jti of every accepted proof; required. Use a
	// store shared by every instance that accepts the same tokens. A
	// store that waits on I/O is called while the proof's signature is
	// checked (see Verifier.Verify).
	Replay ReplayStore

	// Algorithms are the accepted proof algorithms, all asymmetric;
	// empty means DefaultAlgorithms. They are listed, in this order, in
	// the algs parameter of the DPoP challenge.
	Algorithms []jwt.Algorithm

	// MaxAge is how long after its iat a proof is accepted (60 s when
	// zero). A proof is kept in the replay store for MaxAge plus Leeway.
	MaxAge time.Duration

	// Leeway is how far in the future a proof's iat may be, for clocks
	// that run ahead (5 s when zero; a negative value means none).
	Leeway time.Duration

	// Nonces, if set, makes a nonce from it required in every proof
	// (RFC 9449 section 9).
	Nonces *Nonces

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time

	// TrustedProxies are the networks of the reverse proxies in front of
	// the service: VerifyRequest reads the URI the client addressed from
	// their X-Forwarded-Proto and X-Forwarded-Host headers (RequestURL).
	// Empty (the default), those headers are ignored.
	TrustedProxies []netip.Prefix

	// Origins, if set, are the origins clients address the service at,
	// as "https://api.example.com" (scheme, host and port if not the
	// default): a request whose URI has another origin is refused,
	// whatever its proof. Without them any origin is taken, and the host
	// of a request's URI is the one its client sends (Host, an RPC's
	// :authority): a proof made for another service, by a client that
	// sent it there with its token, is then accepted here in a request
	// that names that service's host, unless what is in front of the
	// service refuses hosts it does not serve.
	Origins []string
}

// Verifier checks DPoP proofs. It is safe for concurrent use.
type Verifier struct {
	opts     Options
	origins  map[string]bool // Options.Origins, normalised; nil for any
	algs     []jwt.Algorithm
	algsText string
	keys     headerKeys
	jwtv     *jwt.Verifier

	// inProcess: Replay answers without I/O (revoke.NonBlocking), so it
	// is called after the signature check, not during it.
	inProcess bool
}

// NewVerifier checks opts and returns a Verifier.
func NewVerifier(opts Options) (*Verifier, error) {
	if opts.Replay == nil {
		return nil, fmt.Errorf("%w: Replay is nil: every proof must be recorded to be used once (revoke.NewMemory on one instance, a shared store on several)", ErrConfig)
	}
	algs := opts.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	for _, a := range algs {
		if !slices.Contains(defaultAlgorithms, a) {
			return nil, fmt.Errorf("%w: algorithm %q: a proof must use an asymmetric algorithm, one of %v", ErrConfig, a, defaultAlgorithms)
		}
	}
	if opts.MaxAge < 0 {
		return nil, fmt.Errorf("%w: MaxAge %s is negative", ErrConfig, opts.MaxAge)
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = time.Minute
	}
	switch {
	case opts.Leeway == 0:
		opts.Leeway = 5 * time.Second
	case opts.Leeway < 0:
		opts.Leeway = 0
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	_, inProcess := opts.Replay.(interface{ NonBlocking() })
	v := &Verifier{opts: opts, algs: slices.Clone(algs), inProcess: inProcess}
	for _, o := range opts.Origins {
		origin, err := normalOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("%w: Origins: %w", ErrConfig, err)
		}
		if v.origins == nil {
			v.origins = make(map[string]bool, len(opts.Origins))
		}
		v.origins[origin] = true
	}
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	v.algsText = strings.Join(names, " ")
	v.keys = headerKeys{algs: v.algs}
	jv, err := jwt.NewVerifier(&v.keys, jwt.VerifierOptions{
		Algorithms:     v.algs,
		Type:           Type,
		RequiredClaims: []string{"jti", "htm", "htu", "iat"},
		CaptureClaims:  []string{"htm", "htu", "ath", "nonce"},
		MaxSize:        MaxProofSize,
		// iat is checked below, against MaxAge and Leeway; exp and nbf,
		// which a proof has no use for, are still checked if present.
		Leeway: opts.Leeway,
		Clock:  opts.Clock,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	v.jwtv = jv
	return v, nil
}

// Algorithms returns the accepted proof algorithms, for the algs
// parameter of a DPoP challenge (RFC 9449 section 7.1) and the metadata
// member dpop_signing_alg_values_supported.
func (v *Verifier) Algorithms() []jwt.Algorithm { return slices.Clone(v.algs) }

// AlgsParam returns the accepted algorithms as the space-separated value of
// the algs parameter of a WWW-Authenticate: DPoP challenge.
func (v *Verifier) AlgsParam() string { return v.algsText }

// Nonce returns the nonce a client should use now, or "" without
// Options.Nonces: the value of the DPoP-Nonce response header.
func (v *Verifier) Nonce() string {
	if v.opts.Nonces == nil {
		return ""
	}
	return v.opts.Nonces.Current()
}

// Request is what a proof must match.
type Request struct {
	// Method is the request's method (htm).
	Method string
	// URL is the request's target URI as the client addressed it
	// (absolute: scheme and host included); its query and fragment are
	// ignored (htu). RequestURL builds it from an *http.Request.
	URL *url.URL
	// AccessToken, if set, is the access token sent with the proof: the
	// proof's ath must be its hash.
	AccessToken string
	// Thumbprint, if set, is the RFC 7638 thumbprint the access token is
	// bound to (its cnf.jkt): the proof's key must be that key.
	Thumbprint string
}

// Proof is a verified DPoP proof.
type Proof struct {
	ID         string    // jti
	Method     string    // htm
	URL        string    // htu
	IssuedAt   time.Time // iat
	Nonce      string    // nonce, if any
	Key        *jwt.Key  // the public key of the header's jwk
	Thumbprint string    // its RFC 7638 SHA-256 thumbprint, base64url: the jkt to bind tokens to
}

// Verify checks proof, the value of a request's single DPoP header, against
// req, as RFC 9449 section 4.3 says, and records its jti in the replay
// store. Errors wrap ErrInvalidProof, ErrUseNonce or ErrUnavailable.
//
// With a replay store that answers in process (one that implements
// revoke.NonBlocking, as the memory store does), the store is called
// last, after every check. With any other store (Redis, SQL), whose call
// waits on I/O, the call overlaps the signature check: it starts once
// every other check has passed on the proof as parsed, and the proof is
// accepted only if its signature verifies and the store answers that
// this is the jti's first use. Verify waits for the store's call (whose
// context it cancels when the signature fails) before it returns. The
// error is the same in both orders: a proof with a bad signature is
// refused for its signature, whatever else is wrong with it.
func (v *Verifier) Verify(ctx context.Context, proof string, req Request) (*Proof, error) {
	if proof == "" {
		return nil, fmt.Errorf("%w: no proof", ErrInvalidProof)
	}
	if len(proof) > MaxProofSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidProof, MaxProofSize)
	}
	if v.inProcess {
		t, err := v.jwtv.Verify(ctx, proof)
		if err != nil {
			return nil, invalid(err)
		}
		p, err := v.check(t, req)
		if err != nil {
			return nil, err
		}
		if err := v.use(ctx, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	return v.verifyOverlapped(ctx, proof, req)
}

// verifyOverlapped is Verify with a replay store that waits on I/O: the
// store's round trip overlaps the signature check.
//
// Security: the store is written before the signature is checked, but
// only for a proof that passed every other check: its header (typ, an
// accepted alg, a public jwk), its claims (strict JSON, jti, htm and htu
// of this request, a fresh iat, the nonce), and, on a Gate, ath (the hash
// of this request's access token) and the binding (the header's key is
// the one the access token, verified before Verify is called, names in
// cnf.jkt). There, only a holder of that access token can cause a write,
// and at most one per request, as a valid client does. Without a token
// (a token endpoint), anyone can already cause that one write with a
// valid proof by a key of their own; a bad signature gains them nothing.
// The id written is the key's thumbprint and the proof's jti, so a
// forged proof can take the place of a genuine one only if it carries
// the genuine proof's key and jti and reaches the store first: jtis are
// random, so its sender must have seen the genuine proof, which they
// could then replay as it is, with the same effect (on a Gate, also
// holding the access token). The values the decision rests on are
// re-read from the verified token and compared (sameProof).
func (v *Verifier) verifyOverlapped(ctx context.Context, proof string, req Request) (*Proof, error) {
	pre, err := v.jwtv.Precheck(ctx, proof)
	if err != nil {
		return nil, v.refuse(ctx, proof, invalid(err))
	}
	p, err := v.check(pre, req)
	if err != nil {
		return nil, v.refuse(ctx, proof, err)
	}
	// The store is called from a goroutine of its own, which runs first
	// (Gosched) so that its request is on its way before the signature
	// check takes the CPU: started alone, it could wait for a CPU until
	// the check ended, with nothing sent, when no other was idle. The
	// signature is checked here, on this goroutine's grown stack (in a
	// new goroutine, the stack grew three times per proof: about 10 µs).
	// A failed signature cancels the call; every return waits for it.
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	used := make(chan error, 1)
	go func() { used <- v.use(uctx, p) }()
	runtime.Gosched()
	t, err := v.jwtv.Verify(ctx, proof)
	if err != nil {
		cancel()
		<-used
		return nil, invalid(err)
	}
	if err := <-used; err != nil {
		return nil, err
	}
	if err := v.sameProof(pre, t, p); err != nil {
		return nil, err
	}
	p.Key = t.Key()
	return p, nil
}

// refuse returns the error of a proof that failed a check before its
// signature was checked (err), as the in-process order would: that of
// its signature if the signature is bad, err otherwise. The answer then
// does not depend on the store (a forged proof without a nonce is
// refused for its signature, not with ErrUseNonce), and tells the
// sender of a forged proof nothing about the checks after the signature,
// at the cost of the signature check the in-process order makes anyway.
func (v *Verifier) refuse(ctx context.Context, proof string, err error) error {
	if _, serr := v.jwtv.Verify(ctx, proof); serr != nil {
		return invalid(serr)
	}
	return err
}

// invalid wraps an error of the proof's JWT checks in ErrInvalidProof.
func invalid(err error) error {
	if errors.Is(err, ErrInvalidProof) { // from the header's key
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalidProof, err)
}

// check runs the checks of a proof beyond the JWT's own on t and returns
// the Proof it describes.
func (v *Verifier) check(t *jwt.Token, req Request) (*Proof, error) {
	p := &Proof{ID: t.Claims.ID, Key: t.Key()}
	if p.ID == "" || len(p.ID) > maxJTI {
		return nil, fmt.Errorf("%w: jti must be a non-empty string of at most %d bytes", ErrInvalidProof, maxJTI)
	}
	var err error
	if p.Method, err = stringClaim(t, "htm"); err != nil {
		return nil, err
	}
	if p.URL, err = stringClaim(t, "htu"); err != nil {
		return nil, err
	}
	if p.Method != req.Method {
		return nil, fmt.Errorf("%w: htm %q is not the request's method %s", ErrInvalidProof, p.Method, req.Method)
	}
	if err := matchURL(p.URL, req.URL, v.origins); err != nil {
		return nil, err
	}
	now := v.opts.Clock()
	p.IssuedAt = t.Claims.IssuedAt.Time
	switch {
	case p.IssuedAt.After(now.Add(v.opts.Leeway)):
		return nil, fmt.Errorf("%w: iat is in the future", ErrInvalidProof)
	case p.IssuedAt.Before(now.Add(-v.opts.MaxAge)):
		return nil, fmt.Errorf("%w: iat is more than %s old", ErrInvalidProof, v.opts.MaxAge)
	}
	if _, ok := t.RawClaim("nonce"); ok {
		if p.Nonce, err = stringClaim(t, "nonce"); err != nil {
			return nil, err
		}
	}
	if n := v.opts.Nonces; n != nil {
		if p.Nonce == "" {
			return nil, fmt.Errorf("%w: the proof has no nonce", ErrUseNonce)
		}
		if !n.Valid(p.Nonce) {
			return nil, fmt.Errorf("%w: the proof's nonce is not valid (any more)", ErrUseNonce)
		}
	}
	if req.AccessToken != "" {
		ath, err := stringClaim(t, "ath")
		if err != nil {
			return nil, err
		}
		if !athMatches(ath, req.AccessToken) {
			return nil, fmt.Errorf("%w: ath is not the hash of the access token", ErrInvalidProof)
		}
	}
	if p.Thumbprint, err = v.keys.thumbprint(p.Key); err != nil {
		return nil, fmt.Errorf("%w: thumbprint: %w", ErrInvalidProof, err)
	}
	if req.Thumbprint != "" && subtle.ConstantTimeCompare([]byte(req.Thumbprint), []byte(p.Thumbprint)) != 1 {
		return nil, fmt.Errorf("%w: the proof is signed by another key than the one the access token is bound to", ErrInvalidProof)
	}
	return p, nil
}

// use records the proof's jti in the replay store, under its key's
// thumbprint, for as long as the proof could be accepted.
func (v *Verifier) use(ctx context.Context, p *Proof) error {
	first, err := v.opts.Replay.Use(ctx, "dpop:"+p.Thumbprint+":"+p.ID, p.IssuedAt.Add(v.opts.MaxAge+v.opts.Leeway))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !first {
		return fmt.Errorf("%w: the proof was used before (jti %q)", ErrInvalidProof, p.ID)
	}
	return nil
}

// sameProof checks that the verified token t holds the values p was made
// from, which check read on pre, the same proof before its signature was
// checked. Both come from the same bytes, so they cannot differ; this
// makes it an invariant of the code rather than an assumption.
func (v *Verifier) sameProof(pre, t *jwt.Token, p *Proof) error {
	same := t.Raw() == pre.Raw() && t.Header.Raw() == pre.Header.Raw() &&
		t.Claims.ID == p.ID && t.Claims.IssuedAt != nil && t.Claims.IssuedAt.Equal(p.IssuedAt)
	for _, c := range [...]string{"htm", "htu", "nonce", "ath"} {
		a, okA := pre.RawClaim(c)
		b, okB := t.RawClaim(c)
		same = same && a == b && okA == okB
	}
	if same && t.Key() != pre.Key() { // the key cache started again in between
		tp, err := v.keys.thumbprint(t.Key())
		same = err == nil && tp == p.Thumbprint
	}
	if !same {
		return fmt.Errorf("%w: the verified proof differs from the one checked before its signature", ErrInvalidProof)
	}
	return nil
}

// VerifyRequest checks the proof of r: r must carry exactly one DPoP
// header, whose proof Verify checks against r's method and URI
// (RequestURL, with Options.TrustedProxies), accessToken (ath) and
// thumbprint (the token's cnf.jkt), both optional.
func (v *Verifier) VerifyRequest(ctx context.Context, r *http.Request, accessToken, thumbprint string) (*Proof, error) {
	proof, err := OneProof(r.Header.Values("DPoP"))
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, proof, Request{
		Method:      r.Method,
		URL:         RequestURL(r, v.opts.TrustedProxies),
		AccessToken: accessToken,
		Thumbprint:  thumbprint,
	})
}

// stringClaim reads a claim of the proof that must be a string.
func stringClaim(t *jwt.Token, name string) (string, error) {
	raw, ok := t.RawClaim(name)
	if !ok {
		return "", fmt.Errorf("%w: no %s claim", ErrInvalidProof, name)
	}
	if raw[0] != '"' {
		return "", fmt.Errorf("%w: claim %s must be a string", ErrInvalidProof, name)
	}
	return strictjson.StringValue(raw), nil
}

// athMatches reports whether ath is the hash of token, as
// AccessTokenHash makes it, without allocating.
func athMatches(ath, token string) bool {
	h := sha256.Sum256([]byte(token))
	var b [43]byte // base64url of 32 bytes, unpadded
	base64.RawURLEncoding.Encode(b[:], h[:])
	return subtle.ConstantTimeCompare([]byte(ath), b[:]) == 1
}

// AccessTokenHash returns the ath of a proof sent with token: the
// base64url SHA-256 hash of its ASCII text (RFC 9449 section 4.2).
func AccessTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
