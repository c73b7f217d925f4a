package jwt

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// DefaultMaxSize is the default limit on a token's length in bytes.
const DefaultMaxSize = 8 << 10

// VerifierOptions configures a Verifier. The zero value checks the
// signature and the time claims that are present, with no leeway.
type VerifierOptions struct {
	// Algorithms, if set, is an allowlist on top of what each key allows.
	Algorithms []Algorithm

	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time

	// Issuers, if set, are the accepted iss values; a token without iss is
	// then refused.
	Issuers []string

	// Audiences, if set, are the accepted audiences: the token's aud must
	// contain at least one. If empty, a token that carries aud is refused
	// (RFC 7519 section 4.1.3).
	Audiences []string

	// RequiredClaims are claim names that must be present (registered or
	// not), for example "exp" or "jti".
	RequiredClaims []string

	// CaptureClaims names up to MaxCapture claims beyond the registered
	// ones whose raw JSON values the verifier keeps while it scans the
	// payload, so that Token.RawClaim finds them without a second pass.
	// Middleware reads its type, freshness and CSRF claims this way.
	CaptureClaims []string

	// Type, if set, is the required typ header, compared without regard to
	// case and to an "application/" prefix (RFC 8725 section 3.11).
	Type string

	// Critical lists the crit header extensions the caller understands
	// and checks itself. Any other crit name is refused.
	Critical []string

	// MaxSize is the longest token accepted, in bytes; 0 means
	// DefaultMaxSize.
	MaxSize int

	// IgnoreExpiry accepts tokens whose exp has passed; every other check
	// stays. It exists for reading an expired token's claims on purpose
	// (to log out a session whose access token expired); never protect a
	// resource with it.
	IgnoreExpiry bool

	// SignatureCache, if positive, remembers the outcome of up to that
	// many public-key signature verifications (RS*, PS*, ES*, EdDSA; never
	// HMAC, which is cheaper than the lookup): the SHA-256 digest of each
	// token whose signature verified, with the key that verified it. The
	// same token seen again skips the public-key operation (tens of
	// microseconds) if that same key is still among the keys the key set
	// gives for it, so a key removed from the set stops its tokens at
	// once. Everything else is checked on every call: size, syntax,
	// header, algorithm, and the claims (exp, nbf, iss, aud...). Only
	// tokens that verified enter the cache, so forged tokens cannot fill
	// it; it costs about 100 bytes per entry.
	SignatureCache int
}

// Verifier verifies tokens. It is safe for concurrent use.
type Verifier struct {
	keys     KeySet
	opts     VerifierOptions
	clock    func() time.Time
	maxSize  int
	required []string
	// names are the distinct member names the claims scan looks for
	// besides the registered claims: required and captured ones.
	names []claimName

	sigs  *sigCache // nil without SignatureCache
	plans planCache // Token.Decode's plans, per type

	mu     sync.Mutex                               // serializes cache writers
	hcache atomic.Pointer[map[string]*cachedHeader] // headers that verified, by raw segment
	hlast  atomic.Pointer[cachedHeader]             // the last header that verified
}

// headerCacheSize bounds the header cache. Headers enter it only after a
// signature verified, so an attacker cannot fill it.
const headerCacheSize = 64

