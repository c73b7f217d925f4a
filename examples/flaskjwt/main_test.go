package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/proctest"
	"github.com/jwtgate/jwtgate/jwt"
)

const secret = "flaskjwt-example-secret-0123456789abcdef"

func jwtError(t *testing.T, res proctest.Response, title, desc string) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("%d %q", res.Status, res.Body)
	}
	want := map[string]any{"status_code": 401.0, "error": title, "description": desc}
	if res.Status != 401 || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %d %v, want 401 %v", res.Status, got, want)
	}
	challenge := ""
	if title == "Authorization Required" {
		challenge = `JWT realm="Login Required"`
	}
	if c := res.Header.Get("WWW-Authenticate"); c != challenge {
		t.Fatalf("WWW-Authenticate %q, want %q", c, challenge)
	}
}

func TestFlaskJWT(t *testing.T) {
	bin := proctest.Build(t)
	p := proctest.Start(t, bin, []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0")

	auth := func(t *testing.T, req proctest.Request) proctest.Response {
		t.Helper()
		req.Method, req.Path = "POST", "/auth"
		return p.Do(t, req)
	}
	res := auth(t, proctest.Request{JSON: map[string]string{"username": "user1", "password": "abcxyz"}})
	var body map[string]string
	if err := json.Unmarshal(res.Body, &body); err != nil || res.Status != 200 || len(body) != 1 || body["access_token"] == "" {
		t.Fatalf("auth: %d %s", res.Status, res.Body)
	}
	token := body["access_token"]

	t.Run("token", func(t *testing.T) {
		c, err := jwtgate.UnverifiedClaims(token)
		if err != nil {
			t.Fatal(err)
		}
		if c["identity"] != json.Number("1") || c["sub"] != nil {
			t.Fatalf("identity %v in %v", c["identity"], c)
		}
		exp, _ := c["exp"].(json.Number).Float64()
		iat, _ := c["iat"].(json.Number).Float64()
		nbf, _ := c["nbf"].(json.Number).Float64()
		if exp-iat != 300 || nbf != iat {
			t.Fatalf("exp %v iat %v nbf %v", exp, iat, nbf)
		}
	})

	t.Run("protected", func(t *testing.T) {
		for _, h := range []string{"JWT " + token, "jwt " + token, "  JWT   " + token + " "} {
			res := p.Do(t, proctest.Request{Path: "/protected", Header: map[string]string{"Authorization": h}})
			if res.Status != 200 || string(res.Body) != "User(id='1')" {
				t.Fatalf("%q: %d %q", h, res.Status, res.Body)
			}
		}
		res := auth(t, proctest.Request{JSON: map[string]string{"password": "abcxyz", "username": "user2"}})
		var b map[string]string
		_ = json.Unmarshal(res.Body, &b)
		res = p.Do(t, proctest.Request{Path: "/protected", Header: map[string]string{"Authorization": "JWT " + b["access_token"]}})
		if res.Status != 200 || string(res.Body) != "User(id='2')" {
			t.Fatalf("user2: %d %q", res.Status, res.Body)
		}
	})

	t.Run("bad credentials", func(t *testing.T) {
		for _, req := range []proctest.Request{
			{JSON: map[string]string{"username": "user1", "password": "wrong"}},
			{JSON: map[string]string{"username": "nobody", "password": "abcxyz"}},
			{JSON: map[string]string{"username": "user1", "password": "abcxyz", "remember": "yes"}},
			{JSON: map[string]string{"username": "user1"}},
			{JSON: map[string]string{"username": "user1", "pass": "abcxyz"}},
			{JSON: map[string]string{"username": "", "password": "abcxyz"}},
			{JSON: map[string]any{"username": 1, "password": "abcxyz"}},
			{JSON: []string{"user1", "abcxyz"}},
			{Body: `{"username": "user1", "password": "abcxyz"}`, Header: map[string]string{"Content-Type": "text/plain"}},
			{Body: `username=user1&password=abcxyz`, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
			{Body: `{"username": "user1",`, Header: map[string]string{"Content-Type": "application/json"}},
			{},
		} {
			jwtError(t, auth(t, req), "Bad Request", "Invalid credentials")
		}
	})

	key, err := jwt.NewHMACKey([]byte(secret), jwt.HS256)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(c map[string]any) string {
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now().Unix()

	t.Run("refusals", func(t *testing.T) {
		for _, tt := range []struct {
			name, header, title, desc string
		}{
			{"no header", "", "Authorization Required", "Request does not contain an access token"},
			{"bearer scheme", "Bearer " + token, "Invalid JWT header", "Unsupported authorization type"},
			{"scheme alone", "JWT", "Invalid JWT header", "Token missing"},
			{"spaces", "JWT " + token + " extra", "Invalid JWT header", "Token contains spaces"},
			{"garbage", "JWT abc", "Invalid token", "Not enough segments"},
			{"tampered", "JWT " + token[:len(token)-4] + "AAAA", "Invalid token", "Signature verification failed"},
			{"expired beyond the leeway", "JWT " + sign(map[string]any{"identity": 1, "iat": now - 3600, "nbf": now - 3600, "exp": now - 60}), "Invalid token", "Signature has expired"},
			{"no nbf", "JWT " + sign(map[string]any{"identity": 1, "iat": now, "exp": now + 300}), "Invalid token", `Token is missing the "nbf" claim`},
			{"no exp", "JWT " + sign(map[string]any{"identity": 1, "iat": now, "nbf": now}), "Invalid token", `Token is missing the "exp" claim`},
			{"unknown user", "JWT " + sign(map[string]any{"identity": 99, "iat": now, "nbf": now, "exp": now + 300}), "Invalid JWT", "User does not exist"},
			{"identity as a string", "JWT " + sign(map[string]any{"identity": "1", "iat": now, "nbf": now, "exp": now + 300}), "Invalid JWT", "User does not exist"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				req := proctest.Request{Path: "/protected"}
				if tt.header != "" {
					req.Header = map[string]string{"Authorization": tt.header}
				}
				jwtError(t, p.Do(t, req), tt.title, tt.desc)
			})
		}
	})

	if res := p.Do(t, proctest.Request{Path: "/auth"}); res.Status != 405 {
		t.Fatalf("GET /auth: %d", res.Status)
	}
	if res := p.Do(t, proctest.Request{Path: "/protected?jwt=" + token}); res.Status != 401 || !strings.Contains(string(res.Body), "Authorization Required") {
		t.Fatalf("query string: %d %s", res.Status, res.Body)
	}
}
