package gingate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-gonic/gin"

	"github.com/jwtgate/jwtgate"
	gingate "github.com/jwtgate/jwtgate/adapters/gin"
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
// Authorization header: gin without a check (unprotected), gin with this
// adapter's Required (gingate), net/http without and with the Gate's own
// Required (nethttp, nethttp-required), and gin with appleboy/gin-jwt
// (gin-jwt, HS256 with golang-jwt v4). The handler writes 200 and
// nothing else. Besides wall time it reports cpu-ns/op, the process's CPU
// time per request, which a busy machine disturbs less. Compare with
// benchstat -col /impl.
func BenchmarkProtected(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
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
	peer, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm:       "bench",
		Key:         benchSecret,
		Timeout:     time.Hour,
		IdentityKey: "sub",
		PayloadFunc: func(data any) ginjwt.MapClaims { return ginjwt.MapClaims{"sub": data} },
		Authenticator: func(c *gin.Context) (any, error) {
			return nil, ginjwt.ErrFailedAuthentication
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	peerTok, _, err := peer.TokenGenerator("user-12345")
	if err != nil {
		b.Fatal(err)
	}

	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	engine := func(mw ...gin.HandlerFunc) http.Handler {
		e := gin.New()
		e.GET("/", append(mw, ok)...)
		return e
	}
	okHTTP := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, c := range []struct {
		impl  string
		h     http.Handler
		token string
	}{
		{"unprotected", engine(), tok},
		{"gingate", engine(gingate.New(g).Required()), tok},
		{"nethttp", okHTTP, tok},
		{"nethttp-required", g.Required(okHTTP), tok},
		{"gin-jwt", engine(peer.MiddlewareFunc()), peerTok},
	} {
		b.Run("impl="+c.impl, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
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
