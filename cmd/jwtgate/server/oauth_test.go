package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

const inactive = `{"active":false}` + "\n"

const (
	apiAud   = "https://api.example.com"
	otherAud = "https://other.example.com"
	form     = "application/x-www-form-urlencoded"
)

// oauthFixture is a server with a client registry: a client with a
// secret ("secret"), one with keys ("keys") and one allowed refresh
// tokens ("refresher"), and a clock tests can move.
type oauthFixture struct {
	*fixture
	offset               atomic.Int64 // added to the clock, in ns
	secretID, secret     string
	keysID               string
	key                  *jwt.Key // the keys client's private key, with kid
	refresherID, refresh string   // refresh: the refresher's secret
}

func (o *oauthFixture) now() time.Time { return time.Now().Add(time.Duration(o.offset.Load())) }

func newOAuthFixture(t testing.TB) *oauthFixture {
	return newOAuthFixtureWith(t, func(c *Config) { c.LoginBurst = -1 })
}

// newOAuthFixtureWith is newOAuthFixture with the Config adjusted by
// mutate.
func newOAuthFixtureWith(t testing.TB, mutate func(*Config)) *oauthFixture {
	t.Helper()
	ctx := context.Background()
	o := &oauthFixture{}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	data, err := OpenDataDir(ctx, t.TempDir())
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
	if err := data.Users.Add(ctx, "alice", testPassword); err != nil {
		t.Fatal(err)
	}
	f := &fixture{data: data, logs: logs, kid: ring.KeyIDs()[0], rev: data.Revocations}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	cfg := Config{Users: data.Users, Revocations: data.Revocations, Keys: ring, Algorithm: jwt.ES256,
		Issuer: f.srv.URL, Logger: log, Clock: o.now,
		Scopes: []string{"read", "write"}, Clients: data.Clients}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.s = s
	mux.Handle("/", s)
	o.fixture = f
	o.addClients(t)
	return o
}

func (o *oauthFixture) addClients(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	cs := o.data.Clients
	secret, hash := NewClientSecret()
	c := &Client{Name: "secret", SecretHash: hash, Scopes: []string{"read", "write"}, Audiences: []string{apiAud, otherAud}}
	if err := cs.Add(ctx, c); err != nil {
		t.Fatal(err)
	}
	o.secretID, o.secret = c.ID, secret

	priv, err := jwk.GenerateEC("P-256")
	if err != nil {
		t.Fatal(err)
	}
	if o.key, err = jwk.EnsureKeyID(priv); err != nil {
		t.Fatal(err)
	}
	set, err := jwk.NewSet(o.key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	c = &Client{Name: "keys", JWKS: string(pub), Scopes: []string{"read"}}
	if err := cs.Add(ctx, c); err != nil {
		t.Fatal(err)
	}
	o.keysID = c.ID

	secret, hash = NewClientSecret()
	c = &Client{Name: "refresher", SecretHash: hash, Scopes: []string{"read", "write"}, Refresh: true, TTL: time.Minute}
	if err := cs.Add(ctx, c); err != nil {
		t.Fatal(err)
	}
	o.refresherID, o.refresh = c.ID, secret
}

// basic returns the Authorization header of client_secret_basic.
func basic(id, secret string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))}
}

