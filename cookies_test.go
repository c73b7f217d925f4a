package jwtgate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// CSRF protection is on for the zero CookieConfig and off only with
// DisableCSRF; NoCSRFCookies keeps the check and drops the readable
// cookies.
func TestCSRFSettings(t *testing.T) {
	tests := []struct {
		name        string
		cookies     *CookieConfig
		claim       bool // created tokens carry a csrf claim
		csrfCookie  bool // SetAccessCookies sets the readable CSRF cookie
		postChecked bool // a cookie POST without a CSRF value is refused
	}{
		{"zero value", &CookieConfig{}, true, true, true},
		{"DefaultCookies", DefaultCookies(), true, true, true},
		{"NoCSRFCookies", &CookieConfig{NoCSRFCookies: true}, true, false, true},
		{"DisableCSRF", &CookieConfig{DisableCSRF: true}, false, false, false},
		{"DisableCSRF and NoCSRFCookies", &CookieConfig{DisableCSRF: true, NoCSRFCookies: true}, false, false, false},
		{"DefaultCookies then DisableCSRF", func() *CookieConfig { c := DefaultCookies(); c.DisableCSRF = true; return c }(), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGate(t, func(c *Config) { c.Cookies = tt.cookies; c.Locations = []Location{InCookie{}} })
			tok := access(t, g, "alice")
			dec, err := g.DecodeToken(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if _, has := dec.RawClaim("csrf"); has != tt.claim {
				t.Errorf("csrf claim present: %v, want %v", has, tt.claim)
			}

			w := httptest.NewRecorder()
			if err := g.SetAccessCookies(w, tok); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range w.Result().Cookies() {
				names = append(names, c.Name)
			}
			want := []string{"access_token_cookie"}
			if tt.csrfCookie {
				want = append(want, "csrf_access_token")
			}
			if len(names) != len(want) || names[0] != want[0] || (len(want) == 2 && names[1] != want[1]) {
				t.Errorf("cookies set %v, want %v", names, want)
			}

			res := serve(g.Required(echo(g)), reqSpec{method: http.MethodPost, cookies: map[string]string{"access_token_cookie": tok}}.build())
			if refused := res.status != http.StatusOK; refused != tt.postChecked {
				t.Errorf("cookie POST without CSRF value: status %d, body %v", res.status, res.body)
			}
			if tt.postChecked {
				csrf, err := g.CSRFOf(context.Background(), tok)
				if err != nil {
					t.Fatal(err)
				}
				res := serve(g.Required(echo(g)), reqSpec{method: http.MethodPost, headers: map[string]string{"X-CSRF-TOKEN": csrf}, cookies: map[string]string{"access_token_cookie": tok}}.build())
				if res.status != http.StatusOK {
					t.Errorf("cookie POST with the CSRF value: status %d, body %v", res.status, res.body)
				}
			}
		})
	}
}
