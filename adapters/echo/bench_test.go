package echogate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/jwtgate/jwtgate"
	echogate "github.com/jwtgate/jwtgate/adapters/echo"
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
// Required (nethttp, nethttp-required), and echo with labstack/echo-jwt
// (golang-jwt v5, MapClaims), which verifies the same token. The handler
// writes 200 and nothing else. Besides wall time it reports cpu-ns/op, the
// process's CPU time per request, which a busy machine disturbs less.
// Compare with benchstat -col /impl.
func BenchmarkProtected(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run("impl="+c.impl, func(b *testing.B) {
			if code := c.serve(); code != http.StatusOK {
				b.Fatalf("status %d", code)
			}
			b.ReportAllocs()
			cpu0, cpuOK := cpuTime()
			for b.Loop() {
				if code := c.serve(); code != http.StatusOK {
					b.Fatalf("status %d", code)
				}
			}
			if cpu1, ok := cpuTime(); ok && cpuOK {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// benchCase is one implementation serving the benchmarks' request.
type benchCase struct {
	impl  string
	serve func() int // serves the request, returns the status
}

// benchCases returns the implementations BenchmarkProtected compares.
func benchCases(b *testing.B) []benchCase {

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
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	server := func(mw ...echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.GET("/", ok, mw...)
		return e
	}
	okHTTP := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	// serve returns a function serving one GET with token through h.
	serve := func(h http.Handler, token string) func() int {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := &discard{h: http.Header{}}
		return func() int {
			w.code = 0
			h.ServeHTTP(w, req)
			return w.code
		}
	}
	return []benchCase{
		{"unprotected", serve(server(), tok)},
		{"echogate", serve(server(echogate.New(g).Required()), tok)},
		{"nethttp", serve(okHTTP, tok)},
		{"nethttp-required", serve(g.Required(okHTTP), tok)},
		{"echo-jwt", serve(server(echojwt.WithConfig(echojwt.Config{SigningKey: benchSecret})), tok)},
	}
}

// BenchmarkOverhead measures what the adapter adds to the Gate's own
// Required, with each request served right after its counterpart so that
// both see the same machine load (on a busy machine, separate benchmarks
// differ by more than the adapter costs). Each iteration serves, in turn,
// the framework with the adapter and without a check, and net/http with
// the Gate's Required and without it, timing each; it reports
// (adapter - unprotected) - (nethttp-required - nethttp) as
// overhead-ns/op, the median over the last 65536 iterations. The
// allocations are those of all four requests.
func BenchmarkOverhead(b *testing.B) {
	cases := map[string]func() int{}
	for _, c := range benchCases(b) {
		cases[c.impl] = c.serve
	}
	adapter, bare, required, plain := cases["echogate"], cases["unprotected"], cases["nethttp-required"], cases["nethttp"]
	timed := func(serve func() int) time.Duration {
		t0 := time.Now()
		if code := serve(); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
		return time.Since(t0)
	}
	ring := make([]time.Duration, 1<<16) // the last samples, made before the loop to count no allocation
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		ring[n%len(ring)] = timed(adapter) - timed(bare) - (timed(required) - timed(plain))
		n++
	}
	diffs := ring[:min(n, len(ring))]
	slices.Sort(diffs)
	b.ReportMetric(float64(diffs[len(diffs)/2]), "overhead-ns/op")
}