// assertion returns a client assertion of the keys client, adjusted by
// mutate, signed with key and alg.
func (o *oauthFixture) assertion(t testing.TB, key *jwt.Key, alg jwt.Algorithm, mutate func(map[string]any)) string {
	t.Helper()
	now := o.now()
	c := map[string]any{"iss": o.keysID, "sub": o.keysID, "aud": o.srv.URL + "/oauth/token",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": rand.Text()}
	if mutate != nil {
		mutate(c)
	}
	s, err := jwt.NewSigner(key, alg, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jwtForm is the form of private_key_jwt with an assertion.
func jwtForm(a string, more ...string) string {
	v := url.Values{"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {a}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Add(more[i], more[i+1])
	}
	return v.Encode()
}

func wantOAuthError(t *testing.T, what string, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.body["error"] != code {
		t.Errorf("%s: %d %s, want %d %s", what, r.status, r.raw, status, code)
		return
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("%s: Cache-Control %q, Pragma %q", what, r.header.Get("Cache-Control"), r.header.Get("Pragma"))
	}
	// RFC 6749 section 5.2: a Basic challenge answers a client that used
	// the Authorization header, and only such a client.
	switch ch := r.header.Get("WWW-Authenticate"); {
	case code == "invalid_client" && r.sentAuth && !strings.HasPrefix(ch, "Basic "):
		t.Errorf("%s: invalid_client for an Authorization header without a Basic challenge: %q", what, ch)
	case code == "invalid_client" && !r.sentAuth && ch != "":
		t.Errorf("%s: invalid_client for a client that sent no Authorization header, with a challenge: %q", what, ch)
	}
}

// wantToken checks a successful token answer and returns its access
// token's claims.
func (o *oauthFixture) wantToken(t *testing.T, what string, r reply) (string, map[string]any) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("%s: %d %s", what, r.status, r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("%s: Cache-Control %q, Pragma %q", what, r.header.Get("Cache-Control"), r.header.Get("Pragma"))
	}
	if r.body["token_type"] != "Bearer" {
		t.Errorf("%s: token_type %v", what, r.body["token_type"])
	}
	tok, _ := r.body["access_token"].(string)
	h, c := parts(t, tok)
	if h["typ"] != "at+jwt" || c["sub"] != c["client_id"] || c["iss"] != o.srv.URL {
		t.Errorf("%s: header %v claims %v", what, h, c)
	}
	return tok, c
}

func TestOAuthClientCredentials(t *testing.T) {
	o := newOAuthFixture(t)
	// client_secret_basic, every allowed scope and the first audience.
	_, c := o.wantToken(t, "basic", o.do(t, "POST", "/oauth/token", form, "grant_type=client_credentials", basic(o.secretID, o.secret)...))
	if c["client_id"] != o.secretID || c["scope"] != "read write" || c["aud"] != apiAud {
		t.Errorf("basic: claims %v", c)
	}
	// client_secret_post, narrowed scope, another resource.
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.secretID}, "client_secret": {o.secret},
		"scope": {"write"}, "resource": {otherAud}}.Encode()
	r := o.do(t, "POST", "/oauth/token", form+"; charset=UTF-8", body)
	_, c = o.wantToken(t, "post", r)
	if c["scope"] != "write" || c["aud"] != otherAud || r.body["scope"] != "write" || r.body["refresh_token"] != nil {
		t.Errorf("post: claims %v answer %v", c, r.body)
	}
	if exp, iat := c["exp"].(json.Number), c["iat"].(json.Number); exp == "" || iat == "" {
		t.Errorf("post: exp %v iat %v", exp, iat)
	}
	// private_key_jwt, with the issuer as aud and client_id in the form.
	a := o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["aud"] = o.srv.URL })
	tok, c := o.wantToken(t, "private_key_jwt", o.do(t, "POST", "/oauth/token", form, jwtForm(a, "grant_type", "client_credentials", "client_id", o.keysID)))
	if c["client_id"] != o.keysID || c["scope"] != "read" || c["aud"] != o.srv.URL {
		t.Errorf("private_key_jwt: claims %v", c)
	}
	// A resource server's Gate takes the token.
	g, err := jwtgate.New(jwtgate.Config{Keys: o.s.cfg.Keys, Tokens: jwtgate.TokensRFC9068, Audience: []string{o.srv.URL},
		ExpectedIssuers: []string{o.srv.URL}, Algorithms: []jwt.Algorithm{jwt.ES256}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.DecodeToken(context.Background(), tok); err != nil {
		t.Errorf("resource server: %v", err)
	}
	// The service's own endpoints are for users: a client's token is not
	// one.
	wantStatus(t, "userinfo with a client's token", o.do(t, "GET", "/userinfo", "", "", bearer(tok)...), 401)
}

func TestOAuthBadRequests(t *testing.T) {
	o := newOAuthFixture(t)
	cc := "grant_type=client_credentials"
	post := "&client_id=" + url.QueryEscape(o.secretID) + "&client_secret=" + url.QueryEscape(o.secret)
	ok := basic(o.secretID, o.secret)
	for _, tc := range []struct {
		name, ct, body string
		hdr            []string
		status         int
		code           string
	}{
		{"JSON body", "application/json", `{"grant_type":"client_credentials"}`, ok, 400, "invalid_request"},
		{"no content type", "", cc, ok, 400, "invalid_request"},
		{"text/plain", "text/plain", cc, ok, 400, "invalid_request"},
		{"multipart", "multipart/form-data; boundary=x", cc, ok, 400, "invalid_request"},
		{"other charset", form + "; charset=latin1", cc, ok, 400, "invalid_request"},
		{"huge body", form, cc + "&x=" + strings.Repeat("a", 20<<10), ok, 413, "invalid_request"},
		{"duplicate grant_type", form, cc + "&" + cc, ok, 400, "invalid_request"},
		{"duplicate scope", form, cc + "&scope=read&scope=write", ok, 400, "invalid_request"},
		{"duplicate empty", form, cc + "&scope=&scope=", ok, 400, "invalid_request"},
		{"bad percent-encoding", form, cc + "&scope=%zz", ok, 400, "invalid_request"},
		{"parameter without =", form, cc + "&scope", ok, 400, "invalid_request"},
		{"empty name", form, cc + "&=x", ok, 400, "invalid_request"},
		{"not UTF-8", form, cc + "&scope=%ff", ok, 400, "invalid_request"},
		{"control character", form, cc + "&scope=%00", ok, 400, "invalid_request"},
		{"too many parameters", form, cc + strings.Repeat("&a=b", 40), ok, 400, "invalid_request"},
		{"missing grant_type", form, "scope=read", ok, 400, "invalid_request"},
		{"empty grant_type", form, "grant_type=", ok, 400, "invalid_request"},
		{"unknown grant_type", form, "grant_type=password&username=a&password=b", ok, 400, "unsupported_grant_type"},
		{"authorization_code", form, "grant_type=authorization_code&code=x", ok, 400, "unsupported_grant_type"},
		{"scope not allowed", form, cc + "&scope=admin", ok, 400, "invalid_scope"},
		{"scope double space", form, cc + "&scope=read++write", ok, 400, "invalid_scope"},
		{"scope with quote", form, cc + "&scope=%22read%22", ok, 400, "invalid_scope"},
		{"resource not allowed", form, cc + "&resource=https%3A%2F%2Fevil.example", ok, 400, "invalid_target"},
		{"resource relative", form, cc + "&resource=%2Fapi", ok, 400, "invalid_target"},
		{"resource with fragment", form, cc + "&resource=https%3A%2F%2Fapi.example.com%23x", ok, 400, "invalid_target"},
		{"query parameters", form, cc, ok, 400, "invalid_request"},
		{"no client authentication", form, cc, nil, 401, "invalid_client"},
		{"client_id only", form, cc + "&client_id=" + o.secretID, nil, 401, "invalid_client"},
		{"wrong secret basic", form, cc, basic(o.secretID, "nope"), 401, "invalid_client"},
		{"wrong secret post", form, cc + "&client_id=" + o.secretID + "&client_secret=nope", nil, 401, "invalid_client"},
		{"unknown client", form, cc, basic("jc_NOPE", o.secret), 401, "invalid_client"},
		{"secret of another client", form, cc, basic(o.refresherID, o.secret), 401, "invalid_client"},
		{"client_secret without client_id", form, cc + "&client_secret=" + o.secret, nil, 400, "invalid_request"},
		{"basic and post", form, cc + post, ok, 400, "invalid_request"},
		{"basic and assertion", form, cc + "&client_assertion_type=" + url.QueryEscape(jwtBearerAssertion) + "&client_assertion=x.y.z", ok, 400, "invalid_request"},
		{"client_id contradicts Basic", form, cc + "&client_id=" + o.refresherID, ok, 400, "invalid_request"},
		{"Basic not base64", form, cc, []string{"Authorization", "Basic !!!"}, 401, "invalid_client"},
		{"Basic without colon", form, cc, []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("abc"))}, 401, "invalid_client"},
		{"Basic bad escaping", form, cc, []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("a%zz:b"))}, 401, "invalid_client"},
		{"Bearer scheme", form, cc, []string{"Authorization", "Bearer abc"}, 401, "invalid_client"},
		{"refresh_token with client_credentials", form, cc + "&refresh_token=x", ok, 400, "invalid_request"},
		{"refresh grant without refresh", form, "grant_type=refresh_token&refresh_token=x", ok, 400, "unauthorized_client"},
		{"refresh grant, no token", form, "grant_type=refresh_token", basic(o.refresherID, o.refresh), 400, "invalid_request"},
		{"refresh grant, bad token", form, "grant_type=refresh_token&refresh_token=x.y.z", basic(o.refresherID, o.refresh), 400, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/oauth/token"
			if tc.name == "query parameters" {
				path += "?scope=read"
			}
			wantOAuthError(t, tc.name, o.do(t, "POST", path, tc.ct, tc.body, tc.hdr...), tc.status, tc.code)
		})
	}
	wantStatus(t, "GET", o.do(t, "GET", "/oauth/token", "", ""), 405)
	if strings.Contains(o.logs.String(), o.secret) {
		t.Error("a secret is in the logs")
	}
}

