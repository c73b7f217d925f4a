package jwtgate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
	"unsafe"

	"github.com/jwtgate/jwtgate/jwt"
)

// benchPayload is the JOSE core's benchmark claims set.
const benchPayload = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

// nopWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the middleware rather than a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkRequired measures a request through Gate.Required (header
// token, HS256, the core's benchmark payload) against the same handler
// unprotected and against the bare jwt.Verifier.
func BenchmarkRequired(b *testing.B) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1767227400, 0)
	g, err := New(Config{SigningKey: key, Clock: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	s, _ := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	tok, _ := s.Sign([]byte(benchPayload))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	identity := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, _ := TokenFrom(r.Context()); t.Identity != "user-12345" {
			panic("not authenticated")
		}
		w.WriteHeader(204)
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := &nopWriter{h: http.Header{}}

	b.Run("impl=unprotected", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ok.ServeHTTP(w, r)
		}
	})
	b.Run("impl=jwt-verify", func(b *testing.B) {
		v, _ := jwt.NewVerifier(key, jwt.VerifierOptions{Clock: func() time.Time { return now }})
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=required", func(b *testing.B) {
		h := g.Required(identity)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 204 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
}

// TestTokenContextSize keeps the context of a verified request, with
// room for the payload, within the 704-byte allocation size class
// (objects over 512 bytes that hold pointers carry an 8-byte header): a
// field added to Token must take room from payloadRoom, not add a size
// class to every request.
func TestTokenContextSize(t *testing.T) {
	if n := unsafe.Sizeof(tokenContext{}); n > 696 || n < 672 {
		t.Errorf("tokenContext is %d bytes; adjust payloadRoom so that it is at most 696 (704 with the allocation header) and close to it", n)
	}
}

// TestRequestContextSize keeps a verified request's context and request
// copy within the 1024-byte size class (with the 8-byte header of an
// allocation over 512 bytes that holds pointers).
func TestRequestContextSize(t *testing.T) {
	if n := unsafe.Sizeof(requestContext{}); n > 1016 {
		t.Errorf("requestContext is %d bytes: over the 1024-byte size class", n)
	}
}
