package dpop

import (
	"errors"
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
