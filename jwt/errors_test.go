package jwt

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestClaimError(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		opts    VerifierOptions
		claim   string
		reason  ClaimReason
		want    error
		text    string
	}{
		{"expired", `{"exp":1767225599}`, VerifierOptions{}, "exp", ClaimExpired, ErrExpired,
			"jwt: token expired: exp 2025-12-31T23:59:59Z, now 2026-01-01T00:00:00Z, leeway 0s"},
		{"not yet valid", `{"nbf":1767225601}`, VerifierOptions{Leeway: 0}, "nbf", ClaimNotYetValid, ErrNotYetValid,
			"jwt: token not valid yet: nbf 2026-01-01T00:00:01Z, now 2026-01-01T00:00:00Z, leeway 0s"},
		{"iat in future", `{"iat":1767225661}`, VerifierOptions{Leeway: time.Minute}, "iat", ClaimIssuedInFuture, ErrIssuedInFuture,
			"jwt: token issued in the future: iat 2026-01-01T00:01:01Z, now 2026-01-01T00:00:00Z, leeway 1m0s"},
		{"iss missing", `{}`, VerifierOptions{Issuers: []string{"a"}}, "iss", ClaimMissing, ErrIssuer,
			"jwt: issuer not accepted: token has no iss"},
		{"iss wrong", `{"iss":"no iss"}`, VerifierOptions{Issuers: []string{"a"}}, "iss", ClaimNotAccepted, ErrIssuer,
			`jwt: issuer not accepted: "no iss"`},
		{"aud missing", `{}`, VerifierOptions{Audiences: []string{"api"}}, "aud", ClaimMissing, ErrAudience,
			"jwt: audience not accepted: token has no aud"},
		{"aud wrong", `{"aud":["web"]}`, VerifierOptions{Audiences: []string{"api"}}, "aud", ClaimNotAccepted, ErrAudience,
			`jwt: audience not accepted: ["web"]`},
		{"aud unexpected", `{"aud":"api"}`, VerifierOptions{}, "aud", ClaimUnexpected, ErrAudience,
			`jwt: audience not accepted: token has aud ["api"] and the verifier expects none`},
		{"required sub", `{"exp":1767229200}`, VerifierOptions{RequiredClaims: []string{"sub"}}, "sub", ClaimMissing, ErrMissingClaim,
			"jwt: required claim missing: sub"},
		{"required custom", `{"sub":"u"}`, VerifierOptions{RequiredClaims: []string{"sub", "roles"}}, "roles", ClaimMissing, ErrMissingClaim,
			"jwt: required claim missing: roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(t, tt.opts)
			_, err := v.Verify(context.Background(), hsToken(hs256, tt.payload))
			var ce *ClaimError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ClaimError", err)
			}
			if ce.Claim != tt.claim || ce.Reason != tt.reason {
				t.Errorf("ClaimError{Claim: %q, Reason: %v}, want {%q, %v}", ce.Claim, ce.Reason, tt.claim, tt.reason)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v does not wrap %v", err, tt.want)
			}
			if err.Error() != tt.text {
				t.Errorf("error text %q, want %q", err, tt.text)
			}
		})
	}
}

func TestClaimErrorNotForOtherErrors(t *testing.T) {
	v := testVerifier(t, VerifierOptions{})
	for _, tok := range []string{"", "a.b", hsToken(hs256, `{"exp":"1"}`), hsToken(`{"alg":"none"}`, `{}`)} {
		_, err := v.Verify(context.Background(), tok)
		if err == nil {
			t.Fatalf("%q accepted", tok)
		}
		if ce := (*ClaimError)(nil); errors.As(err, &ce) {
			t.Errorf("%q: %v is a *ClaimError", tok, err)
		}
	}
}

func TestClaimReasonString(t *testing.T) {
	for r, want := range map[ClaimReason]string{
		ClaimMissing: "missing", ClaimExpired: "expired", ClaimNotYetValid: "not yet valid",
		ClaimIssuedInFuture: "issued in the future", ClaimNotAccepted: "not accepted",
		ClaimUnexpected: "unexpected", 0: "ClaimReason(0)",
	} {
		if got := r.String(); got != want {
			t.Errorf("ClaimReason(%d).String() = %q, want %q", r, got, want)
		}
	}
}
