package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/big"
	"unsafe"

	"github.com/jwtgate/jwtgate/internal/b64url"
)

// digest hashes msg with h.
func digest(h crypto.Hash, msg []byte) []byte {
	hh := h.New()
	hh.Write(msg)
	return hh.Sum(nil)
}

// digestInto hashes msg with h into out, without allocating for the
// hashes of JOSE's algorithms, and returns the digest.
func digestInto(out *[sha512.Size]byte, h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA256:
		*(*[sha256.Size]byte)(out[:sha256.Size]) = sha256.Sum256(msg)
		return out[:sha256.Size]
	case crypto.SHA384:
		*(*[sha512.Size384]byte)(out[:sha512.Size384]) = sha512.Sum384(msg)
		return out[:sha512.Size384]
	case crypto.SHA512:
		*out = sha512.Sum512(msg)
		return out[:]
	}
	hh := h.New()
	hh.Write(msg)
	return hh.Sum(out[:0])
}

// maxECDSASig is the length of the largest R||S signature (P-521).
const maxECDSASig = 2 * 66

// verifyAsym checks an RSA, RSA-PSS, ECDSA or Ed25519 signature. The
// signing input is hashed where it is, never copied; ECDSA and Ed25519
// signatures are decoded on the stack.
func (k *Key) verifyAsym(a algInfo, input, sigB64 string) error {
	n := b64url.DecodedLen(len(sigB64))
	if n < 0 || n > 1024 { // 8192-bit RSA is the largest signature we decode
		return fmt.Errorf("%w: signature has an impossible length", ErrSignature)
	}
	// The hashes read the input and keep nothing.
	msg := unsafe.Slice(unsafe.StringData(input), len(input))
	var stack [maxECDSASig]byte
	var sig []byte
	if n <= len(stack) {
		sig = stack[:n]
	} else {
		sig = make([]byte, n)
	}
	if _, ok := b64url.Decode(sig, sigB64); !ok {
		return fmt.Errorf("%w: signature is not canonical base64url", ErrMalformed)
	}
	var sum [sha512.Size]byte
	switch a.fam {
	case famRSA, famPSS:
		pub := k.pub.(*rsa.PublicKey)
		if len(sig) != pub.Size() {
			return fmt.Errorf("%w: RSA signature is %d bytes, the key needs %d", ErrSignature, len(sig), pub.Size())
		}
		var err error
		if a.fam == famRSA {
			err = rsa.VerifyPKCS1v15(pub, a.hash, digestInto(&sum, a.hash, msg), sig)
		} else {
			err = rsa.VerifyPSS(pub, a.hash, digestInto(&sum, a.hash, msg), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		if err != nil {
			return ErrSignature
		}
	case famECDSA:
		pub := k.pub.(*ecdsa.PublicKey)
		if len(sig) != 2*k.ecSize {
			return fmt.Errorf("%w: ECDSA signature is %d bytes, want R||S of %d (DER is not accepted)", ErrSignature, len(sig), 2*k.ecSize)
		}
		r, s := sig[:k.ecSize], sig[k.ecSize:]
		order := pub.Curve.Params().N
		if !inScalarRange(r, order) || !inScalarRange(s, order) {
			return fmt.Errorf("%w: ECDSA r or s is outside [1, N-1]", ErrSignature)
		}
		var der [maxDERSig]byte
		if !ecdsa.VerifyASN1(pub, digestInto(&sum, a.hash, msg), derSignature(&der, r, s)) {
			return ErrSignature
		}
	case famEdDSA:
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k.pub.(ed25519.PublicKey), msg, sig) {
			return ErrSignature
		}
	default:
		return fmt.Errorf("%w: key cannot verify", ErrAlgorithm)
	}
	return nil
}

// inScalarRange reports whether the big-endian integer b, of at most 66
// bytes, is in [1, n-1], without allocating.
func inScalarRange(b []byte, n *big.Int) bool {
	if len(b) > maxECDSASig/2 || n.BitLen() > 8*len(b) {
		return new(big.Int).SetBytes(b).Sign() > 0 && new(big.Int).SetBytes(b).Cmp(n) < 0
	}
	var nb [maxECDSASig / 2]byte
	order := n.FillBytes(nb[:len(b)])
	zero := true
	for _, c := range b {
		if c != 0 {
			zero = false
			break
		}
	}
	return !zero && bytes.Compare(b, order) < 0
}

// maxDERSig is the length of the largest ASN.1 ECDSA-Sig-Value of a
// P-521 signature: a SEQUENCE with a two-byte length around two INTEGERs
// of up to 67 bytes (66 and a leading zero) with their headers.
const maxDERSig = 3 + 2*(2+maxECDSASig/2+1)

// derSignature encodes r and s as an ASN.1 ECDSA-Sig-Value in dst.
func derSignature(dst *[maxDERSig]byte, r, s []byte) []byte {
	// Minimal INTEGERs: no leading zero byte, except one for zero itself
	// (and one added below before a high bit).
	minimal := func(b []byte) []byte {
		if t := bytes.TrimLeft(b, "\x00"); len(t) > 0 || len(b) == 0 {
			return t
		}
		return b[len(b)-1:]
	}
	r, s = minimal(r), minimal(s)
	intLen := func(b []byte) int {
		if len(b) > 0 && b[0]&0x80 != 0 {
			return len(b) + 1
		}
		return len(b)
	}
	body := 2 + intLen(r) + 2 + intLen(s)
	out := append(dst[:0], 0x30)
	if body >= 0x80 {
		out = append(out, 0x81)
	}
	out = append(out, byte(body))
	for _, b := range [2][]byte{r, s} {
		out = append(out, 0x02, byte(intLen(b)))
		if intLen(b) > len(b) {
			out = append(out, 0)
		}
		out = append(out, b...)
	}
	return out
}

var errNoPrivate = errors.New("key has no private part")

// signAsym appends the base64url signature of input to dst.
func (k *Key) signAsym(dst []byte, a algInfo, input []byte) ([]byte, error) {
	if k.priv == nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, errNoPrivate)
	}
	var sig []byte
	var err error
	switch a.fam {
	case famRSA:
		sig, err = k.priv.Sign(rand.Reader, digest(a.hash, input), a.hash)
	case famPSS:
		sig, err = k.priv.Sign(rand.Reader, digest(a.hash, input), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash})
	case famECDSA:
		var der []byte
		if der, err = k.priv.Sign(rand.Reader, digest(a.hash, input), a.hash); err == nil {
			sig, err = rawSignature(der, k.ecSize)
		}
	case famEdDSA:
		sig, err = k.priv.Sign(nil, input, crypto.Hash(0))
	default:
		err = errors.New("key cannot sign")
	}
	if err != nil {
		return nil, fmt.Errorf("jwt: signing: %w", err)
	}
	return b64url.AppendEncode(dst, sig), nil
}

// rawSignature converts an ASN.1 ECDSA signature to fixed-length R||S.
func rawSignature(der []byte, size int) ([]byte, error) {
	bad := errors.New("malformed ECDSA signature from signer")
	if len(der) < 8 || der[0] != 0x30 {
		return nil, bad
	}
	p := der[2:]
	if der[1] == 0x81 {
		p = der[3:]
	}
	out := make([]byte, 2*size)
	for i := 0; i < 2; i++ {
		if len(p) < 2 || p[0] != 0x02 || int(p[1]) > len(p)-2 {
			return nil, bad
		}
		v := bytes.TrimLeft(p[2:2+int(p[1])], "\x00")
		if len(v) > size {
			return nil, bad
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
		p = p[2+int(p[1]):]
	}
	return out, nil
}
