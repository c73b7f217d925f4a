package connectjwt_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
)

// call makes a unary call to procedure with the given Authorization
// values and returns the reply and the HTTP version it came over.
func call(ctx context.Context, url string, hc *http.Client, tr transport, procedure string, auth ...string) (string, string, error) {
	c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+procedure, clientOptions(tr)...)
	req := connect.NewRequest(wrapperspb.String("hi"))
	for _, a := range auth {
		req.Header().Add("Authorization", a)
	}
	res, err := c.CallUnary(ctx, req)
	if err != nil {
		return "", "", err
	}
	return res.Msg.GetValue(), res.Header().Get("X-Proto"), nil
}

func TestUnary(t *testing.T) {
	e := newEnv(t)
	h := handler(mustNew(t, e.Gate, testPolicy))
	alice := e.Access(t, "alice")
	fresh := e.Access(t, "alice", jwtgate.Fresh())
	scoped := e.Access(t, "alice", jwtgate.WithClaims(map[string]any{"scope": "orders:read orders:write"}))
	revoked := e.Access(t, "alice")
	rt, err := e.Gate.DecodeToken(context.Background(), revoked)
	if err != nil {
		t.Fatal(err)
	}
	e.Revoked.Store(rt.Claims.ID, true)
	forged := alice[:len(alice)-2] + "AA"
	if forged == alice {
		forged = alice[:len(alice)-2] + "BA"
	}

	B := func(tok string) string { return "Bearer " + tok }
	tests := []struct {
		name, procedure string
		auth            []string
		code            connect.Code // 0: success
		want            string       // the reply, or a part of the error message
	}{
		{"valid", "Hello", []string{B(alice)}, 0, "hello alice"},
		{"scheme in lower case", "Hello", []string{"bearer " + alice}, 0, "hello alice"},
		{"user loaded", "Hello", []string{B(e.Access(t, "bob"))}, 0, "hello bob (user Bob)"},
		{"no token", "Hello", nil, connect.CodeUnauthenticated, "does not contain an access token"},
		{"two values", "Hello", []string{B(alice), B(alice)}, connect.CodeUnauthenticated, "more than one value"},
		{"other scheme", "Hello", []string{"Basic YWxpY2U6cHc="}, connect.CodeUnauthenticated, "expected 'Bearer <JWT>'"},
		{"scheme alone", "Hello", []string{"Bearer"}, connect.CodeUnauthenticated, "expected 'Bearer <JWT>'"},
		{"two words", "Hello", []string{B(alice) + " extra"}, connect.CodeUnauthenticated, "expected 'Bearer <JWT>'"},
		{"DPoP-bound token as bearer", "Hello", []string{B(e.Access(t, "alice", jwtgate.WithClaims(map[string]any{"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}})))}, connect.CodeUnauthenticated, "bound to a DPoP key"},
		{"bad signature", "Hello", []string{B(forged)}, connect.CodeUnauthenticated, "Signature verification failed"},
		{"not a JWT", "Hello", []string{B("not.a.jwt")}, connect.CodeUnauthenticated, "Malformed token"},
		{"expired", "Hello", []string{B(e.Expired(t, "alice"))}, connect.CodeUnauthenticated, "expired"},
		{"revoked", "Hello", []string{B(revoked)}, connect.CodeUnauthenticated, "revoked"},
		{"revoked, procedure skips revocation", "Unchecked", []string{B(revoked)}, 0, "hello alice"},
		{"refresh token", "Hello", []string{B(e.Refresh(t, "alice"))}, connect.CodeUnauthenticated, "Wrong token type"},
		{"unknown user", "Hello", []string{B(e.Access(t, "ghost"))}, connect.CodeUnauthenticated, "User could not be loaded"},
		{"claims hook refuses", "Hello", []string{B(e.Access(t, "mallory"))}, connect.CodePermissionDenied, "claims verification failed"},
		{"fresh procedure, fresh token", "Fresh", []string{B(fresh)}, 0, "hello alice"},
		{"fresh procedure, token not fresh", "Fresh", []string{B(alice)}, connect.CodePermissionDenied, "Fresh token required"},
		{"scoped procedure, scope given", "Orders", []string{B(scoped)}, 0, "hello alice"},
		{"scoped procedure, no scope", "Orders", []string{B(alice)}, connect.CodePermissionDenied, "scope"},
		{"public procedure, no token", "Public", nil, 0, "hello anonymous"},
		{"public procedure, garbage", "Public", []string{"garbage garbage garbage"}, 0, "hello anonymous"},
		{"optional procedure, no token", "Maybe", nil, 0, "hello anonymous"},
		{"optional procedure, token", "Maybe", []string{B(alice)}, 0, "hello alice"},
		{"optional procedure, bad token", "Maybe", []string{B(forged)}, connect.CodeUnauthenticated, "Signature"},
		{"lenient procedure, bad token", "Lenient", []string{B(forged)}, 0, "hello anonymous"},
		{"lenient procedure, malformed value", "Lenient", []string{"Bearer a b"}, 0, "hello anonymous"},
		{"lenient procedure, revoked token", "Lenient", []string{B(revoked)}, connect.CodeUnauthenticated, "revoked"},
		{"refresh procedure, refresh token", "Refresh", []string{B(e.Refresh(t, "alice"))}, 0, "hello alice"},
		{"refresh procedure, access token", "Refresh", []string{B(alice)}, connect.CodeUnauthenticated, "Wrong token type"},
	}
	for _, tr := range transports {
		url, hc := server(t, h, tr)
		for _, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				got, proto, err := call(t.Context(), url, hc, tr, tt.procedure, tt.auth...)
				if tt.code == 0 {
					if err != nil || got != tt.want || proto != tr.proto {
						t.Errorf("got %q over %s, %v; want %q over %s", got, proto, err, tt.want, tr.proto)
					}
					return
				}
				var ce *connect.Error
				if !errors.As(err, &ce) || ce.Code() != tt.code {
					t.Fatalf("got %v, want code %v", err, tt.code)
				}
				if !strings.Contains(ce.Message(), tt.want) {
					t.Errorf("message %q, want it to contain %q", ce.Message(), tt.want)
				}
				for _, a := range tt.auth {
					if _, tok, _ := strings.Cut(a, " "); len(tok) > 8 && strings.Contains(ce.Message(), tok) {
						t.Errorf("message %q quotes the token", ce.Message())
					}
				}
			})
		}
	}
}

// readStream calls Count and returns its messages and final error.
func readStream(ctx context.Context, url string, hc *http.Client, tr transport, auth ...string) ([]string, error) {
	c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+"Count", clientOptions(tr)...)
	req := connect.NewRequest(wrapperspb.String("hi"))
	for _, a := range auth {
		req.Header().Add("Authorization", a)
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

func TestStream(t *testing.T) {
	e := newEnv(t)
	h := handler(mustNew(t, e.Gate, testPolicy))
	bob := "Bearer " + e.Access(t, "bob")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			url, hc := server(t, h, tr)
			got, err := readStream(t.Context(), url, hc, tr, bob)
			want := "hello bob (user Bob) 0|hello bob (user Bob) 1|hello bob (user Bob) 2"
			if err != nil || strings.Join(got, "|") != want {
				t.Errorf("stream sent %q, %v; want %q", got, err, want)
			}
			for _, tt := range []struct {
				name string
				auth []string
				code connect.Code
			}{
				{"no token", nil, connect.CodeUnauthenticated},
				{"expired", []string{"Bearer " + e.Expired(t, "bob")}, connect.CodeUnauthenticated},
				{"claims hook refuses", []string{"Bearer " + e.Access(t, "mallory")}, connect.CodePermissionDenied},
			} {
				got, err := readStream(t.Context(), url, hc, tr, tt.auth...)
				if connect.CodeOf(err) != tt.code || len(got) != 0 {
					t.Errorf("%s: got %q, %v; want no message and %v", tt.name, got, err, tt.code)
				}
			}
		})
	}
}

// Stores that cannot answer refuse the call: fail closed.
func TestUnavailable(t *testing.T) {
	e := newEnv(t)
	tr := transports[1]
	url, hc := server(t, handler(mustNew(t, e.Gate, testPolicy)), tr)
	bob := "Bearer " + e.Access(t, "bob")
	for _, tt := range []struct {
		name string
		down func(bool)
		want string
	}{
		{"revocation store", e.StoreDown.Store, "Revocation check unavailable"},
		{"user store", e.UsersDown.Store, "User store unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.down(true)
			defer tt.down(false)
			_, _, err := call(t.Context(), url, hc, tr, "Hello", bob)
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeUnavailable || ce.Message() != tt.want {
				t.Errorf("got %v, want Unavailable %q", err, tt.want)
			}
			if _, _, err := call(t.Context(), url, hc, tr, "Lenient", bob); connect.CodeOf(err) != connect.CodeUnavailable {
				t.Errorf("optional procedure: %v, want Unavailable", err)
			}
			if _, err := readStream(t.Context(), url, hc, tr, bob); connect.CodeOf(err) != connect.CodeUnavailable {
				t.Errorf("stream: %v, want Unavailable", err)
			}
		})
	}
}