func TestOAuthAssertions(t *testing.T) {
	o := newOAuthFixture(t)
	hmac, err := jwt.NewHMACKey([]byte(strings.Repeat("k", 32)), jwt.HS256)
	if err != nil {
		t.Fatal(err)
	}
	other, err := jwk.GenerateEC("P-256")
	if err != nil {
		t.Fatal(err)
	}
	other, _ = jwk.EnsureKeyID(other)
	sameKid, _ := jwk.GenerateEC("P-256")
	sameKid = sameKid.WithID(o.key.ID())
	cc := func(a string) string { return jwtForm(a, "grant_type", "client_credentials") }
	unsigned := func(claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
	}
	now := o.now()
	noneClaims := `{"iss":"` + o.keysID + `","sub":"` + o.keysID + `","aud":"` + o.srv.URL + `","exp":` + strconv.FormatInt(now.Add(time.Minute).Unix(), 10) + `,"jti":"n1"}`
	replayed := o.assertion(t, o.key, jwt.ES256, nil)
	o.wantToken(t, "first use", o.do(t, "POST", "/oauth/token", form, cc(replayed)))
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"HS256", cc(o.assertion(t, hmac, jwt.HS256, nil)), 401, "invalid_client"},
		{"none", cc(unsigned(noneClaims)), 401, "invalid_client"},
		{"replayed", cc(replayed), 401, "invalid_client"},
		{"expired", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() })), 401, "invalid_client"},
		{"exp too far", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["exp"] = now.Add(time.Hour).Unix() })), 401, "invalid_client"},
		{"no exp", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { delete(m, "exp") })), 401, "invalid_client"},
		{"no jti", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { delete(m, "jti") })), 401, "invalid_client"},
		{"other audience", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["aud"] = "https://elsewhere.example" })), 401, "invalid_client"},
		{"audience of another endpoint", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["aud"] = o.srv.URL + "/oauth/revoke" })), 401, "invalid_client"},
		{"key not registered", cc(o.assertion(t, other, jwt.ES256, nil)), 401, "invalid_client"},
		{"registered kid, other key", cc(o.assertion(t, sameKid, jwt.ES256, nil)), 401, "invalid_client"},
		{"sub differs", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["sub"] = o.secretID })), 401, "invalid_client"},
		{"iss of another client", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["iss"], m["sub"] = o.secretID, o.secretID })), 401, "invalid_client"},
		{"not a JWT", cc("abc"), 401, "invalid_client"},
		{"other assertion type", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:x"}, "client_assertion": {replayed}}.Encode(), 401, "invalid_client"},
		{"assertion without type", url.Values{"grant_type": {"client_credentials"}, "client_assertion": {replayed}}.Encode(), 400, "invalid_request"},
		{"client_id contradicts assertion", jwtForm(o.assertion(t, o.key, jwt.ES256, nil), "grant_type", "client_credentials", "client_id", o.secretID), 400, "invalid_request"},
		{"a secret client's assertion", cc(o.assertion(t, o.key, jwt.ES256, func(m map[string]any) { m["iss"], m["sub"] = o.secretID, o.secretID })), 401, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOAuthError(t, tc.name, o.do(t, "POST", "/oauth/token", form, tc.body), tc.status, tc.code)
		})
	}
}

