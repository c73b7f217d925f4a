package b64url

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkB64 compares Decode and DecodeString with the standard library's strict
// decoder, which also accepts CR and LF (the only difference allowed).
func checkB64(t *testing.T, s string) {
	t.Helper()
	want, werr := base64.RawURLEncoding.Strict().DecodeString(s)
	if strings.ContainsAny(s, "\r\n") {
		werr = base64.CorruptInputError(0)
	}
	n := DecodedLen(len(s))
	if n < 0 {
		n = 0
	}
	got := make([]byte, n+8)
	m, ok := Decode(got, s)
	if ok != (werr == nil) {
		t.Fatalf("Decode(%q) ok = %v; encoding/base64: %v", s, ok, werr)
	}
	if ok && !bytes.Equal(got[:m], want) {
		t.Fatalf("Decode(%q) = %x, want %x", s, got[:m], want)
	}
	b, err := DecodeString(s)
	if (err == nil) != ok {
		t.Fatalf("DecodeString(%q) error = %v; Decode ok = %v", s, err, ok)
	}
	if err == nil && !bytes.Equal(b, want) {
		t.Fatalf("DecodeString(%q) = %x, want %x", s, b, want)
	}
	if err != nil && !errors.Is(err, ErrAlphabet) && !errors.Is(err, ErrLength) && !errors.Is(err, ErrBits) {
		t.Fatalf("DecodeString(%q) error = %v, not one of the package's", s, err)
	}
	if ok && EncodeToString(want) != s {
		t.Fatalf("EncodeToString(%x) = %q, want %q", want, EncodeToString(want), s)
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

func TestDecodeStringErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"QUJD", nil},
		{"", nil},
		{"QUJ=", ErrAlphabet},
		{"QU D", ErrAlphabet},
		{"QU+D", ErrAlphabet},
		{"QUJDR", ErrLength},
		{"QR", ErrBits},
		{"QUK", ErrBits},
	}
	for _, tt := range tests {
		_, err := DecodeString(tt.in)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("DecodeString(%q) error = %v, want %v", tt.in, err, tt.want)
		}
	}
}
