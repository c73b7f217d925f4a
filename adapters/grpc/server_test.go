package grpcjwt_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
)

// call makes a unary call to method with the given authorization values.
func call(ctx context.Context, conn *grpc.ClientConn, method string, auth ...string) (string, error) {
	for _, a := range auth {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
	}
	out := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, svc+method, wrapperspb.String("hi"), out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}

func TestUnary(t *testing.T) {
	e := newEnv(t)
	conn := serve(t, mustNew(t, e.Gate, testPolicy))
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
		name, method string
		auth         []string
		code         codes.Code
		want         string // the reply, or a part of the status message
	}{
		{"valid", "Hello", []string{B(alice)}, codes.OK, "hello alice"},
		{"scheme in lower case", "Hello", []string{"bearer " + alice}, codes.OK, "hello alice"},
		{"user loaded", "Hello", []string{B(e.Access(t, "bob"))}, codes.OK, "hello bob (user Bob)"},
		{"no token", "Hello", nil, codes.Unauthenticated, "does not contain an access token"},
		{"empty value", "Hello", []string{""}, codes.Unauthenticated, "does not contain an access token"},
		{"two values", "Hello", []string{B(alice), B(alice)}, codes.Unauthenticated, "more than one value"},
		{"other scheme", "Hello", []string{"Basic YWxpY2U6cHc="}, codes.Unauthenticated, "expected 'Bearer <JWT>'"},
		{"scheme alone", "Hello", []string{"Bearer"}, codes.Unauthenticated, "expected 'Bearer <JWT>'"},
		{"two words", "Hello", []string{B(alice) + " extra"}, codes.Unauthenticated, "expected 'Bearer <JWT>'"},
		{"DPoP-bound token as bearer", "Hello", []string{B(e.Access(t, "alice", jwtgate.WithClaims(map[string]any{"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}})))}, codes.Unauthenticated, "bound to a DPoP key"},
		{"bad signature", "Hello", []string{B(forged)}, codes.Unauthenticated, "Signature verification failed"},
		{"not a JWT", "Hello", []string{B("not.a.jwt")}, codes.Unauthenticated, "Malformed token"},
		{"expired", "Hello", []string{B(e.Expired(t, "alice"))}, codes.Unauthenticated, "expired"},
		{"revoked", "Hello", []string{B(revoked)}, codes.Unauthenticated, "revoked"},
		{"revoked, method skips revocation", "Unchecked", []string{B(revoked)}, codes.OK, "hello alice"},
		{"refresh token", "Hello", []string{B(e.Refresh(t, "alice"))}, codes.Unauthenticated, "Wrong token type"},
		{"unknown user", "Hello", []string{B(e.Access(t, "ghost"))}, codes.Unauthenticated, "User could not be loaded"},
		{"claims hook refuses", "Hello", []string{B(e.Access(t, "mallory"))}, codes.PermissionDenied, "claims verification failed"},
		{"fresh method, fresh token", "Fresh", []string{B(fresh)}, codes.OK, "hello alice"},
		{"fresh method, token not fresh", "Fresh", []string{B(alice)}, codes.PermissionDenied, "Fresh token required"},
		{"scoped method, scope given", "Orders", []string{B(scoped)}, codes.OK, "hello alice"},
		{"scoped method, no scope", "Orders", []string{B(alice)}, codes.PermissionDenied, "scope"},
		{"public method, no token", "Public", nil, codes.OK, "hello anonymous"},
		{"public method, garbage", "Public", []string{"garbage garbage garbage"}, codes.OK, "hello anonymous"},
		{"optional method, no token", "Maybe", nil, codes.OK, "hello anonymous"},
		{"optional method, token", "Maybe", []string{B(alice)}, codes.OK, "hello alice"},
		{"optional method, bad token", "Maybe", []string{B(forged)}, codes.Unauthenticated, "Signature"},
		{"optional method, revoked token", "Maybe", []string{B(revoked)}, codes.Unauthenticated, "revoked"},
		{"lenient method, bad token", "Lenient", []string{B(forged)}, codes.OK, "hello anonymous"},
		{"lenient method, malformed value", "Lenient", []string{"Bearer a b"}, codes.OK, "hello anonymous"},
		{"lenient method, revoked token", "Lenient", []string{B(revoked)}, codes.Unauthenticated, "revoked"},
		{"refresh method, refresh token", "Refresh", []string{B(e.Refresh(t, "alice"))}, codes.OK, "hello alice"},
		{"refresh method, access token", "Refresh", []string{B(alice)}, codes.Unauthenticated, "Wrong token type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := call(t.Context(), conn, tt.method, tt.auth...)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("code %v (%q), want %v", st.Code(), st.Message(), tt.code)
			}
			if tt.code == codes.OK {
				if got != tt.want {
					t.Errorf("reply %q, want %q", got, tt.want)
				}
				return
			}
			if !strings.Contains(st.Message(), tt.want) {
				t.Errorf("message %q, want it to contain %q", st.Message(), tt.want)
			}
			for _, a := range tt.auth {
				if _, tok, _ := strings.Cut(a, " "); len(tok) > 8 && strings.Contains(st.Message(), tok) {
					t.Errorf("message %q quotes the token", st.Message())
				}
			}
		})
	}
}

// Stores that cannot answer refuse the call: fail closed.
func TestUnavailable(t *testing.T) {
	e := newEnv(t)
	conn := serve(t, mustNew(t, e.Gate, testPolicy))
	alice := "Bearer " + e.Access(t, "alice")
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
			_, err := call(t.Context(), conn, "Hello", alice)
			if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != tt.want {
				t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), tt.want)
			}
			if strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "timeout") {
				t.Errorf("the status %q shows the store's error", err)
			}
			// An optional method refuses too: a token was sent and could
			// not be checked.
			_, err = call(t.Context(), conn, "Lenient", alice)
			if status.Code(err) != codes.Unavailable {
				t.Errorf("optional method: %v, want Unavailable", err)
			}
		})
	}
}

