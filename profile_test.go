package jwtgate

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

const (
	testIssuer     = "https://id.example"
	testAPI        = "https://api.example"
	testRefreshAud = "https://id.example/refresh"
)

func rfc9068Gate(t testing.TB, mutate func(*Config)) *Gate {
	return testGate(t, func(c *Config) {
		c.Tokens = TokensRFC9068
		c.Issuer = testIssuer
		c.ExpectedIssuers = []string{testIssuer}
		c.Audience = []string{testAPI}
		c.RefreshAudience = testRefreshAud
		if mutate != nil {
			mutate(c)
		}
	})
}

// segments returns a token's decoded header and payload.
func segments(t testing.TB, tok string) (header, payload string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", tok, len(parts))
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(h), string(p)
}

func TestRFC9068TokenShape(t *testing.T) {
	g := rfc9068Gate(t, func(c *Config) { c.Locations, c.Cookies = []Location{InHeader}, nil })
	ctx := context.Background()
	at := access(t, g, "alice", WithClientID("web"))
	h, _ := segments(t, at)
	if h != `{"alg":"HS256","typ":"at+jwt"}` {
		t.Errorf("access header %s", h)
	}
	dt, err := g.DecodeToken(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := dt.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	want := []string{"aud", "client_id", "exp", "iat", "iss", "jti", "nbf", "sub"}
	if got := slices.Sorted(maps.Keys(claims)); !slices.Equal(got, want) {
		t.Errorf("access claims %v, want %v", got, want)
	}
	if raw, _ := dt.RawClaim("iat"); raw != "1767225600.3" {
		t.Errorf("iat %s: want milliseconds (1767225600.3)", raw)
	}
	if raw, _ := dt.RawClaim("exp"); raw != "1767226500.3" {
		t.Errorf("exp %s: want iat plus 15 minutes", raw)
	}
	if raw, _ := dt.RawClaim("nbf"); raw != "1767225600" {
		t.Errorf("nbf %s: want whole seconds", raw)
	}
	if dt.Type != TypeAccess || dt.Fresh || claims["client_id"] != "web" || claims["sub"] != "alice" ||
		!slices.Equal(dt.Claims.Audience, []string{testAPI}) || dt.Claims.Issuer != testIssuer {
		t.Errorf("access token %+v %v", dt, claims)
	}
	// Fresh only when asked; never a "type" claim.
	ft, _ := g.DecodeToken(ctx, access(t, g, "alice", Fresh()))
	if raw, ok := ft.RawClaim("fresh"); !ok || raw != "true" || !ft.Fresh {
		t.Errorf("fresh access token: %q %v", raw, ft.Fresh)
	}
	rt := refresh(t, g, "alice")
	h, _ = segments(t, rt)
	if h != `{"alg":"HS256","typ":"refresh+jwt"}` {
		t.Errorf("refresh header %s", h)
	}
	dr, err := g.DecodeToken(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	claims = nil
	if err := dr.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	want = []string{"aud", "exp", "iat", "iss", "jti", "nbf", "sub"}
	if got := slices.Sorted(maps.Keys(claims)); !slices.Equal(got, want) {
		t.Errorf("refresh claims %v, want %v", got, want)
	}
	if dr.Type != TypeRefresh || !slices.Equal(dr.Claims.Audience, []string{testRefreshAud}) {
		t.Errorf("refresh token %+v", dr)
	}
	// An asymmetric key and a kid: typ stays the profile's.
	ec := mustECDSA(t)
	ge := rfc9068Gate(t, func(c *Config) { c.SigningKey, c.Algorithm = ec, "" })
	h, _ = segments(t, access(t, ge, "alice", WithHeaders(map[string]any{"kid": "k1"})))
	if h != `{"alg":"ES256","typ":"at+jwt","kid":"k1"}` {
		t.Errorf("access header with kid: %s", h)
	}
}

func TestRFC9068CreateRefusals(t *testing.T) {
	g := rfc9068Gate(t, nil)
	ctx := context.Background()
	for name, f := range map[string]func() (string, error){
		"access for the refresh audience": func() (string, error) {
			return g.CreateAccessToken(ctx, "alice", WithAudience(testAPI, testRefreshAud))
		},
		"access without audience": func() (string, error) { return g.CreateAccessToken(ctx, "alice", WithAudience("")) },
		"refresh for another audience": func() (string, error) {
			return g.CreateRefreshToken(ctx, "alice", WithAudience(testAPI))
		},
		"typ header": func() (string, error) {
			return g.CreateAccessToken(ctx, "alice", WithHeaders(map[string]any{"typ": "JWT"}))
		},
		// WithClaims replaces the Gate's claims: not the audience, which
		// keeps the types apart (WithAudience is checked).
		"refresh with an access audience by WithClaims": func() (string, error) {
			return g.CreateRefreshToken(ctx, "alice", WithClaims(map[string]any{"aud": []string{testRefreshAud, testAPI}}))
		},
		"access for the refresh audience by WithClaims": func() (string, error) {
			return g.CreateAccessToken(ctx, "alice", WithClaims(map[string]any{"aud": testRefreshAud}))
		},
	} {
		if tok, err := f(); err == nil {
			t.Errorf("%s: created %s", name, tok)
		}
	}
	if _, err := g.CreateRefreshToken(ctx, "alice", WithAudience(testRefreshAud)); err != nil {
		t.Errorf("refresh with its own audience: %v", err)
	}
}

func TestRFC9068RouteChecks(t *testing.T) {
	g := rfc9068Gate(t, nil)
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	// sign makes a token with any typ and claims, as a forger with the key
	// (or a misconfigured issuer) could.
	sign := func(typ, aud string) string {
		s, err := jwt.NewSignerWithOptions(key, jwt.HS256, jwt.SignerOptions{Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		c := jwt.Claims{Issuer: testIssuer, Subject: "alice", ID: "j1",
			IssuedAt: jwt.NewNumericDate(testNow), ExpiresAt: jwt.NewNumericDate(testNow.Add(time.Hour))}
		if aud != "" {
			c.Audience = jwt.Audience{aud}
		}
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	accessRoute, refreshRoute, both := RouteOptions{}, RouteOptions{Refresh: true}, RouteOptions{SkipTypeCheck: true}
	tests := []struct {
		name  string
		token string
		route RouteOptions
		want  error // nil: accepted
	}{
		{"access token, access route", access(t, g, "alice"), accessRoute, nil},
		{"refresh token, refresh route", refresh(t, g, "alice"), refreshRoute, nil},
		{"refresh token, access route", refresh(t, g, "alice"), accessRoute, ErrWrongType},
		{"access token, refresh route", access(t, g, "alice"), refreshRoute, ErrWrongType},
		{"either, access token", access(t, g, "alice"), both, nil},
		{"either, refresh token", refresh(t, g, "alice"), both, nil},
		{"typ AT+JWT", sign("AT+JWT", testAPI), accessRoute, nil},
		{"typ application/at+jwt", sign("application/at+jwt", testAPI), accessRoute, nil},
		{"typ Refresh+JWT", sign("Refresh+JWT", testRefreshAud), refreshRoute, nil},
		{"typ JWT", sign("JWT", testAPI), accessRoute, ErrWrongType},
		{"typ JWT, either", sign("JWT", testAPI), both, ErrWrongType},
		{"no typ", sign("", testAPI), accessRoute, ErrWrongType},
		{"typ at+jwt for the refresh audience", sign("at+jwt", testRefreshAud), accessRoute, jwt.ErrAudience},
		{"typ refresh+jwt for the access audience", sign("refresh+jwt", testAPI), refreshRoute, jwt.ErrAudience},
		{"typ at+jwt for another audience", sign("at+jwt", "https://other.example"), accessRoute, jwt.ErrAudience},
		{"typ at+jwt without aud", sign("at+jwt", ""), accessRoute, jwt.ErrAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.VerifyToken(context.Background(), tt.token, tt.route)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// The flask profile's tokens are not the profile's access tokens.
	flask := testGate(t, func(c *Config) { c.Issuer, c.Audience = testIssuer, []string{testAPI} })
	if _, err := g.VerifyToken(context.Background(), access(t, flask, "alice"), accessRoute); !errors.Is(err, ErrWrongType) {
		t.Errorf("flask token on a RFC 9068 access route: %v", err)
	}
}

func TestRFC9068ConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		says   string
	}{
		{"refresh audience is the access audience", func(c *Config) { c.RefreshAudience = testAPI }, "RefreshAudience"},
		{"refresh audience is an expected audience", func(c *Config) { c.ExpectedAudiences = []string{testAPI, testRefreshAud} }, "own audience"},
		{"no audience", func(c *Config) { c.Audience = nil }, "needs Audience"},
		{"no refresh audience", func(c *Config) { c.RefreshAudience = "" }, "needs RefreshAudience"},
		{"no expiry", func(c *Config) { c.AccessTTL = NoExpiry }, "exp"},
		{"unknown profile", func(c *Config) { c.Tokens = 7 }, "unknown Tokens"},
		{"refresh audience in the flask profile", func(c *Config) { c.Tokens = TokensFlask }, "TokensFlask"},
	}
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	for _, tt := range tests {
		cfg := Config{SigningKey: key, Tokens: TokensRFC9068, Audience: []string{testAPI}, RefreshAudience: testRefreshAud}
		tt.mutate(&cfg)
		_, err := New(cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: %v (want ErrConfig saying %q)", tt.name, err, tt.says)
		}
	}
	// A resource server: verify only, its expected audience, no refresh
	// audience needed.
	rs, err := New(Config{Keys: key, Tokens: TokensRFC9068, ExpectedAudiences: []string{testAPI}, Clock: func() time.Time { return testNow.Add(time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	g := rfc9068Gate(t, nil)
	if _, err := rs.VerifyToken(context.Background(), access(t, g, "alice"), RouteOptions{}); err != nil {
		t.Errorf("resource server, access token: %v", err)
	}
	if _, err := rs.VerifyToken(context.Background(), refresh(t, g, "alice"), RouteOptions{}); err == nil {
		t.Error("resource server accepted a refresh token")
	}
}

// TestFlaskTokensUnchanged pins the shape of flask-jwt-extended's tokens,
// which the default profile keeps byte for byte but for the random jti
// and csrf.
func TestFlaskTokensUnchanged(t *testing.T) {
	g := testGate(t, nil)
	random := regexp.MustCompile(`"(jti|csrf)":"[0-9a-f-]{36}"`)
	tests := []struct {
		name, token, header, payload string
	}{
		{"access", access(t, g, "alice"), `{"alg":"HS256","typ":"JWT"}`,
			`{"csrf":"R","exp":1767226500,"fresh":false,"iat":1767225600,"jti":"R","nbf":1767225600,"sub":"alice","type":"access"}`},
		{"fresh access", access(t, g, "alice", Fresh()), `{"alg":"HS256","typ":"JWT"}`,
			`{"csrf":"R","exp":1767226500,"fresh":true,"iat":1767225600,"jti":"R","nbf":1767225600,"sub":"alice","type":"access"}`},
		{"refresh", refresh(t, g, "alice"), `{"alg":"HS256","typ":"JWT"}`,
			`{"csrf":"R","exp":1769817600,"fresh":false,"iat":1767225600,"jti":"R","nbf":1767225600,"sub":"alice","type":"refresh"}`},
	}
	for _, tt := range tests {
		h, p := segments(t, tt.token)
		p = random.ReplaceAllString(p, `"$1":"R"`)
		if h != tt.header || p != tt.payload {
			t.Errorf("%s:\n header %s\n want   %s\npayload %s\n want    %s", tt.name, h, tt.header, p, tt.payload)
		}
	}
}