// A whole service can get its own checks; a procedure's own entry wins.
// Options.Token replaces the reading of the Authorization header. On a
// client, the interceptor does nothing.
func TestPolicyAndHooks(t *testing.T) {
	e := newEnv(t)
	alice := e.Access(t, "alice")
	in := mustNew(t, e.Gate, connectjwt.Options{
		Procedures: map[string]jwtgate.RouteOptions{svc: {Optional: true}, svc + "Fresh": {Fresh: true}},
		Token: func(_ context.Context, procedure string, h http.Header) (string, error) {
			if !strings.HasPrefix(procedure, svc) {
				return "", errors.New("unexpected procedure " + procedure)
			}
			return h.Get("X-Token"), nil
		},
	})
	tr := transports[0]
	url, hc := server(t, handler(in), tr)
	c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+"Hello", connect.WithInterceptors(in))
	req := connect.NewRequest(wrapperspb.String("hi"))
	req.Header().Set("Authorization", "Bearer "+alice)
	if res, err := c.CallUnary(t.Context(), req); err != nil || res.Msg.GetValue() != "hello anonymous" {
		t.Errorf("Authorization header with a Token hook: %v, %v", res, err)
	}
	req = connect.NewRequest(wrapperspb.String("hi"))
	req.Header().Set("X-Token", alice)
	if res, err := c.CallUnary(t.Context(), req); err != nil || res.Msg.GetValue() != "hello alice" {
		t.Errorf("X-Token: %v, %v", res, err)
	}
	if _, _, err := call(t.Context(), url, hc, tr, "Fresh"); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("procedure entry: %v, want Unauthenticated", err)
	}
	in = mustNew(t, e.Gate, connectjwt.Options{Public: []string{svc}})
	url, hc = server(t, handler(in), tr)
	if got, err := readStream(t.Context(), url, hc, tr); err != nil || len(got) != 3 || got[0] != "hello anonymous 0" {
		t.Errorf("public service stream: %q, %v", got, err)
	}
}

