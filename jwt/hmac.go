package jwt

import (
	"crypto/hmac"
	"fmt"
	"hash"
	"unsafe"

	"github.com/jwtgate/jwtgate/internal/b64url"
)

// Errors of the HMAC check, made once.
var (
	errHMACLength = fmt.Errorf("%w: HMAC signature has the wrong length", ErrSignature)
	errSigB64     = fmt.Errorf("%w: signature is not canonical base64url", ErrMalformed)
)

// macState is one reusable HMAC computation. Keys keep them in a sync.Pool
// per algorithm, so the ipad/opad set-up of hmac.New is paid once, not per
// token.
type macState struct {
	h   hash.Hash
	sum [64]byte // room for the largest digest (SHA-512)
	sig [64]byte // the decoded signature
}

func (k *Key) macState(a algInfo) (*macState, error) {
	p := k.macs[a.idx]
	if p == nil {
		return nil, fmt.Errorf("%w: key does not allow this HMAC algorithm", ErrAlgorithm)
	}
	return p.Get().(*macState), nil
}

func (k *Key) verifyHMAC(a algInfo, input, sigB64 string) error {
	size := a.hash.Size()
	if b64url.DecodedLen(len(sigB64)) != size {
		return errHMACLength
	}
	st, err := k.macState(a)
	if err != nil {
		return err
	}
	defer k.macs[a.idx].Put(st)
	if _, ok := b64url.Decode(st.sig[:], sigB64); !ok {
		return errSigB64
	}
	st.h.Reset()
	// The hash reads the input and keeps nothing: no copy is needed to
	// give it the string's bytes.
	st.h.Write(unsafe.Slice(unsafe.StringData(input), len(input)))
	sum := st.h.Sum(st.sum[:0])
	if !hmac.Equal(sum, st.sig[:size]) {
		return ErrSignature
	}
	return nil
}

// signHMAC appends the base64url signature of input to dst.
func (k *Key) signHMAC(dst []byte, a algInfo, input []byte) ([]byte, error) {
	st, err := k.macState(a)
	if err != nil {
		return nil, err
	}
	st.h.Reset()
	st.h.Write(input)
	dst = b64url.AppendEncode(dst, st.h.Sum(st.sum[:0]))
	k.macs[a.idx].Put(st)
	return dst, nil
}
