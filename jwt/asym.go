package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/jwtgate/jwtgate/internal/b64url"
)

// digest hashes msg with h.
func digest(h crypto.Hash, msg []byte) []byte {
	hh := h.New()
	hh.Write(msg)
	return hh.Sum(nil)
}

// verifyAsym checks an RSA, RSA-PSS, ECDSA or Ed25519 signature.
func (k *Key) verifyAsym(a algInfo, input, sigB64 string) error {
	n := b64url.DecodedLen(len(sigB64))
	if n < 0 || n > 1024 { // 8192-bit RSA is the largest signature we decode
		return fmt.Errorf("%w: signature has an impossible length", ErrSignature)
	}
	buf := make([]byte, len(input)+n)
	copy(buf, input)
	msg, sig := buf[:len(input)], buf[len(input):]
	if _, ok := b64url.Decode(sig, sigB64); !ok {
		return fmt.Errorf("%w: signature is not canonical base64url", ErrMalformed)
	}
	switch a.fam {
	case famRSA, famPSS:
		pub := k.pub.(*rsa.PublicKey)
		if len(sig) != pub.Size() {
			return fmt.Errorf("%w: RSA signature is %d bytes, the key needs %d", ErrSignature, len(sig), pub.Size())
		}
		var err error
		if a.fam == famRSA {
			err = rsa.VerifyPKCS1v15(pub, a.hash, digest(a.hash, msg), sig)
		} else {
			err = rsa.VerifyPSS(pub, a.hash, digest(a.hash, msg), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
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
		if !ecdsa.VerifyASN1(pub, digest(a.hash, msg), derSignature(r, s)) {
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

// inScalarRange reports whether the big-endian integer b is in [1, n-1].
func inScalarRange(b []byte, n *big.Int) bool {
	v := new(big.Int).SetBytes(b)
	return v.Sign() > 0 && v.Cmp(n) < 0
}

// derSignature encodes r and s as an ASN.1 ECDSA-Sig-Value.
func derSignature(r, s []byte) []byte {
	ri, si := derInt(r), derInt(s)
	body := len(ri) + len(si)
	out := make([]byte, 0, body+4)
	out = append(out, 0x30)
	if body >= 0x80 {
		out = append(out, 0x81)
	}
	out = append(out, byte(body))
	out = append(out, ri...)
	return append(out, si...)
}

func derInt(b []byte) []byte {
	b = bytes.TrimLeft(b, "\x00")
	pad := len(b) > 0 && b[0]&0x80 != 0
	n := len(b)
	if pad {
		n++
	}
	out := make([]byte, 0, n+2)
	out = append(out, 0x02, byte(n))
	if pad {
		out = append(out, 0)
	}
	return append(out, b...)
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
