package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/proctest"
	"github.com/jwtgate/jwtgate/jwt"
)

const secret = "connect-example-secret-0123456789abcdefgh"

func TestConnect(t *testing.T) {
	bin := proctest.Build(t)
	p := proctest.Start(t, bin, []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0")
	ctx := t.Context()

	login := func(user, password string) map[string]any {
		res := p.Do(t, proctest.Request{Method: "POST", Path: "/login", JSON: map[string]string{"username": user, "password": password}})
		return map[string]any{"status": res.Status, "body": res.Object(t)}
	}
	if got := login("alice", "wrong"); got["status"] != 401 {
		t.Errorf("bad password: %v", got)
	}
	alice := login("alice", "alice-pw")["body"].(map[string]any)
	access, refresh := alice["access_token"].(string), alice["refresh_token"].(string)
	bob := login("bob", "bob-pw")["body"].(map[string]any)["access_token"].(string)
	res := p.Do(t, proctest.Request{Method: "POST", Path: "/refresh", Header: map[string]string{"Authorization": "Bearer " + refresh}})
	refreshed, _ := res.Object(t)["access_token"].(string)
	if res.Status != 200 || refreshed == "" {
		t.Fatalf("refresh: %d %s", res.Status, res.Body)
	}
	key, _ := jwt.NewHMACKey([]byte(secret), jwt.HS256)
	old, _ := jwtgate.New(jwtgate.Config{SigningKey: key, Clock: func() time.Time { return time.Now().Add(-time.Hour) }})
	expired, _ := old.CreateAccessToken(ctx, "alice", jwtgate.Fresh())

	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	for _, tr := range []struct {
		name   string
		client *http.Client
		opts   []connect.ClientOption
	}{
		{"connect over HTTP/1.1", http.DefaultClient, []connect.ClientOption{connect.WithProtoJSON()}},
		{"grpc over h2c", &http.Client{Transport: &http.Transport{Protocols: h2c}}, []connect.ClientOption{connect.WithGRPC()}},
	} {
		t.Run(tr.name, func(t *testing.T) {
			call := func(procedure, token string) (string, error) {
				c := connect.NewClient[emptypb.Empty, wrapperspb.StringValue](tr.client, p.URL+service+procedure, tr.opts...)
				req := connect.NewRequest(&emptypb.Empty{})
				if token != "" {
					req.Header().Set("Authorization", "Bearer "+token)
				}
				res, err := c.CallUnary(ctx, req)
				if err != nil {
					return "", err
				}
				return res.Msg.GetValue(), nil
			}
			for _, tt := range []struct {
				procedure, token string
				code             connect.Code // 0: success
				want             string       // the reply, or a part of the message
			}{
				{"Status", "", 0, "OK"},
				{"Hello", access, 0, "Hello, alice"},
				{"Hello", refreshed, 0, "Hello, alice"},
				{"Hello", "", connect.CodeUnauthenticated, "does not contain an access token"},
				{"Hello", refresh, connect.CodeUnauthenticated, "Wrong token type"},
				{"Hello", expired, connect.CodeUnauthenticated, "expired"},
				{"Hello", access[:len(access)-3] + "AAA", connect.CodeUnauthenticated, "Signature verification failed"},
				{"Admin", access, 0, "Welcome to the admin area, alice"},
				{"Admin", refreshed, connect.CodePermissionDenied, "Fresh token required"},
				{"Admin", bob, connect.CodePermissionDenied, "Insufficient scope"},
			} {
				got, err := call(tt.procedure, tt.token)
				var ce *connect.Error
				switch {
				case tt.code == 0 && (err != nil || got != tt.want):
					t.Errorf("%s: %q, %v; want %q", tt.procedure, got, err, tt.want)
				case tt.code != 0 && (!errors.As(err, &ce) || ce.Code() != tt.code || !strings.Contains(ce.Message(), tt.want)):
					t.Errorf("%s: %v; want %v %q", tt.procedure, err, tt.code, tt.want)
				}
			}

			c := connect.NewClient[wrapperspb.Int32Value, wrapperspb.StringValue](tr.client, p.URL+service+"Countdown", tr.opts...)
			count := func(token string) ([]string, error) {
				req := connect.NewRequest(wrapperspb.Int32(2))
				if token != "" {
					req.Header().Set("Authorization", "Bearer "+token)
				}
				s, err := c.CallServerStream(ctx, req)
				if err != nil {
					return nil, err
				}
				defer s.Close()
				var got []string
				for s.Receive() {
					got = append(got, s.Msg().GetValue())
				}
				return got, s.Err()
			}
			if got, err := count(access); err != nil || strings.Join(got, "|") != "alice: 2|alice: 1" {
				t.Errorf("Countdown: %q, %v", got, err)
			}
			if got, err := count(""); connect.CodeOf(err) != connect.CodeUnauthenticated || len(got) != 0 {
				t.Errorf("Countdown without a token: %q, %v", got, err)
			}
		})
	}

	// Connect's protocol is plain HTTP: curl can call it.
	res = p.Do(t, proctest.Request{Method: "POST", Path: service + "Hello", Body: "{}", Header: map[string]string{"Content-Type": "application/json"}})
	var body struct{ Code, Message string }
	if err := json.Unmarshal(res.Body, &body); err != nil || res.Status != 401 || body.Code != "unauthenticated" {
		t.Errorf("curl-like call without a token: %d %s", res.Status, res.Body)
	}
	res = p.Do(t, proctest.Request{Method: "POST", Path: service + "Hello", Body: "{}",
		Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + access}})
	if res.Status != 200 || string(res.Body) != `"Hello, alice"` {
		t.Errorf("curl-like call: %d %s", res.Status, res.Body)
	}
	if strings.Contains(p.Logs(), access) {
		t.Errorf("a token in the logs:\n%s", p.Logs())
	}
}
