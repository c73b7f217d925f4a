package jwt

import (
	"bytes"
	"crypto/elliptic"
	"encoding/asn1"
	"math/big"
	"testing"
)

// TestDERSignatureMatchesASN1 compares the hand-written DER form of an
// ECDSA signature with encoding/asn1's, and the allocation-free range
// check with math/big's, on values with leading zero bytes, high bits set,
// zero, one and the edges of the order, for every curve.
func TestDERSignatureMatchesASN1(t *testing.T) {
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		size := (c.Params().BitSize + 7) / 8
		n := c.Params().N
		fixed := func(v *big.Int) []byte { return v.FillBytes(make([]byte, size)) }
		one := big.NewInt(1)
		values := []*big.Int{
			big.NewInt(0), one, big.NewInt(0x7f), big.NewInt(0x80), big.NewInt(0xff), big.NewInt(0x100),
			new(big.Int).Sub(n, one), n, new(big.Int).Rsh(n, 8), new(big.Int).Rsh(n, 1),
			new(big.Int).Lsh(one, uint(8*size-1)), new(big.Int).Sub(new(big.Int).Lsh(one, uint(8*size)), one),
		}
		for _, r := range values {
			for _, s := range values {
				want, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
				if err != nil {
					t.Fatal(err)
				}
				if got := derSignature(new([maxDERSig]byte), fixed(r), fixed(s)); !bytes.Equal(got, want) {
					t.Errorf("%s: r=%x s=%x: DER %x, want %x", c.Params().Name, r, s, got, want)
				}
			}
			want := r.Sign() > 0 && r.Cmp(n) < 0
			if got := inScalarRange(fixed(r), n); got != want {
				t.Errorf("%s: inScalarRange(%x) = %v, want %v", c.Params().Name, r, got, want)
			}
		}
	}
}
