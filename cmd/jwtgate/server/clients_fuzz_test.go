package server

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
)

// FuzzClientURLs: a client's audience and jwks_uri are refused with an
// error wrapping ErrBadClient, or are what they claim to be as net/url and
// net read them: an audience is an absolute URI without a fragment, and a
// jwks_uri is https, or http to a loopback address (keys fetched over
// plain http from any other host could be forged on the way, and the
// key fetch refuses them).
func FuzzClientURLs(f *testing.F) {
	for _, s := range [][2]string{
		{"https://api.example", "https://keys.example/jwks"},
		{"urn:example:api", "http://localhost:8080/jwks"},
		{"https://a.example/#frag", "http://127.0.0.1/jwks"},
		{"/relative", "http://[::1]:9/jwks"},
		{"https://a.example/ x", "http://127.example.net/jwks"},
		{"", "http://127.0.0.1.nip.io/jwks"},
		{"https://a.example", "http://[::ffff:127.0.0.1]/jwks"},
		{"https://a.example", "http://localhost.example/jwks"},
		{"https://a.example", "ftp://keys.example/jwks"},
		{"https://a.example", "https:///jwks"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, aud, jwksURI string) {
		c := &Client{ID: NewClientID(), Name: "svc", SecretHash: HashClientSecret("s")}
		if aud != "" {
			c.Audiences = []string{aud}
		}
		if err := c.Validate(); err != nil {
			if !errors.Is(err, ErrBadClient) {
				t.Fatalf("audience %q: error %v does not wrap ErrBadClient", aud, err)
			}
		} else if aud != "" {
			u, err := url.Parse(aud)
			if err != nil || !u.IsAbs() || u.Fragment != "" {
				t.Fatalf("accepted audience %q (%v)", aud, err)
			}
		}
		c = &Client{ID: NewClientID(), Name: "svc", JWKSURI: jwksURI}
		err := c.Validate()
		if err != nil {
			if !errors.Is(err, ErrBadClient) {
				t.Fatalf("jwks_uri %q: error %v does not wrap ErrBadClient", jwksURI, err)
			}
			return
		}
		u, perr := url.Parse(jwksURI)
		if perr != nil || u.Host == "" {
			t.Fatalf("accepted jwks_uri %q (%v)", jwksURI, perr)
		}
		if u.Scheme == "https" {
			return
		}
		ip := net.ParseIP(u.Hostname())
		if u.Scheme != "http" || (!strings.EqualFold(u.Hostname(), "localhost") && (ip == nil || !ip.IsLoopback())) {
			t.Fatalf("accepted jwks_uri %q: plain http to %q, not a loopback address", jwksURI, u.Hostname())
		}
	})
}
