package adaptertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
)

// The HTTP adapters' benchmarks: each serves one GET with an HS256 access
// token in the Authorization header through the framework without a
// check ("unprotected"), the framework with the adapter's Required, bare
// net/http ("nethttp"), net/http with the Gate's own Required
// ("nethttp-required") and the framework's popular JWT middleware where
// there is one, every handler writing 200 and nothing else.

// BenchSecret is the HMAC key of the benchmarks' tokens, for peers that
// verify the same token.
var BenchSecret = []byte("bench-secret-0123456789abcdef-0123456789abcdef")

// BenchCase is one implementation serving the benchmarks' request: Serve
// serves it once and returns the status.
type BenchCase struct {
	Impl  string
	Serve func() int
}

// BenchGate returns the benchmarks' Gate and an access token of it for
// "user-12345".
func BenchGate(b testing.TB) (*jwtgate.Gate, string) {
	b.Helper()
	key, err := jwt.NewHMACKey(BenchSecret)
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
	return g, tok
}

// NetHTTPCases returns the two net/http cases, "nethttp" and
// "nethttp-required" (g's Required), serving token.
func NetHTTPCases(g *jwtgate.Gate, token string) []BenchCase {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return []BenchCase{
		{"nethttp", ServeGET(ok, token)},
		{"nethttp-required", ServeGET(g.Required(ok), token)},
	}
}

// ServeGET returns a function serving one GET / with token as a bearer
// token through h, into a ResponseWriter that keeps nothing but the
// status, made once.
func ServeGET(h http.Handler, token string) func() int {
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := &nopWriter{h: http.Header{}}
	return func() int {
		w.code = 0
		h.ServeHTTP(w, req)
		return w.code
	}
}

// nopWriter is a ResponseWriter that keeps nothing but the status.
type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

// BenchProtected runs each case as a sub-benchmark impl=NAME (compare
// with benchstat -col /impl). Besides wall time it reports cpu-ns/op,
// the process's CPU time per request, which a busy machine disturbs less.
func BenchProtected(b *testing.B, cases []BenchCase) {
	for _, c := range cases {
		b.Run("impl="+c.Impl, func(b *testing.B) {
			if code := c.Serve(); code != http.StatusOK {
				b.Fatalf("status %d", code)
			}
			b.ReportAllocs()
			cpu0, cpuOK := CPUTime()
			for b.Loop() {
				if code := c.Serve(); code != http.StatusOK {
					b.Fatalf("status %d", code)
				}
			}
			if cpu1, ok := CPUTime(); ok && cpuOK {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchOverhead measures what the adapter (the case named adapter) adds
// to the Gate's own Required, with each request served right after its
// counterpart so that both see the same machine load (on a busy machine,
// separate benchmarks differ by more than the adapter costs). Each
// iteration serves, in turn, the framework with the adapter and without a
// check ("unprotected"), and net/http with the Gate's Required and
// without it, timing each; it reports (adapter - unprotected) -
// (nethttp-required - nethttp) as overhead-ns/op, the median over the
// last 65536 iterations. The allocations are those of all four requests.
func BenchOverhead(b *testing.B, cases []BenchCase, adapter string) {
	byImpl := map[string]func() int{}
	for _, c := range cases {
		byImpl[c.Impl] = c.Serve
	}
	serves := []func() int{byImpl[adapter], byImpl["unprotected"], byImpl["nethttp-required"], byImpl["nethttp"]}
	if slices.ContainsFunc(serves, func(f func() int) bool { return f == nil }) {
		b.Fatalf("BenchOverhead needs the cases %s, unprotected, nethttp-required and nethttp", adapter)
	}
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
		ring[n%len(ring)] = timed(serves[0]) - timed(serves[1]) - (timed(serves[2]) - timed(serves[3]))
		n++
	}
	diffs := ring[:min(n, len(ring))]
	slices.Sort(diffs)
	b.ReportMetric(float64(diffs[len(diffs)/2]), "overhead-ns/op")
}

// BenchRequired measures the Gate's own Required on net/http serving
// token, its handler checking the request's context with authenticated
// (and panicking if it says no): the baseline the RPC adapters are held
// to.
func BenchRequired(b *testing.B, g *jwtgate.Gate, token string, authenticated func(context.Context) bool) {
	serve := ServeGET(g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authenticated(r.Context()) {
			panic("not authenticated")
		}
		w.WriteHeader(http.StatusOK)
	})), token)
	b.ReportAllocs()
	for b.Loop() {
		if code := serve(); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
	}
}
