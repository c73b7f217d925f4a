package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// BenchmarkOAuth measures the handler path of the OAuth endpoints in
// process (no network): client_credentials with client_secret_basic and
// with private_key_jwt (ES256 assertions, made before the timer starts),
// and the introspection of one token, on a data directory (SQLite) with
// the login limiter on, as "jwtgate serve" runs.
func BenchmarkOAuth(b *testing.B) {
	o := newOAuthFixtureWith(b, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	serve := func(b *testing.B, body string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", form)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		o.s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		return w
	}
	auth := basic(o.secretID, o.secret)
	b.Run("token/client_secret_basic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, "grant_type=client_credentials", auth...)
		}
	})
	b.Run("token/private_key_jwt_ES256", func(b *testing.B) {
		bodies := make([]string, 0, 1024)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i == len(bodies) {
				b.StopTimer()
				bodies, i = bodies[:0], 0
				for range cap(bodies) {
					bodies = append(bodies, jwtForm(o.assertion(b, o.key, jwt.ES256, nil), "grant_type", "client_credentials"))
				}
				b.StartTimer()
			}
			serve(b, bodies[i])
			i++
		}
	})
	tok := serve(b, "grant_type=client_credentials", auth...).Body.String()
	tok = tok[strings.Index(tok, `"access_token":"`)+16:]
	tok = tok[:strings.IndexByte(tok, '"')]
	body := url.Values{"token": {tok}}.Encode()
	rs := basic(o.refresherID, o.refresh)
	b.Run("introspect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("POST", "/oauth/introspect", strings.NewReader(body))
			r.Header.Set("Content-Type", form)
			r.Header.Set(rs[0], rs[1])
			w := httptest.NewRecorder()
			o.s.ServeHTTP(w, r)
			if w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}