// NewVerifier returns a Verifier that finds keys in keys (a *Key is a key
// set of one).
func NewVerifier(keys KeySet, opts VerifierOptions) (*Verifier, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: no key set", ErrInvalidOption)
	}
	if k, ok := keys.(*Key); ok && k == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidOption)
	}
	for _, a := range opts.Algorithms {
		if !a.Known() {
			return nil, fmt.Errorf("%w: unknown algorithm %q in allowlist", ErrInvalidOption, a)
		}
	}
	if opts.Leeway < 0 {
		return nil, fmt.Errorf("%w: negative leeway", ErrInvalidOption)
	}
	if opts.MaxSize < 0 {
		return nil, fmt.Errorf("%w: negative MaxSize", ErrInvalidOption)
	}
	if len(opts.CaptureClaims) > MaxCapture {
		return nil, fmt.Errorf("%w: more than %d captured claims", ErrInvalidOption, MaxCapture)
	}
	if opts.SignatureCache < 0 {
		return nil, fmt.Errorf("%w: negative SignatureCache", ErrInvalidOption)
	}
	if len(opts.RequiredClaims) > 64 {
		return nil, fmt.Errorf("%w: more than 64 required claims", ErrInvalidOption)
	}
	v := &Verifier{keys: keys, opts: opts, clock: opts.Clock, maxSize: opts.MaxSize}
	v.opts.Algorithms = slices.Clone(opts.Algorithms)
	v.opts.Issuers = slices.Clone(opts.Issuers)
	v.opts.Audiences = slices.Clone(opts.Audiences)
	v.opts.Critical = slices.Clone(opts.Critical)
	v.opts.CaptureClaims = slices.Clone(opts.CaptureClaims)
	v.required = slices.Compact(slices.Sorted(slices.Values(opts.RequiredClaims)))
	v.names = claimNames(v.required, v.opts.CaptureClaims)
	if v.clock == nil {
		v.clock = time.Now
	}
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxSize
	}
	if opts.SignatureCache > 0 {
		v.sigs = newSigCache(opts.SignatureCache)
	}
	return v, nil
}

// Verify checks a compact JWS token completely: size, syntax, header,
// algorithm, signature, then the claims. The signature is verified before
// the payload is even decoded, and nothing is allocated for a token
// refused before that.
func (v *Verifier) Verify(ctx context.Context, token string) (*Token, error) {
	sig, err := v.signature(ctx, token)
	if err != nil {
		return nil, err
	}
	t, buf := newToken(sig.payloadLen())
	if err := v.finish(token, &sig, true, t, buf); err != nil {
		return nil, err
	}
	return t, nil
}

// Tokens with payloads up to these sizes are allocated with their payload:
// with the Token's 352 bytes and the 8-byte header of an allocation of
// that size, they fill the 640 and 768-byte size classes.
const (
	smallPayload  = 280
	mediumPayload = 408
)

// newToken returns a new Token and, for a payload of n bytes that is
// small enough, room for the payload in the same allocation (one
// allocation where there would be two); buf is nil otherwise.
func newToken(n int) (t *Token, buf []byte) {
	switch {
	case n >= 0 && n <= smallPayload:
		b := new(struct {
			t   Token
			buf [smallPayload]byte
		})
		return &b.t, b.buf[:n]
	case n > smallPayload && n <= mediumPayload:
		b := new(struct {
			t   Token
			buf [mediumPayload]byte
		})
		return &b.t, b.buf[:n]
	}
	return new(Token), nil
}

// VerifyInto is Verify writing the result into t, for callers that embed
// a Token in their own structure and want one allocation, not two. On
// error, t holds no usable result.
func (v *Verifier) VerifyInto(ctx context.Context, token string, t *Token) error {
	*t = Token{}
	sig, err := v.signature(ctx, token)
	if err != nil {
		return err
	}
	return v.finish(token, &sig, true, t, nil)
}

// VerifyIntoBuffer is VerifyInto with room for the payload: when the
// decoded payload fits in buf, t keeps it there, so that a caller that
// allocates t and buf together (or reuses them) makes no allocation at
// all. t's strings may point into buf: nothing may write to buf while t
// is in use.
func (v *Verifier) VerifyIntoBuffer(ctx context.Context, token string, t *Token, buf []byte) error {
	*t = Token{}
	sig, err := v.signature(ctx, token)
	if err != nil {
		return err
	}
	var b []byte
	if n := sig.payloadLen(); n >= 0 && n <= len(buf) {
		b = buf[:n]
	}
	return v.finish(token, &sig, true, t, b)
}

// VerifySignature checks the size, syntax, header, algorithm and signature
// only. The payload may be any bytes and no claim is read: use it for JWS
// objects that are not JWTs.
func (v *Verifier) VerifySignature(ctx context.Context, token string) (*Token, error) {
	sig, err := v.signature(ctx, token)
	if err != nil {
		return nil, err
	}
	t, buf := newToken(sig.payloadLen())
	if err := v.finish(token, &sig, false, t, buf); err != nil {
		return nil, err
	}
	return t, nil
}

