package jwk

import (
	"encoding/base64"
	"errors"
)

var errStdAlphabet = errors.New("not base64: white space or a character outside A-Z a-z 0-9 + / =")

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
