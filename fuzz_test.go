package jwtgate

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRequest sends arbitrary Authorization headers, cookies, query
// strings, JSON bodies and CSRF values through Required. Nothing may panic
// or answer 500, a request is let through only with the one valid token,
// and every refusal is a well-formed error response.
func FuzzRequest(f *testing.F) {
	g := testGate(f, nil)
	valid := access(f, g, "alice")
	for _, s := range []struct{ auth, cookie, query, body, csrf, method string }{
		{"Bearer " + valid, "", "", "", "", "GET"},
		{"", valid, "", "", "x", "POST"},
		{"", "", "jwt=" + valid, "", "", "DELETE"},
		{"", "", "", `{"access_token":"` + valid + `"}`, "", "POST"},
		{"Bearer a b", "", "", "", "", "GET"},
		{"Basic x, Bearer y,", "garbage", "jwt=%zz", `{"access_token":`, "", "PUT"},
		{"bearer\t" + valid, "", "", "", "", "OPTIONS"},
	} {
		f.Add(s.auth, s.cookie, s.query, s.body, s.csrf, s.method)
	}
	h := g.Required(echo(g))
	f.Fuzz(func(t *testing.T, auth, cookie, query, body, csrf, method string) {
		if !validMethod(method) {
			method = "GET"
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.URL.RawQuery = query
		r.Body = http.NoBody
		if body != "" {
			r.Body = readCloser{strings.NewReader(body), http.NoBody}
			r.Header.Set("Content-Type", "application/json")
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if cookie != "" {
			r.Header.Set("Cookie", "access_token_cookie="+url.QueryEscape(cookie))
		}
		if csrf != "" {
			r.Header.Set("X-CSRF-TOKEN", csrf)
		}
		res := serve(h, r)
		switch {
		case res.status == 200:
			if id, _ := res.body["identity"].(string); id != "alice" {
				t.Fatalf("let through as %q", id)
			}
		case res.status >= 500:
			t.Fatalf("status %d: %v", res.status, res.body)
		case res.body["error"] == nil:
			t.Fatalf("status %d without an error body: %v", res.status, res.body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}
