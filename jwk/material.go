package jwk

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// maxRSAExponent is the largest RSA public exponent crypto/rsa accepts.
const maxRSAExponent = 1<<31 - 1

// rsaInt returns an RSA integer member: present, not empty and minimal (no
// leading zero octet, RFC 7518 section 6.3.1.1 and 6.3.2).
func rsaInt(o strictjson.Object, name string) ([]byte, bool, error) {
	b, ok, err := getBytes(o, name)
	if !ok || err != nil {
		return nil, ok, err
	}
	if len(b) == 0 {
		return nil, true, fmt.Errorf("%w: RSA key: %q is empty", ErrInvalidKey, name)
	}
	if b[0] == 0 {
		return nil, true, fmt.Errorf("%w: RSA key: %q has a leading zero octet (integers must be minimal)", ErrInvalidKey, name)
	}
	return b, true, nil
}

func (k *Key) parseRSA(o strictjson.Object, algs []jwt.Algorithm) error {
	n, ok, err := rsaInt(o, "n")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: RSA key: missing required member \"n\"", ErrInvalidKey)
	}
	e, ok, err := rsaInt(o, "e")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: RSA key: missing required member \"e\"", ErrInvalidKey)
	}
	bits := len(n)*8 - (8 - bitLen8(n[0]))
	if bits < jwt.MinRSABits {
		return fmt.Errorf("%w: RSA modulus is %d bits, at least %d are required", ErrInvalidKey, bits, jwt.MinRSABits)
	}
	if bits > MaxRSABits {
		return fmt.Errorf("%w: RSA modulus is %d bits, the limit is %d", ErrUnsupported, bits, MaxRSABits)
	}
	if n[len(n)-1]&1 == 0 {
		return fmt.Errorf("%w: RSA modulus is even", ErrInvalidKey)
	}
	if len(e) > 4 {
		return fmt.Errorf("%w: RSA public exponent is %d bytes, too large", ErrInvalidKey, len(e))
	}
	var ev uint64
	for _, c := range e {
		ev = ev<<8 | uint64(c)
	}
	if ev > maxRSAExponent {
		return fmt.Errorf("%w: RSA public exponent %d is too large (the limit is %d)", ErrInvalidKey, ev, maxRSAExponent)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev)}

	if o.Get("oth") != nil {
		return fmt.Errorf("%w: multi-prime RSA key (\"oth\")", ErrUnsupported)
	}
	names := [...]string{"d", "p", "q", "dp", "dq", "qi"}
	var vals [len(names)][]byte
	present := 0
	for i, name := range names {
		b, ok, err := rsaInt(o, name)
		if err != nil {
			return err
		}
		if ok {
			vals[i] = b
			present++
		}
	}
	if present == 0 {
		if k.key, err = jwt.NewPublicKey(pub, algs...); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return nil
	}
	if vals[0] == nil {
		return fmt.Errorf("%w: RSA key has private parameters but no \"d\"", ErrInvalidKey)
	}
	if present == 1 {
		return fmt.Errorf("%w: RSA private key without p, q, dp, dq and qi", ErrUnsupported)
	}
	for i, name := range names {
		if vals[i] == nil {
			return fmt.Errorf("%w: RSA private key: missing %q (p, q, dp, dq and qi go together)", ErrInvalidKey, name)
		}
	}
	d, p, q, dp, dq, qi := vals[0], vals[1], vals[2], vals[3], vals[4], vals[5]
	// Bound every value by the modulus before any arithmetic, so that no
	// input makes the checks below slow.
	for i, name := range names {
		if len(vals[i]) > len(n) {
			return fmt.Errorf("%w: RSA private key: %q is longer than the modulus", ErrInvalidKey, name)
		}
	}
	if len(dp) > len(p) || len(qi) > len(p) || len(dq) > len(q) {
		return fmt.Errorf("%w: RSA private key: a CRT value is longer than its prime", ErrInvalidKey)
	}
	priv := &rsa.PrivateKey{
		PublicKey: *pub,
		D:         new(big.Int).SetBytes(d),
		Primes:    []*big.Int{new(big.Int).SetBytes(p), new(big.Int).SetBytes(q)},
		Precomputed: rsa.PrecomputedValues{
			Dp:   new(big.Int).SetBytes(dp),
			Dq:   new(big.Int).SetBytes(dq),
			Qinv: new(big.Int).SetBytes(qi),
		},
	}
	if priv.D.Cmp(pub.N) >= 0 {
		return fmt.Errorf("%w: RSA private key: d is not smaller than n", ErrInvalidKey)
	}
	// Precompute keeps the given CRT values only if they are consistent with
	// the key; Validate checks p*q = n, d, dp, dq and qi against each other.
	priv.Precompute()
	if err := priv.Validate(); err != nil {
		return fmt.Errorf("%w: RSA private key parameters are inconsistent: %w", ErrInvalidKey, err)
	}
	if k.key, err = jwt.NewPrivateKey(priv, algs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return nil
}

