package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/services"
	"github.com/jwtgate/jwtgate/interop/internal/serveproc"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres/pgtest"
)

// Real OAuth 2 clients against a real "jwtgate serve" (the built binary,
// its default embedded store): Go's golang.org/x/oauth2/clientcredentials
// gets tokens and calls routes protected by a Gate with required scopes,
// Node's oauth4webapi does discovery, client_credentials with
// client_secret_basic, client_secret_post and private_key_jwt, then
// introspection and revocation, and PyJWT checks the tokens as a resource
// server (issuer, audience, typ at+jwt).

// otherAudience is a second audience the secret client may ask for with
// resource (RFC 8707).
const otherAudience = "https://reports.example"

// oauthService is a running serve with two registered clients.
type oauthService struct {
	svc              *serveproc.Service
	secretID, secret string
	keyID            string
	key              *KeyPair
	keyJWK           JWK // private, with kid
	tokenURL, issuer string
}

// startOAuthService registers the clients and starts serve, on the
// embedded store or, with env, on the stores it names.
func startOAuthService(t *testing.T, env []string) *oauthService {
	t.Helper()
	if env != nil {
		env = serveproc.Env(env...)
	}
	dir := t.TempDir()
	bin, err := serveproc.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	out, err := serveproc.Run(bin, env, "clients", "add", "billing", "--data-dir", data, "--scopes", "read,write",
		"--audience", resourceAudience, "--audience", otherAudience)
	if err != nil {
		t.Fatal(err)
	}
	s := &oauthService{secretID: serveproc.Field(out, "client_id"), secret: serveproc.Field(out, "client_secret")}
	if s.secretID == "" || s.secret == "" {
		t.Fatalf("clients add printed no client_id and client_secret: %q", out)
	}

	if s.key, err = NewKeyPair("ES256"); err != nil {
		t.Fatal(err)
	}
	pub, err := s.key.PublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	if s.keyJWK, err = s.key.PrivateJWK(); err != nil {
		t.Fatal(err)
	}
	pub["kid"], s.keyJWK["kid"] = "cron-1", "cron-1"
	pub["use"] = "sig"
	set, _ := json.Marshal(map[string]any{"keys": []JWK{pub}})
	jwks := filepath.Join(dir, "cron.jwks")
	if err := os.WriteFile(jwks, set, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = serveproc.Run(bin, env, "clients", "add", "cron", "--data-dir", data, "--scopes", "read", "--audience", resourceAudience, "--jwks", jwks)
	if err != nil {
		t.Fatal(err)
	}
	if s.keyID = serveproc.Field(out, "client_id"); s.keyID == "" {
		t.Fatalf("clients add --jwks printed no client_id: %q", out)
	}

	s.svc, err = serveproc.Start(bin, env, filepath.Join(dir, "serve.log"), "--data-dir", data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.svc.Stop(); err != nil {
			t.Errorf("%v\n%s", err, s.svc.LogTail())
		}
		if t.Failed() {
			t.Logf("jwtgate serve's log:\n%s", s.svc.LogTail())
		}
	})
	s.issuer = s.svc.URL
	s.tokenURL = s.issuer + "/oauth/token"
	return s
}

func TestOAuthClients(t *testing.T) {
	runOAuthClients(t, startOAuthService(t, nil))
}

// TestOAuthClientsSharedStores: the same clients against serve on
// PostgreSQL (users, clients, keys, revocations) and Redis (revocations,
// single-use client assertion ids), as instances scaled out run.
func TestOAuthClientsSharedStores(t *testing.T) {
	runOAuthClients(t, startOAuthService(t, sharedStores(t)))
}

func runOAuthClients(t *testing.T, s *oauthService) {
	t.Run("x-oauth2", func(t *testing.T) { testXOAuth2(t, s) })
	t.Run("oauth4webapi", func(t *testing.T) { testOAuth4WebAPI(t, s) })
	t.Run("pyjwt", func(t *testing.T) { testPyJWTResourceServer(t, s) })
}

