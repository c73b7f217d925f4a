// Code generated from ../echo by `go generate`; DO NOT EDIT.

package echogate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/jwtgate/jwtgate"
	echogate "github.com/jwtgate/jwtgate/adapters/echov5"
	"github.com/jwtgate/jwtgate/jwt"
)

func Example() {
	key, _ := jwt.NewHMACKey([]byte("an example secret of at least 32 bytes!"))
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key})
	if err != nil {
		panic(err)
	}
	auth := echogate.New(g)

	e := echo.New()
	api := e.Group("/api", auth.Required())
	api.GET("/me", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"user": echogate.Identity(c)})
	})
	api.GET("/reports", func(c *echo.Context) error {
		return c.String(http.StatusOK, "reports for "+echogate.Identity(c))
	}, auth.Protect(jwtgate.RouteOptions{Scopes: []string{"reports:read"}}))

	get := func(path, token string) {
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
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

// An echo application whose HTTPErrorHandler answers every error gets the
// refusals as *echo.HTTPError with HTTPErrors.
func ExampleConfig_hTTPErrors() {
	key, _ := jwt.NewHMACKey([]byte("an example secret of at least 32 bytes!"))
	g, _ := jwtgate.New(jwtgate.Config{SigningKey: key})
	auth := echogate.New(g)

	e := echo.New()
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		he := err.(*echo.HTTPError)
		_ = c.JSON(he.Code, map[string]any{"problem": he.Message, "expired": errors.Is(err, jwtgate.ErrExpired)})
	}
	e.GET("/me", func(c *echo.Context) error { return c.String(http.StatusOK, echogate.Identity(c)) },
		auth.WithConfig(echogate.Config{HTTPErrors: true}))

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/me", nil))
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	// Output:
	// 401 {"expired":false,"problem":"Missing Authorization Header"}
	// Bearer realm="jwtgate"
}
