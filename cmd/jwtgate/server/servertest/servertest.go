// Package servertest starts the token service of "jwtgate serve"
// (server.New) on a loopback port, for the tests of other packages and
// modules: a fresh data directory holding one user, its ES256 signing
// key, its revocations, sessions and audit log, as a first start of the
// service makes them.
package servertest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// Options say what the service holds and checks.
type Options struct {
	// Username and Password are the user of the data directory.
	Username, Password string
	// MoreUsers are more users, by name, with their passwords.
	MoreUsers map[string]string
	// Admins are more users, by name, with their passwords, who hold the
	// admin role.
	Admins map[string]string
	// Audience is the service's Config.Audience: "" for none.
	Audience string
	// LoginBurst and LoginEvery are the service's login limits: its
	// defaults when zero.
	LoginBurst int
	LoginEvery time.Duration
}

// Start runs the service until the test ends, with the test server's URL
// as issuer, and returns the test server and the service.
func Start(t testing.TB, opts Options) (*httptest.Server, *server.Server) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	data, err := server.OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	key, err := data.SigningKey(jwt.ES256, log)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{}, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.Users.Add(ctx, opts.Username, opts.Password); err != nil {
		t.Fatal(err)
	}
	for name, pw := range opts.MoreUsers {
		if err := data.Users.Add(ctx, name, pw); err != nil {
			t.Fatal(err)
		}
	}
	data.Audit.SetLogger(log)
	accounts := &server.Accounts{Users: data.Users, Revocations: data.Revocations, Sessions: data.Sessions, Audit: data.Audit}
	for name, pw := range opts.Admins {
		if err := accounts.AddUser(ctx, server.CLIActor, name, pw, true); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	s, err := server.New(server.Config{
		Users: data.Users, Revocations: data.Revocations, Sessions: data.Sessions, Audit: data.Audit,
		Keys: ring, Algorithm: jwt.ES256, Issuer: ts.URL, Audience: opts.Audience, Logger: log,
		LoginBurst: opts.LoginBurst, LoginEvery: opts.LoginEvery,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", s)
	return ts, s
}
