package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/proctest"
	"github.com/jwtgate/jwtgate/jwt"
)

const secret = "pyjwt-example-secret-0123456789abcdefgh"

func form(v url.Values) proctest.Request {
	return proctest.Request{Method: "POST", Path: "/login", Body: v.Encode(),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
}

func want(t *testing.T, res proctest.Response, status int, body map[string]string) {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal(res.Body, &got); err != nil || res.Status != status || !reflect.DeepEqual(got, body) {
		t.Fatalf("got %d %s, want %d %v", res.Status, res.Body, status, body)
	}
}

func TestPyJWT(t *testing.T) {
	bin := proctest.Build(t)
	p := proctest.Start(t, bin, []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0")

	res := p.Do(t, form(url.Values{"username": {"johnDoe"}, "password": {"johnDoe-pw"}}))
	var body map[string]string
	if err := json.Unmarshal(res.Body, &body); err != nil || res.Status != 200 || body["token"] == "" {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	token := body["token"]

	t.Run("token", func(t *testing.T) {
		h, err := jwtgate.UnverifiedHeader(token)
		if err != nil || h["alg"] != "HS256" {
			t.Fatalf("header %v %v", h, err)
		}
		c, err := jwtgate.UnverifiedClaims(token)
		if err != nil {
			t.Fatal(err)
		}
		if c["username"] != "johnDoe" || c["user_id"] != json.Number("12345") || c["nbf"] != nil || c["sub"] != nil {
			t.Fatalf("claims %v", c)
		}
		exp, _ := c["exp"].(json.Number).Float64()
		iat, _ := c["iat"].(json.Number).Float64()
		if exp-iat != 3600 {
			t.Fatalf("lifetime %v", exp-iat)
		}
	})

	t.Run("login", func(t *testing.T) {
		want(t, p.Do(t, form(url.Values{"username": {"johnDoe"}, "password": {"wrong"}})), 401, map[string]string{"error": "Invalid credentials"})
		want(t, p.Do(t, form(url.Values{"username": {"janeDoe"}, "password": {"johnDoe-pw"}})), 401, map[string]string{"error": "Invalid credentials"})
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		_ = mw.WriteField("username", "johnDoe")
		_ = mw.WriteField("password", "johnDoe-pw")
		_ = mw.Close()
		res := p.Do(t, proctest.Request{Method: "POST", Path: "/login", Body: mp.String(), Header: map[string]string{"Content-Type": mw.FormDataContentType()}})
		if res.Status != 200 {
			t.Fatalf("multipart login: %d %s", res.Status, res.Body)
		}
		want(t, p.Do(t, form(url.Values{"username": {"johnDoe"}})), 400, map[string]string{"error": "Bad Request"})
		want(t, p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": "johnDoe", "password": "johnDoe-pw"}}), 400, map[string]string{"error": "Bad Request"})
		want(t, p.Do(t, proctest.Request{Method: "POST", Path: "/login", Body: "%zz", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}), 400, map[string]string{"error": "Bad Request"})
	})

	key, _ := jwt.NewHMACKey([]byte(secret), jwt.HS256)
	s, _ := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	sign := func(c map[string]any) string {
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now().Unix()
	auth := func(tok string) proctest.Request {
		return proctest.Request{Path: "/protected", Header: map[string]string{"Authorization": "Bearer " + tok}}
	}

	t.Run("protected", func(t *testing.T) {
		want(t, p.Do(t, auth(token)), 200, map[string]string{"message": "Hello, authenticated user!", "username": "johnDoe"})
		want(t, p.Do(t, auth(sign(map[string]any{"username": "johnDoe", "iat": now, "exp": now + 60}))), 200, map[string]string{"message": "Hello, authenticated user!", "username": "johnDoe"})

		res := p.Do(t, proctest.Request{Path: "/protected"})
		want(t, res, 401, map[string]string{"error": "Unauthorized"})
		if c := res.Header.Get("WWW-Authenticate"); c != `Bearer realm="pyjwt"` {
			t.Fatalf("challenge %q", c)
		}
		res = p.Do(t, auth(sign(map[string]any{"username": "johnDoe", "iat": now - 7200, "exp": now - 3600})))
		want(t, res, 401, map[string]string{"error": "Token has expired"})
		if c := res.Header.Get("WWW-Authenticate"); c != `Bearer realm="pyjwt", error="invalid_token", error_description="Token has expired"` {
			t.Fatalf("challenge %q", c)
		}
		for _, tok := range []string{
			token[:len(token)-4] + "AAAA",
			sign(map[string]any{"username": "johnDoe", "exp": now + 60}),                     // no iat
			sign(map[string]any{"username": "johnDoe", "iat": now}),                          // no exp
			sign(map[string]any{"sub": "johnDoe", "iat": now, "exp": now + 60}),              // no username
			sign(map[string]any{"username": "johnDoe", "iat": now + 600, "exp": now + 3600}), // iat in the future
			"eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImpvaG5Eb2UifQ.",
			"not-a-token",
		} {
			want(t, p.Do(t, auth(tok)), 401, map[string]string{"error": "Invalid token"})
		}
		want(t, p.Do(t, proctest.Request{Path: "/protected", Header: map[string]string{"Authorization": token}}), 401, map[string]string{"error": "Unauthorized"})
	})
}
