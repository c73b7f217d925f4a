package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// FuzzReadCredentials: any body and content type gets a 4xx answer or
// credentials that pass ValidUsername and ValidPassword; never a panic.
func FuzzReadCredentials(f *testing.F) {
	for _, s := range []string{
		`{"username":"alice","password":"pw"}`,
		`{"username":"alice","password":"\ud800"}`,
		`{"username":"a","password":"b","x":1}`,
		`{"username":"a"} {}`,
		"{\"username\":\"\xff\",\"password\":\"b\"}",
		`[`, ``, `null`,
	} {
		f.Add("application/json", s)
	}
	f.Add("text/plain; charset=utf-8", `{}`)
	f.Add("application/json; charset=\"", `{}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		c, ok := readCredentials(w, r, defaultKeys)
		if !ok {
			if w.Code < 400 || w.Code > 499 {
				t.Fatalf("refused with status %d", w.Code)
			}
			return
		}
		if err := ValidUsername(c.Username); err != nil {
			t.Fatalf("accepted username %q: %v", c.Username, err)
		}
		if err := ValidPassword(c.Password); err != nil {
			t.Fatalf("accepted password: %v", err)
		}
	})
}

// FuzzUIConfig: any accent colour, logo URL and service name is accepted
// or refused with an error, never a panic; an accepted accent passes
// WCAG AA against white and an accepted logo origin cannot break out of
// the Content-Security-Policy.
func FuzzUIConfig(f *testing.F) {
	f.Add("#1f5fbf", "https://cdn.example/logo.png", "jwtgate")
	f.Add("#fff", "javascript:alert(1)", "a\nb")
	f.Add("#12345g", "https://a.example/x'y; script-src *", "")
	f.Add("#000;}body{", "http://[::1]:8080/l.svg", "Example <Corp>")
	f.Fuzz(func(t *testing.T, accent, logo, name string) {
		u, err := newUI(UIConfig{Accent: accent, LogoURL: logo, ServiceName: name})
		if err != nil {
			return
		}
		rgb, err := parseHexColour(accent)
		if err != nil || contrast(rgb, [3]float64{1, 1, 1}) < minContrast {
			t.Fatalf("accepted accent %q", accent)
		}
		img := "'self'"
		if logo != "" {
			origin, err := logoOrigin(logo)
			if err != nil || strings.ContainsAny(origin, " ;,'\"\t\r\n") {
				t.Fatalf("logo %q accepted with origin %q (%v)", logo, origin, err)
			}
			img += " " + origin
		}
		if !strings.Contains(u.csp, "; img-src "+img+"; connect-src 'self';") || strings.Count(u.csp, ";") != 7 {
			t.Fatalf("CSP %q from logo %q", u.csp, logo)
		}
	})
}

// FuzzSigninForm: any body and content type posted to /signin gets a page
// (4xx, or 303 for the right credentials), never a panic or a 5xx.
func FuzzSigninForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "username=alice&password=wrong")
	f.Add("application/x-www-form-urlencoded", "username=%ff&password=%")
	f.Add("application/x-www-form-urlencoded", "resume=1&csrf_token=x")
	f.Add("multipart/form-data; boundary=x", "--x--")
	f.Add("application/json", `{"username":"alice","password":"x"}`)
	ctx := context.Background()
	data, err := OpenDataDir(ctx, f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { data.Close() })
	log := slog.New(slog.DiscardHandler)
	key, err := data.SigningKey(jwt.ES256, log)
	if err != nil {
		f.Fatal(err)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{}, key)
	if err != nil {
		f.Fatal(err)
	}
	if err := data.Users.Add(ctx, "alice", testPassword); err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Users: data.Users, Revocations: data.Revocations, Keys: ring, Algorithm: jwt.ES256,
		Issuer: "http://127.0.0.1", Logger: log, LoginBurst: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/signin", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 303 && (w.Code < 400 || w.Code > 499) {
			t.Fatalf("status %d for %q %q", w.Code, ct, body)
		}
	})
}
