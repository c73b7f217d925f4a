package echogate_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	echogate "github.com/jwtgate/jwtgate/adapters/echov5"
)

// BenchmarkProtected compares echo v5 without a check (unprotected), echo
// with this adapter's Required (echogate), and net/http without and with
// the Gate's own Required (adaptertest.BenchProtected). labstack/echo-jwt
// has no release for echo v5.
func BenchmarkProtected(b *testing.B) { adaptertest.BenchProtected(b, benchCases(b)) }

// BenchmarkOverhead is what the adapter adds to the Gate's Required,
// paired request by request (adaptertest.BenchOverhead).
func BenchmarkOverhead(b *testing.B) { adaptertest.BenchOverhead(b, benchCases(b), "echogate") }

func benchCases(b *testing.B) []adaptertest.BenchCase {
	g, tok := adaptertest.BenchGate(b)
	ok := func(c *echo.Context) error { return c.NoContent(http.StatusOK) }
	server := func(mw ...echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.GET("/", ok, mw...)
		return e
	}
	return append(adaptertest.NetHTTPCases(g, tok),
		adaptertest.BenchCase{Impl: "unprotected", Serve: adaptertest.ServeGET(server(), tok)},
		adaptertest.BenchCase{Impl: "echogate", Serve: adaptertest.ServeGET(server(echogate.New(g).Required()), tok)},
	)
}
