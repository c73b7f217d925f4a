package fibergate_test

import (
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	fibergate "github.com/jwtgate/jwtgate/adapters/fiber"
)

// BenchmarkProtected compares fiber without a check (unprotected), fiber
// with this adapter's Required (fibergate), and net/http without and with
// the Gate's own Required (adaptertest.BenchProtected).
func BenchmarkProtected(b *testing.B) { adaptertest.BenchProtected(b, benchCases(b)) }

// BenchmarkOverhead is what the adapter adds to the Gate's Required,
// paired request by request (adaptertest.BenchOverhead).
func BenchmarkOverhead(b *testing.B) { adaptertest.BenchOverhead(b, benchCases(b), "fibergate") }

func benchCases(b *testing.B) []adaptertest.BenchCase {
	g, tok := adaptertest.BenchGate(b)
	ok := func(c fiber.Ctx) error { return c.SendStatus(http.StatusOK) }
	app := func(h ...fiber.Handler) func() int {
		a := fiber.New()
		if len(h) > 0 {
			a.Get("/", h[0], ok)
		} else {
			a.Get("/", ok)
		}
		handler := a.Handler()
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("GET")
		ctx.Request.SetRequestURI("/")
		ctx.Request.Header.Set("Authorization", "Bearer "+tok)
		return func() int {
			ctx.Response.Reset()
			handler(&ctx)
			return ctx.Response.StatusCode()
		}
	}
	return append(adaptertest.NetHTTPCases(g, tok),
		adaptertest.BenchCase{Impl: "unprotected", Serve: app()},
		adaptertest.BenchCase{Impl: "fibergate", Serve: app(fibergate.New(g).Required())},
	)
}