// Errors of the structure checks, made once: a refused token costs no
// formatting.
var (
	errSegments = fmt.Errorf("%w: not three dot-separated segments", ErrMalformed)
	errJWE      = fmt.Errorf("%w: five segments: encrypted tokens (JWE) are not supported", ErrMalformed)
	errNoSig    = fmt.Errorf("%w: no signature", ErrSignature)
	errPayload  = fmt.Errorf("%w: payload is not canonical base64url", ErrMalformed)
	errHeader   = fmt.Errorf("%w: header is not canonical base64url", ErrMalformed)
	// errHeaderObject is parseHeader's error for a header that does not
	// start with '{', word for word.
	errHeaderObject = fmt.Errorf("%w: header: %w", ErrMalformed, fmt.Errorf("%w at offset 0: not a JSON object", strictjson.ErrSyntax))
)

// verified is the outcome of the checks up to the signature.
type verified struct {
	hdr    *Header
	cached *cachedHeader // the header cache's entry for hdr, nil if it was parsed
	key    *Key
	d1, d2 int // the positions of the two dots
}

// payloadLen is the decoded length of the payload, or -1 if its
// encoding cannot be canonical.
func (s *verified) payloadLen() int { return b64url.DecodedLen(s.d2 - s.d1 - 1) }

// Precheck runs every check of Verify but the signature: size, syntax,
// header, algorithm, the key set's lookup, then the claims. The token it
// returns is NOT authenticated: anyone can make one that passes. Its Key
// is the first key of the key set that allows the header's alg, the one
// Verify would try first.
//
// It is for a caller with slow work to start that only a token fitting
// its request deserves, so that the work overlaps the signature check:
// package dpop records a proof's jti in a remote replay store while the
// proof's signature is checked. Parse with Precheck, decide whether to
// start, then Verify the same string and grant nothing before Verify
// succeeded; the parser and every rule are Verify's own, and neither the
// header cache nor the signature cache learns anything from Precheck.
func (v *Verifier) Precheck(ctx context.Context, token string) (*Token, error) {
	sig, keys, err := v.unsigned(ctx, token)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Allows(sig.hdr.Alg) {
			sig.key = k
			break
		}
	}
	if sig.key == nil {
		return nil, fmt.Errorf("%w: no key for this token allows %s", ErrAlgorithm, sig.hdr.Alg)
	}
	t, buf := newToken(sig.payloadLen())
	if err := v.decode(token, &sig, true, t, buf); err != nil {
		return nil, err
	}
	return t, nil
}

// signature runs the checks of size, syntax, header, algorithm and
// signature.
func (v *Verifier) signature(ctx context.Context, token string) (verified, error) {
	pre, keys, err := v.unsigned(ctx, token)
	if err != nil {
		return verified{}, err
	}
	hdr, d2 := pre.hdr, pre.d2
	info := hdr.Alg.info()
	input, sig := token[:d2], token[d2+1:]
	var key *Key
	var digest [32]byte
	cache := v.sigs != nil && info.fam != famHMAC
	if cache {
		digest = v.sigs.digest(token)
		if k := v.sigs.get(digest); k != nil && k.Allows(hdr.Alg) && slices.Contains(keys, k) {
			key = k
		}
	}
	tried := key != nil
	for _, k := range keys {
		if key != nil {
			break // from the signature cache
		}
		if !k.Allows(hdr.Alg) {
			continue
		}
		tried = true
		if info.fam == famHMAC {
			err = k.verifyHMAC(info, input, sig)
		} else {
			err = k.verifyAsym(info, input, sig)
		}
		if err == nil {
			key = k
			if cache {
				v.sigs.put(digest, k)
			}
			break
		}
		if errors.Is(err, ErrMalformed) {
			return verified{}, err
		}
	}
	if !tried {
		return verified{}, fmt.Errorf("%w: no key for this token allows %s", ErrAlgorithm, hdr.Alg)
	}
	if key == nil {
		return verified{}, err
	}
	pre.key = key
	return pre, nil
}

