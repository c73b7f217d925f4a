package jwk

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"
)

// PEM block types.
const (
	pemPKCS1Private = "RSA PRIVATE KEY"
	pemPKCS1Public  = "RSA PUBLIC KEY"
	pemPKCS8        = "PRIVATE KEY"
	pemSEC1         = "EC PRIVATE KEY"
	pemECParams     = "EC PARAMETERS"
	pemSPKI         = "PUBLIC KEY"
	pemCertificate  = "CERTIFICATE"
	pemEncPKCS8     = "ENCRYPTED PRIVATE KEY"
)

// maxPEMBlocks bounds a certificate chain.
const maxPEMBlocks = 16

// maxKeyDER bounds the DER of a key block (an RSA-16384 private key is
// about 9.5 KiB), so that no key makes parsing slow.
const maxKeyDER = 16 << 10

// ParsePEM parses a PEM-encoded key of at most MaxKeySize bytes: one block of
// type RSA PRIVATE KEY or RSA PUBLIC KEY (PKCS #1), PRIVATE KEY (PKCS #8),
// EC PRIVATE KEY (SEC 1, optionally preceded by the EC PARAMETERS block
// OpenSSL writes, which must name the key's curve) or PUBLIC KEY (SPKI), or
// one or more CERTIFICATE blocks (leaf first), of which the key is the
// leaf's public key and which become the key's x5c.
//
// Encrypted PEM (Proc-Type headers, ENCRYPTED PRIVATE KEY) is refused with
// ErrUnsupported: decrypt it first (openssl pkey). Unknown block types, PEM
// headers, malformed blocks and any text before, between or after the blocks
// are refused with ErrInvalidKey. The key material gets the checks of the
// JWK parser (sizes, curves, consistency).
func ParsePEM(data []byte) (*Key, error) {
	if len(data) > MaxKeySize {
		return nil, fmt.Errorf("%w: PEM input is %d bytes, the limit is %d", ErrTooLarge, len(data), MaxKeySize)
	}
	blocks, err := pemBlocks(data)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if err := checkBlock(b); err != nil {
			return nil, err
		}
	}
	first := blocks[0]
	switch {
	case first.Type == pemCertificate:
		return certKey(blocks)
	case first.Type == pemECParams:
		if len(blocks) != 2 || blocks[1].Type != pemSEC1 {
			return nil, fmt.Errorf("%w: PEM: an EC PARAMETERS block must be followed by one EC PRIVATE KEY block", ErrInvalidKey)
		}
		return ecWithParams(blocks[0], blocks[1])
	case len(blocks) > 1:
		return nil, fmt.Errorf("%w: PEM: %d blocks, want one key (or a certificate chain)", ErrInvalidKey, len(blocks))
	}
	priv, pub, err := parseKeyBlock(first)
	if err != nil {
		return nil, err
	}
	return keyFromCrypto(priv, pub)
}

// pemBlocks splits data into PEM blocks. Only white space may surround them.
func pemBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	rest := data
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			break
		}
		if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			if len(blocks) == 0 {
				return nil, fmt.Errorf("%w: PEM: data before the first block (or not PEM at all)", ErrInvalidKey)
			}
			return nil, fmt.Errorf("%w: PEM: data after block %d", ErrInvalidKey, len(blocks))
		}
		if len(blocks) == maxPEMBlocks {
			return nil, fmt.Errorf("%w: PEM: more than %d blocks", ErrInvalidKey, maxPEMBlocks)
		}
		b, r := pem.Decode(rest)
		// pem.Decode skips a malformed block and returns the next one: the
		// block must be the one that starts here.
		if b == nil || bytes.Count(rest[:len(rest)-len(r)], []byte("-----BEGIN")) != 1 {
			return nil, fmt.Errorf("%w: PEM: malformed block %d", ErrInvalidKey, len(blocks)+1)
		}
		blocks = append(blocks, b)
		rest = r
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%w: no PEM block", ErrInvalidKey)
	}
	return blocks, nil
}

