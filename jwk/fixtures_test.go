package jwk

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// The RFC keys used as bases for the table tests.
const (
	fixRSA     = "rfc7515-a2.json" // RSA 2048 private
	fixRSA2    = "rfc7520-4.1.json"
	fixP256    = "rfc7515-a3.json"  // EC P-256 private
	fixP521    = "rfc7520-4.3.json" // EC P-521 private whose d starts with a zero octet
	fixEd25519 = "rfc8037-a.json"
	fixOct64   = "rfc7515-a1.json"  // oct, 64 bytes
	fixOct32   = "rfc7520-4.4.json" // oct, 32 bytes, alg HS256
)

// del marks a member to remove in with.
type del struct{}

// jwkOf returns the JWK of an RFC vector file as a map.
func jwkOf(t testing.TB, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "rfc", file))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Key map[string]any `json:"key"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v.Key
}

// with returns the JSON of m with the members of kv (name, value pairs)
// set, or removed when the value is del{}.
func with(t testing.TB, m map[string]any, kv ...any) []byte {
	t.Helper()
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		if _, ok := kv[i+1].(del); ok {
			delete(c, name)
		} else {
			c[name] = kv[i+1]
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publicOf returns m without private members.
func publicOf(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for _, name := range privateMembers {
		delete(c, name)
	}
	return c
}

func unb64(t testing.TB, s any) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s.(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zeroPrefixed returns the base64url of the member's bytes with a leading
// zero octet.
func zeroPrefixed(t testing.TB, m map[string]any, name string) string {
	return b64(append([]byte{0}, unb64(t, m[name])...))
}

// selfSigned returns a self-signed certificate for a signing key.
func selfSigned(t testing.TB, key *jwt.Key, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Unix(1700000000, 0),
		NotAfter:     time.Unix(1900000000, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.PrivateKey().Public(), key.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signingKeyOf parses an RFC key and returns its signing key.
func signingKeyOf(t testing.TB, file string) *jwt.Key {
	t.Helper()
	k, err := ParseKey(with(t, jwkOf(t, file)))
	if err != nil {
		t.Fatal(err)
	}
	sk, err := k.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sha1Sum(b []byte) []byte   { s := sha1.Sum(b); return s[:] }
func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
