package jwt

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"fmt"
	"math/big"
)

var (
	ed25519P = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// d = -121665/121666 mod p
	ed25519D = func() *big.Int {
		inv := new(big.Int).ModInverse(big.NewInt(121666), ed25519P)
		d := new(big.Int).Mul(big.NewInt(-121665), inv)
		return d.Mod(d, ed25519P)
	}()
	// Any valid X25519 private key: its clamped scalar is a multiple of the
	// cofactor, so the shared secret is zero exactly for small-order points.
	lowOrderProbe = func() *ecdh.PrivateKey {
		k, err := ecdh.X25519().NewPrivateKey(make([]byte, 32))
		if err != nil {
			panic(err) // a 32-byte scalar is always valid
		}
		return k
	}()
)

// checkEd25519Public refuses Ed25519 public keys that are the wrong length,
// not canonically encoded, not a point on the curve, or of small order.
// Signatures under small-order keys can be forged without a private key for
// some messages, and non-canonical encodings give one key two spellings.
func checkEd25519Public(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: Ed25519 public key is %d bytes, want %d", ErrInvalidKey, len(pub), ed25519.PublicKeySize)
	}
	var le [32]byte
	copy(le[:], pub)
	sign := le[31] >> 7
	le[31] &= 0x7F
	be := make([]byte, 32)
	for i := range le {
		be[31-i] = le[i]
	}
	p := ed25519P
	y := new(big.Int).SetBytes(be)
	if y.Cmp(p) >= 0 {
		return fmt.Errorf("%w: Ed25519 public key is not canonically encoded", ErrInvalidKey)
	}
	// x^2 = (y^2 - 1) / (d*y^2 + 1)
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, p)
	num := new(big.Int).Sub(y2, big.NewInt(1))
	num.Mod(num, p)
	den := new(big.Int).Mul(ed25519D, y2)
	den.Add(den, big.NewInt(1))
	den.Mod(den, p)
	x2 := new(big.Int).Mul(num, new(big.Int).ModInverse(den, p))
	x2.Mod(x2, p)
	if x2.Sign() == 0 {
		if sign == 1 {
			return fmt.Errorf("%w: Ed25519 public key is not canonically encoded", ErrInvalidKey)
		}
	} else if big.Jacobi(x2, p) != 1 {
		return fmt.Errorf("%w: Ed25519 public key is not a point on the curve", ErrInvalidKey)
	}
	// Map to Montgomery form u = (1+y)/(1-y) and let X25519 detect the
	// small-order points (y = 1 is the identity, with no u at all).
	oneMinus := new(big.Int).Sub(big.NewInt(1), y)
	oneMinus.Mod(oneMinus, p)
	if oneMinus.Sign() == 0 {
		return fmt.Errorf("%w: Ed25519 public key is the identity point", ErrInvalidKey)
	}
	u := new(big.Int).Add(big.NewInt(1), y)
	u.Mul(u, new(big.Int).ModInverse(oneMinus, p))
	u.Mod(u, p)
	ub := u.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		ub[i], ub[j] = ub[j], ub[i]
	}
	mont, err := ecdh.X25519().NewPublicKey(ub)
	if err != nil {
		return fmt.Errorf("%w: Ed25519 public key: %w", ErrInvalidKey, err)
	}
	if _, err := lowOrderProbe.ECDH(mont); err != nil {
		return fmt.Errorf("%w: Ed25519 public key is a point of small order", ErrInvalidKey)
	}
	return nil
}
