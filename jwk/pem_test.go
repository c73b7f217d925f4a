package jwk

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// pemFixtures returns valid PEM inputs with the thumbprint they must give.
func pemFixtures(t testing.TB) map[string][]byte {
	rsaKey := signingKeyOf(t, fixRSA).PrivateKey().(*rsa.PrivateKey)
	ecKey := signingKeyOf(t, fixP256).PrivateKey().(*ecdsa.PrivateKey)
	p521 := signingKeyOf(t, fixP521).PrivateKey().(*ecdsa.PrivateKey)
	edKey := signingKeyOf(t, fixEd25519).PrivateKey()
	p384 := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	der := must[[]byte](t)
	certRSA := selfSigned(t, signingKeyOf(t, fixRSA), "rsa")
	certEC := selfSigned(t, signingKeyOf(t, fixP256), "ec")
	certEd := selfSigned(t, signingKeyOf(t, fixEd25519), "ed")
	ecParams := must[[]byte](t)(asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}))
	return map[string][]byte{
		"PKCS#1 RSA private":   pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)),
		"PKCS#1 RSA public":    pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)),
		"PKCS#8 RSA":           pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(rsaKey))),
		"PKCS#8 P-256":         pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(ecKey))),
		"PKCS#8 P-384":         pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(p384))),
		"PKCS#8 Ed25519":       pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(edKey))),
		"SEC 1 P-256":          pemOf("EC PRIVATE KEY", der(x509.MarshalECPrivateKey(ecKey))),
		"SEC 1 P-521":          pemOf("EC PRIVATE KEY", der(x509.MarshalECPrivateKey(p521))),
		"SEC 1 with params":    append(pemOf("EC PARAMETERS", ecParams), pemOf("EC PRIVATE KEY", der(x509.MarshalECPrivateKey(ecKey)))...),
		"SPKI RSA":             pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey))),
		"SPKI P-256":           pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(&ecKey.PublicKey))),
		"SPKI Ed25519":         pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(edKey.Public()))),
		"certificate RSA":      pemOf("CERTIFICATE", certRSA.Raw),
		"certificate EC":       pemOf("CERTIFICATE", certEC.Raw),
		"certificate Ed25519":  pemOf("CERTIFICATE", certEd.Raw),
		"certificate chain":    append(pemOf("CERTIFICATE", certEC.Raw), pemOf("CERTIFICATE", certRSA.Raw)...),
		"CRLF and white space": []byte("\r\n  " + strings.ReplaceAll(string(pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(&ecKey.PublicKey)))), "\n", "\r\n") + "\r\n\r\n"),
	}
}

func TestParsePEM(t *testing.T) {
	for name, data := range pemFixtures(t) {
		t.Run(name, func(t *testing.T) {
			k, err := ParsePEM(data)
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, k)
			checkPEMRoundTrip(t, k)
			private := strings.Contains(name, "private") || strings.Contains(name, "PKCS#8") || strings.Contains(name, "SEC 1")
			if k.IsPrivate() != private {
				t.Errorf("IsPrivate %v, want %v", k.IsPrivate(), private)
			}
			if strings.Contains(name, "certificate") != (len(k.Certificates()) > 0) {
				t.Errorf("%d certificates", len(k.Certificates()))
			}
			if name == "certificate chain" && len(k.Certificates()) != 2 {
				t.Errorf("chain of %d certificates", len(k.Certificates()))
			}
		})
	}
}

// checkPEMRoundTrip marshals a key to PEM and back.
func checkPEMRoundTrip(t testing.TB, k *Key) {
	t.Helper()
	var jk *jwt.Key
	var out []byte
	var err error
	if k.IsPrivate() {
		if jk, err = k.SigningKey(); err == nil {
			out, err = MarshalPrivatePEM(jk)
		}
	} else {
		if jk, err = k.VerificationKey(); err == nil {
			out, err = MarshalPublicPEM(jk)
		}
	}
	if err != nil {
		t.Fatalf("marshal PEM: %v", err)
	}
	k2, err := ParsePEM(out)
	if err != nil {
		t.Fatalf("ParsePEM(%s): %v", out, err)
	}
	a, _ := k.Thumbprint(0)
	b, _ := k2.Thumbprint(0)
	if !bytes.Equal(a, b) || k.IsPrivate() != k2.IsPrivate() {
		t.Fatal("PEM round trip changed the key")
	}
	if k.IsPrivate() {
		if !k.PrivateKey().(interface{ Equal(crypto.PrivateKey) bool }).Equal(k2.PrivateKey()) {
			t.Fatal("PEM round trip changed the private key")
		}
		// Its public half too.
		pub, err := MarshalPublicPEM(jk)
		if err != nil {
			t.Fatal(err)
		}
		k3, err := ParsePEM(pub)
		if err != nil || k3.IsPrivate() {
			t.Fatalf("public PEM: %v", err)
		}
	}
}

