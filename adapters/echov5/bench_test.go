package echogate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/jwtgate/jwtgate"
	echogate "github.com/jwtgate/jwtgate/adapters/echov5"
	"github.com/jwtgate/jwtgate/jwt"
)

// discard is a ResponseWriter that keeps nothing but the status.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

var benchSecret = []byte("bench-secret-0123456789abcdef-0123456789abcdef")

// BenchmarkProtected serves one GET with an HS256 access token in the
// Authorization header: echo without a check (unprotected), echo with this
// adapter's Required (echogate), net/http without and with the Gate's own
// Required (nethttp, nethttp-required). labstack/echo-jwt, the popular
// peer, exists for echo v4 only: the echo v4 adapter's benchmark measures
// it. The handler writes 200 and nothing else. Besides wall time it
// reports cpu-ns/op, the process's CPU time per request, which a busy
// machine disturbs less. Compare with benchstat -col /impl.
func BenchmarkProtected(b *testing.B) {
	key, err := jwt.NewHMACKey(benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := g.CreateAccessToken(context.Background(), "user-12345")
	if err != nil {
		b.Fatal(err)
	}
	ok := func(c *echo.Context) error { return c.NoContent(http.StatusOK) }
	server := func(mw ...echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.GET("/", ok, mw...)
		return e
	}
	okHTTP := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, c := range []struct {
		impl string
		h    http.Handler
	}{
		{"unprotected", server()},
		{"echogate", server(echogate.New(g).Required())},
		{"nethttp", okHTTP},
		{"nethttp-required", g.Required(okHTTP)},
	} {
		b.Run("impl="+c.impl, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := &discard{h: http.Header{}}
			c.h.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
			b.ReportAllocs()
			cpu0, cpuOK := cpuTime()
			for b.Loop() {
				w.code = 0
				c.h.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
			if cpu1, ok := cpuTime(); ok && cpuOK {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
