package jwk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// TrustedIssuer is one issuer an Issuers verifier accepts tokens from.
type TrustedIssuer struct {
	// Issuer is the exact iss value of its tokens.
	Issuer string
	// Keys verifies its tokens: a remote set (NewIssuerSet,
	// NewRemoteSet), a Set, a Ring or a *jwt.Key.
	Keys jwt.KeySet
	// Audiences are the audiences accepted from this issuer (see
	// jwt.VerifierOptions.Audiences).
	Audiences []string
}

// Issuers verifies tokens from several trusted issuers (multi-tenant),
// each with its own keys and audiences. The issuer is chosen by the
// token's iss before any key is looked up, so one issuer's keys never
// verify a token that claims another issuer, and a token naming no
// trusted issuer causes no key lookup (and no fetch) at all. The iss read
// to route the token is checked again, strictly, by the issuer's verifier
// after the signature.
type Issuers struct {
	byIss   map[string]*issuerEntry
	maxSize int
}

type issuerEntry struct {
	TrustedIssuer
	verifier *jwt.Verifier
}

// NewIssuers returns a verifier for the trusted issuers. opts applies to
// every issuer, except its Issuers and Audiences, which come from each
// TrustedIssuer.
func NewIssuers(opts jwt.VerifierOptions, issuers ...TrustedIssuer) (*Issuers, error) {
	v := &Issuers{byIss: make(map[string]*issuerEntry, len(issuers)), maxSize: opts.MaxSize}
	if v.maxSize <= 0 {
		v.maxSize = jwt.DefaultMaxSize
	}
	for _, ti := range issuers {
		if ti.Issuer == "" || ti.Keys == nil {
			return nil, fmt.Errorf("%w: a trusted issuer needs an issuer and keys", jwt.ErrInvalidOption)
		}
		if _, dup := v.byIss[ti.Issuer]; dup {
			return nil, fmt.Errorf("%w: issuer %q is listed twice", jwt.ErrInvalidOption, ti.Issuer)
		}
		o := opts
		o.Issuers = []string{ti.Issuer}
		o.Audiences = slices.Clone(ti.Audiences)
		jv, err := jwt.NewVerifier(ti.Keys, o)
		if err != nil {
			return nil, err
		}
		ti.Audiences = o.Audiences
		v.byIss[ti.Issuer] = &issuerEntry{TrustedIssuer: ti, verifier: jv}
	}
	return v, nil
}

// Verify verifies token with the verifier of the issuer its iss names.
// A token without a trusted iss is refused with jwt.ErrIssuer before any
// key is looked up.
func (v *Issuers) Verify(ctx context.Context, token string) (*jwt.Token, error) {
	iss, err := v.unverifiedIssuer(token)
	if err != nil {
		return nil, err
	}
	e, ok := v.byIss[iss]
	if !ok {
		return nil, &jwt.ClaimError{Claim: "iss", Reason: jwt.ClaimNotAccepted, Err: jwt.ErrIssuer, Detail: quoteID(iss) + " is not a trusted issuer"}
	}
	return e.verifier.Verify(ctx, token)
}

// DecodeKey finds the key for a token from its unverified header and
// claims, with the signature of jwtgate's Config.DecodeKey hook, so that
// a Gate verifies the tokens of several issuers: the issuer is chosen by
// the iss claim, the key by kid and alg in that issuer's keys, and the
// issuer's audiences are checked (the Gate's ExpectedAudiences must list
// every issuer's audiences, and its ExpectedIssuers every issuer). The
// signature, checked by the Gate with the returned key, covers the claims
// these checks read.
func (v *Issuers) DecodeKey(ctx context.Context, h *jwt.Header, claims map[string]any) (*jwt.Key, error) {
	iss, _ := claims["iss"].(string)
	e, ok := v.byIss[iss]
	if !ok {
		return nil, &jwt.ClaimError{Claim: "iss", Reason: jwt.ClaimNotAccepted, Err: jwt.ErrIssuer, Detail: quoteID(iss) + " is not a trusted issuer"}
	}
	if len(e.Audiences) > 0 {
		if !audienceMatches(claims["aud"], e.Audiences) {
			return nil, &jwt.ClaimError{Claim: "aud", Reason: jwt.ClaimNotAccepted, Err: jwt.ErrAudience, Detail: "not an audience of issuer " + strconv.Quote(iss)}
		}
	}
	keys, err := e.Keys.LookupKeys(ctx, h)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Allows(h.Alg) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: no key of issuer %q allows %q", jwt.ErrKeyNotFound, iss, h.Alg)
}

func audienceMatches(aud any, want []string) bool {
	switch a := aud.(type) {
	case string:
		return slices.Contains(want, a)
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && slices.Contains(want, s) {
				return true
			}
		}
	}
	return false
}

// unverifiedIssuer reads the iss claim of a token without verifying it,
// only to choose the issuer.
func (v *Issuers) unverifiedIssuer(token string) (string, error) {
	if len(token) > v.maxSize {
		return "", fmt.Errorf("%w: the token is %d bytes, the limit is %d", jwt.ErrTooLarge, len(token), v.maxSize)
	}
	_, rest, ok := strings.Cut(token, ".")
	payload, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return "", fmt.Errorf("%w: not a compact JWS", jwt.ErrMalformed)
	}
	b, err := b64url.DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w: payload: %w", jwt.ErrMalformed, err)
	}
	// The strict scanner the verifier runs next: exact member names
	// (encoding/json would match "ISS" to a struct field named iss), and
	// no duplicate iss for the choice and the verification to disagree on.
	var iss string
	found := false
	err = strictjson.ScanObject(string(b), func(name string, kind strictjson.Kind, raw string) error {
		if name != "iss" {
			return nil
		}
		if kind != strictjson.KindString {
			return fmt.Errorf("iss is a JSON %s, not a string", kind)
		}
		iss, found = strictjson.StringValue(raw), true
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: payload: %w", jwt.ErrMalformed, err)
	}
	if !found {
		return "", &jwt.ClaimError{Claim: "iss", Reason: jwt.ClaimMissing, Err: jwt.ErrIssuer, Detail: "the token has no iss"}
	}
	return iss, nil
}
