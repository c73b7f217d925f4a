package dpop

import (
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
)

// slowNormalURL is normalURL without its fast path: every path through
// normalPath.
func slowNormalURL(u *url.URL) (string, int, error) {
	origin, err := originOf(u)
	if err != nil {
		return "", 0, err
	}
	ep := u.EscapedPath()
	if ep != "" && ep[0] != '/' {
		return "", 0, errTest
	}
	p, err := normalPath(ep)
	if err != nil {
		return "", 0, err
	}
	return origin + p, len(origin), nil
}

var errTest = errors.New("path without a leading slash")

func TestNormalURL(t *testing.T) {
	tests := []struct{ in, want, origin string }{
		{"https://api.example.com/orders", "https://api.example.com/orders", "https://api.example.com"},
		{"HTTPS://API.Example.COM:443", "https://api.example.com/", "https://api.example.com"},
		{"http://api.example.com:80/a/./b/../c", "http://api.example.com/a/c", "http://api.example.com"},
		{"http://api.example.com:8080/%7euser/%2f", "http://api.example.com:8080/~user/%2F", "http://api.example.com:8080"},
		{"http://[::1]:9/x", "http://[::1]:9/x", "http://[::1]:9"},
		{"https://api.example.com/.well-known/x", "https://api.example.com/.well-known/x", "https://api.example.com"},
		{"https://api.example.com/a/..", "https://api.example.com/", "https://api.example.com"},
		{"http://[FE80::1%25Eth0]:8080/x", "http://[fe80::1%25eth0]:8080/x", "http://[fe80::1%25eth0]:8080"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := normalURL(u)
		if err != nil || got != tt.want || got[:n] != tt.origin {
			t.Errorf("normalURL(%s) = %q, %d, %v; want %q with origin %q", tt.in, got, n, err, tt.want, tt.origin)
		}
	}
	u, _ := url.Parse("https://api.example.com/orders")
	if a := testing.AllocsPerRun(100, func() { normalURL(u) }); a != 1 {
		t.Errorf("normalURL of a normal URI: %v allocations, want 1", a)
	}
}

// FuzzNormalURL: the fast path of normalURL gives what normalising the
// path in full gives.
func FuzzNormalURL(f *testing.F) {
	for _, s := range []string{"https://a.example/x", "http://A.example:80/%41/./b", "https://a.example/.x/..", "http://[::1]/", "https://a.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		got, n, err := normalURL(u)
		want, wn, werr := slowNormalURL(u)
		if (err == nil) != (werr == nil) || got != want || n != wn {
			t.Fatalf("%q: fast %q %d %v, full %q %d %v", s, got, n, err, want, wn, werr)
		}
	})
}

// TestRequestOrigin: the origin of a request, whose Host header spells
// its host as a URI does ("%25" before an IPv6 zone), is the origin of
// the URI it was sent to, as Options.Origins and htu give it.
func TestRequestOrigin(t *testing.T) {
	tests := []struct{ origin, host, want string }{
		{"http://api.example.com", "api.example.com", "http://api.example.com"},
		{"http://[fe80::1%25eth0]:8080", "[fe80::1%25eth0]:8080", "http://[fe80::1%25eth0]:8080"},
		{"http://[fe80::1%25eth0]:8080", "[FE80::1%25ETH0]:8080", "http://[fe80::1%25eth0]:8080"},
		{"https://[fe80::1%251]", "[fe80::1%251]:443", "https://[fe80::1%251]"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			o, err := normalOrigin(tt.origin)
			if err != nil || o != tt.want {
				t.Fatalf("normalOrigin(%q) = %q, %v; want %q", tt.origin, o, err, tt.want)
			}
			r := httptest.NewRequest("POST", "/token", nil)
			r.Host = tt.host
			if tt.origin[:5] == "https" {
				r.TLS = &tls.ConnectionState{}
			}
			got, n, err := normalURL(RequestURL(r, nil))
			if err != nil || got[:n] != tt.want {
				t.Fatalf("request with Host %q: origin %q, %v; want %q", tt.host, got[:n], err, tt.want)
			}
			if err := matchURL(tt.origin+"/token", RequestURL(r, nil), map[string]bool{o: true}); err != nil {
				t.Fatalf("htu %s/token: %v", tt.origin, err)
			}
		})
	}
}
