package dpop_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/dpop"
)

// TestTransport runs the client Transport against a server that checks
// proofs with a Verifier requiring nonces: the first request of each kind
// is refused with use_dpop_nonce and retried once, later ones carry the
// remembered nonce.
func TestTransport(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a shared nonce secret of 32 byte")})
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, &replay{}, func(o *dpop.Options) { o.Nonces = nonces; o.Clock = time.Now })
	var calls, refusals atomic.Int32
	const token = "tok-123"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "DPoP "+token {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		_, err := v.Verify(r.Context(), r.Header.Get("DPoP"), dpop.Request{Method: r.Method, URL: dpop.RequestURL(r, nil), AccessToken: token})
		if errors.Is(err, dpop.ErrUseNonce) {
			refusals.Add(1)
			w.Header().Set("DPoP-Nonce", v.Nonce())
			if r.URL.Path == "/token" { // an authorization server answers 400
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`)
				return
			}
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err != nil {
			t.Errorf("server: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok:"+string(body))
	}))
	defer srv.Close()
	p, err := dpop.NewProver(ecKey(t), "ES256", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &dpop.Transport{Prover: p, Token: func(context.Context) (string, error) { return token, nil }}}
	do := func(method, path, body string) string {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path+"?q=1", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return string(b)
	}
	if got := do("POST", "/token", "grant"); got != "ok:grant" {
		t.Errorf("body %q: the retry did not resend the body", got)
	}
	if got := do("GET", "/api", ""); got != "ok:" {
		t.Errorf("body %q", got)
	}
	if calls.Load() != 3 || refusals.Load() != 1 {
		t.Errorf("%d calls, %d nonce refusals; want 3 and 1 (one retry, then the nonce remembered)", calls.Load(), refusals.Load())
	}
}

// TestTransportRedirect: a redirect to the same origin carries the token
// and a proof for the new URI; one to another origin carries neither, so
// that a server redirecting a client elsewhere does not hand its token
// to a third party.
func TestTransportRedirect(t *testing.T) {
	const token = "tok-456"
	type seen struct{ auth, proof string }
	got := make(chan seen, 4)
	record := func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("Authorization"), r.Header.Get("DPoP")}
	}
	other := httptest.NewServer(http.HandlerFunc(record))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/twice": // back to the first origin through the other one
			http.Redirect(w, r, "/away", http.StatusFound)
		default:
			record(w, r)
		}
	}))
	defer srv.Close()
	p, err := dpop.NewProver(ecKey(t), "ES256", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &dpop.Transport{Prover: p, Token: func(context.Context) (string, error) { return token, nil }}}
	v := newVerifier(t, &replay{}, func(o *dpop.Options) { o.Clock = time.Now })
	tests := []struct {
		path  string
		bound bool // the last request carries the token and a proof for it
	}{
		{"/final", true},
		{"/here", true},
		{"/away", false},
		{"/twice", false},
	}
	for _, tt := range tests {
		resp, err := client.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		s := <-got
		last := resp.Request
		if !tt.bound {
			if s.auth != "" || s.proof != "" {
				t.Errorf("%s: redirected to %s with Authorization %q and DPoP %q, want neither", tt.path, last.URL, s.auth, s.proof)
			}
			continue
		}
		if s.auth != "DPoP "+token {
			t.Errorf("%s: Authorization %q after a redirect to the same origin", tt.path, s.auth)
		}
		if _, err := v.Verify(context.Background(), s.proof, dpop.Request{Method: "GET", URL: last.URL, AccessToken: token}); err != nil {
			t.Errorf("%s: the proof is not one for %s: %v", tt.path, last.URL, err)
		}
	}
}

func TestRequestURL(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tt := range []struct {
		name, remote, proto, host, want string
		proxies                         []netip.Prefix
	}{
		{name: "direct", remote: "192.0.2.1:5000", want: "http://api.example.com/a%2Fb/c"},
		{name: "headers ignored without proxies", remote: "10.1.1.1:5000", proto: "https", host: "evil.example", want: "http://api.example.com/a%2Fb/c"},
		{name: "headers ignored from an untrusted peer", remote: "192.0.2.1:5000", proto: "https", host: "evil.example", proxies: proxies, want: "http://api.example.com/a%2Fb/c"},
		{name: "trusted proxy", remote: "10.1.1.1:5000", proto: "https", host: "public.example", proxies: proxies, want: "https://public.example/a%2Fb/c"},
		{name: "last value wins", remote: "10.1.1.1:5000", proto: "http, https", host: "evil.example, public.example", proxies: proxies, want: "https://public.example/a%2Fb/c"},
		{name: "bad proto ignored", remote: "10.1.1.1:5000", proto: "gopher", proxies: proxies, want: "http://api.example.com/a%2Fb/c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://api.example.com/a%2Fb/c?x=1", nil)
			r.RemoteAddr = tt.remote
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.host != "" {
				r.Header.Set("X-Forwarded-Host", tt.host)
			}
			if got := dpop.RequestURL(r, tt.proxies).String(); got != tt.want {
				t.Errorf("RequestURL = %s, want %s", got, tt.want)
			}
		})
	}
}

// closeRecorder is a request body that records whether it was closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestTransportClosesBody: RoundTrip closes the request's body when it
// fails before sending it, as an http.RoundTripper must (the
// http.Client leaves that to it).
func TestTransportClosesBody(t *testing.T) {
	p, err := dpop.NewProver(ecKey(t), "ES256", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url string
		tr        *dpop.Transport
	}{
		{name: "no prover", url: "https://api.example.com/x", tr: &dpop.Transport{}},
		{name: "token error", url: "https://api.example.com/x", tr: &dpop.Transport{Prover: p, Token: func(context.Context) (string, error) { return "", errors.New("no token") }}},
		{name: "no proof for the URL", url: "ftp://api.example.com/x", tr: &dpop.Transport{Prover: p}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := &closeRecorder{Reader: strings.NewReader("payload")}
			req, err := http.NewRequest("POST", tt.url, body)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tt.tr.RoundTrip(req); err == nil {
				t.Fatal("RoundTrip succeeded")
			}
			if !body.closed {
				t.Error("the request's body was left open")
			}
		})
	}
}
