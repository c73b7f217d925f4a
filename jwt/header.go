package jwt

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// MaxJSONDepth is the deepest nesting of objects and arrays accepted in a
// header or claims set.
const MaxJSONDepth = strictjson.MaxDepth

// Header is the JOSE header of a token. Only the members that matter to
// verification are parsed; Raw and Decode give the rest.
//
// The jku, x5u, x5c and jwk members are never used to choose a key: a token
// does not get to say which key verifies it. kid only looks a key up in the
// verifier's own key set. A header with enc or zip describes a JWE and is
// refused (ErrNotJWS).
type Header struct {
	Alg         Algorithm // alg
	KeyID       string    // kid
	Type        string    // typ
	ContentType string    // cty
	Critical    []string  // crit; read-only
	raw         string
}

// Raw returns the header's JSON text as it was in the token.
func (h *Header) Raw() string { return h.raw }

// Decode unmarshals the header's JSON into v.
func (h *Header) Decode(v any) error { return json.Unmarshal([]byte(h.raw), v) }

// IsType reports whether the header's typ is want, compared as
// VerifierOptions.Type is: without regard to case and to an
// "application/" prefix (RFC 8725 section 3.11, RFC 9068 section 4), so
// "application/AT+JWT" is "at+jwt".
func (h *Header) IsType(want string) bool { return sameType(h.Type, want) }

// registeredHeaders are the header parameters of RFC 7515 section 4.1, which
// crit must not list.
var registeredHeaders = []string{"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"}

// parseHeader parses a decoded header. understood lists the crit extensions
// the caller handles.
func parseHeader(raw string, understood []string) (*Header, error) {
	h := &Header{raw: raw}
	var b64False bool
	err := strictjson.ScanObject(raw, func(name string, kind strictjson.Kind, v string) error {
		str := func(dst *string) error {
			if kind != strictjson.KindString {
				return fmt.Errorf("%w: header %q is a JSON %s, not a string", ErrMalformed, name, kind)
			}
			*dst = strictjson.StringValue(v)
			return nil
		}
		switch name {
		case "alg":
			var a string
			if err := str(&a); err != nil {
				return err
			}
			h.Alg = Algorithm(a)
		case "kid":
			return str(&h.KeyID)
		case "typ":
			return str(&h.Type)
		case "cty":
			return str(&h.ContentType)
		case "crit":
			if kind != strictjson.KindArray {
				return fmt.Errorf("%w: crit is a JSON %s, not an array", ErrCritical, kind)
			}
			crit, err := strictjson.StringArray(v)
			if err != nil {
				return fmt.Errorf("%w: crit: %w", ErrCritical, err)
			}
			h.Critical = crit
		case "enc", "zip":
			// RFC 7516 section 9: a header with enc is a JWE's; zip only
			// exists for JWE (RFC 7516 section 4.1.3). Whatever its value,
			// the token is not a JWS, and a JWS that carried zip would have
			// a payload that no JWS verifier decompresses.
			return fmt.Errorf("%w: %w: the header has %q, a JWE parameter (RFC 7516 section 9)", ErrMalformed, ErrNotJWS, name)
		case "b64":
			switch kind {
			case strictjson.KindFalse:
				b64False = true
			case strictjson.KindTrue:
			default:
				return fmt.Errorf("%w: b64 is a JSON %s, not a boolean", ErrMalformed, kind)
			}
		}
		return nil
	})
	if err != nil {
		if isTyped(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	switch {
	case h.Alg == "":
		return nil, fmt.Errorf("%w: header has no alg", ErrAlgorithm)
	case isNone(string(h.Alg)):
		return nil, fmt.Errorf("%w: alg %q: unsecured tokens are never accepted", ErrAlgorithm, h.Alg)
	case !h.Alg.Known():
		return nil, fmt.Errorf("%w: unknown alg %q", ErrAlgorithm, h.Alg)
	}
	if b64False {
		return nil, fmt.Errorf("%w: unencoded payloads (b64:false, RFC 7797) are not supported", ErrMalformed)
	}
	if h.Critical != nil {
		if err := checkCrit(raw, h.Critical, understood); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func checkCrit(raw string, crit, understood []string) error {
	if len(crit) == 0 {
		return fmt.Errorf("%w: crit is empty", ErrCritical)
	}
	var present []string
	_ = strictjson.ScanObject(raw, func(name string, _ strictjson.Kind, _ string) error {
		present = append(present, name)
		return nil
	})
	for i, c := range crit {
		switch {
		case slices.Contains(crit[:i], c):
			return fmt.Errorf("%w: crit lists %q twice", ErrCritical, c)
		case slices.Contains(registeredHeaders, c):
			return fmt.Errorf("%w: crit lists the registered parameter %q", ErrCritical, c)
		case !slices.Contains(understood, c):
			return fmt.Errorf("%w: extension %q is not understood", ErrCritical, c)
		case !slices.Contains(present, c):
			return fmt.Errorf("%w: crit lists %q, which the header lacks", ErrCritical, c)
		}
	}
	return nil
}

// isTyped reports whether err already wraps one of the package's sentinels.
func isTyped(err error) bool {
	for _, s := range []error{ErrMalformed, ErrAlgorithm, ErrCritical} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