// unsigned runs the checks of size, syntax, header and algorithm, and
// looks the keys up: everything before the signature. The result has no
// key yet.
func (v *Verifier) unsigned(ctx context.Context, token string) (verified, []*Key, error) {
	if len(token) > v.maxSize {
		return verified{}, nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(token), v.maxSize)
	}
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return verified{}, nil, errSegments
	}
	d2 := strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return verified{}, nil, errSegments
	}
	d2 += d1 + 1
	if n := strings.Count(token[d2+1:], "."); n > 0 {
		if n == 2 {
			return verified{}, nil, errJWE
		}
		return verified{}, nil, fmt.Errorf("%w: %d segments, want 3", ErrMalformed, n+3)
	}
	hdr, cached, err := v.header(token[:d1])
	if err != nil {
		return verified{}, nil, err
	}
	if len(v.opts.Algorithms) > 0 && !slices.Contains(v.opts.Algorithms, hdr.Alg) {
		return verified{}, nil, fmt.Errorf("%w: %s is not in the verifier's allowlist", ErrAlgorithm, hdr.Alg)
	}
	if v.opts.Type != "" && !sameType(hdr.Type, v.opts.Type) {
		return verified{}, nil, fmt.Errorf("%w: typ %q, want %q", ErrMalformed, hdr.Type, v.opts.Type)
	}
	if len(token)-d2-1 == 0 {
		return verified{}, nil, errNoSig
	}
	keys, err := v.keys.LookupKeys(ctx, hdr)
	if err != nil {
		return verified{}, nil, err
	}
	return verified{hdr: hdr, cached: cached, d1: d1, d2: d2}, keys, nil
}

// finish decodes the payload of a token whose signature verified into t
// and, if claims, checks the claims (decode); the header then enters the
// header cache.
func (v *Verifier) finish(token string, sig *verified, claims bool, t *Token, buf []byte) error {
	if err := v.decode(token, sig, claims, t, buf); err != nil {
		return err
	}
	if sig.cached == nil {
		v.remember(token[:sig.d1], sig.hdr)
	} else if v.hlast.Load() != sig.cached {
		v.hlast.Store(sig.cached)
	}
	return nil
}

// decode decodes the payload of token into t and, if claims, checks the
// claims. buf, if not nil, is where the payload goes: memory of its exact
// length that nothing else uses.
func (v *Verifier) decode(token string, sig *verified, claims bool, t *Token, buf []byte) error {
	hdr, d1, d2 := sig.hdr, sig.d1, sig.d2
	t.Header, t.raw, t.key = *hdr, token, sig.key
	seg := token[d1+1 : d2]
	n := b64url.DecodedLen(len(seg))
	if n < 0 {
		return errPayload
	}
	var stack [1024]byte
	if buf != nil && len(buf) == n {
		if _, ok := b64url.Decode(buf, seg); !ok {
			return errPayload
		}
		t.payload = unsafe.String(unsafe.SliceData(buf), n)
	} else if n <= len(stack) {
		buf := stack[:n]
		if _, ok := b64url.Decode(buf, seg); !ok {
			return errPayload
		}
		t.payload = string(buf)
	} else {
		// Decoded straight into the payload's own memory, which nothing
		// writes to afterwards: one allocation and no copy.
		buf := make([]byte, n)
		if _, ok := b64url.Decode(buf, seg); !ok {
			return errPayload
		}
		t.payload = unsafe.String(unsafe.SliceData(buf), n)
	}
	if claims {
		if err := v.claims(t); err != nil {
			return err
		}
		t.v = v
	}
	return nil
}

func sameType(got, want string) bool {
	trim := func(s string) string {
		if len(s) > 12 && strings.EqualFold(s[:12], "application/") {
			return s[12:]
		}
		return s
	}
	return strings.EqualFold(trim(got), trim(want))
}

// cachedHeader is one raw header segment and its parsed form: an entry
// of the header cache.
type cachedHeader struct {
	seg string
	h   *Header
}

// header returns the parsed header for a raw header segment and, when this
// header has verified before, its entry in the header cache.
func (v *Verifier) header(seg string) (*Header, *cachedHeader, error) {
	// Most services see one header (one key, one algorithm): compare with
	// the last one before hashing into the map.
	if last := v.hlast.Load(); last != nil && last.seg == seg {
		return last.h, last, nil
	}
	if m := v.hcache.Load(); m != nil {
		if e, ok := (*m)[seg]; ok {
			return e.h, e, nil
		}
	}
	n := b64url.DecodedLen(len(seg))
	if n < 0 {
		return nil, nil, errHeader
	}
	var stack [256]byte
	var buf []byte
	if n <= len(stack) {
		buf = stack[:n]
	} else {
		buf = make([]byte, n)
	}
	if _, ok := b64url.Decode(buf, seg); !ok {
		return nil, nil, errHeader
	}
	if len(buf) == 0 || (buf[0] != '{' && buf[0] != ' ' && buf[0] != '\t' && buf[0] != '\n' && buf[0] != '\r') {
		return nil, nil, errHeaderObject // not even the start of a JSON object
	}
	h, err := parseHeader(string(buf), v.opts.Critical)
	return h, nil, err
}