// readStream opens Count and returns its messages and final error.
func readStream(ctx context.Context, conn *grpc.ClientConn, method string, auth ...string) ([]string, error) {
	for _, a := range auth {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
	}
	cs, err := conn.NewStream(ctx, &greeterDesc.Streams[0], svc+method)
	if err != nil {
		return nil, err
	}
	if err := cs.SendMsg(wrapperspb.String("hi")); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := cs.CloseSend(); err != nil {
		return nil, err
	}
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		if err := cs.RecvMsg(m); err != nil {
			if errors.Is(err, io.EOF) {
				return got, nil
			}
			return got, err
		}
		got = append(got, m.GetValue())
	}
}

func TestStream(t *testing.T) {
	e := newEnv(t)
	policy := testPolicy
	policy.Public = append([]string{"/jwtgate.test.Open/"}, policy.Public...)
	conn := serve(t, mustNew(t, e.Gate, policy))
	got, err := readStream(t.Context(), conn, "Count", "Bearer "+e.Access(t, "bob"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"hello bob (user Bob) 0", "hello bob (user Bob) 1", "hello bob (user Bob) 2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stream sent %q, want %q", got, want)
	}

	for _, tt := range []struct {
		name string
		auth []string
		code codes.Code
	}{
		{"no token", nil, codes.Unauthenticated},
		{"expired", []string{"Bearer " + e.Expired(t, "bob")}, codes.Unauthenticated},
		{"claims hook refuses", []string{"Bearer " + e.Access(t, "mallory")}, codes.PermissionDenied},
	} {
		got, err := readStream(t.Context(), conn, "Count", tt.auth...)
		if status.Code(err) != tt.code || len(got) != 0 {
			t.Errorf("%s: got %q, %v; want no message and %v", tt.name, got, err, tt.code)
		}
	}
	e.StoreDown.Store(true)
	if _, err := readStream(t.Context(), conn, "Count", "Bearer "+e.Access(t, "bob")); status.Code(err) != codes.Unavailable {
		t.Errorf("revocation store down: %v, want Unavailable", err)
	}
}

