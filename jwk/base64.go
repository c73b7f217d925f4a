package jwk

import (
	"encoding/base64"
	"errors"
)

var (
	errB64Alphabet = errors.New("not base64url: padding, white space or a character outside A-Z a-z 0-9 - _")
	errB64Length   = errors.New("not base64url: impossible length")
	errB64Bits     = errors.New("not canonical base64url: non-zero trailing bits")
	errStdAlphabet = errors.New("not base64: white space or a character outside A-Z a-z 0-9 + / =")
)

// decodeB64URL decodes canonical unpadded base64url (RFC 7515 section 2):
// only the 64 characters of the URL-safe alphabet, no padding, no white
// space, and zero trailing bits, so that every byte string has exactly one
// encoding.
func decodeB64URL(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, errB64Alphabet
		}
	}
	if len(s)%4 == 1 {
		return nil, errB64Length
	}
	// With the alphabet checked, the strict decoder can only object to
	// non-zero trailing bits.
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errB64Bits
	}
	return b, nil
}

func encodeB64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decodeB64Std decodes the padded standard base64 of x5c (RFC 7517 section
// 4.7), canonically: no white space, padding as required, zero trailing bits.
func decodeB64Std(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, errStdAlphabet
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("not canonical padded base64")
	}
	return b, nil
}