// bitLen8 returns the number of significant bits of a byte.
func bitLen8(c byte) int {
	n := 0
	for ; c != 0; c >>= 1 {
		n++
	}
	return n
}

// ecCurve returns the curves of a crv value.
func ecCurve(crv string) (ecdh.Curve, elliptic.Curve, int) {
	switch crv {
	case "P-256":
		return ecdh.P256(), elliptic.P256(), 32
	case "P-384":
		return ecdh.P384(), elliptic.P384(), 48
	case "P-521":
		return ecdh.P521(), elliptic.P521(), 66
	}
	return nil, nil, 0
}

// fixedBytes returns a member that must be exactly size bytes long (RFC 7518
// section 6.2.1.2, 6.2.1.3, 6.2.2.1; RFC 8037 section 2).
func fixedBytes(o strictjson.Object, kty, crv, name string, size int, required bool) ([]byte, error) {
	b, ok, err := getBytes(o, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		if required {
			return nil, fmt.Errorf("%w: %s key: missing required member %q", ErrInvalidKey, kty, name)
		}
		return nil, nil
	}
	if len(b) != size {
		return nil, fmt.Errorf("%w: %s key: %q is %d bytes, %s needs exactly %d", ErrInvalidKey, kty, name, len(b), crv, size)
	}
	return b, nil
}

func (k *Key) parseEC(o strictjson.Object, algs []jwt.Algorithm) error {
	crv, ok, err := getString(o, "crv")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: EC key: missing required member \"crv\"", ErrInvalidKey)
	}
	dh, curve, size := ecCurve(crv)
	if dh == nil {
		return fmt.Errorf("%w: EC curve %q (P-256, P-384 and P-521 are supported)", ErrUnsupported, crv)
	}
	k.crv = crv
	if want := curveOfAlg(k.alg); want != "" && want != crv {
		return fmt.Errorf("%w: alg %q needs curve %s, the key is on %s", ErrInvalidKey, k.alg, want, crv)
	}
	x, err := fixedBytes(o, "EC", crv, "x", size, true)
	if err != nil {
		return err
	}
	y, err := fixedBytes(o, "EC", crv, "y", size, true)
	if err != nil {
		return err
	}
	d, err := fixedBytes(o, "EC", crv, "d", size, false)
	if err != nil {
		return err
	}
	point := make([]byte, 0, 1+2*size)
	point = append(append(append(point, 4), x...), y...)
	if _, err := dh.NewPublicKey(point); err != nil {
		return fmt.Errorf("%w: EC key: (x, y) is not a point on %s", ErrInvalidKey, crv)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return fmt.Errorf("%w: EC key: (x, y) is not a point on %s", ErrInvalidKey, crv)
	}
	if d == nil {
		if k.key, err = jwt.NewPublicKey(pub, algs...); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return nil
	}
	dk, err := dh.NewPrivateKey(d)
	if err != nil {
		return fmt.Errorf("%w: EC key: d is out of range for %s", ErrInvalidKey, crv)
	}
	if subtle.ConstantTimeCompare(dk.PublicKey().Bytes(), point) != 1 {
		return fmt.Errorf("%w: EC key: x and y are not the public key of d", ErrInvalidKey)
	}
	priv, err := ecdsa.ParseRawPrivateKey(curve, d)
	if err != nil {
		return fmt.Errorf("%w: EC key: d is out of range for %s", ErrInvalidKey, crv)
	}
	if k.key, err = jwt.NewPrivateKey(priv, algs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return nil
}

