package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
)

// DPoP (RFC 9449) in the service.
//
// With Config.DPoP, /oauth/token, /login, /auth and /refresh take a DPoP
// header: a valid proof (without ath at the token endpoint, RFC 9449
// section 5) makes the access token bound to the proof's key (cnf.jkt,
// token_type DPoP). The refresh tokens of /login, whose users are public
// clients, are bound to the same key, and /refresh then takes them only
// as "Authorization: DPoP <refresh token>" with a proof by that key. The
// refresh tokens of registered clients, which authenticate at the token
// endpoint, are not bound (RFC 9449 section 5): a refresh may bring a
// proof by another key, and the new access token is bound to it.
// The protected routes (/userinfo, /logout, /logout/all) take bearer and
// DPoP-bound tokens, or with Config.DPoPRequired only DPoP-bound ones;
// the token endpoint and /login then refuse a request without a proof.

// dpopPolicy is the DPoP policy of the service's protected routes.
func (s *Server) dpopPolicy() jwtgate.DPoPPolicy {
	if s.cfg.DPoPRequired {
		return jwtgate.DPoPRequired
	}
	return jwtgate.DPoPAllowed
}

// requestProof checks the DPoP proof of a request to an endpoint that
// issues tokens: nil without a DPoP header (an error if DPoP is
// required), the proof if it is valid, else an error as RFC 9449 section
// 5 and 8 say: 400 invalid_dpop_proof or use_dpop_nonce (with a nonce in
// DPoP-Nonce), 503 if the replay store cannot answer.
func (s *Server) requestProof(w http.ResponseWriter, r *http.Request) (*dpop.Proof, *oauthError) {
	v := s.cfg.DPoP
	if v == nil {
		return nil, nil
	}
	if n := v.Nonce(); n != "" {
		// Every answer gives the current nonce (RFC 9449 section 8.2).
		w.Header().Set("DPoP-Nonce", n)
	}
	if _, ok := r.Header["Dpop"]; !ok {
		if s.cfg.DPoPRequired {
			return nil, errCode("invalid_dpop_proof", "a DPoP proof is required: this service issues only DPoP-bound tokens")
		}
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	p, err := v.VerifyRequest(ctx, r, "", "")
	switch {
	case err == nil:
		return p, nil
	case errors.Is(err, dpop.ErrUseNonce):
		return nil, errCode("use_dpop_nonce", "retry with the nonce of the DPoP-Nonce header in the DPoP proof")
	case errors.Is(err, dpop.ErrUnavailable):
		s.log.Error("DPoP replay store", "err", err)
		return nil, storeDown("the store of used DPoP proofs cannot answer")
	}
	s.log.Info("DPoP proof refused", "path", r.URL.Path, "reason", err.Error())
	return nil, errCode("invalid_dpop_proof", proofReason(err))
}

// proofReason is the error_description of a refused proof: Verify's
// message, which names what failed and never echoes the proof.
func proofReason(err error) string {
	return truncate(err.Error(), 256)
}

// bindOpts returns the token options that bind a token to the key of p,
// and the token_type of the answer.
func bindOpts(p *dpop.Proof) ([]jwtgate.TokenOption, string) {
	if p == nil {
		return nil, "Bearer"
	}
	return []jwtgate.TokenOption{jwtgate.BindTo(p.Thumbprint)}, "DPoP"
}

// boundType returns the token_type of t: DPoP for a token bound to a key.
func boundType(t *jwtgate.Token) string {
	if t.Thumbprint() != "" {
		return "DPoP"
	}
	return "Bearer"
}
