package dpop_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/jwtgate/jwtgate/dpop"
)

// FuzzVerify: any proof text and URI get an answer, never a panic, and
// every refusal wraps one of the package's errors.
func FuzzVerify(f *testing.F) {
	key := ecKey(f)
	p := newProver(f, key, testNow)
	u := mustURL("https://api.example.com/x")
	good, _ := p.Proof("GET", u, "tok", "")
	f.Add(good, "GET", "https://api.example.com/x")
	f.Add(good, "GET", "https://API.example.com:443/./x")
	f.Add("a.b.c", "POST", "http://h/%zz")
	f.Add("", "", "")
	v := newVerifier(f, &replay{}, nil)
	f.Fuzz(func(t *testing.T, proof, method, target string) {
		u, err := parseURL(target)
		if err != nil {
			return
		}
		_, err = v.Verify(context.Background(), proof, dpop.Request{Method: method, URL: u, AccessToken: "tok"})
		if err != nil && !errors.Is(err, dpop.ErrInvalidProof) && !errors.Is(err, dpop.ErrUseNonce) {
			t.Fatalf("error %v wraps none of the package's errors", err)
		}
	})
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
