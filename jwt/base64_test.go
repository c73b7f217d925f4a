package jwt

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkB64 compares decodeB64 with the standard library's strict
// decoder, which also accepts CR and LF (the only difference allowed).
func checkB64(t *testing.T, s string) {
	t.Helper()
	want, werr := base64.RawURLEncoding.Strict().DecodeString(s)
	if strings.ContainsAny(s, "\r\n") {
		werr = base64.CorruptInputError(0)
	}
	n := decodedLen(len(s))
	if n < 0 {
		n = 0
	}
	got := make([]byte, n+8)
	m, ok := decodeB64(got, s)
	if ok != (werr == nil) {
		t.Fatalf("decodeB64(%q) ok = %v; encoding/base64: %v", s, ok, werr)
	}
	if ok && !bytes.Equal(got[:m], want) {
		t.Fatalf("decodeB64(%q) = %x, want %x", s, got[:m], want)
	}
}

func TestDecodeB64(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 80 {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[r.IntN(64)]
			}
			checkB64(t, string(b))
			if n > 0 {
				// One character outside the alphabet, anywhere.
				b[r.IntN(n)] = "=+/.\n \x00\xff"[r.IntN(8)]
				checkB64(t, string(b))
			}
		}
	}
}

func FuzzDecodeB64(f *testing.F) {
	for _, s := range []string{"", "QQ", "QUI", "QUJD", "QUJDREVGR0g", "QUJDREVGR0hJSktMTU5PUA", "QR", "QUJ=", "QUJD\nREVG"} {
		f.Add(s)
	}
	f.Fuzz(checkB64)
}
