package jwtgate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// DPoPPolicy says whether a route takes DPoP-bound tokens (RFC 9449):
// RouteOptions.DPoP.
type DPoPPolicy uint8

const (
	// DPoPAllowed, the zero value: bearer tokens, and on a Gate with
	// Config.DPoP, DPoP-bound tokens sent as "Authorization: DPoP
	// <token>" with a valid proof.
	DPoPAllowed DPoPPolicy = iota
	// DPoPRequired: only DPoP-bound tokens with a valid proof. The route
	// needs Config.DPoP and the Authorization header among its
	// locations.
	DPoPRequired
	// DPoPRefused: only bearer tokens; the DPoP scheme is refused.
	DPoPRefused
)

func (p DPoPPolicy) String() string {
	switch p {
	case DPoPAllowed:
		return "DPoPAllowed"
	case DPoPRequired:
		return "DPoPRequired"
	case DPoPRefused:
		return "DPoPRefused"
	}
	return fmt.Sprintf("DPoPPolicy(%d)", uint8(p))
}

var (
	// ErrDPoP: the DPoP proof of a request is missing, invalid,
	// replayed, or not by the key the token is bound to; or a route that
	// requires DPoP got a bearer token (RFC 9449 invalid_dpop_proof).
	ErrDPoP = errors.New("jwtgate: invalid DPoP proof")

	// ErrDPoPNonce: the proof lacks a valid server nonce; the response
	// carries a fresh one in DPoP-Nonce (RFC 9449 use_dpop_nonce).
	ErrDPoPNonce = errors.New("jwtgate: DPoP nonce required")
)

// Thumbprint returns the DPoP key the token is bound to: the jkt member of
// its cnf claim (RFC 9449 section 6.1), or "" for a token that is not
// bound to one.
func (t *Token) Thumbprint() string {
	jkt, _ := thumbprintOf(t)
	return jkt
}

// thumbprintOf reads cnf.jkt, with an error for a cnf claim that is not
// an object, a jkt that is not a non-empty string, or a cnf without jkt:
// a token bound by another confirmation method (RFC 7800: a key, RFC
// 8705: a client certificate) that a Gate cannot check, and that must
// not pass as a bearer token.
func thumbprintOf(t *Token) (string, error) {
	raw, ok := t.CapturedClaim(capCNF)
	if !ok {
		return "", nil
	}
	if raw[0] != '{' {
		return "", errors.New("cnf claim: must be an object")
	}
	var jkt string
	var bad bool
	err := strictjson.ScanObject(raw, func(name string, kind strictjson.Kind, v string) error {
		if name == "jkt" {
			if kind != strictjson.KindString {
				bad = true
				return nil
			}
			jkt = strictjson.StringValue(v)
			bad = jkt == ""
		}
		return nil
	})
	if err != nil || bad {
		return "", errors.New("cnf claim: jkt must be a non-empty string")
	}
	if jkt == "" {
		return "", errors.New("cnf claim: the token is bound by a confirmation method other than a DPoP key (jkt), which this service cannot check")
	}
	return jkt, nil
}

// checkDPoP checks the DPoP side of a request: a token that came under
// the DPoP scheme must be bound and proven by its key (Config.DPoP); a
// bound token must not come as a bearer token (RFC 9449 section 7.2); a
// DPoPRequired route takes nothing else.
func (g *Gate) checkDPoP(ctx context.Context, f found, opts *RouteOptions, t *Token) error {
	jkt, err := thumbprintOf(t)
	if err != nil {
		return newError(ErrInvalid, "Invalid claim: "+err.Error(), err)
	}
	if !f.dpop {
		switch {
		case jkt != "" && g.cfg.DPoP == nil:
			return newError(ErrInvalid, "Token is bound to a DPoP key, and this service does not take DPoP", nil)
		case jkt != "":
			return newError(ErrInvalid, "Token is bound to a DPoP key: send it as 'Authorization: DPoP <token>' with a DPoP proof", nil)
		case opts.DPoP == DPoPRequired:
			return newError(ErrDPoP, "DPoP required: send a DPoP-bound token as 'Authorization: DPoP <token>' with a DPoP proof", nil)
		}
		return nil
	}
	switch {
	case opts.DPoP == DPoPRefused:
		return newError(ErrBadHeader, "DPoP is not accepted here: send a bearer token", nil)
	case jkt == "":
		return newError(ErrInvalid, "Token is not bound to a DPoP key: send it as a bearer token", nil)
	}
	if err := g.proveDPoP(ctx, f, jkt); err != nil {
		switch {
		case errors.Is(err, dpop.ErrUseNonce):
			return newError(ErrDPoPNonce, "DPoP nonce required: retry with the nonce in the DPoP-Nonce header", err)
		case errors.Is(err, dpop.ErrUnavailable):
			return newError(ErrUnavailable, "DPoP replay check unavailable", err)
		}
		return newError(ErrDPoP, "Invalid DPoP proof", err)
	}
	return nil
}

// proveDPoP checks the one DPoP proof of the request or call that f came
// from, made by the key jkt for f's token.
func (g *Gate) proveDPoP(ctx context.Context, f found, jkt string) error {
	if f.req != nil {
		_, err := g.cfg.DPoP.VerifyRequest(ctx, f.req, f.token, jkt)
		return err
	}
	proof, err := dpop.OneProof(f.proofs)
	if err != nil {
		return err
	}
	if f.url == nil {
		return fmt.Errorf("%w: no URL to check the proof against", dpop.ErrInvalidProof)
	}
	_, err = g.cfg.DPoP.Verify(ctx, proof, dpop.Request{Method: f.method, URL: f.url, AccessToken: f.token, Thumbprint: jkt})
	return err
}

// dpopSchemeError marks the refusal of a request that used the DPoP
// scheme, whose challenge is a DPoP one.
type dpopSchemeError struct{ error }

func (e *dpopSchemeError) Unwrap() error { return e.error }
