package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// FuzzParseAlg: --alg takes exactly the algorithms package jwt supports,
// as they are spelled, and nothing (the key's default); anything else is
// refused by an error that names the flag, quotes the value and lists
// the supported algorithms.
func FuzzParseAlg(f *testing.F) {
	for _, a := range jwt.Algorithms() {
		f.Add(string(a))
	}
	for _, s := range []string{"", "none", "None", "hs256", "HS256 ", " HS256", "HS256\x00", "ES256K", "RSA-OAEP", "EdDSA,HS256", "Ed25519", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAlg(s)
		if s == "" || slices.Contains(jwt.Algorithms(), jwt.Algorithm(s)) {
			if err != nil || string(a) != s {
				t.Fatalf("%q: %q, %v; want it taken as it is", s, a, err)
			}
			return
		}
		if err == nil {
			t.Fatalf("%q: taken as %q", s, a)
		}
		if a != "" {
			t.Fatalf("%q: refused but returned %q", s, a)
		}
		msg := err.Error()
		if !strings.Contains(msg, "--alg "+strconv.Quote(s)) {
			t.Fatalf("%q: error %q does not name the flag and its value", s, msg)
		}
		for _, known := range jwt.Algorithms() {
			if !strings.Contains(msg, string(known)) {
				t.Fatalf("%q: error %q does not list %s", s, msg, known)
			}
		}
	})
}