func checkBlock(b *pem.Block) error {
	if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") || b.Type == pemEncPKCS8 {
		return fmt.Errorf("%w: encrypted PEM block %q: decrypt it first (openssl pkey)", ErrUnsupported, b.Type)
	}
	if len(b.Headers) > 0 {
		return fmt.Errorf("%w: PEM block %q has headers", ErrInvalidKey, b.Type)
	}
	switch b.Type {
	case pemPKCS1Private, pemPKCS1Public, pemPKCS8, pemSEC1, pemECParams, pemSPKI:
		if len(b.Bytes) > maxKeyDER {
			return fmt.Errorf("%w: PEM block %q is %d bytes, the limit is %d", ErrUnsupported, b.Type, len(b.Bytes), maxKeyDER)
		}
	case pemCertificate:
	default:
		return fmt.Errorf("%w: unknown PEM block type %q", ErrInvalidKey, b.Type)
	}
	return nil
}

// The OIDs that matter here, in dotted form.
const (
	oidRSA  = "1.2.840.113549.1.1.1"
	oidP256 = "1.2.840.10045.3.1.7"
	oidP384 = "1.3.132.0.34"
	oidP521 = "1.3.132.0.35"
)

// checkRSASize reads the size of a PKCS #1 private key's modulus and primes
// before crypto/x509 validates the key, whose cost grows with their size.
func checkRSASize(der []byte) error {
	var k struct {
		Version int
		N, E    *big.Int
		D, P, Q *big.Int
	}
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		// This reads a prefix of what crypto/x509 reads, so x509 fails
		// too, and says why better.
		return nil
	}
	if n := k.N.BitLen(); n > MaxRSABits {
		return fmt.Errorf("%w: RSA modulus is %d bits, the limit is %d", ErrUnsupported, n, MaxRSABits)
	}
	if k.P.BitLen() > k.N.BitLen() || k.Q.BitLen() > k.N.BitLen() || k.D.BitLen() > k.N.BitLen() {
		return fmt.Errorf("%w: RSA private key: a value is larger than the modulus", ErrInvalidKey)
	}
	return nil
}

// checkPKCS8Size applies checkRSASize to an RSA key in PKCS #8.
func checkPKCS8Size(der []byte) error {
	var p8 struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if _, err := asn1.Unmarshal(der, &p8); err != nil {
		return nil // as in checkRSASize
	}
	if p8.Algo.Algorithm.String() == oidRSA {
		return checkRSASize(p8.PrivateKey)
	}
	return nil
}

// parseKeyBlock parses a key block into private or public key material.
func parseKeyBlock(b *pem.Block) (crypto.Signer, crypto.PublicKey, error) {
	wrap := func(err error) error { return fmt.Errorf("%w: PEM block %q: %w", ErrInvalidKey, b.Type, err) }
	switch b.Type {
	case pemPKCS1Private:
		if err := checkRSASize(b.Bytes); err != nil {
			return nil, nil, err
		}
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, nil, wrap(err)
		}
		return k, nil, nil
	case pemPKCS1Public:
		k, err := x509.ParsePKCS1PublicKey(b.Bytes)
		if err != nil {
			return nil, nil, wrap(err)
		}
		return nil, k, nil
	case pemPKCS8:
		if err := checkPKCS8Size(b.Bytes); err != nil {
			return nil, nil, err
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, nil, wrap(err)
		}
		if x, ok := k.(*ecdh.PrivateKey); ok {
			return nil, nil, fmt.Errorf("%w: %v key: only Ed25519 keys sign JWS here", ErrUnsupported, x.Curve())
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("%w: PKCS #8 key of type %T", ErrUnsupported, k)
		}
		return s, nil, nil
	case pemSEC1:
		k, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, nil, wrap(err)
		}
		return k, nil, nil
	case pemSPKI:
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, nil, wrap(err)
		}
		return nil, k, nil
	}
	return nil, nil, fmt.Errorf("%w: PEM block %q is not a key", ErrInvalidKey, b.Type)
}

