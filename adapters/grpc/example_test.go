package grpcjwt_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
	"github.com/jwtgate/jwtgate/jwt"
)

// whoAmI is a one-method service written without generated code: WhoAmI
// takes an Empty and answers with the caller's identity.
var whoAmI = grpc.ServiceDesc{
	ServiceName: "example.Users",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "WhoAmI",
		Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			if err := dec(new(emptypb.Empty)); err != nil {
				return nil, err
			}
			handler := func(ctx context.Context, _ any) (any, error) {
				t, _ := jwtgate.TokenFrom(ctx) // the interceptor put it there
				return wrapperspb.String(t.Identity), nil
			}
			if icpt == nil {
				return handler(ctx, nil)
			}
			return icpt(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/example.Users/WhoAmI"}, handler)
		},
	}},
}

// A server that needs a token on every method, and a client whose
// per-RPC credentials fetch one.
func Example() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key})

	// The server: every method needs an access token unless the policy
	// says otherwise.
	in, err := grpcjwt.New(gate, grpcjwt.Options{})
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(in.Unary), grpc.StreamInterceptor(in.Stream))
	srv.RegisterService(&whoAmI, nil)
	lis := bufconn.Listen(1 << 16)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	dialer := grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })

	// A client without credentials is refused.
	conn, _ := grpc.NewClient("passthrough:///example", dialer, grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer conn.Close()
	err = conn.Invoke(context.Background(), "/example.Users/WhoAmI", &emptypb.Empty{}, new(wrapperspb.StringValue))
	fmt.Println(status.Code(err), status.Convert(err).Message())

	// A client with credentials. The fetch callback would call a login or
	// token service; bufconn has no transport security, hence
	// AllowInsecure.
	creds := grpcjwt.NewCredentials(func(ctx context.Context) (string, error) {
		return gate.CreateAccessToken(ctx, "alice")
	}, grpcjwt.CredentialsOptions{AllowInsecure: true})
	conn, _ = grpc.NewClient("passthrough:///example", dialer, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(creds), grpc.WithChainUnaryInterceptor(creds.RetryUnary))
	defer conn.Close()
	who := new(wrapperspb.StringValue)
	err = conn.Invoke(context.Background(), "/example.Users/WhoAmI", &emptypb.Empty{}, who)
	fmt.Println(who.GetValue(), err)
	// Output:
	// Unauthenticated Request does not contain an access token
	// alice <nil>
}

// A policy: a public service, an optional method, and a method that
// needs a fresh token with a scope.
func ExampleNew() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key})
	in, err := grpcjwt.New(gate, grpcjwt.Options{
		Methods: map[string]jwtgate.RouteOptions{
			"/shop.Catalog/Recommend": {Optional: true},
			"/shop.Orders/Cancel":     {Fresh: true, Scopes: []string{"orders:write"}},
		},
		Public: []string{"/grpc.health.v1.Health/", "/shop.Catalog/List"},
	})
	if err != nil {
		panic(err)
	}
	_ = grpc.NewServer(grpc.UnaryInterceptor(in.Unary), grpc.StreamInterceptor(in.Stream))

	// A mistake is caught when the interceptor is made.
	_, err = grpcjwt.New(gate, grpcjwt.Options{Public: []string{"shop.Catalog.List"}})
	fmt.Println(err)
	// Output:
	// jwtgate: invalid configuration: grpcjwt: Public: method name "shop.Catalog.List": want "/package.Service/Method" or "/package.Service/"
}
