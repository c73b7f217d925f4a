package fibergate_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/gofiber/fiber/v3"

	"github.com/jwtgate/jwtgate"
	fibergate "github.com/jwtgate/jwtgate/adapters/fiber"
	"github.com/jwtgate/jwtgate/jwt"
)

func Example() {
	key, _ := jwt.NewHMACKey([]byte("an example secret of at least 32 bytes!"))
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key})
	if err != nil {
		panic(err)
	}
	auth := fibergate.New(g)

	app := fiber.New()
	api := app.Group("/api", auth.Required())
	api.Get("/me", func(c fiber.Ctx) error {
		return c.JSON(fiber.Map{"user": fibergate.Identity(c)})
	})
	api.Get("/reports", auth.Protect(jwtgate.RouteOptions{Scopes: []string{"reports:read"}}), func(c fiber.Ctx) error {
		return c.SendString("reports for " + fibergate.Identity(c))
	})

	get := func(path, token string) {
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := app.Test(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	}
	alice, _ := g.CreateAccessToken(context.Background(), "alice")
	reader, _ := g.CreateAccessToken(context.Background(), "bob", jwtgate.WithClaims(map[string]any{"scope": "reports:read"}))
	get("/api/me", "")
	get("/api/me", alice)
	get("/api/reports", alice)
	get("/api/reports", reader)
	// Output:
	// 401 {"error":"unauthorized","error_description":"Missing Authorization Header"}
	// 200 {"user":"alice"}
	// 403 {"error":"insufficient_scope","error_description":"Insufficient scope: requires reports:read"}
	// 200 reports for bob
}