// ecWithParams parses OpenSSL's EC PARAMETERS + EC PRIVATE KEY pair.
func ecWithParams(params, key *pem.Block) (*Key, error) {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(params.Bytes, &oid)
	if err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("%w: EC PARAMETERS is not a named curve", ErrInvalidKey)
	}
	priv, _, err := parseKeyBlock(key)
	if err != nil {
		return nil, err
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: EC PRIVATE KEY is not an ECDSA key", ErrInvalidKey)
	}
	var want string
	switch curveName(ec.Curve) {
	case "P-256":
		want = oidP256
	case "P-384":
		want = oidP384
	case "P-521":
		want = oidP521
	}
	if oid.String() != want {
		return nil, fmt.Errorf("%w: EC PARAMETERS name curve %v, the key is on %s", ErrInvalidKey, oid, ec.Curve.Params().Name)
	}
	return keyFromCrypto(priv, nil)
}

// certKey returns the public key of the leaf of a certificate chain.
func certKey(blocks []*pem.Block) (*Key, error) {
	certs := make([]*x509.Certificate, 0, len(blocks))
	for i, b := range blocks {
		if b.Type != pemCertificate {
			return nil, fmt.Errorf("%w: PEM block %d is %q, and a certificate chain holds only certificates", ErrInvalidKey, i+1, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrInvalidKey, i+1, err)
		}
		certs = append(certs, c)
	}
	if certs[0].PublicKey == nil {
		return nil, fmt.Errorf("%w: certificate key algorithm %v", ErrUnsupported, certs[0].PublicKeyAlgorithm)
	}
	k, err := keyFromCrypto(nil, certs[0].PublicKey)
	if err != nil {
		return nil, err
	}
	k.x5c = certs
	return k, nil
}

// keyFromCrypto makes a Key from private or public key material, with the
// checks of package jwt and of this package.
func keyFromCrypto(priv crypto.Signer, pub crypto.PublicKey) (*Key, error) {
	if priv != nil {
		pub = priv.Public()
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if n := p.N.BitLen(); n > MaxRSABits {
			return nil, fmt.Errorf("%w: RSA modulus is %d bits, the limit is %d", ErrUnsupported, n, MaxRSABits)
		}
		if r, ok := priv.(*rsa.PrivateKey); ok && len(r.Primes) != 2 {
			return nil, fmt.Errorf("%w: multi-prime RSA key (%d primes)", ErrUnsupported, len(r.Primes))
		}
	case *ecdsa.PublicKey:
		if curveName(p.Curve) == "" {
			return nil, fmt.Errorf("%w: EC curve %s (P-256, P-384 and P-521 are supported)", ErrUnsupported, p.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	case *ecdh.PublicKey:
		return nil, fmt.Errorf("%w: %v key: only Ed25519 keys sign JWS here", ErrUnsupported, p.Curve())
	default:
		return nil, fmt.Errorf("%w: key type %T", ErrUnsupported, pub)
	}
	var key *jwt.Key
	var err error
	if priv != nil {
		key, err = jwt.NewPrivateKey(priv)
	} else {
		key, err = jwt.NewPublicKey(pub)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return NewKey(key)
}

// MarshalPrivatePEM returns key's private key as a PKCS #8 "PRIVATE KEY" PEM
// block. HMAC secrets have no PEM form.
func MarshalPrivatePEM(key *jwt.Key) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	priv := key.PrivateKey()
	if priv == nil {
		if key.IsSymmetric() {
			return nil, fmt.Errorf("%w: an HMAC secret has no PEM form", ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: %w: not a private key", ErrKeyUse, jwt.ErrInvalidKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}

// MarshalPublicPEM returns key's public key as a "PUBLIC KEY" (SPKI) PEM
// block. HMAC secrets have no public key.
func MarshalPublicPEM(key *jwt.Key) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	pub := key.PublicKey()
	if pub == nil {
		return nil, fmt.Errorf("%w: an HMAC secret has no public key", ErrUnsupported)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemSPKI, Bytes: der}), nil
}
