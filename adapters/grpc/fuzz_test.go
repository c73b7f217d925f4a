package grpcjwt_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
)

// FuzzInterceptor sends malformed authorization metadata through both
// interceptors, as adaptertest.FuzzRPC says.
func FuzzInterceptor(f *testing.F) {
	e := newEnv(f)
	in := mustNew(f, e.Gate, grpcjwt.Options{})
	unaryInfo := &grpc.UnaryServerInfo{FullMethod: svc + "Hello"}
	streamInfo := &grpc.StreamServerInfo{FullMethod: svc + "Count", IsServerStream: true}
	incoming := func(vals []string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.MD{"authorization": vals})
	}
	read := func(vals []string) (string, error) { return grpcjwt.BearerToken(incoming(vals)) }
	adaptertest.FuzzRPC(f, e.Gate, e.Access(f, "alice"), read, func(t *testing.T, vals []string, check func(string, error, adaptertest.RPCCode, *jwtgate.Token)) {
		ctx := incoming(vals)
		var seen *jwtgate.Token
		_, err := in.Unary(ctx, nil, unaryInfo, func(ctx context.Context, _ any) (any, error) {
			seen, _ = jwtgate.TokenFrom(ctx)
			return nil, nil
		})
		check("unary", err, adaptertest.RPCCode(status.Code(err)), seen)

		seen = nil
		err = in.Stream(nil, fakeStream{ctx: ctx}, streamInfo, func(_ any, ss grpc.ServerStream) error {
			seen, _ = jwtgate.TokenFrom(ss.Context())
			return nil
		})
		check("stream", err, adaptertest.RPCCode(status.Code(err)), seen)
	})
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }
