package gingate_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jwtgate/jwtgate"
	gingate "github.com/jwtgate/jwtgate/adapters/gin"
	"github.com/jwtgate/jwtgate/jwt"
)

func Example() {
	gin.SetMode(gin.ReleaseMode)
	key, _ := jwt.NewHMACKey([]byte("an example secret of at least 32 bytes!"))
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key})
	if err != nil {
		panic(err)
	}
	auth := gingate.New(g)

	r := gin.New()
	api := r.Group("/api", auth.Required())
	api.GET("/me", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": gingate.Identity(c)})
	})
	api.GET("/reports", auth.Protect(jwtgate.RouteOptions{Scopes: []string{"reports:read"}}), func(c *gin.Context) {
		c.String(http.StatusOK, "reports for %s", gingate.Identity(c))
	})

	get := func(path, token string) {
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
		if h := w.Header().Get("WWW-Authenticate"); h != "" {
			fmt.Println("  WWW-Authenticate:", h)
		}
	}
	alice, _ := g.CreateAccessToken(context.Background(), "alice")
	reader, _ := g.CreateAccessToken(context.Background(), "bob", jwtgate.WithClaims(map[string]any{"scope": "reports:read"}))
	get("/api/me", "")
	get("/api/me", alice)
	get("/api/reports", alice)
	get("/api/reports", reader)
	// Output:
	// 401 {"error":"unauthorized","error_description":"Missing Authorization Header"}
	//   WWW-Authenticate: Bearer realm="jwtgate"
	// 200 {"user":"alice"}
	// 403 {"error":"insufficient_scope","error_description":"Insufficient scope: requires reports:read"}
	//   WWW-Authenticate: Bearer realm="jwtgate", error="insufficient_scope", error_description="Insufficient scope: requires reports:read", scope="reports:read"
	// 200 reports for bob
}