func TestNewRefuses(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name string
		opts connectjwt.Options
		want string
	}{
		{"Locations", connectjwt.Options{Default: jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InHeader{}}}}, "Locations"},
		{"WebSocket", connectjwt.Options{Procedures: map[string]jwtgate.RouteOptions{svc + "Hello": {WebSocket: true}}}, "WebSocket"},
		{"route the Gate refuses", connectjwt.Options{Procedures: map[string]jwtgate.RouteOptions{svc + "Hello": {IgnoreInvalid: true}}}, "IgnoreInvalid"},
		{"DPoPRequired without Config.DPoP", connectjwt.Options{Default: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}}, "DPoPRequired"},
		{"name without slash", connectjwt.Options{Public: []string{"Greeter.Hello"}}, "Greeter.Hello"},
		{"name without method slash", connectjwt.Options{Procedures: map[string]jwtgate.RouteOptions{"/Greeter": {}}}, "/Greeter"},
		{"name too deep", connectjwt.Options{Public: []string{"/a/b/c"}}, "/a/b/c"},
		{"public and in Procedures", connectjwt.Options{Public: []string{svc + "Hello"}, Procedures: map[string]jwtgate.RouteOptions{svc + "Hello": {}}}, "both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := connectjwt.New(e.Gate, tt.opts)
			if in != nil || !errors.Is(err, jwtgate.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, %v; want ErrConfig mentioning %q", in, err, tt.want)
			}
		})
	}
	if _, err := connectjwt.New(nil, connectjwt.Options{}); !errors.Is(err, jwtgate.ErrConfig) {
		t.Errorf("nil Gate: %v", err)
	}
}

