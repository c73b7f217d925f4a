package echogate_test

import (
	"net/http"
	"testing"

	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	echogate "github.com/jwtgate/jwtgate/adapters/echo"
)

// BenchmarkProtected compares echo without a check (unprotected), echo
// with this adapter's Required (echogate), net/http without and with the
// Gate's own Required, and echo with labstack/echo-jwt (golang-jwt v5,
// MapClaims), which verifies the same token (adaptertest.BenchProtected).
func BenchmarkProtected(b *testing.B) { adaptertest.BenchProtected(b, benchCases(b)) }

// BenchmarkOverhead is what the adapter adds to the Gate's Required,
// paired request by request (adaptertest.BenchOverhead).
func BenchmarkOverhead(b *testing.B) { adaptertest.BenchOverhead(b, benchCases(b), "echogate") }

func benchCases(b *testing.B) []adaptertest.BenchCase {
	g, tok := adaptertest.BenchGate(b)
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	server := func(mw ...echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.GET("/", ok, mw...)
		return e
	}
	return append(adaptertest.NetHTTPCases(g, tok),
		adaptertest.BenchCase{Impl: "unprotected", Serve: adaptertest.ServeGET(server(), tok)},
		adaptertest.BenchCase{Impl: "echogate", Serve: adaptertest.ServeGET(server(echogate.New(g).Required()), tok)},
		adaptertest.BenchCase{Impl: "echo-jwt", Serve: adaptertest.ServeGET(server(echojwt.WithConfig(echojwt.Config{SigningKey: adaptertest.BenchSecret})), tok)},
	)
}
