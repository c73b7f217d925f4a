package storetest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchProtected measures a protected request (HS256 access token in the
// Authorization header, Gate.Required, an empty handler) with revocation
// checked in s, or without revocation when s is nil. The same token is
// sent every time: for caching stores, the already-seen case.
func BenchProtected(b *testing.B, s revoke.Store) {
	key, err := jwt.NewHMACKey(secret)
	if err != nil {
		b.Fatal(err)
	}
	cfg := jwtgate.Config{SigningKey: key}
	if s != nil {
		cfg.IsRevoked = revoke.Check(s)
	}
	g, err := jwtgate.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := g.CreateAccessToken(context.Background(), ID("bench"))
	if err != nil {
		b.Fatal(err)
	}
	status := 0
	h := g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { status = 200 }))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req)
	if status != 200 {
		b.Fatal("request refused")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		status = 0
		h.ServeHTTP(w, req)
		if status != 200 {
			b.Fatal("request refused")
		}
	}
}

// BenchUse measures OneTimeStore.Use: "first", a new id every time (what
// a valid client assertion or DPoP proof costs), "first-parallel", the
// same from 8 goroutines per CPU, and "replay", the same id again (what
// a replay costs). Every id is kept for until - now.
func BenchUse(b *testing.B, o revoke.OneTimeStore) {
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	b.Run("first", func(b *testing.B) {
		// Ids of their own: with -count the function runs again on the
		// same store.
		prefix := ID("bench") + "-"
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			first, err := o.Use(ctx, prefix+strconv.Itoa(i), until)
			if err != nil || !first {
				b.Fatal(first, err)
			}
		}
	})
	b.Run("first-parallel", func(b *testing.B) {
		// 8 goroutines per CPU, as concurrent token requests are.
		b.SetParallelism(8)
		b.ReportAllocs()
		var n atomic.Int64
		p := ID("bench") + "-" // the function runs again for each b.N and count
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				first, err := o.Use(ctx, p+strconv.FormatInt(n.Add(1), 10), until)
				if err != nil || !first {
					b.Error(first, err)
					return
				}
			}
		})
	})
	b.Run("replay", func(b *testing.B) {
		id := ID("bench-replayed")
		if _, err := o.Use(ctx, id, until); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			first, err := o.Use(ctx, id, until)
			if err != nil || first {
				b.Fatal(first, err)
			}
		}
	})
}
