package gingate_test

import (
	"net/http"
	"testing"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-gonic/gin"

	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	gingate "github.com/jwtgate/jwtgate/adapters/gin"
)

// BenchmarkProtected compares gin without a check (unprotected), gin with
// this adapter's Required (gingate), net/http without and with the Gate's
// own Required, and gin with appleboy/gin-jwt (golang-jwt v4) verifying a
// token it made (adaptertest.BenchProtected).
func BenchmarkProtected(b *testing.B) { adaptertest.BenchProtected(b, benchCases(b)) }

// BenchmarkOverhead is what the adapter adds to the Gate's Required,
// paired request by request (adaptertest.BenchOverhead).
func BenchmarkOverhead(b *testing.B) { adaptertest.BenchOverhead(b, benchCases(b), "gingate") }

func benchCases(b *testing.B) []adaptertest.BenchCase {
	gin.SetMode(gin.ReleaseMode)
	g, tok := adaptertest.BenchGate(b)
	peer, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm:       "bench",
		Key:         adaptertest.BenchSecret,
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
	return append(adaptertest.NetHTTPCases(g, tok),
		adaptertest.BenchCase{Impl: "unprotected", Serve: adaptertest.ServeGET(engine(), tok)},
		adaptertest.BenchCase{Impl: "gingate", Serve: adaptertest.ServeGET(engine(gingate.New(g).Required()), tok)},
		adaptertest.BenchCase{Impl: "gin-jwt", Serve: adaptertest.ServeGET(engine(peer.MiddlewareFunc()), peerTok)},
	)
}