func TestParsePEMErrors(t *testing.T) {
	ecKey := signingKeyOf(t, fixP256).PrivateKey().(*ecdsa.PrivateKey)
	good := pemFixtures(t)["PKCS#8 P-256"]
	der := must[[]byte](t)
	spki := pemFixtures(t)["SPKI P-256"]
	cert := pemFixtures(t)["certificate EC"]
	rsa1024 := must[*rsa.PrivateKey](t)(rsa.GenerateKey(rand.Reader, 1024))
	p224 := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P224(), rand.Reader))
	x25519 := must[*ecdh.PrivateKey](t)(ecdh.X25519().GenerateKey(rand.Reader))
	p384Params := must[[]byte](t)(asn1.Marshal(asn1.ObjectIdentifier{1, 3, 132, 0, 34}))
	p256Params := must[[]byte](t)(asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}))
	sec1 := pemOf("EC PRIVATE KEY", der(x509.MarshalECPrivateKey(ecKey)))
	encrypted := pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   bytes.Repeat([]byte{0x42}, 64),
	})
	withHeader := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Comment": "mine"}, Bytes: pemBlockBytes(t, spki)})
	huge := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), MaxRSABits+8), big.NewInt(1))
	hugeRSA := must[[]byte](t)(asn1.Marshal(struct {
		Version               int
		N                     *big.Int
		E                     int
		D, P, Q, Dp, Dq, Qinv *big.Int
	}{0, huge, 65537, big.NewInt(3), huge, big.NewInt(5), big.NewInt(7), big.NewInt(9), big.NewInt(11)}))
	bigPrime := must[[]byte](t)(asn1.Marshal(struct {
		Version               int
		N                     *big.Int
		E                     int
		D, P, Q, Dp, Dq, Qinv *big.Int
	}{0, rsa1024.N, 65537, big.NewInt(3), huge, big.NewInt(5), big.NewInt(7), big.NewInt(9), big.NewInt(11)}))
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrInvalidKey},
		{"white space", []byte(" \n\t "), ErrInvalidKey},
		{"not PEM", []byte("hello"), ErrInvalidKey},
		{"JSON", []byte(`{"kty":"oct"}`), ErrInvalidKey},
		{"text before", append([]byte("Bag Attributes\n"), good...), ErrInvalidKey},
		{"trailing garbage", append(bytes.Clone(good), "garbage"...), ErrInvalidKey},
		{"trailing partial block", append(bytes.Clone(good), "-----BEGIN PRIVATE KEY-----\nAAAA\n"...), ErrInvalidKey},
		{"truncated", good[:len(good)-10], ErrInvalidKey},
		{"bad base64", []byte("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"), ErrInvalidKey},
		{"malformed block then a good one", append([]byte("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"), good...), ErrInvalidKey},
		{"mismatched END", []byte(strings.Replace(string(good), "END PRIVATE KEY", "END PUBLIC KEY", 1)), ErrInvalidKey},
		{"unknown type", pemOf("FOO", []byte{1, 2, 3}), ErrInvalidKey},
		{"DSA", pemOf("DSA PRIVATE KEY", []byte{1, 2, 3}), ErrInvalidKey},
		{"OpenSSH", pemOf("OPENSSH PRIVATE KEY", []byte{1, 2, 3}), ErrInvalidKey},
		{"encrypted PEM", encrypted, ErrUnsupported},
		{"encrypted PKCS#8", pemOf("ENCRYPTED PRIVATE KEY", []byte{0x30, 0}), ErrUnsupported},
		{"PEM headers", withHeader, ErrInvalidKey},
		{"two keys", append(bytes.Clone(good), good...), ErrInvalidKey},
		{"key then certificate", append(bytes.Clone(good), cert...), ErrInvalidKey},
		{"certificate then key", append(bytes.Clone(cert), good...), ErrInvalidKey},
		{"garbage DER", pemOf("PRIVATE KEY", []byte{0x30, 3, 1, 2, 3}), ErrInvalidKey},
		{"PKCS#8 in an RSA PRIVATE KEY block", pemOf("RSA PRIVATE KEY", pemBlockBytes(t, good)), ErrInvalidKey},
		{"certificate in a PUBLIC KEY block", pemOf("PUBLIC KEY", pemBlockBytes(t, cert)), ErrInvalidKey},
		{"bad certificate", pemOf("CERTIFICATE", []byte{0x30, 0}), ErrInvalidKey},
		{"RSA 1024 PKCS#1", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024)), jwt.ErrInvalidKey},
		{"RSA 1024 SPKI", pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(&rsa1024.PublicKey))), jwt.ErrInvalidKey},
		{"RSA 1024 certificate", pemOf("CERTIFICATE", selfSignedRaw(t, rsa1024)), jwt.ErrInvalidKey},
		{"RSA over MaxRSABits", pemOf("RSA PRIVATE KEY", hugeRSA), ErrUnsupported},
		{"RSA over MaxRSABits in PKCS#8", pemOf("PRIVATE KEY", pkcs8RSA(t, hugeRSA)), ErrUnsupported},
		{"RSA prime larger than n", pemOf("RSA PRIVATE KEY", bigPrime), ErrInvalidKey},
		{"multi-prime RSA", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(multiPrime(t))), ErrUnsupported},
		{"P-224 SEC 1", pemOf("EC PRIVATE KEY", der(x509.MarshalECPrivateKey(p224))), ErrUnsupported},
		{"P-224 SPKI", pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(&p224.PublicKey))), ErrUnsupported},
		{"X25519 PKCS#8", pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(x25519))), ErrUnsupported},
		{"X25519 SPKI", pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(x25519.PublicKey()))), ErrUnsupported},
		{"EC PARAMETERS alone", pemOf("EC PARAMETERS", p256Params), ErrInvalidKey},
		{"EC PARAMETERS of another curve", append(pemOf("EC PARAMETERS", p384Params), sec1...), ErrInvalidKey},
		{"EC PARAMETERS not a curve name", append(pemOf("EC PARAMETERS", []byte{5, 0}), sec1...), ErrInvalidKey},
		{"EC PARAMETERS before PKCS#8", append(pemOf("EC PARAMETERS", p256Params), good...), ErrInvalidKey},
		{"EC PARAMETERS twice", append(append(pemOf("EC PARAMETERS", p256Params), pemOf("EC PARAMETERS", p256Params)...), sec1...), ErrInvalidKey},
		{"key block too long", pemOf("PRIVATE KEY", make([]byte, maxKeyDER+1)), ErrUnsupported},
		{"too many certificates", bytes.Repeat(cert, maxPEMBlocks+1), ErrInvalidKey},
		{"too large", append(bytes.Clone(good), bytes.Repeat([]byte("\n"), MaxKeySize)...), ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePEM(c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("ParsePEM: %v, want %v", err, c.want)
			}
			t.Log(err)
		})
	}
}

