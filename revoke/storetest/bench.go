package storetest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
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
// a valid client assertion or DPoP proof costs), and "replay", the same
// id again (what a replay costs). Every id is kept for until - now.
func BenchUse(b *testing.B, o revoke.OneTimeStore) {
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	prefix := ID("bench") + "-"
	b.Run("first", func(b *testing.B) {
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
	b.Run("replay", func(b *testing.B) {
		id := prefix + "replayed"
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
