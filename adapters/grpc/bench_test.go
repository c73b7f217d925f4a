package grpcjwt_test

import (
	"context"
	"net"
	"testing"
	"time"

	golangjwt "github.com/golang-jwt/jwt/v5"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
)

// bench is what every implementation shares: a Gate, the token, the
// unary interceptor of each implementation.
type bench struct {
	adaptertest.RPCBench
	unary map[string]grpc.UnaryServerInterceptor
	strm  map[string]grpc.StreamServerInterceptor
}

func newBench(b *testing.B) *bench {
	rb := adaptertest.NewRPCBench(b)
	in, err := grpcjwt.New(rb.Gate, grpcjwt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// go-grpc-middleware's auth interceptor with golang-jwt v5, as its
	// documentation shows it: the token from AuthFromMD, verified with
	// the algorithm pinned, the claims in the context.
	parser := golangjwt.NewParser(golangjwt.WithValidMethods([]string{"HS256"}), golangjwt.WithTimeFunc(func() time.Time { return rb.Now }))
	keyFunc := func(*golangjwt.Token) (any, error) { return rb.Secret, nil }
	authFunc := func(ctx context.Context) (context.Context, error) {
		raw, err := auth.AuthFromMD(ctx, "bearer")
		if err != nil {
			return nil, err
		}
		t, err := parser.Parse(raw, keyFunc)
		if err != nil {
			return nil, status.Error(codes.Unauthenticated, "invalid token")
		}
		claims, _ := t.Claims.(golangjwt.MapClaims)
		return context.WithValue(ctx, adaptertest.PeerClaimsKey{}, map[string]any(claims)), nil
	}
	return &bench{
		RPCBench: rb,
		unary: map[string]grpc.UnaryServerInterceptor{
			"unprotected": func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				return h(ctx, req)
			},
			"grpcjwt":            in.Unary,
			"go-grpc-middleware": auth.UnaryServerInterceptor(authFunc),
		},
		strm: map[string]grpc.StreamServerInterceptor{
			"unprotected": func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				return h(srv, ss)
			},
			"grpcjwt":            in.Stream,
			"go-grpc-middleware": auth.StreamServerInterceptor(authFunc),
		},
	}
}

var impls = []string{"unprotected", "grpcjwt", "required", "go-grpc-middleware"}

// BenchmarkUnary calls each unary interceptor directly, with the
// metadata a gRPC server would give it and a handler that checks the
// caller; "required" is the Gate's Required on net/http.
func BenchmarkUnary(b *testing.B) {
	bb := newBench(b)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+bb.Token))
	info := &grpc.UnaryServerInfo{FullMethod: svc + "Hello"}
	req := wrapperspb.String("hi")
	adaptertest.BenchRPC(b, bb.RPCBench, impls, func(impl string, check func(context.Context)) func() error {
		icpt := bb.unary[impl]
		handler := func(ctx context.Context, req any) (any, error) {
			check(ctx)
			return req, nil
		}
		return func() error {
			_, err := icpt(ctx, req, info, handler)
			return err
		}
	})
}

// BenchmarkStream calls each stream interceptor directly.
func BenchmarkStream(b *testing.B) {
	bb := newBench(b)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+bb.Token))
	ss := fakeStream{ctx: ctx}
	info := &grpc.StreamServerInfo{FullMethod: svc + "Count", IsServerStream: true}
	adaptertest.BenchRPC(b, bb.RPCBench, impls, func(impl string, check func(context.Context)) func() error {
		icpt := bb.strm[impl]
		handler := func(_ any, ss grpc.ServerStream) error {
			check(ss.Context())
			return nil
		}
		return func() error { return icpt(nil, ss, info, handler) }
	})
}

// BenchmarkBufconn makes whole unary calls over bufconn, for context: the
// interceptor's share of a real call.
func BenchmarkBufconn(b *testing.B) {
	bb := newBench(b)
	for _, impl := range impls {
		if impl == "required" {
			continue
		}
		b.Run("impl="+impl, func(b *testing.B) {
			lis := bufconn.Listen(1 << 20)
			srv := grpc.NewServer(grpc.UnaryInterceptor(bb.unary[impl]))
			srv.RegisterService(&greeterDesc, struct{}{})
			go func() { _ = srv.Serve(lis) }()
			defer srv.Stop()
			conn, err := grpc.NewClient("passthrough:///bufnet",
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+bb.Token)
			in, out := wrapperspb.String("hi"), new(wrapperspb.StringValue)
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.Invoke(ctx, svc+"Hello", in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