func TestBearerToken(t *testing.T) {
	for _, tt := range []struct {
		vals []string
		tok  string
		bad  bool
	}{
		{nil, "", false},
		{[]string{"Bearer abc"}, "abc", false},
		{[]string{"bearer abc"}, "abc", false},
		{[]string{"BEARER  abc "}, "abc", false},
		{[]string{""}, "", false},
		{[]string{"Bearer abc", "Bearer abc"}, "", true},
		{[]string{"Bearer"}, "", true},
		{[]string{"Bearer a b"}, "", true},
		{[]string{"Bearer a,b"}, "", true},
		{[]string{"Bearer\tabc"}, "", true},
		{[]string{"Basic abc"}, "", true},
		{[]string{"Basic x, Bearer abc"}, "", true},
		{[]string{"abc"}, "", true},
	} {
		tok, err := connectjwt.BearerToken(http.Header{"Authorization": tt.vals})
		if tok != tt.tok || (err != nil) != tt.bad || (err != nil && !errors.Is(err, jwtgate.ErrBadHeader)) {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, bad %v", tt.vals, tok, err, tt.tok, tt.bad)
		}
	}
}

func TestCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code connect.Code
	}{
		{jwtgate.ErrNoToken, connect.CodeUnauthenticated},
		{jwtgate.ErrBadHeader, connect.CodeUnauthenticated},
		{jwtgate.ErrInvalid, connect.CodeUnauthenticated},
		{jwtgate.ErrExpired, connect.CodeUnauthenticated},
		{jwtgate.ErrRevoked, connect.CodeUnauthenticated},
		{jwtgate.ErrWrongType, connect.CodeUnauthenticated},
		{jwtgate.ErrUserLoad, connect.CodeUnauthenticated},
		{jwtgate.ErrNotFresh, connect.CodePermissionDenied},
		{jwtgate.ErrInsufficientScope, connect.CodePermissionDenied},
		{jwtgate.ErrClaims, connect.CodePermissionDenied},
		{jwtgate.ErrCSRF, connect.CodePermissionDenied},
		{jwtgate.ErrDPoP, connect.CodeUnauthenticated},
		{jwtgate.ErrDPoPNonce, connect.CodeUnauthenticated},
		{jwtgate.ErrUnavailable, connect.CodeUnavailable},
		{jwtgate.NewError(jwtgate.ErrUnavailable, "x", context.Canceled), connect.CodeCanceled},
		{jwtgate.NewError(jwtgate.ErrUnavailable, "x", context.DeadlineExceeded), connect.CodeDeadlineExceeded},
		{jwtgate.ErrConfig, connect.CodeInternal},
		{errors.New("anything else"), connect.CodeUnauthenticated},
	} {
		if got := connectjwt.Code(tt.err); got != tt.code {
			t.Errorf("Code(%v) = %v, want %v", tt.err, got, tt.code)
		}
		if ce := connectjwt.Error(tt.err); ce.Code() != tt.code || ce.Message() == "" {
			t.Errorf("Error(%v) = %v", tt.err, ce)
		}
	}
	if connectjwt.Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}
