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
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
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
	for _, c := range adaptertest.RPCUnaryCalls(t, e) {
		t.Run(c.Name, func(t *testing.T) {
			got, err := call(t.Context(), conn, c.Method, c.Auth...)
			st := status.Convert(err)
			c.Check(t, got, err, adaptertest.RPCCode(st.Code()), st.Message())
		})
	}
}

// Stores that cannot answer refuse the call: fail closed.
func TestUnavailable(t *testing.T) {
	e := newEnv(t)
	conn := serve(t, mustNew(t, e.Gate, testPolicy))
	alice := "Bearer " + e.Access(t, "alice")
	for _, tt := range adaptertest.StoreOutages(e) {
		t.Run(tt.Name, func(t *testing.T) {
			tt.Down(true)
			defer tt.Down(false)
			_, err := call(t.Context(), conn, "Hello", alice)
			if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != tt.Want {
				t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), tt.Want)
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

	for _, c := range adaptertest.RPCStreamRefusals(t, e) {
		t.Run(c.Name, func(t *testing.T) {
			got, err := readStream(t.Context(), conn, c.Method, c.Auth...)
			if len(got) != 0 {
				t.Errorf("the stream sent %q", got)
			}
			st := status.Convert(err)
			c.Check(t, "", err, adaptertest.RPCCode(st.Code()), st.Message())
		})
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
	adaptertest.RunRPCNewRefuses(t, func(g *jwtgate.Gate, o adaptertest.RPCOptions) (*grpcjwt.Interceptor, error) {
		return grpcjwt.New(g, options(o))
	})
}

func TestBearer(t *testing.T) {
	adaptertest.RunRPCBearer(t, grpcjwt.ParseBearer, func(vs []string) (string, error) {
		return grpcjwt.BearerToken(metadata.NewIncomingContext(t.Context(), metadata.MD{"authorization": vs}))
	})
}

func TestCode(t *testing.T) {
	adaptertest.RunRPCCodes(t, "Code", grpcjwt.Code)
	if got := grpcjwt.Code(nil); got != codes.OK {
		t.Errorf("Code(nil) = %v, want OK", got)
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