// A whole service can be public or get its own checks by its name and a
// slash; a method's own entry wins.
func TestServicePolicy(t *testing.T) {
	e := newEnv(t)
	in := mustNew(t, e.Gate, grpcjwt.Options{
		Methods: map[string]jwtgate.RouteOptions{
			svc:           {Optional: true},
			svc + "Fresh": {Fresh: true},
		},
	})
	conn := serve(t, in)
	if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello anonymous" {
		t.Errorf("service-wide Optional: %q, %v", got, err)
	}
	if _, err := call(t.Context(), conn, "Fresh", "Bearer "+e.Access(t, "alice")); status.Code(err) != codes.PermissionDenied {
		t.Errorf("method entry: %v, want PermissionDenied", err)
	}
	in = mustNew(t, e.Gate, grpcjwt.Options{Public: []string{svc}})
	conn = serve(t, in)
	if got, err := readStream(t.Context(), conn, "Count"); err != nil || len(got) != 3 || got[0] != "hello anonymous 0" {
		t.Errorf("public service stream: %q, %v", got, err)
	}
}

// Options.Token replaces the reading of the authorization metadata.
func TestTokenHook(t *testing.T) {
	e := newEnv(t)
	alice := e.Access(t, "alice")
	in := mustNew(t, e.Gate, grpcjwt.Options{
		Token: func(ctx context.Context, method string) (string, error) {
			if method != svc+"Hello" {
				return "", errors.New("unexpected method " + method)
			}
			if vs := metadata.ValueFromIncomingContext(ctx, "x-token"); len(vs) == 1 {
				if vs[0] == "bad" {
					return "", jwtgate.NewError(jwtgate.ErrBadHeader, "Bad x-token", nil)
				}
				return vs[0], nil
			}
			return "", nil
		},
	})
	conn := serve(t, in)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "x-token", alice)
	if got, err := call(ctx, conn, "Hello"); err != nil || got != "hello alice" {
		t.Errorf("x-token: %q, %v", got, err)
	}
	ctx = metadata.AppendToOutgoingContext(t.Context(), "x-token", "bad")
	if _, err := call(ctx, conn, "Hello", "Bearer "+alice); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "Bad x-token") {
		t.Errorf("bad x-token: %v", err)
	}
	if _, err := call(t.Context(), conn, "Hello", "Bearer "+alice); status.Code(err) != codes.Unauthenticated {
		t.Errorf("the authorization metadata is not read: %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name string
		opts grpcjwt.Options
		want string
	}{
		{"Locations", grpcjwt.Options{Default: jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InHeader{}}}}, "Locations"},
		{"WebSocket", grpcjwt.Options{Methods: map[string]jwtgate.RouteOptions{svc + "Hello": {WebSocket: true}}}, "WebSocket"},
		{"route the Gate refuses", grpcjwt.Options{Methods: map[string]jwtgate.RouteOptions{svc + "Hello": {IgnoreInvalid: true}}}, "IgnoreInvalid"},
		{"DPoPRequired without Config.DPoP", grpcjwt.Options{Default: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}}, "DPoPRequired"},
		{"name without slash", grpcjwt.Options{Public: []string{"Greeter.Hello"}}, "Greeter.Hello"},
		{"name without method slash", grpcjwt.Options{Methods: map[string]jwtgate.RouteOptions{"/Greeter": {}}}, "/Greeter"},
		{"name too deep", grpcjwt.Options{Public: []string{"/a/b/c"}}, "/a/b/c"},
		{"no service", grpcjwt.Options{Public: []string{"//Hello"}}, "//Hello"},
		{"public and in Methods", grpcjwt.Options{Public: []string{svc + "Hello"}, Methods: map[string]jwtgate.RouteOptions{svc + "Hello": {}}}, "both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := grpcjwt.New(e.Gate, tt.opts)
			if in != nil || !errors.Is(err, jwtgate.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, %v; want ErrConfig mentioning %q", in, err, tt.want)
			}
		})
	}
	if _, err := grpcjwt.New(nil, grpcjwt.Options{}); !errors.Is(err, jwtgate.ErrConfig) {
		t.Errorf("nil Gate: %v", err)
	}
}