func TestOAuthDisabledDeletedRotated(t *testing.T) {
	o := newOAuthFixture(t)
	ctx := context.Background()
	cc := "grant_type=client_credentials"
	tok, _ := o.wantToken(t, "before", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...))
	introspect := func() reply {
		return o.do(t, "POST", "/oauth/introspect", form, "token="+tok, basic(o.refresherID, o.refresh)...)
	}
	if r := introspect(); r.body["active"] != true {
		t.Fatalf("introspection before: %s", r.raw)
	}
	// Rotation with a grace period: both secrets work until it ends.
	newSecret, err := o.data.Clients.RotateSecret(ctx, o.secretID, time.Hour, o.now())
	if err != nil {
		t.Fatal(err)
	}
	o.offset.Add(int64(clientCacheTTL + time.Second)) // past the cache
	o.wantToken(t, "new secret", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, newSecret)...))
	o.wantToken(t, "old secret in grace", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...))
	o.offset.Add(int64(time.Hour))
	wantOAuthError(t, "old secret after grace", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...), 401, "invalid_client")
	o.wantToken(t, "new secret after grace", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, newSecret)...))
	tok, _ = o.wantToken(t, "token", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, newSecret)...))
	// Rotation without grace: the old secret stops at once.
	newer, err := o.data.Clients.RotateSecret(ctx, o.secretID, 0, o.now())
	if err != nil {
		t.Fatal(err)
	}
	o.offset.Add(int64(clientCacheTTL + time.Second))
	wantOAuthError(t, "replaced secret", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, newSecret)...), 401, "invalid_client")
	o.wantToken(t, "newest secret", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, newer)...))

	// Disabled: no token, and its tokens are inactive.
	c, err := o.data.Clients.Find(ctx, "secret")
	if err != nil {
		t.Fatal(err)
	}
	c.Disabled = true
	if err := o.data.Clients.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	o.offset.Add(int64(clientCacheTTL + time.Second))
	wantOAuthError(t, "disabled", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, newer)...), 401, "invalid_client")
	if r := introspect(); r.raw != inactive {
		t.Errorf("introspection of a disabled client's token: %s", r.raw)
	}
	// Deleted: the same.
	if err := o.data.Clients.Delete(ctx, o.secretID); err != nil {
		t.Fatal(err)
	}
	o.offset.Add(int64(clientCacheTTL + time.Second))
	wantOAuthError(t, "deleted", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, newer)...), 401, "invalid_client")
	if r := introspect(); r.raw != inactive {
		t.Errorf("introspection of a deleted client's token: %s", r.raw)
	}
}

