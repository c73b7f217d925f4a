package bench

import (
	"errors"
	"testing"
)

// mustFixture returns the per-algorithm cases or stops the test.
func mustFixture(tb testing.TB) map[string]*algCase {
	tb.Helper()
	cases, err := loadFixture()
	if err != nil {
		tb.Fatal(err)
	}
	return cases
}

// skipUnsupported skips tb when err says the implementation lacks the
// algorithm, and fails it on any other error.
func skipUnsupported(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, errUnsupported) {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// prepareVerify sets up im's verification of c's token and proves, before
// any timing, that it works: the token verifies (twice, in case a library
// consumes its input) with sub = "user-12345", and a tampered signature is
// rejected; for full verifiers, so are expired, not-yet-valid and
// future-issued tokens.
func prepareVerify(tb testing.TB, im impl, c *algCase) verifyFunc {
	tb.Helper()
	verify, err := im.verifier(c, c.token)
	skipUnsupported(tb, err)
	for range 2 {
		sub, err := verify()
		if err != nil {
			tb.Fatalf("%s %s: valid token rejected: %v", im.name, c.name, err)
		}
		if !im.sigOnly && sub != wantSub {
			tb.Fatalf("%s %s: sub = %q, want %q", im.name, c.name, sub, wantSub)
		}
	}
	bad := []string{badTampered}
	if !im.sigOnly {
		bad = append(bad, badExpired, badNotYet, badIatFuture)
	}
	for _, name := range bad {
		v, err := im.verifier(c, c.bad[name])
		if err != nil {
			tb.Fatalf("%s %s: preparing the %s token: %v", im.name, c.name, name, err)
		}
		if _, err := v(); err == nil {
			tb.Fatalf("%s %s: %s token accepted", im.name, c.name, name)
		}
	}
	return verify
}

// prepareSign sets up im's signing for c and proves that it works: the
// output verifies with the standard library and, for tokens, carries the
// fixed claims under the right alg header.
func prepareSign(tb testing.TB, im impl, c *algCase) func() error {
	tb.Helper()
	sign, check, err := im.signer(c)
	skipUnsupported(tb, err)
	if err := sign(); err != nil {
		tb.Fatalf("%s %s: sign: %v", im.name, c.name, err)
	}
	if err := check(); err != nil {
		tb.Fatalf("%s %s: signed output is wrong: %v", im.name, c.name, err)
	}
	return sign
}

// TestSetup runs every benchmark's setup checks without timing anything,
// so that `go test` alone proves the harness.
func TestSetup(t *testing.T) {
	cases := mustFixture(t)
	for _, alg := range benchAlgs {
		for _, im := range implList() {
			t.Run("alg="+alg+"/impl="+im.name, func(t *testing.T) {
				if im.verifier != nil {
					prepareVerify(t, im, cases[alg])
				}
				if im.signer != nil {
					prepareSign(t, im, cases[alg])
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	cases := mustFixture(b)
	for _, alg := range benchAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			for _, im := range implList() {
				if im.verifier == nil {
					continue
				}
				b.Run("impl="+im.name, func(b *testing.B) {
					verify := prepareVerify(b, im, cases[alg])
					b.ReportAllocs()
					for b.Loop() {
						if _, err := verify(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	cases := mustFixture(b)
	for _, alg := range benchAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			for _, im := range implList() {
				if im.signer == nil {
					continue
				}
				b.Run("impl="+im.name, func(b *testing.B) {
					sign := prepareSign(b, im, cases[alg])
					b.ReportAllocs()
					for b.Loop() {
						if err := sign(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