func TestParseBearer(t *testing.T) {
	for _, tt := range []struct {
		in, tok string
		bad     bool
	}{
		{"Bearer abc", "abc", false},
		{"bearer abc", "abc", false},
		{"BEARER  abc", "abc", false},
		{"  Bearer abc  ", "abc", false},
		{"Bearer\tabc", "", true},
		{"", "", false},
		{"   ", "", false},
		{"Bearer", "", true},
		{"Bearer ", "", true},
		{"Bearer a b", "", true},
		{"Bearer a,b", "", true},
		{"Bearer a\tb", "", true},
		{"Basic abc", "", true},
		{"DPoP abc", "", true},
		{"abc", "", true},
		{"Bearerabc", "", true},
	} {
		tok, err := grpcjwt.ParseBearer(tt.in)
		if tok != tt.tok || (err != nil) != tt.bad || (err != nil && !errors.Is(err, jwtgate.ErrBadHeader)) {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, bad %v", tt.in, tok, err, tt.tok, tt.bad)
		}
	}
}

func TestCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code codes.Code
	}{
		{nil, codes.OK},
		{jwtgate.ErrNoToken, codes.Unauthenticated},
		{jwtgate.ErrBadHeader, codes.Unauthenticated},
		{jwtgate.ErrInvalid, codes.Unauthenticated},
		{jwtgate.ErrExpired, codes.Unauthenticated},
		{jwtgate.ErrRevoked, codes.Unauthenticated},
		{jwtgate.ErrWrongType, codes.Unauthenticated},
		{jwtgate.ErrUserLoad, codes.Unauthenticated},
		{jwtgate.ErrNotFresh, codes.PermissionDenied},
		{jwtgate.ErrInsufficientScope, codes.PermissionDenied},
		{jwtgate.ErrClaims, codes.PermissionDenied},
		{jwtgate.ErrCSRF, codes.PermissionDenied},
		{jwtgate.ErrDPoP, codes.Unauthenticated},
		{jwtgate.ErrDPoPNonce, codes.Unauthenticated},
		{jwtgate.ErrUnavailable, codes.Unavailable},
		{jwtgate.NewError(jwtgate.ErrUnavailable, "x", context.Canceled), codes.Canceled},
		{jwtgate.NewError(jwtgate.ErrUnavailable, "x", context.DeadlineExceeded), codes.DeadlineExceeded},
		{jwtgate.ErrConfig, codes.Internal},
		{errors.New("anything else"), codes.Unauthenticated},
	} {
		if got := grpcjwt.Code(tt.err); got != tt.code {
			t.Errorf("Code(%v) = %v, want %v", tt.err, got, tt.code)
		}
	}
}

// The context a handler sees is the interceptor's, in a direct call too
// (for chains that call Authenticate themselves).
func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	in := mustNew(t, e.Gate, testPolicy)
	ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+e.Access(t, "alice")))
	ctx2, err := in.Authenticate(ctx, svc+"Hello")
	if err != nil {
		t.Fatal(err)
	}
	if tok, ok := jwtgate.TokenFrom(ctx2); !ok || tok.Identity != "alice" {
		t.Errorf("TokenFrom: %v, %v", tok, ok)
	}
	if ctx3, err := in.Authenticate(t.Context(), svc+"Public"); err != nil || ctx3 != t.Context() {
		t.Errorf("public: %v, %v", ctx3, err)
	}
}
