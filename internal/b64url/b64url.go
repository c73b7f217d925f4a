// Package b64url decodes and encodes the unpadded base64url of JOSE (RFC
// 7515 section 2) strictly: only the 64 characters of the URL-safe
// alphabet, no padding, no white space and zero trailing bits, so that
// every byte string has exactly one encoding. The standard library's
// decoder skips CR and LF; this one does not.
//
// [Decode] decodes into a caller's buffer, eight characters at a time, and
// allocates nothing: it is the decoder of the jwt package's hot path.
// [DecodeString] allocates and says what is wrong.
package b64url

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// Errors of [DecodeString].
var (
	ErrAlphabet = errors.New("not base64url: padding, white space or a character outside A-Z a-z 0-9 - _")
	ErrLength   = errors.New("not base64url: impossible length")
	ErrBits     = errors.New("not canonical base64url: non-zero trailing bits")
)

const invalidB64 = 0xFF

var b64dec = func() (t [256]byte) {
	for i := range t {
		t[i] = invalidB64
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// b64quad holds the four tables of the main decoding loop: the value of a
// character already shifted to its place in a 24-bit group, or badQuad for
// a character outside the alphabet.
const badQuad = 1 << 31

var b64quad = func() (t [4][256]uint32) {
	for c := range 256 {
		v := uint32(b64dec[c])
		for j, shift := range []uint{18, 12, 6, 0} {
			if v == invalidB64 {
				t[j][c] = badQuad
			} else {
				t[j][c] = v << shift
			}
		}
	}
	return t
}()

// enc encodes; its output is always canonical.
var enc = base64.RawURLEncoding

// EncodedLen returns the length of the encoding of n bytes.
func EncodedLen(n int) int { return enc.EncodedLen(n) }

// AppendEncode appends the encoding of src to dst.
func AppendEncode(dst, src []byte) []byte { return enc.AppendEncode(dst, src) }

// EncodeToString returns the encoding of src.
func EncodeToString(src []byte) string { return enc.EncodeToString(src) }

// DecodedLen returns the decoded length of n base64url characters, or -1 if
// no canonical encoding has that length.
func DecodedLen(n int) int {
	switch n % 4 {
	case 0:
		return n / 4 * 3
	case 2:
		return n/4*3 + 1
	case 3:
		return n/4*3 + 2
	}
	return -1
}

// Decode decodes the canonical unpadded base64url string src into dst,
// which must have room for DecodedLen(len(src)) bytes. It returns the number
// of bytes written and false if src is not canonical: a character outside
// the alphabet (padding and whitespace included), an impossible length, or
// non-zero bits left over in the last character.
func Decode(dst []byte, src string) (int, bool) {
	n := DecodedLen(len(src))
	if n < 0 || len(dst) < n {
		return 0, false
	}
	t0, t1, t2, t3 := &b64quad[0], &b64quad[1], &b64quad[2], &b64quad[3]
	d := dst[:n]
	// Eight characters at a time into six bytes, written as one 64-bit
	// store while at least eight bytes of room are left.
	for len(src) >= 8 && len(d) >= 8 {
		v := t0[src[0]] | t1[src[1]] | t2[src[2]] | t3[src[3]]
		w := t0[src[4]] | t1[src[5]] | t2[src[6]] | t3[src[7]]
		if (v|w)&badQuad != 0 {
			return 0, false
		}
		x := uint64(v)<<24 | uint64(w)
		binary.BigEndian.PutUint64(d, x<<16)
		src, d = src[8:], d[6:]
	}
	for len(src) >= 4 && len(d) >= 3 {
		v := t0[src[0]] | t1[src[1]] | t2[src[2]] | t3[src[3]]
		if v&badQuad != 0 {
			return 0, false
		}
		d[2], d[1], d[0] = byte(v), byte(v>>8), byte(v>>16)
		src, d = src[4:], d[3:]
	}
	si, di := 0, n-len(d)
	switch len(src) - si {
	case 2:
		a, b := b64dec[src[si]], b64dec[src[si+1]]
		if (a|b)&0xC0 != 0 || b&0x0F != 0 {
			return 0, false
		}
		dst[di] = a<<2 | b>>4
	case 3:
		a, b, c := b64dec[src[si]], b64dec[src[si+1]], b64dec[src[si+2]]
		if (a|b|c)&0xC0 != 0 || c&0x03 != 0 {
			return 0, false
		}
		dst[di], dst[di+1] = a<<2|b>>4, b<<4|c>>2
	}
	return n, true
}

// DecodeString decodes the canonical unpadded base64url string s. The
// error is ErrAlphabet, ErrLength or ErrBits, checked in that order.
func DecodeString(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if b64dec[s[i]] == invalidB64 {
			return nil, ErrAlphabet
		}
	}
	n := DecodedLen(len(s))
	if n < 0 {
		return nil, ErrLength
	}
	b := make([]byte, n)
	if _, ok := Decode(b, s); !ok {
		// With the alphabet and the length checked, only the trailing
		// bits are left to object to.
		return nil, ErrBits
	}
	return b, nil
}
