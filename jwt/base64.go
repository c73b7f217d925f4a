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
