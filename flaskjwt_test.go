package jwtgate

import (
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// Flask-JWT's error texts (its own for the header, PyJWT's for the token)
// and Config.RequiredClaims.
func TestFlaskJWTProfileMessages(t *testing.T) {
	flaskJWT := func(c *Config) {
		c.Profile = ProfileFlaskJWT
		c.Claims.Identity = "identity"
		c.Locations = []Location{InHeader{Scheme: "JWT"}}
		c.Cookies = nil
		c.Leeway = 10 * time.Second
		c.RequiredClaims = []string{"exp", "iat", "nbf"}
	}
	g := testGate(t, flaskJWT)
	key, err := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(claims map[string]any) string {
		tok, err := signer.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := testNow.Unix()
	good := sign(map[string]any{"identity": 1, "iat": now, "nbf": now, "exp": now + 300})
	noNbf := sign(map[string]any{"identity": 1, "iat": now, "exp": now + 300})
	expired := sign(map[string]any{"identity": 1, "iat": now - 400, "nbf": now - 400, "exp": now - 100})
	inLeeway := sign(map[string]any{"identity": 1, "iat": now - 400, "nbf": now - 400, "exp": now - 5})

	tests := []struct {
		name, header string
		status       int
		error, desc  string
	}{
		{"ok", "JWT " + good, 200, "", ""},
		{"scheme any case", "jwt " + good, 200, "", ""},
		{"within leeway", "JWT " + inLeeway, 200, "", ""},
		{"no header", "", 401, "Authorization Required", "Request does not contain an access token"},
		{"other scheme", "Bearer " + good, 401, "Invalid JWT header", "Unsupported authorization type"},
		{"scheme alone", "JWT", 401, "Invalid JWT header", "Token missing"},
		{"spaces", "JWT a b", 401, "Invalid JWT header", "Token contains spaces"},
		{"expired", "JWT " + expired, 401, "Invalid token", "Signature has expired"},
		{"required claim", "JWT " + noNbf, 401, "Invalid token", `Token is missing the "nbf" claim`},
		{"segments", "JWT abc", 401, "Invalid token", "Not enough segments"},
		{"signature", "JWT " + good[:len(good)-4] + "AAAA", 401, "Invalid token", "Signature verification failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := reqSpec{}
			if tt.header != "" {
				spec.headers = map[string]string{"Authorization": tt.header}
			}
			res := serve(g.Required(echo(g)), spec.build())
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %v", res.status, tt.status, res.body)
			}
			if tt.status == 200 {
				if res.body["identity"] != "1" {
					t.Fatalf("identity %v", res.body["identity"])
				}
				return
			}
			if res.body["error"] != tt.error || res.body["description"] != tt.desc || res.body["status_code"] != 401.0 {
				t.Fatalf("body %v, want %q %q", res.body, tt.error, tt.desc)
			}
			wantChallenge := ""
			if strings.HasPrefix(tt.error, "Authorization") {
				wantChallenge = `JWT realm="Login Required"`
			}
			if got := res.header.Get("WWW-Authenticate"); got != wantChallenge {
				t.Fatalf("WWW-Authenticate %q, want %q", got, wantChallenge)
			}
		})
	}

	if _, err := New(Config{SigningKey: key, RequiredClaims: []string{""}}); err == nil {
		t.Fatal("an empty required claim name was accepted")
	}
	// Without RequiredClaims a token without exp is accepted, as in
	// flask-jwt-extended.
	g2 := testGate(t, func(c *Config) { c.Locations = []Location{InHeader{}} })
	noExp := sign(map[string]any{"sub": "alice"})
	if res := serve(g2.Required(echo(g2)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + noExp}}.build()); res.status != 200 {
		t.Fatalf("no exp: %d %v", res.status, res.body)
	}
	g3 := testGate(t, func(c *Config) { c.Locations = []Location{InHeader{}}; c.RequiredClaims = []string{"exp"} })
	if res := serve(g3.Required(echo(g3)), reqSpec{headers: map[string]string{"Authorization": "Bearer " + noExp}}.build()); res.status != 401 || res.body["error_description"] != "Missing claim: exp" {
		t.Fatalf("required exp: %d %v", res.status, res.body)
	}
}
