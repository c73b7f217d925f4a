// In-process benchmarks of a request through each middleware. Run from
// /work/main/interop:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./middleware/ | tee /tmp/middleware-bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -row .name -col /impl /tmp/middleware-bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -row /impl -col .name /tmp/middleware-bench.txt
//
// See doc.go for what each impl= is and how the token is made.

package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

var loadImpls = sync.OnceValues(func() ([]Impl, error) {
	key, err := LoadKey(filepath.Join("..", "testdata", "hs256.key"))
	if err != nil {
		return nil, err
	}
	return Impls(NewFixture(key))
})

func mustImpls(tb testing.TB) []Impl {
	tb.Helper()
	impls, err := loadImpls()
	if err != nil {
		tb.Fatal(err)
	}
	return impls
}

// request is GET / with "Authorization: Bearer <token>" (no header for an
// empty token), as httptest builds it.
func request(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// check runs im.Check through httptest.
func check(tb testing.TB, im *Impl) {
	tb.Helper()
	err := im.Check(func(token string) (int, string, error) {
		rec := httptest.NewRecorder()
		im.Handler.ServeHTTP(rec, request(token))
		return rec.Code, rec.Body.String(), nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestMiddleware proves every benchmark's setup without timing anything.
func TestMiddleware(t *testing.T) {
	for _, im := range mustImpls(t) {
		t.Run("impl="+im.Name, func(t *testing.T) { check(t, &im) })
	}
}

// nopWriter is a ResponseWriter that keeps only the headers and the status,
// so that the benchmark measures the middleware rather than a recorder.
type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

func BenchmarkMiddleware(b *testing.B) {
	for _, im := range mustImpls(b) {
		b.Run("impl="+im.Name, func(b *testing.B) {
			check(b, &im)
			h := im.Handler
			r := request(im.Token)
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				// A server starts every response with empty headers;
				// clearing keeps the map, so this costs no allocation.
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			if w.code != http.StatusOK {
				b.Fatalf("%s: last status %d, want 200", im.Name, w.code)
			}
		})
	}
}

// BenchmarkCoreVerify is the JOSE core verifying the same token at the
// same clock (HS256 only, as the Gate allows): the reference for the
// Required target.
//
// It is named impl=jwtgate so that benchstat -col /impl puts it in
// jwtgate's column, under BenchmarkMiddleware/impl=jwtgate.
func BenchmarkCoreVerify(b *testing.B) {
	b.Run("impl=jwtgate", benchmarkCoreVerify)
}

func benchmarkCoreVerify(b *testing.B) {
	key, err := LoadKey(filepath.Join("..", "testdata", "hs256.key"))
	if err != nil {
		b.Fatal(err)
	}
	f := NewFixture(key)
	k, err := jwt.NewHMACKey(key, jwt.HS256)
	if err != nil {
		b.Fatal(err)
	}
	v, err := jwt.NewVerifier(k, jwt.VerifierOptions{Algorithms: []jwt.Algorithm{jwt.HS256}, Clock: Now})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if t, err := v.Verify(ctx, f.Token); err != nil || t.Claims.Subject != Subject {
		b.Fatalf("valid token: %v", err)
	}
	if _, err := v.Verify(ctx, Tamper(f.Token)); err == nil {
		b.Fatal("tampered token verifies")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, f.Token); err != nil {
			b.Fatal(err)
		}
	}
}
