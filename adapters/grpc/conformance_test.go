package grpcjwt_test

import (
	"context"
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

// The conformance suite: every scenario that applies to RPCs, through the
// unary and the stream interceptor called as a gRPC server calls them,
// and through a real server over bufconn, against the Gate's own
// middleware.
func TestConformance(t *testing.T) {
	code := func(sentinel error) any { return grpcjwt.Code(sentinel) }
	codeOf := func(err error) any { return status.Code(err) }
	interceptor := func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions) *grpcjwt.Interceptor {
		in, err := grpcjwt.New(g, grpcjwt.Options{Default: opts})
		if err != nil {
			t.Fatalf("New refuses options the Gate accepts: %v", err)
		}
		return in
	}
	incoming := func(auth []string) context.Context {
		md := metadata.MD{}
		if len(auth) > 0 {
			md["authorization"] = auth
		}
		return metadata.NewIncomingContext(context.Background(), md)
	}
	t.Run("unary", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "grpcjwt unary", Code: code, CodeOf: codeOf,
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, auth []string) (*adaptertest.Seen, error) {
				var seen *adaptertest.Seen
				_, err := interceptor(t, g, opts).Unary(incoming(auth), nil, &grpc.UnaryServerInfo{FullMethod: svc + "Hello"},
					func(ctx context.Context, _ any) (any, error) {
						s := adaptertest.SeenFrom(ctx, nil)
						seen = &s
						return nil, nil
					})
				return seen, err
			}})
	})
	t.Run("stream", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "grpcjwt stream", Code: code, CodeOf: codeOf,
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, auth []string) (*adaptertest.Seen, error) {
				var seen *adaptertest.Seen
				err := interceptor(t, g, opts).Stream(nil, fakeStream{ctx: incoming(auth)}, &grpc.StreamServerInfo{FullMethod: svc + "Count"},
					func(_ any, ss grpc.ServerStream) error {
						s := adaptertest.SeenFrom(ss.Context(), nil)
						seen = &s
						return nil
					})
				return seen, err
			}})
	})
	t.Run("bufconn", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "grpcjwt over bufconn", Code: code, CodeOf: codeOf,
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, auth []string) (*adaptertest.Seen, error) {
				var seen *adaptertest.Seen
				in := interceptor(t, g, opts)
				record := grpc.ChainUnaryInterceptor(in.Unary, func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
					s := adaptertest.SeenFrom(ctx, nil)
					seen = &s
					return h(ctx, req)
				})
				conn := serveWith(t, record, nil)
				ctx := context.Background()
				for _, a := range auth {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
				}
				err := conn.Invoke(ctx, svc+"Hello", wrapperspb.String("hi"), new(wrapperspb.StringValue))
				if seen == nil && err == nil {
					err = status.Error(codes.Internal, "the call succeeded without reaching the handler")
				}
				return seen, err
			}})
	})
}
