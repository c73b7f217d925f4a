package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestNoEndpoint: 404 and 405 are JSON errors like the others, and 405
// keeps its Allow header.
func TestNoEndpoint(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nope", http.StatusNotFound, "not_found", ""},
		{"POST", "/nope/deeper", http.StatusNotFound, "not_found", ""},
		{"GET", "/login", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{"DELETE", "/logout/all", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{"POST", "/userinfo", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{"PUT", "/.well-known/jwks.json", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{"POST", "/", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := f.do(t, tc.method, tc.path, "", "")
			wantStatus(t, tc.method+" "+tc.path, r, tc.status)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q: %s", ct, r.raw)
			}
			if r.body["error"] != tc.code || r.body["error_description"] == nil {
				t.Fatalf("body %s", r.raw)
			}
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	// The endpoints still answer.
	wantStatus(t, "GET /", f.do(t, "GET", "/", "", ""), http.StatusOK)
	wantStatus(t, "GET /healthz", f.do(t, "GET", "/healthz", "", ""), http.StatusOK)
}

// TestErrorTextsWithoutPackage: the descriptions of JSON errors name no
// Go package.
func TestErrorTextsWithoutPackage(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{
		`{"username":" padded","password":"a password"}`,
		`{"username":"alice","password":"` + strings.Repeat("x", MaxPasswordLen+1) + `"}`,
		`{"username":"alice","password":"\ufffd"}`,
	} {
		r := f.do(t, "POST", "/login", "application/json", body)
		wantStatus(t, "login", r, http.StatusBadRequest)
		desc, _ := r.body["error_description"].(string)
		if desc == "" || strings.Contains(desc, "server:") || strings.Contains(desc, "jwtgate:") {
			t.Fatalf("error_description %q", desc)
		}
	}
}
