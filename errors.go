package jwtgate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"
)

// Sentinel errors. Every error the Gate returns or hands to OnError wraps
// one of them; token errors also wrap the jwt package's precise cause, so
// errors.Is(err, jwt.ErrSignature) works too.
var (
	// ErrNoToken: no location held a token. On Optional routes this is the
	// one error that lets the request through unauthenticated.
	ErrNoToken = errors.New("jwtgate: no token")

	// ErrBadHeader: the Authorization header (or query value) has the
	// scheme but is malformed, e.g. "Bearer" alone or "Bearer a b".
	ErrBadHeader = errors.New("jwtgate: malformed authorization header")

	// ErrInvalid: the token is malformed, its signature or algorithm is
	// wrong, or a claim fails a check other than expiry.
	ErrInvalid = errors.New("jwtgate: invalid token")

	// ErrExpired: the token has expired.
	ErrExpired = errors.New("jwtgate: token expired")

	// ErrWrongType: a refresh token on an access route, or the reverse.
	ErrWrongType = errors.New("jwtgate: wrong token type")

	// ErrNotFresh: the route needs a fresh token.
	ErrNotFresh = errors.New("jwtgate: fresh token required")

	// ErrRevoked: the token has been revoked.
	ErrRevoked = errors.New("jwtgate: token revoked")

	// ErrCSRF: a cookie token on a state-changing request without a
	// matching CSRF value.
	ErrCSRF = errors.New("jwtgate: CSRF check failed")

	// ErrClaims: the claims verification hook refused the token.
	ErrClaims = errors.New("jwtgate: claims verification failed")

	// ErrUserLoad: the user loader found no user for the token.
	ErrUserLoad = errors.New("jwtgate: user could not be loaded")

	// ErrUnavailable: a store or key source needed to decide could not
	// answer, so the request is refused (fail closed).
	ErrUnavailable = errors.New("jwtgate: authentication temporarily unavailable")

	// ErrConfig: the configuration is inconsistent (returned by New).
	ErrConfig = errors.New("jwtgate: invalid configuration")
)

// Error carries what a response needs besides the sentinel: the message a
// client sees. Its Unwrap gives both the sentinel and the cause.
type Error struct {
	Kind    error  // one of the sentinels above
	Message string // the client-facing message
	Cause   error  // the underlying error, if any
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

func newError(kind error, msg string, cause error) *Error {
	return &Error{Kind: kind, Message: msg, Cause: cause}
}

// NewError returns an *Error for hooks that refuse a request: kind is one
// of the sentinels, msg the client-facing message, cause the detail.
func NewError(kind error, msg string, cause error) *Error { return newError(kind, msg, cause) }

// messageOf returns the client-facing message of err.
func messageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "authentication failed"
}

// classify turns a jwt error into the Gate's error with a client message.
func classify(err error) *Error {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return newError(ErrExpired, "Token has expired", err)
	case errors.Is(err, jwt.ErrSignature):
		return newError(ErrInvalid, "Signature verification failed", err)
	case errors.Is(err, jwt.ErrAlgorithm):
		return newError(ErrInvalid, "The specified alg value is not allowed", err)
	case errors.Is(err, jwt.ErrNotYetValid):
		return newError(ErrInvalid, "The token is not yet valid (nbf)", err)
	case errors.Is(err, jwt.ErrIssuedInFuture):
		return newError(ErrInvalid, "The token is not yet valid (iat)", err)
	case errors.Is(err, jwt.ErrAudience):
		return newError(ErrInvalid, "Invalid audience", err)
	case errors.Is(err, jwt.ErrIssuer):
		return newError(ErrInvalid, "Invalid issuer", err)
	case errors.Is(err, jwt.ErrMissingClaim):
		if ce := claimError(err); ce != nil && ce.Claim != "" {
			return newError(ErrInvalid, "Missing claim: "+ce.Claim, err)
		}
		return newError(ErrInvalid, "Missing claim", err)
	case errors.Is(err, jwt.ErrTooLarge):
		return newError(ErrInvalid, "Token is too large", err)
	case errors.Is(err, jwt.ErrKeyNotFound):
		return newError(ErrInvalid, "No key for this token", err)
	case errors.Is(err, jwt.ErrCritical):
		return newError(ErrInvalid, "Unsupported critical header", err)
	case errors.Is(err, jwt.ErrMalformed):
		return newError(ErrInvalid, "Malformed token", err)
	}
	// A key set that could not answer (a remote JWKS that is down).
	return newError(ErrUnavailable, "Keys are unavailable", err)
}

// claimError returns the *jwt.ClaimError in err's chain, or nil.
func claimError(err error) *jwt.ClaimError {
	var ce *jwt.ClaimError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// missing reports whether err refuses a token for lacking the claim.
func missing(err error, claim string) bool {
	ce := claimError(err)
	return ce != nil && ce.Reason == jwt.ClaimMissing && ce.Claim == claim
}

// wrongSegments reports whether err refuses token for not having three
// segments, from the token itself rather than the error's text.
func wrongSegments(err error, token string) bool {
	return errors.Is(err, jwt.ErrMalformed) && !errors.Is(err, jwt.ErrTooLarge) && strings.Count(token, ".") != 2
}
