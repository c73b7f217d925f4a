package jwt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hsToken builds an HS256 token from raw header and payload text with the
// standard library alone, so tests can craft any header or payload.
func hsToken(header, payload string) string {
	input := enc(header) + "." + enc(payload)
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signRaw signs arbitrary raw segments (already encoded) with HS256.
func signRaw(hseg, pseg string) string {
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(hseg + "." + pseg))
	return hseg + "." + pseg + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func testKey(t testing.TB) *Key {
	t.Helper()
	k, err := NewHMACKey(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var t0 = time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func testVerifier(t testing.TB, opts VerifierOptions) *Verifier {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = fixedClock(t0)
	}
	v, err := NewVerifier(testKey(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const hs256 = `{"alg":"HS256","typ":"JWT"}`