// TestOAuthClientCutOff: a client whose tokens were ended (the cutoff of
// clients update --disabled or clients delete) after this instance read
// it gets no token while its copy is trusted; a reading after the cutoff
// serves again; a revocation store that cannot answer is 503.
func TestOAuthClientCutOff(t *testing.T) {
	o := newOAuthFixture(t)
	cc := "grant_type=client_credentials"
	o.wantToken(t, "read and cached", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...))
	o.offset.Add(int64(time.Millisecond))
	if err := revoke.LogoutEverywhere(context.Background(), o.rev, o.secretID, o.now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, "cut off after the reading", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...), 401, "invalid_client")
	o.offset.Add(int64(clientCacheTTL + time.Second))
	o.wantToken(t, "read after the cutoff", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...))

	down := newOAuthFixtureWith(t, func(c *Config) { c.LoginBurst = -1; c.Revocations = cutoffFails{c.Revocations} })
	wantOAuthError(t, "cutoff unknown", down.do(t, "POST", "/oauth/token", form, cc, basic(down.secretID, down.secret)...), 503, "temporarily_unavailable")
}

func TestOAuthIntrospectRevoke(t *testing.T) {
	o := newOAuthFixture(t)
	cc := "grant_type=client_credentials"
	rs := basic(o.refresherID, o.refresh) // the resource server's credentials
	tok, claims := o.wantToken(t, "token", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...))
	r := o.do(t, "POST", "/oauth/introspect", form, "token="+tok+"&token_type_hint=access_token", rs...)
	if r.status != 200 || r.body["active"] != true || r.body["client_id"] != o.secretID || r.body["sub"] != o.secretID ||
		r.body["scope"] != "read write" || r.body["aud"] != apiAud || r.body["iss"] != o.srv.URL || r.body["token_type"] != "Bearer" ||
		r.body["exp"] == nil || r.body["iat"] == nil || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("introspection: %d %s (claims %v)", r.status, r.raw, claims)
	}
	// A user's token is active too.
	access, _ := o.login(t, "alice", testPassword)
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+access, rs...); r.body["active"] != true || r.body["username"] != "alice" {
		t.Errorf("a user's token: %s", r.raw)
	}
	foreignKey, _ := jwk.GenerateEC("P-256")
	foreign, err := jwtgate.New(jwtgate.Config{SigningKey: foreignKey, Tokens: jwtgate.TokensRFC9068, Issuer: o.srv.URL,
		Audience: []string{o.srv.URL}, RefreshAudience: o.srv.URL + "/refresh"})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := foreign.CreateAccessToken(context.Background(), o.secretID, jwtgate.WithClientID(o.secretID))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"malformed": "abc", "foreign": forged, "garbage JWT": "a.b.c", "long": strings.Repeat("a", 15000)} {
		r := o.do(t, "POST", "/oauth/introspect", form, url.Values{"token": {tok}}.Encode(), rs...)
		if r.status != 200 || r.raw != inactive {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	wantOAuthError(t, "introspection without token", o.do(t, "POST", "/oauth/introspect", form, "token_type_hint=access_token", rs...), 400, "invalid_request")
	wantOAuthError(t, "introspection without client", o.do(t, "POST", "/oauth/introspect", form, "token="+tok), 401, "invalid_client")
	wantOAuthError(t, "introspection with JSON", o.do(t, "POST", "/oauth/introspect", "application/json", `{"token":"x"}`, rs...), 400, "invalid_request")

	// Another client cannot revoke the token (200 all the same).
	wantStatus(t, "revoke by another", o.do(t, "POST", "/oauth/revoke", form, "token="+tok, rs...), 200)
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+tok, rs...); r.body["active"] != true {
		t.Errorf("revoked by another client: %s", r.raw)
	}
	wantStatus(t, "revoke unknown", o.do(t, "POST", "/oauth/revoke", form, "token=abc&token_type_hint=refresh_token", basic(o.secretID, o.secret)...), 200)
	wantStatus(t, "revoke own", o.do(t, "POST", "/oauth/revoke", form, "token="+tok+"&token_type_hint=access_token", basic(o.secretID, o.secret)...), 200)
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+tok, rs...); r.raw != inactive {
		t.Errorf("revoked token: %s", r.raw)
	}
	wantOAuthError(t, "revoke without client", o.do(t, "POST", "/oauth/revoke", form, "token="+tok), 401, "invalid_client")
	wantOAuthError(t, "revoke without token", o.do(t, "POST", "/oauth/revoke", form, "", basic(o.secretID, o.secret)...), 400, "invalid_request")

	// Expired: inactive.
	o.offset.Add(int64(o.s.cfg.AccessTTL + time.Hour))
	tok2 := tok
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+tok2, basic(o.refresherID, o.refresh)...); r.raw != inactive {
		t.Errorf("expired token: %s", r.raw)
	}
}

