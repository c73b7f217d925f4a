package rpcauth

import (
	"net/url"
	"testing"
)

// FuzzParseOrigin: an adapter's Origin option is refused, or is the scheme
// and host of an absolute http or https URL as net/url reads it, and
// formats to text that reads back the same.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"https://api.example.com", "http://[::1]:8080/", "https://api.example.com:",
		"https://user@api.example.com", "https://api.example.com/x", "https://api.example.com?", "https://api.example.com/#f",
		"https:api.example.com", "//api.example.com", "ftp://api.example.com", "https://%zz", "https://a b", "https://a.example/%2F", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseOrigin(s)
		if err != nil || u == nil {
			if u != nil || (err == nil && s != "") {
				t.Fatalf("ParseOrigin(%q) = %v, %v", s, u, err)
			}
			return
		}
		ref, err := url.Parse(s)
		if err != nil || ref.Scheme != u.Scheme || ref.Host != u.Host || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			t.Fatalf("ParseOrigin(%q) = %v; net/url reads %v (%v)", s, u, ref, err)
		}
		if ref.User != nil || (ref.Path != "" && ref.Path != "/") || ref.RawQuery != "" || ref.Fragment != "" {
			t.Fatalf("ParseOrigin(%q) dropped more than the scheme and host: %#v", s, ref)
		}
		again, err := ParseOrigin(u.String())
		if err != nil || *again != *u {
			t.Fatalf("%q read as %v, which reads back as %v (%v)", s, u, again, err)
		}
	})
}
