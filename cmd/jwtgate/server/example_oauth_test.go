package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// A service registers an OAuth client, which then gets a token from the
// token endpoint with client_secret_basic.
func Example_clientCredentials() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "jwtgate-example")
	defer os.RemoveAll(dir)
	data, err := server.OpenDataDir(ctx, dir)
	if err != nil {
		panic(err)
	}
	defer data.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	key, _ := data.SigningKey(jwt.ES256, quiet)
	ring, _ := jwk.NewRing(jwk.RingOptions{}, key)

	secret, hash := server.NewClientSecret() // shown once; only hash is stored
	client := &server.Client{Name: "billing", SecretHash: hash, Scopes: []string{"invoices:read", "invoices:write"}}
	if err := data.Clients.Add(ctx, client); err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Users: data.Users, Revocations: data.Revocations, Keys: ring, Algorithm: jwt.ES256,
		Issuer: "https://auth.example", Clients: data.Clients, Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"invoices:read"}}
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(url.QueryEscape(client.ID), url.QueryEscape(secret))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	var answer struct {
		TokenType string `json:"token_type"`
		ExpiresIn int    `json:"expires_in"`
		Scope     string `json:"scope"`
	}
	json.NewDecoder(w.Body).Decode(&answer)
	fmt.Println(w.Code, answer.TokenType, answer.ExpiresIn, answer.Scope)
	// Output: 200 Bearer 900 invoices:read
}

// An administrator's tool registers a client through Accounts, as the
// admin API and "jwtgate clients add" do: the change and its audit
// event are written together, and the secret is returned once.
func ExampleAccounts_AddClient() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "jwtgate-example")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	data, err := server.Open(ctx, server.StoreConfig{DataDir: dir, Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer data.Close()
	accounts := data.Accounts(720 * time.Hour)

	client := &server.Client{Name: "billing", Scopes: []string{"invoices:read"}}
	secret, err := accounts.AddClient(ctx, server.CLIActor, client)
	if err != nil {
		panic(err)
	}
	scopes := []string{"invoices:read", "invoices:write"}
	_, changed, err := accounts.UpdateClient(ctx, server.CLIActor, "billing", server.ClientUpdate{Scopes: &scopes})
	if err != nil {
		panic(err)
	}
	events, _ := data.Audit.Events(ctx, server.AuditFilter{Type: "client."})
	fmt.Println(strings.HasPrefix(secret, "jcs_"), changed)
	for _, e := range events {
		fmt.Println(e.Type, e.Actor, e.Details["name"])
	}
	// Output:
	// true [scopes]
	// client.update cli billing
	// client.add cli billing
}