// sharedStores returns the environment of serve on a PostgreSQL schema
// of the test's own (dropped at its end) and Redis under a key prefix of
// its own, or skips (fails, with JWTGATE_REQUIRE_SERVICES=1) the test
// when either cannot be reached.
func sharedStores(t *testing.T) []string {
	t.Helper()
	dsn, redis := pgtest.PostgresDSN(), redistest.RedisAddr()
	db := pgtest.Postgres(t, dsn)
	if c, err := net.DialTimeout("tcp", redis, 3*time.Second); err != nil {
		services.Unreachable(t, "Redis", err)
	} else {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := "jwtgate_interop_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return []string{
		"JWTGATE_DATABASE_URL=" + u.String(),
		"JWTGATE_REDIS=" + redis,
		"JWTGATE_REDIS_PREFIX=jwtgate-interop-" + rand.Text() + ":",
	}
}

// clientCredentials returns the x/oauth2 configuration of the secret
// client with auth style style.
func (s *oauthService) clientCredentials(style oauth2.AuthStyle, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID: s.secretID, ClientSecret: s.secret, TokenURL: s.tokenURL,
		Scopes: scopes, AuthStyle: style,
	}
}

func testXOAuth2(t *testing.T, s *oauthService) {
	gate, keys, err := newResourceGate(s.issuer, resourceAudience)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	mux := http.NewServeMux()
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtgate.TokenFrom(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": tok.Identity, "scopes": tok.Scopes()})
	})
	mux.Handle("GET /orders", gate.Protect(jwtgate.RouteOptions{Scopes: []string{"read"}})(whoami))
	mux.Handle("POST /orders", gate.Protect(jwtgate.RouteOptions{Scopes: []string{"read", "write"}})(whoami))
	api := httptest.NewServer(mux)
	defer api.Close()

	ctx := context.Background()
	call := func(t *testing.T, c *http.Client, method string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, api.URL+"/orders", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s /orders: %v", method, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	for _, c := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"client_secret_basic", oauth2.AuthStyleInHeader}, {"client_secret_post", oauth2.AuthStyleInParams}} {
		t.Run(c.name, func(t *testing.T) {
			// Scope read: GET is allowed, POST (read and write) is not.
			cfg := s.clientCredentials(c.style, "read")
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() || tok.RefreshToken != "" {
				t.Errorf("token: type %q, expiry %v, refresh token %q", tok.TokenType, tok.Expiry, tok.RefreshToken)
			}
			if got := tok.Extra("scope"); got != "read" {
				t.Errorf("token response scope = %v, want read", got)
			}
			client := cfg.Client(ctx)
			code, body, _ := call(t, client, "GET")
			if code != 200 || !strings.Contains(body, `"sub":"`+s.secretID+`"`) || !strings.Contains(body, `"scopes":["read"]`) {
				t.Errorf("GET /orders with scope read: %d %s", code, body)
			}
			code, body, h := call(t, client, "POST")
			if code != 403 || !strings.Contains(h.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
				!strings.Contains(h.Get("WWW-Authenticate"), `scope="read write"`) {
				t.Errorf("POST /orders with scope read: %d %s, WWW-Authenticate %q; want 403 insufficient_scope", code, body, h.Get("WWW-Authenticate"))
			}

			// No scope asked: all the client's scopes; POST passes.
			all := s.clientCredentials(c.style)
			if code, body, _ := call(t, all.Client(ctx), "POST"); code != 200 || !strings.Contains(body, `"scopes":["read","write"]`) {
				t.Errorf("POST /orders with every scope of the client: %d %s", code, body)
			}

			// The Gate checks the audience: a token for the other
			// audience (resource) is refused by this API.
			other := s.clientCredentials(c.style, "read")
			other.EndpointParams = url.Values{"resource": {otherAudience}}
			if code, body, _ := call(t, other.Client(ctx), "GET"); code != 401 {
				t.Errorf("GET /orders with a token for %s: %d %s; want 401", otherAudience, code, body)
			}

			// Refusals, as x/oauth2 reports them.
			for _, bad := range []struct {
				name   string
				cfg    *clientcredentials.Config
				code   string
				status int
			}{
				{"scope not allowed", s.clientCredentials(c.style, "delete"), "invalid_scope", 400},
				{"wrong secret", &clientcredentials.Config{ClientID: s.secretID, ClientSecret: s.secret + "x", TokenURL: s.tokenURL, AuthStyle: c.style}, "invalid_client", 401},
				{"unknown client", &clientcredentials.Config{ClientID: "jc_nobody", ClientSecret: s.secret, TokenURL: s.tokenURL, AuthStyle: c.style}, "invalid_client", 401},
				{"resource not allowed", &clientcredentials.Config{ClientID: s.secretID, ClientSecret: s.secret, TokenURL: s.tokenURL, AuthStyle: c.style,
					EndpointParams: url.Values{"resource": {"https://elsewhere.example"}}}, "invalid_target", 400},
			} {
				_, err := bad.cfg.Token(ctx)
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != bad.code || re.Response.StatusCode != bad.status {
					t.Errorf("%s: %v; want %d %s", bad.name, err, bad.status, bad.code)
					continue
				}
				if bad.status == 401 && c.style == oauth2.AuthStyleInHeader && !strings.HasPrefix(re.Response.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("%s with Basic: WWW-Authenticate %q, want Basic", bad.name, re.Response.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

// nodeOAuthResult is what oauth_client.mjs prints: per step, the answer
// oauth4webapi accepted, or its refusal.
type nodeOAuthResult map[string]map[string]any

func testOAuth4WebAPI(t *testing.T, s *oauthService) {
	oauth4webapiTool.require(t)
	node, err := oauth4webapiTool.interp()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{
		"issuer":        s.issuer,
		"secret_client": map[string]string{"client_id": s.secretID, "client_secret": s.secret},
		"key_client":    map[string]any{"client_id": s.keyID, "jwk": s.keyJWK},
		"scope":         "read",
		"resource":      resourceAudience,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("node", "oauth_client.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node oauth_client.mjs: %v\n%s", err, stderr.String())
	}
	var res nodeOAuthResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("oauth_client.mjs: %v: %s", err, out)
	}
	ok := func(step string) map[string]any {
		t.Helper()
		r, found := res[step]
		if !found {
			t.Errorf("%s: not run (an earlier step failed): %s", step, out)
			return nil
		}
		if e, bad := r["error"]; bad {
			t.Errorf("%s: oauth4webapi refused: %v", step, e)
			return nil
		}
		return r
	}

	if as := ok("discovery"); as != nil {
		if as["issuer"] != s.issuer || as["token_endpoint"] != s.tokenURL ||
			as["introspection_endpoint"] != s.issuer+"/oauth/introspect" || as["revocation_endpoint"] != s.issuer+"/oauth/revoke" {
			t.Errorf("discovery: %v", as)
		}
		methods, _ := as["token_endpoint_auth_methods_supported"].([]any)
		for _, m := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt"} {
			if !containsAny(methods, m) {
				t.Errorf("discovery: token_endpoint_auth_methods_supported %v lacks %s", methods, m)
			}
		}
	}
	var accessTokens []string
	for _, step := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt"} {
		r := ok(step)
		if r == nil {
			continue
		}
		if r["token_type"] != "bearer" && r["token_type"] != "Bearer" || r["scope"] != "read" || r["access_token"] == nil {
			t.Errorf("%s: token response %v", step, r)
			continue
		}
		accessTokens = append(accessTokens, r["access_token"].(string))
	}
	// The same assertion (jti) twice: the first passes, the replay is
	// refused: 401 invalid_client. The service adds a Basic challenge to
	// every invalid_client (RFC 6749 section 5.2 allows it), and
	// oauth4webapi then reports the challenge rather than the body's
	// error code.
	ok("private_key_jwt_fixed_jti")
	if r := res["private_key_jwt_replayed"]; r == nil || r["error"] == nil {
		t.Errorf("a replayed client assertion: %v; want 401 invalid_client", r)
	} else {
		e, _ := r["error"].(map[string]any)
		challenges, _ := e["challenges"].([]any)
		basic := len(challenges) == 1 && challenges[0].(map[string]any)["scheme"] == "basic"
		if e["status"] != float64(401) || e["oauth_error"] != "invalid_client" && !basic {
			t.Errorf("a replayed client assertion: %v; want 401 invalid_client", e)
		}
		t.Logf("a replayed client assertion, as oauth4webapi reports it: %v", e)
	}
	// The tokens pass the Gate of a resource server.
	gate, keys, err := newResourceGate(s.issuer, resourceAudience)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	for i, tok := range accessTokens {
		if _, err := gate.VerifyToken(context.Background(), tok, jwtgate.RouteOptions{Scopes: []string{"read"}}); err != nil {
			t.Errorf("token %d from oauth4webapi refused by the Gate: %v", i, err)
		}
	}

	active := func(step string, want bool, client string) {
		t.Helper()
		r := ok(step)
		if r == nil {
			return
		}
		if r["active"] != want {
			t.Errorf("%s: active %v, want %v: %v", step, r["active"], want, r)
			return
		}
		if !want {
			if len(r) != 1 {
				t.Errorf("%s: an inactive token's answer has more than active: %v", step, r)
			}
			return
		}
		if r["client_id"] != client || r["sub"] != client || r["scope"] != "read" || r["aud"] != resourceAudience ||
			r["iss"] != s.issuer || r["token_type"] != "Bearer" && r["token_type"] != "access_token" || r["exp"] == nil || r["iat"] == nil {
			t.Errorf("%s: %v", step, r)
		}
	}
	active("introspect_basic", true, s.secretID)
	// Another client (a resource server, as a rule) learns about it: the
	// token is the service's own.
	active("introspect_by_other_client", true, s.secretID)
	ok("revoke_by_other_client")
	active("introspect_after_other_revoke", true, s.secretID)
	ok("revoke_basic")
	active("introspect_after_revoke", false, "")
	active("introspect_private_key_jwt", true, s.keyID)
	ok("revoke_private_key_jwt")
	active("introspect_private_key_jwt_after_revoke", false, "")
	ok("revoke_unknown_token")
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// oauth4webapiTool is oauth_client.mjs, with oauth4webapi installed
// beside jose (.ci/interop-deps.sh).
var oauth4webapiTool = &extTool{
	name:   "oauth4webapi",
	script: filepath.Join("node", "oauth_client.mjs"),
	interp: joseTool.interp,
	install: "install Node.js 20 or later and then oauth4webapi with " +
		"`npm ci --prefix interop/node` from the repository root " +
		"(or run .ci/interop-deps.sh); JWTGATE_NODE selects another node",
}

func testPyJWTResourceServer(t *testing.T, s *oauthService) {
	pyjwtTool.require(t)
	py, err := pyjwtTool.interp()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mine, err := s.clientCredentials(oauth2.AuthStyleInHeader, "read").Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := s.clientCredentials(oauth2.AuthStyleInHeader, "read")
	other.EndpointParams = url.Values{"resource": {otherAudience}}
	elsewhere, err := other.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := runResourceServer(t, py, filepath.Join("python", "resource_server.py"), s.issuer, mine.AccessToken, elsewhere.AccessToken)
	c := res[0].Claims
	if res[0].Error != nil || c["sub"] != s.secretID || c["client_id"] != s.secretID || c["scope"] != "read" || c["aud"] != resourceAudience {
		t.Errorf("PyJWT on a client_credentials token: %s %v", res[0].Error, c)
	}
	if res[1].Error == nil || !strings.Contains(string(res[1].Error), "InvalidAudience") {
		t.Errorf("PyJWT on a token for %s: %s %v; want InvalidAudienceError", otherAudience, res[1].Error, res[1].Claims)
	}
}
