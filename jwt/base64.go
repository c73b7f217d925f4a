package jwt

import (
	"encoding/base64"
	"encoding/binary"
)

// The JWS compact serialization uses base64url without padding (RFC 7515
// section 2). The standard library's decoder skips CR and LF; this one does
// not: it accepts exactly the canonical encoding and nothing else, so a
// token has one spelling only.

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

var b64 = base64.RawURLEncoding

// decodedLen returns the decoded length of n base64url characters, or -1 if
// no canonical encoding has that length.
func decodedLen(n int) int {
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

// decodeB64 decodes the canonical unpadded base64url string src into dst,
// which must have room for decodedLen(len(src)) bytes. It returns the number
// of bytes written and false if src is not canonical: a character outside
// the alphabet (padding and whitespace included), an impossible length, or
// non-zero bits left over in the last character.
func decodeB64(dst []byte, src string) (int, bool) {
	n := decodedLen(len(src))
	if n < 0 || len(dst) < n {
		return 0, false
	}
	si, di := 0, 0
	for ; si+8 <= len(src) && di+8 <= len(dst); si, di = si+8, di+6 {
		s := src[si : si+8]
		a, b, c, d := b64dec[s[0]], b64dec[s[1]], b64dec[s[2]], b64dec[s[3]]
		e, f, g, h := b64dec[s[4]], b64dec[s[5]], b64dec[s[6]], b64dec[s[7]]
		if (a|b|c|d|e|f|g|h)&0xC0 != 0 {
			return 0, false
		}
		v := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(d)<<40 |
			uint64(e)<<34 | uint64(f)<<28 | uint64(g)<<22 | uint64(h)<<16
		binary.BigEndian.PutUint64(dst[di:], v)
	}
	for ; si+4 <= len(src); si, di = si+4, di+3 {
		a, b, c, d := b64dec[src[si]], b64dec[src[si+1]], b64dec[src[si+2]], b64dec[src[si+3]]
		if (a|b|c|d)&0xC0 != 0 { // 0xFF marks a character outside the alphabet
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
	}
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