func (v *Verifier) remember(seg string, h *Header) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old := v.hcache.Load()
	size := 0
	if old != nil {
		size = len(*old)
	}
	if size >= headerCacheSize {
		return
	}
	m := make(map[string]*cachedHeader, size+1)
	if old != nil {
		for k, e := range *old {
			m[k] = e
		}
	}
	seg = strings.Clone(seg)
	m[seg] = &cachedHeader{seg: seg, h: h}
	v.hcache.Store(&m)
}

// claims parses the registered claims and validates them.
func (v *Verifier) claims(t *Token) error {
	var present uint64
	var has registered
	err := strictjson.ScanObject(t.payload, func(name string, kind strictjson.Kind, raw string) error {
		fp := nameFingerprint(name)
		for i := range v.names {
			if n := &v.names[i]; n.fp == fp && n.name == name {
				present |= n.required
				for c := n.captured; c != 0; c &= c - 1 {
					t.captured[bits.TrailingZeros8(c)] = uint32(offsetIn(t.payload, raw) + 1)
				}
				break
			}
		}
		return setClaim(&t.Claims, &t.dates, &has, name, kind, raw)
	})
	if err != nil {
		if errors.Is(err, ErrMalformed) {
			return err
		}
		return fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	if missing := uint64(1)<<len(v.required) - 1; present != missing {
		for i, r := range v.required {
			if present&(1<<i) == 0 {
				return &ClaimError{Claim: r, Reason: ClaimMissing, Err: ErrMissingClaim, Detail: r}
			}
		}
	}
	return v.validate(&t.Claims, has)
}

// claimName is a member name the claims scan looks for, with what finding
// it means: which required claims it is (bits of Verifier.required) and
// which captured ones (bits of CaptureClaims' indexes).
type claimName struct {
	fp       uint64 // nameFingerprint(name)
	name     string
	required uint64
	captured uint8
}

// claimNames merges the required and captured names into one list of
// distinct names.
func claimNames(required, captured []string) []claimName {
	var names []claimName
	find := func(name string) *claimName {
		for i := range names {
			if names[i].name == name {
				return &names[i]
			}
		}
		names = append(names, claimName{fp: nameFingerprint(name), name: name})
		return &names[len(names)-1]
	}
	for i, r := range required {
		find(r).required |= 1 << i
	}
	for i, c := range captured {
		find(c).captured |= 1 << i
	}
	return names
}

// nameFingerprint packs a member name's length and three of its bytes into
// an integer, so that the claims scan tells most names apart with one
// comparison instead of a string comparison for each name of the same
// length (every registered claim name has three letters).
func nameFingerprint(s string) uint64 {
	if len(s) == 0 {
		return 0
	}
	return uint64(len(s)) | uint64(s[0])<<32 | uint64(s[len(s)/2])<<40 | uint64(s[len(s)-1])<<48
}

// registered records which registered claims were present.
type registered uint8

const (
	hasIss registered = 1 << iota
	hasSub
	hasAud
	hasExp
	hasNbf
	hasIat
	hasJti
)

// setClaim records one registered claim. The dates are stored in dates and
// pointed to from c, so parsing them allocates nothing.
func setClaim(c *Claims, dates *[3]NumericDate, has *registered, name string, kind strictjson.Kind, raw string) error {
	var dst *string
	var date **NumericDate
	var slot *NumericDate
	var bit registered
	switch name {
	case "iss":
		dst, bit = &c.Issuer, hasIss
	case "sub":
		dst, bit = &c.Subject, hasSub
	case "jti":
		dst, bit = &c.ID, hasJti
	case "exp":
		date, slot, bit = &c.ExpiresAt, &dates[0], hasExp
	case "nbf":
		date, slot, bit = &c.NotBefore, &dates[1], hasNbf
	case "iat":
		date, slot, bit = &c.IssuedAt, &dates[2], hasIat
	case "aud":
		aud, err := parseAudience(raw)
		if err != nil {
			return fmt.Errorf("%w: claim \"aud\": %w", ErrMalformed, err)
		}
		c.Audience = aud
		*has |= hasAud
		return nil
	default:
		return nil
	}
	if dst != nil {
		if kind != strictjson.KindString {
			return fmt.Errorf("%w: claim %q is a JSON %s, not a string", ErrMalformed, name, kind)
		}
		*dst = strictjson.StringValue(raw)
	} else {
		if kind != strictjson.KindNumber {
			return fmt.Errorf("%w: claim %q is a JSON %s, not a number", ErrMalformed, name, kind)
		}
		t, err := parseNumericDate(raw)
		if err != nil {
			return fmt.Errorf("%w: claim %q: %w", ErrMalformed, name, err)
		}
		slot.Time = t
		*date = slot
	}
	*has |= bit
	return nil
}

const timeFormat = time.RFC3339Nano

func (v *Verifier) validate(c *Claims, has registered) error {
	now := v.clock()
	lee := v.opts.Leeway
	early, late := now, now // now minus and plus the leeway
	if lee != 0 {
		early, late = now.Add(-lee), now.Add(lee)
	}
	if has&hasExp != 0 && !v.opts.IgnoreExpiry && !early.Before(c.ExpiresAt.Time) {
		return &ClaimError{Claim: "exp", Reason: ClaimExpired, Err: ErrExpired, Detail: fmt.Sprintf("exp %s, now %s, leeway %s",
			c.ExpiresAt.Format(timeFormat), now.UTC().Format(timeFormat), lee)}
	}
	if has&hasNbf != 0 && late.Before(c.NotBefore.Time) {
		return &ClaimError{Claim: "nbf", Reason: ClaimNotYetValid, Err: ErrNotYetValid, Detail: fmt.Sprintf("nbf %s, now %s, leeway %s",
			c.NotBefore.Format(timeFormat), now.UTC().Format(timeFormat), lee)}
	}
	if has&hasIat != 0 && late.Before(c.IssuedAt.Time) {
		return &ClaimError{Claim: "iat", Reason: ClaimIssuedInFuture, Err: ErrIssuedInFuture, Detail: fmt.Sprintf("iat %s, now %s, leeway %s",
			c.IssuedAt.Format(timeFormat), now.UTC().Format(timeFormat), lee)}
	}
	if len(v.opts.Issuers) > 0 {
		if has&hasIss == 0 {
			return &ClaimError{Claim: "iss", Reason: ClaimMissing, Err: ErrIssuer, Detail: "token has no iss"}
		}
		if !slices.Contains(v.opts.Issuers, c.Issuer) {
			return &ClaimError{Claim: "iss", Reason: ClaimNotAccepted, Err: ErrIssuer, Detail: strconv.Quote(c.Issuer)}
		}
	}
	if len(v.opts.Audiences) == 0 {
		if has&hasAud != 0 {
			return &ClaimError{Claim: "aud", Reason: ClaimUnexpected, Err: ErrAudience, Detail: fmt.Sprintf("token has aud %q and the verifier expects none", []string(c.Audience))}
		}
	} else {
		if has&hasAud == 0 {
			return &ClaimError{Claim: "aud", Reason: ClaimMissing, Err: ErrAudience, Detail: "token has no aud"}
		}
		ok := false
		for _, a := range v.opts.Audiences {
			if c.Audience.Contains(a) {
				ok = true
				break
			}
		}
		if !ok {
			return &ClaimError{Claim: "aud", Reason: ClaimNotAccepted, Err: ErrAudience, Detail: fmt.Sprintf("%q", []string(c.Audience))}
		}
	}
	return nil
}

// Verify verifies token with a single key and default options: a
// convenience for scripts and tests. Services should keep a Verifier.
func Verify(ctx context.Context, token string, key *Key) (*Token, error) {
	v, err := NewVerifier(key, VerifierOptions{})
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, token)
}