// pemBlockBytes returns the DER of the first block of a PEM text.
func pemBlockBytes(t testing.TB, data []byte) []byte {
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}

func selfSignedRaw(t testing.TB, priv crypto.Signer) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// pkcs8RSA wraps a PKCS #1 key in PKCS #8.
func pkcs8RSA(t testing.TB, pkcs1 []byte) []byte {
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	b, err := asn1.Marshal(struct {
		Version    int
		Algo       algID
		PrivateKey []byte
	}{0, algID{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, asn1.NullRawValue}, pkcs1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// multiPrime returns a valid three-prime RSA key of about 2100 bits.
func multiPrime(t testing.TB) *rsa.PrivateKey {
	one := big.NewInt(1)
	e := big.NewInt(65537)
	for {
		var primes []*big.Int
		for range 3 {
			p, err := rand.Prime(rand.Reader, 704)
			if err != nil {
				t.Fatal(err)
			}
			primes = append(primes, p)
		}
		n := new(big.Int).Mul(primes[0], primes[1])
		n.Mul(n, primes[2])
		phi := big.NewInt(1)
		for _, p := range primes {
			phi.Mul(phi, new(big.Int).Sub(p, one))
		}
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: primes}
		k.Precompute()
		if err := k.Validate(); err != nil {
			t.Fatal(err)
		}
		return k
	}
}

func TestMarshalPEMErrors(t *testing.T) {
	hs, _ := GenerateHMAC(jwt.HS256, 0)
	if _, err := MarshalPrivatePEM(hs); !errors.Is(err, ErrUnsupported) {
		t.Errorf("MarshalPrivatePEM(HMAC): %v", err)
	}
	if _, err := MarshalPublicPEM(hs); !errors.Is(err, ErrUnsupported) {
		t.Errorf("MarshalPublicPEM(HMAC): %v", err)
	}
	pub := signingKeyOf(t, fixP256).Public()
	if _, err := MarshalPrivatePEM(pub); !errors.Is(err, ErrKeyUse) {
		t.Errorf("MarshalPrivatePEM(public): %v", err)
	}
	if _, err := MarshalPrivatePEM(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("MarshalPrivatePEM(nil): %v", err)
	}
	if _, err := MarshalPublicPEM(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("MarshalPublicPEM(nil): %v", err)
	}
}
