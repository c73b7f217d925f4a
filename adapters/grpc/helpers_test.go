package grpcjwt_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
)

// The test service, written by hand over well-known types: Greeter with
// unary methods that answer "hello <identity>" (or "hello anonymous")
// and a server stream, Count, that sends three messages.
const svc = adaptertest.GreeterService

// reply is what every handler answers: who the context says the caller
// is, with the loaded user if any.
var reply = adaptertest.Greeting

func unaryMethod(name string) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) { return wrapperspb.String(reply(ctx)), nil }
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: svc + name}, h)
		},
	}
}

var countStream = grpc.StreamDesc{
	StreamName:    "Count",
	ServerStreams: true,
	Handler: func(_ any, stream grpc.ServerStream) error {
		in := new(wrapperspb.StringValue)
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		for i := range 3 {
			if err := stream.SendMsg(wrapperspb.String(fmt.Sprintf("%s %d", reply(stream.Context()), i))); err != nil {
				return err
			}
		}
		return nil
	},
}

var greeterDesc = grpc.ServiceDesc{
	ServiceName: "jwtgate.test.Greeter",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		unaryMethod("Hello"), unaryMethod("Fresh"), unaryMethod("Orders"), unaryMethod("Public"),
		unaryMethod("Maybe"), unaryMethod("Lenient"), unaryMethod("Refresh"), unaryMethod("Unchecked"),
	},
	Streams:  []grpc.StreamDesc{countStream},
	Metadata: "jwtgate_test.proto",
}

// testPolicy protects Greeter as adaptertest.GreeterPolicy says.
var testPolicy = options(adaptertest.GreeterPolicy())

// options maps the shared tests' options onto the interceptor's.
func options(o adaptertest.RPCOptions) grpcjwt.Options {
	opts := grpcjwt.Options{Default: o.Default, Methods: o.Methods, Public: o.Public, Origin: o.Origin}
	if o.Token {
		opts.Token = func(context.Context, string) (string, error) { return "", nil }
	}
	return opts
}

var secret = []byte("a secret of at least thirty-two bytes!")

// env is the adapters' shared HookEnv.
type env = adaptertest.HookEnv

func newEnv(t testing.TB) *env { return adaptertest.NewHookEnv(t, secret) }

// serve starts a Greeter protected by the interceptor on a bufconn
// listener and returns a connection to it, with the given dial options.
func serve(t testing.TB, in *grpcjwt.Interceptor, dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	return serveWith(t, grpc.ChainUnaryInterceptor(in.Unary), []grpc.ServerOption{grpc.StreamInterceptor(in.Stream)}, dial...)
}

// serveWith starts a Greeter with the given server options on a bufconn
// listener and returns a connection to it.
func serveWith(t testing.TB, opt grpc.ServerOption, more []grpc.ServerOption, dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(append([]grpc.ServerOption{opt}, more...)...)
	srv.RegisterService(&greeterDesc, struct{}{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	opts := append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, dial...)
	conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return conn
}

func mustNew(t testing.TB, g *jwtgate.Gate, opts grpcjwt.Options) *grpcjwt.Interceptor {
	t.Helper()
	in, err := grpcjwt.New(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	return in
}