func TestOAuthRefresh(t *testing.T) {
	o := newOAuthFixture(t)
	auth := basic(o.refresherID, o.refresh)
	r := o.do(t, "POST", "/oauth/token", form, "grant_type=client_credentials&scope=read", auth...)
	access, _ := o.wantToken(t, "first", r)
	refresh, _ := r.body["refresh_token"].(string)
	if refresh == "" || r.body["expires_in"] != float64(60) {
		t.Fatalf("no refresh token, or not the client's lifetime: %s", r.raw)
	}
	// Another client cannot use it.
	wantOAuthError(t, "another client's refresh token",
		o.do(t, "POST", "/oauth/token", form, "grant_type=refresh_token&refresh_token="+refresh, basic(o.secretID, o.secret)...), 400, "unauthorized_client")
	// The scope cannot grow past what was granted.
	wantOAuthError(t, "wider scope", o.do(t, "POST", "/oauth/token", form, "grant_type=refresh_token&scope=write&refresh_token="+refresh, auth...), 400, "invalid_scope")
	r = o.do(t, "POST", "/oauth/token", form, "grant_type=refresh_token&refresh_token="+refresh, auth...)
	_, c := o.wantToken(t, "refreshed", r)
	next, _ := r.body["refresh_token"].(string)
	if next == "" || next == refresh || c["scope"] != "read" {
		t.Fatalf("refresh: %s %v", r.raw, c)
	}
	// Reuse of the spent token ends the session: the new one fails too,
	// and so do the session's access tokens.
	wantOAuthError(t, "reuse", o.do(t, "POST", "/oauth/token", form, "grant_type=refresh_token&refresh_token="+refresh, auth...), 400, "invalid_grant")
	wantOAuthError(t, "after reuse", o.do(t, "POST", "/oauth/token", form, "grant_type=refresh_token&refresh_token="+next, auth...), 400, "invalid_grant")
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+access, auth...); r.raw != inactive {
		t.Errorf("access token of an ended session: %s", r.raw)
	}
	// Revoking a refresh token ends its session.
	r = o.do(t, "POST", "/oauth/token", form, "grant_type=client_credentials", auth...)
	access, _ = o.wantToken(t, "second", r)
	refresh, _ = r.body["refresh_token"].(string)
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+refresh, auth...); r.body["active"] != true || r.body["token_type"] != "refresh_token" {
		t.Errorf("own refresh token: %s", r.raw)
	}
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+refresh, basic(o.secretID, o.secret)...); r.raw != inactive {
		t.Errorf("another client's refresh token: %s", r.raw)
	}
	wantStatus(t, "revoke refresh", o.do(t, "POST", "/oauth/revoke", form, "token="+refresh, auth...), 200)
	if r := o.do(t, "POST", "/oauth/introspect", form, "token="+access, auth...); r.raw != inactive {
		t.Errorf("access token after its refresh token was revoked: %s", r.raw)
	}
	wantOAuthError(t, "revoked refresh", o.do(t, "POST", "/oauth/token", form, "grant_type=refresh_token&refresh_token="+refresh, auth...), 400, "invalid_grant")
}

