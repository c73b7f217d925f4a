package dpop

import "fmt"

// OneProof returns the proof of a request from the values of its DPoP
// header (or of the dpop metadata of an RPC): the one value, or an error
// wrapping ErrInvalidProof when there is none or more than one (RFC 9449
// section 4.3: a request carries exactly one proof). It is the check of
// VerifyRequest, for callers that read the values elsewhere than in an
// *http.Request before calling Verify.
func OneProof(values []string) (string, error) {
	switch len(values) {
	case 1:
		return values[0], nil
	case 0:
		return "", fmt.Errorf("%w: no DPoP proof", ErrInvalidProof)
	}
	return "", fmt.Errorf("%w: %d DPoP proofs; send one", ErrInvalidProof, len(values))
}