func (k *Key) parseOKP(o strictjson.Object, algs []jwt.Algorithm) error {
	crv, ok, err := getString(o, "crv")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: OKP key: missing required member \"crv\"", ErrInvalidKey)
	}
	switch crv {
	case "Ed25519":
	case "X25519", "X448", "Ed448":
		return fmt.Errorf("%w: OKP curve %q: only Ed25519 keys sign JWS here", ErrUnsupported, crv)
	default:
		return fmt.Errorf("%w: unknown OKP curve %q (only Ed25519 is supported)", ErrUnsupported, crv)
	}
	k.crv = crv
	x, err := fixedBytes(o, "OKP", crv, "x", ed25519.PublicKeySize, true)
	if err != nil {
		return err
	}
	d, err := fixedBytes(o, "OKP", crv, "d", ed25519.SeedSize, false)
	if err != nil {
		return err
	}
	// jwt refuses small-order and non-canonical points.
	pubKey, err := jwt.NewPublicKey(ed25519.PublicKey(x), algs...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	if d == nil {
		k.key = pubKey
		return nil
	}
	priv := ed25519.NewKeyFromSeed(d)
	if subtle.ConstantTimeCompare(priv[ed25519.SeedSize:], x) != 1 {
		return fmt.Errorf("%w: OKP key: x is not the public key of d", ErrInvalidKey)
	}
	if k.key, err = jwt.NewPrivateKey(priv, algs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return nil
}

func (k *Key) parseOct(o strictjson.Object, algs []jwt.Algorithm) error {
	secret, err := requireBytes(o, "oct", "k")
	if err != nil {
		return err
	}
	// jwt refuses secrets shorter than 32 bytes, and shorter than the hash
	// of alg.
	if k.key, err = jwt.NewHMACKey(secret, algs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return nil
}

// appendMaterial appends the key type specific members of key.
func appendMaterial(b []byte, key *jwt.Key, private bool) []byte {
	switch pub := key.PublicKey().(type) {
	case *rsa.PublicKey:
		b = appendMember(b, "n", b64url.EncodeToString(pub.N.Bytes()))
		b = appendMember(b, "e", b64url.EncodeToString(big.NewInt(int64(pub.E)).Bytes()))
		if priv, ok := key.PrivateKey().(*rsa.PrivateKey); ok && private {
			p, q := priv.Primes[0], priv.Primes[1]
			one := big.NewInt(1)
			dp := new(big.Int).Mod(priv.D, new(big.Int).Sub(p, one))
			dq := new(big.Int).Mod(priv.D, new(big.Int).Sub(q, one))
			qi := new(big.Int).ModInverse(q, p)
			b = appendMember(b, "d", b64url.EncodeToString(priv.D.Bytes()))
			b = appendMember(b, "p", b64url.EncodeToString(p.Bytes()))
			b = appendMember(b, "q", b64url.EncodeToString(q.Bytes()))
			b = appendMember(b, "dp", b64url.EncodeToString(dp.Bytes()))
			b = appendMember(b, "dq", b64url.EncodeToString(dq.Bytes()))
			b = appendMember(b, "qi", b64url.EncodeToString(qi.Bytes()))
		}
	case *ecdsa.PublicKey:
		crv := curveName(pub.Curve)
		x, y := ecPoint(pub)
		b = appendMember(b, "crv", crv)
		b = appendMember(b, "x", b64url.EncodeToString(x))
		b = appendMember(b, "y", b64url.EncodeToString(y))
		if priv, ok := key.PrivateKey().(*ecdsa.PrivateKey); ok && private {
			if dk, err := priv.ECDH(); err == nil {
				b = appendMember(b, "d", b64url.EncodeToString(dk.Bytes()))
			}
		}
	case ed25519.PublicKey:
		b = appendMember(b, "crv", "Ed25519")
		b = appendMember(b, "x", b64url.EncodeToString(pub))
		if priv, ok := key.PrivateKey().(ed25519.PrivateKey); ok && private {
			b = appendMember(b, "d", b64url.EncodeToString(priv.Seed()))
		}
	case nil:
		if private {
			b = appendMember(b, "k", b64url.EncodeToString(key.Secret()))
		}
	}
	return b
}

// ecPoint returns the fixed-length coordinates of an ECDSA public key. The
// key was validated by jwt, so the conversion cannot fail.
func ecPoint(pub *ecdsa.PublicKey) (x, y []byte) {
	dk, err := pub.ECDH()
	if err != nil {
		return nil, nil
	}
	pt := dk.Bytes() // 0x04 || x || y
	size := (len(pt) - 1) / 2
	return pt[1 : 1+size], pt[1+size:]
}

func stdB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