func TestOAuthMetadata(t *testing.T) {
	o := newOAuthFixture(t)
	r := o.do(t, "GET", "/.well-known/oauth-authorization-server", "", "")
	base := o.srv.URL
	want := map[string]any{"issuer": base, "jwks_uri": base + "/.well-known/jwks.json", "token_endpoint": base + "/oauth/token",
		"introspection_endpoint": base + "/oauth/introspect", "revocation_endpoint": base + "/oauth/revoke"}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("%s: %v, want %v", k, r.body[k], v)
		}
	}
	list := func(k string) []string {
		var out []string
		for _, x := range r.body[k].([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	if g := list("grant_types_supported"); !slices.Equal(g, []string{"client_credentials", "refresh_token"}) {
		t.Errorf("grant types %v", g)
	}
	if m := list("token_endpoint_auth_methods_supported"); !slices.Equal(m, []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}) {
		t.Errorf("auth methods %v", m)
	}
	if a := list("token_endpoint_auth_signing_alg_values_supported"); !slices.Contains(a, "ES256") || slices.ContainsFunc(a, func(s string) bool { return strings.HasPrefix(s, "HS") || s == "none" }) {
		t.Errorf("algorithms %v", a)
	}
	if s := list("scopes_supported"); !slices.Equal(s, []string{"read", "write"}) {
		t.Errorf("scopes %v", s)
	}
	for _, k := range []string{"response_types_supported", "authorization_endpoint"} {
		if _, ok := r.body[k]; ok {
			t.Errorf("%s published", k)
		}
	}
}

func TestClientValidate(t *testing.T) {
	ok := Client{ID: NewClientID(), Name: "n", SecretHash: HashClientSecret("x")}
	for name, mutate := range map[string]func(*Client){
		"no credential":     func(c *Client) { c.SecretHash = "" },
		"bad scope":         func(c *Client) { c.Scopes = []string{"a b"} },
		"relative audience": func(c *Client) { c.Audiences = []string{"/x"} },
		"both keys":         func(c *Client) { c.JWKS, c.JWKSURI = `{"keys":[]}`, "https://x.example/jwks" },
		"http jwks_uri":     func(c *Client) { c.JWKSURI = "http://x.example/jwks" },
		"secret in JWKS":    func(c *Client) { c.JWKS = `{"keys":[{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}` },
		"bad id":            func(c *Client) { c.ID = "alice" },
		"ttl too long":      func(c *Client) { c.TTL = 48 * time.Hour },
		"control char name": func(c *Client) { c.Name = "a\nb" },
		"empty name":        func(c *Client) { c.Name = "" },
	} {
		c := ok
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrBadClient) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
	// Users cannot take a client's id.
	d, err := OpenDataDir(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Users.Add(context.Background(), ok.ID, testPassword); !errors.Is(err, ErrBadUsername) {
		t.Errorf("a user named like a client: %v", err)
	}
}

// TestOAuthJWKSURI: a client whose keys are at a jwks_uri authenticates
// with private_key_jwt; the set is fetched once for many requests, and a
// key it does not hold is refused.
func TestOAuthJWKSURI(t *testing.T) {
	o := newOAuthFixture(t)
	priv, err := jwk.GenerateEC("P-256")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ = jwk.EnsureKeyID(priv)
	set, _ := jwk.NewSet(priv)
	body, _ := set.MarshalJSON()
	var fetches atomic.Int32
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer keys.Close()
	c := &Client{Name: "remote", JWKSURI: keys.URL + "/jwks.json", Scopes: []string{"read"}}
	if err := o.data.Clients.Add(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	sign := func(k *jwt.Key) string {
		s, err := jwt.NewSigner(k, jwt.ES256, jwt.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign(map[string]any{"iss": c.ID, "sub": c.ID, "aud": o.srv.URL, "jti": rand.Text(), "exp": o.now().Add(time.Minute).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for i := range 3 {
		_, claims := o.wantToken(t, "jwks_uri "+strconv.Itoa(i), o.do(t, "POST", "/oauth/token", form, jwtForm(sign(priv), "grant_type", "client_credentials")))
		if claims["client_id"] != c.ID {
			t.Errorf("claims %v", claims)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches of the jwks_uri, want 1", n)
	}
	other, _ := jwk.GenerateEC("P-256")
	wantOAuthError(t, "a key not in the jwks_uri set", o.do(t, "POST", "/oauth/token", form, jwtForm(sign(other), "grant_type", "client_credentials")), 401, "invalid_client")
}

// TestOAuthClientLimit: failed client authentications spend the client's
// budget like failed logins; a right secret spends nothing, and is then
// refused too (429) until the budget refills.
func TestOAuthClientLimit(t *testing.T) {
	o := newOAuthFixtureWith(t, func(c *Config) { c.LoginBurst = 2; c.LoginEvery = time.Hour })
	cc := "grant_type=client_credentials"
	for range 3 {
		o.wantToken(t, "right secret", o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...))
	}
	for i := range 2 {
		wantOAuthError(t, "wrong secret "+strconv.Itoa(i), o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, "wrong")...), 401, "invalid_client")
	}
	r := o.do(t, "POST", "/oauth/token", form, cc, basic(o.secretID, o.secret)...)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("after the budget was spent: %d %s", r.status, r.raw)
	}
	// The address's budget is spent too: another client from the same
	// address is refused, as for logins.
	r = o.do(t, "POST", "/oauth/token", form, cc, basic(o.refresherID, o.refresh)...)
	if r.status != 429 {
		t.Fatalf("the address's budget: %d %s", r.status, r.raw)
	}
}

// TestDecodeIssuedRegistryDown: a token made for one of its client's own
// audiences is checked against the client registry; when the registry
// cannot answer, decodeIssued says so (an error) instead of calling the
// token unknown, so that /oauth/revoke does not answer 200 (RFC 7009's
// answer for a token it need not revoke) for a token it did not revoke,
// and introspection does not call an active token inactive.
func TestDecodeIssuedRegistryDown(t *testing.T) {
	o := newOAuthFixture(t)
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.secretID}, "client_secret": {o.secret},
		"resource": {otherAud}}.Encode()
	tok, c := o.wantToken(t, "token for another audience", o.do(t, "POST", "/oauth/token", form, body))
	if c["aud"] != otherAud {
		t.Fatalf("aud %v, want %s", c["aud"], otherAud)
	}
	ctx := context.Background()
	if got, err := o.s.decodeIssued(ctx, tok); err != nil || got == nil {
		t.Fatalf("registry up: %v, %v; want the token", got, err)
	}
	o.offset.Add(int64(clientCacheTTL + time.Second)) // past the cache
	if _, err := o.data.DB.Exec(`DROP TABLE jwtgate_clients`); err != nil {
		t.Fatal(err)
	}
	if got, err := o.s.decodeIssued(ctx, tok); err == nil {
		t.Fatalf("registry down: %v, nil error; want an error", got)
	}
	if got, err := o.s.activeToken(ctx, tok); err == nil {
		t.Fatalf("registry down: activeToken %v, nil error; want an error", got)
	}
	// A token of the service's own audience needs no registry.
	own, err := o.s.gate.CreateAccessToken(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := o.s.decodeIssued(ctx, own); err != nil || got == nil {
		t.Fatalf("the service's own token, registry down: %v, %v", got, err)
	}
}
