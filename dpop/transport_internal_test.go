package dpop

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// nonceServers answers every request with a DPoP-Nonce of its own, as
// any server may: a client that is sent to many hosts (redirects of a
// hostile server) hears from each.
type nonceServers struct{ n int }

func (s *nonceServers) RoundTrip(r *http.Request) (*http.Response, error) {
	s.n++
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Dpop-Nonce": {fmt.Sprint("n", s.n)}}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// TestTransportNoncesBounded: the nonces a Transport remembers, one per
// origin, are bounded, whatever the number of origins it is sent to.
func TestTransportNoncesBounded(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProver(key, "EdDSA", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &Transport{Prover: p, Base: &nonceServers{}}
	for i := range 3 * maxNonces {
		req, _ := http.NewRequest("GET", fmt.Sprintf("https://h%d.example/", i), nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if n := len(tr.nonces); n > maxNonces {
			t.Fatalf("after %d origins, %d nonces remembered; want at most %d", i+1, n, maxNonces)
		}
	}
}
