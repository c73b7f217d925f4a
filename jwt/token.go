package jwt

import (
	"encoding/json"
	"strings"
	"unsafe"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// Token is a verified token (or, from Verifier.Precheck, a checked one
// whose signature is not: trust nothing in it). Its registered claims are
// parsed; custom claims are decoded only when asked, with Decode.
type Token struct {
	Header  Header
	Claims  Claims
	raw     string
	payload string
	key     *Key
	v       *Verifier      // the verifier that checked the claims, nil for VerifySignature
	dates   [3]NumericDate // storage for Claims' exp, nbf and iat

	// captured holds, for each of the verifier's CaptureClaims, 1 + the
	// offset of its value in payload, or 0 when it is absent.
	captured [MaxCapture]uint32
}

// MaxCapture is the largest number of VerifierOptions.CaptureClaims.
const MaxCapture = 8

// Raw returns the token as it was received.
func (t *Token) Raw() string { return t.raw }

// Payload returns a copy of the decoded payload (the claims set's JSON, or
// any bytes for a token verified with VerifySignature).
func (t *Token) Payload() []byte { return []byte(t.payload) }

// Key returns the key that verified the token (from Precheck: the key
// Verify would try first).
func (t *Token) Key() *Key { return t.key }

// Decode unmarshals the claims set into v: a struct (embed Claims for the
// registered ones), a map, or anything encoding/json accepts. Numbers
// decoded into an interface value become json.Number, so 64-bit integers
// such as user IDs survive without rounding.
//
// The result is always the one encoding/json gives. A flat struct of
// strings, booleans, numbers, string slices and json.RawMessage fields is
// decoded without encoding/json, with a plan the Verifier computes once
// per type; decoded strings then share the payload's memory. Other types
// (embedded or nested structs, maps, pointers, types with their own
// UnmarshalJSON) and values that do not fit their field are decoded by
// encoding/json.
func (t *Token) Decode(v any) error {
	if t.v != nil && decodeFast(&t.v.plans, t.payload, true, v) {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(t.payload))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// RawClaim returns the raw JSON text of the claim name, if present. Claims
// listed in VerifierOptions.CaptureClaims are found without scanning the
// payload again.
func (t *Token) RawClaim(name string) (string, bool) {
	if t.v != nil {
		for i, c := range t.v.opts.CaptureClaims {
			if c == name {
				at := int(t.captured[i]) - 1
				if at < 0 {
					return "", false
				}
				return t.payload[at:strictjson.SkipValue(t.payload, at)], true
			}
		}
	}
	out, ok := t.Claim(name)
	return string(out), ok
}

// CapturedClaim returns the raw JSON text of the i-th claim of the
// verifier's VerifierOptions.CaptureClaims, if the token has it: RawClaim
// without looking the name up. It reports false for an i out of range, and
// for a Token that no Verifier made.
func (t *Token) CapturedClaim(i int) (string, bool) {
	if t.v == nil || i < 0 || i >= len(t.v.opts.CaptureClaims) {
		return "", false
	}
	at := int(t.captured[i]) - 1
	if at < 0 {
		return "", false
	}
	return t.payload[at:strictjson.SkipValue(t.payload, at)], true
}

// Claim returns the raw JSON value of the claim name, if present.
func (t *Token) Claim(name string) (json.RawMessage, bool) {
	var out json.RawMessage
	_ = strictjson.ScanObject(t.payload, func(n string, _ strictjson.Kind, raw string) error {
		if out == nil && n == name {
			out = json.RawMessage(raw)
		}
		return nil
	})
	return out, out != nil
}

// offsetIn returns the offset of sub, a substring of s, in s.
func offsetIn(s, sub string) int {
	return int(uintptr(unsafe.Pointer(unsafe.StringData(sub))) - uintptr(unsafe.Pointer(unsafe.StringData(s))))
}
