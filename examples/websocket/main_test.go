package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jwtgate/jwtgate/internal/proctest"
	"github.com/jwtgate/jwtgate/jwt"
)

const secret = "websocket-example-secret-0123456789abcdef"

func TestWebSocket(t *testing.T) {
	bin := proctest.Build(t)
	p := proctest.Start(t, bin, []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0")
	wsURL := "ws://" + p.Addr + "/ws"
	ctx := context.Background()

	res := p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": "alice", "password": "alice-pw"}})
	var body map[string]string
	if err := json.Unmarshal(res.Body, &body); err != nil || res.Status != 200 || body["access_token"] == "" {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	token := body["access_token"]
	if res := p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": "alice", "password": "nope"}}); res.Status != 401 {
		t.Fatalf("bad login: %d %s", res.Status, res.Body)
	}

	res = p.Do(t, proctest.Request{Method: "POST", Path: "/login/cookies", JSON: map[string]string{"username": "bob", "password": "bob-pw"}})
	access, csrf := res.Cookie("access_token_cookie"), res.Cookie("csrf_access_token")
	if res.Status != 200 || access == nil || csrf == nil {
		t.Fatalf("cookie login: %d %v", res.Status, res.Header["Set-Cookie"])
	}
	cookieHeader := http.Header{"Cookie": {"access_token_cookie=" + access.Value}}

	// chat connects, reads the greeting, and exchanges one message.
	chat := func(t *testing.T, u string, h http.Header, who string) {
		t.Helper()
		c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Fatalf("dial: %v (status %d)", err, status)
		}
		defer c.CloseNow()
		read := func() string {
			t.Helper()
			typ, msg, err := c.Read(ctx)
			if err != nil || typ != websocket.MessageText {
				t.Fatalf("read: %v %v", typ, err)
			}
			return string(msg)
		}
		if m := read(); m != "Successfully Login!" {
			t.Fatalf("greeting %q", m)
		}
		decoded, ok := strings.CutPrefix(read(), "Here your decoded token: ")
		var claims map[string]any
		if !ok || json.Unmarshal([]byte(decoded), &claims) != nil || claims["sub"] != who || claims["type"] != "access" {
			t.Fatalf("decoded token %q", decoded)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if m := read(); m != who+": hello" {
			t.Fatalf("echo %q", m)
		}
		if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
			t.Fatalf("close: %v", err)
		}
	}

	t.Run("token in the query string", func(t *testing.T) {
		chat(t, wsURL+"?token="+url.QueryEscape(token), nil, "alice")
	})
	t.Run("cookie and csrf_token", func(t *testing.T) {
		chat(t, wsURL+"?csrf_token="+url.QueryEscape(csrf.Value), cookieHeader, "bob")
	})
	t.Run("query token wins over cookie", func(t *testing.T) {
		chat(t, wsURL+"?token="+url.QueryEscape(token), cookieHeader, "alice")
	})

	key, _ := jwt.NewHMACKey([]byte(secret), jwt.HS256)
	s, _ := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	now := time.Now().Unix()
	expired, err := s.Sign(map[string]any{"sub": "alice", "type": "access", "iat": now - 7200, "exp": now - 3600})
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := s.Sign(map[string]any{"sub": "alice", "type": "refresh", "iat": now, "exp": now + 3600})
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		query  string
		header http.Header
		status int
		detail string
	}{
		{"no token", "", nil, 401, ""},
		{"empty token", "?token=", nil, 401, ""},
		{"expired token", "?token=" + expired, nil, 401, "Token has expired"},
		{"refresh token", "?token=" + refresh, nil, 401, "Only non-refresh tokens are allowed"},
		{"garbage token", "?token=abc", nil, 401, "Malformed token"},
		{"tampered token", "?token=" + token[:len(token)-4] + "AAAA", nil, 401, "Signature verification failed"},
		{"cookie without csrf_token", "", cookieHeader, 403, "Missing CSRF token"},
		{"cookie with a wrong csrf_token", "?csrf_token=" + url.QueryEscape(csrf.Value+"x"), cookieHeader, 403, "CSRF double submit tokens do not match"},
		{"csrf_token in a header only", "", http.Header{"Cookie": cookieHeader["Cookie"], "X-Csrf-Token": {csrf.Value}}, 403, "Missing CSRF token"},
		{"valid token, foreign origin", "?token=" + token, http.Header{"Origin": {"https://evil.example"}}, 403, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, resp, err := websocket.Dial(ctx, wsURL+tt.query, &websocket.DialOptions{HTTPHeader: tt.header})
			if err == nil {
				c.CloseNow()
				t.Fatal("the handshake was accepted")
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("err %v, response %v; want status %d", err, resp, tt.status)
			}
			if tt.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="websocket"`) {
				t.Fatalf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			if tt.detail == "" {
				return
			}
			var e map[string]string
			if body := errBody(resp); json.Unmarshal([]byte(body), &e) != nil || e["error_description"] != tt.detail {
				t.Fatalf("status %d, body %q; want error_description %q", resp.StatusCode, body, tt.detail)
			}
		})
	}

	// The server closes a connection when its token expires. The token
	// lives two seconds; the test waits for the close, whenever it comes.
	t.Run("closed when the token expires", func(t *testing.T) {
		now := time.Now().Unix()
		short, err := s.Sign(map[string]any{"sub": "alice", "type": "access", "iat": now, "exp": now + 2})
		if err != nil {
			t.Fatal(err)
		}
		c, resp, err := websocket.Dial(ctx, wsURL+"?token="+short, nil)
		if err != nil {
			if resp != nil && resp.StatusCode == 401 {
				t.Skip("the token expired before the handshake (a very slow machine)")
			}
			t.Fatal(err)
		}
		defer c.CloseNow()
		for {
			if _, _, err = c.Read(ctx); err != nil {
				break
			}
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != "Token has expired" {
			t.Fatalf("closed with %v", err)
		}
	})

	// A plain GET with a token is not a WebSocket handshake.
	if res := p.Do(t, proctest.Request{Path: "/ws?token=" + token}); res.Status < 400 || res.Status >= 500 {
		t.Fatalf("plain GET: %d %s", res.Status, res.Body)
	}
}

// errBody returns what Dial kept of a refused handshake's body.
func errBody(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
