package jwk

import (
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
)

// FuzzParseDiscovery: a discovery document is refused, or it is one JSON
// object whose issuer and jwks_uri, when present, are strings that
// encoding/json reads the same.
func FuzzParseDiscovery(f *testing.F) {
	for _, s := range []string{
		`{"issuer":"https://id.example","jwks_uri":"https://id.example/jwks"}`,
		`{"issuer":"https://id.example"}`, `{}`, `null`, `[]`, `{"issuer":1}`,
		`{"issuer":"a","issuer":"b"}`, `{"ISSUER":"x","jwks_uri":"\u0068ttps://k"}`,
		`{"issuer":"a"} {}`, "{\"issuer\":\"\xff\"}", `{"issuer":"\ud800"}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		iss, uri, err := parseDiscovery(data)
		if err != nil {
			if iss != "" || uri != "" {
				t.Fatalf("values %q, %q with error %v", iss, uri, err)
			}
			return
		}
		var m map[string]any
		if !json.Valid(data) || json.Unmarshal(data, &m) != nil || m == nil {
			t.Fatalf("accepted %q, not a JSON object", data)
		}
		for name, got := range map[string]string{"issuer": iss, "jwks_uri": uri} {
			v, ok := m[name]
			if s, _ := v.(string); (ok && s != got) || (!ok && got != "") {
				t.Fatalf("%s of %q read as %q, encoding/json reads %#v", name, data, got, v)
			}
		}
	})
}

// FuzzRemoteURL: a key set or issuer URL is refused with an error wrapping
// ErrFetch, or is https:, or http: with AllowHTTP or to a loopback host as
// net reads it; it always has a host and never user information.
func FuzzRemoteURL(f *testing.F) {
	for _, s := range []string{
		"https://id.example/jwks", "http://localhost:8080/jwks", "http://LOCALHOST/", "http://127.0.0.1/",
		"http://127.example.net/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://id.example/",
		"https://user:pw@id.example/", "https:///jwks", "https:id.example", "ftp://id.example/", "//id.example/",
		"https://id.example:99999/", "https://%zz/", "",
	} {
		f.Add(s, false)
	}
	f.Add("http://id.example/jwks", true)
	f.Fuzz(func(t *testing.T, raw string, allowHTTP bool) {
		r := &remote{opts: RemoteOptions{AllowHTTP: allowHTTP}}
		u, err := r.parseURL(raw)
		if err != nil {
			if !errors.Is(err, ErrFetch) {
				t.Fatalf("%q: error %v does not wrap ErrFetch", raw, err)
			}
			return
		}
		if u.Host == "" || u.User != nil {
			t.Fatalf("accepted %q: host %q, user %v", raw, u.Host, u.User)
		}
		switch u.Scheme {
		case "https":
		case "http":
			ip := net.ParseIP(u.Hostname())
			if !allowHTTP && !strings.EqualFold(u.Hostname(), "localhost") && (ip == nil || !ip.IsLoopback()) {
				t.Fatalf("accepted %q: plain http to %q", raw, u.Hostname())
			}
		default:
			t.Fatalf("accepted %q: scheme %q", raw, u.Scheme)
		}
	})
}

// FuzzLoad: a key file is refused with an error wrapping one of the
// package's sentinels, or is read as ParseSet, ParseKey or ParsePEM reads
// it, by its first bytes.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ"}`,
		`{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ"}]}`,
		`{"keys":[],"kty":"oct"}`, `{"keys":null}`, ` {}`, `{"kty":"oct","k":""}`, `{} {}`,
		"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "-----BEGIN ", "secret", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Load(data)
		if err != nil {
			if set != nil {
				t.Fatalf("%q: a set and an error", data)
			}
			if !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrInvalidSet) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%q: error %v wraps no sentinel", data, err)
			}
			return
		}
		trimmed := strings.TrimLeft(string(data), " \t\r\n")
		var perr error
		switch {
		case strings.HasPrefix(trimmed, "{") && strings.Contains(string(data), `"keys"`):
			_, perr = ParseSet(data)
			if perr != nil {
				_, perr = ParseKey(data) // "keys" may sit in a member's value
			}
		case strings.HasPrefix(trimmed, "{"):
			_, perr = ParseKey(data)
		default:
			_, perr = ParsePEM(data)
		}
		if perr != nil {
			t.Fatalf("Load accepted %q, which the parser of its kind refuses: %v", data, perr)
		}
	})
}
