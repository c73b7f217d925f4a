package grpcjwt_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
)

// FuzzInterceptor sends malformed authorization metadata through both
// interceptors: never a panic; a call passes only with a token the Gate
// accepts, and every refusal is Unauthenticated.
func FuzzInterceptor(f *testing.F) {
	e := newEnv(f)
	valid := e.Access(f, "alice")
	in := mustNew(f, e.Gate, grpcjwt.Options{})
	for _, seed := range adaptertest.RPCSeeds(valid) {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	unaryInfo := &grpc.UnaryServerInfo{FullMethod: svc + "Hello"}
	streamInfo := &grpc.StreamServerInfo{FullMethod: svc + "Count", IsServerStream: true}
	f.Fuzz(func(t *testing.T, value string, twice bool) {
		md := metadata.MD{"authorization": {value}}
		if twice {
			md["authorization"] = append(md["authorization"], "Bearer "+valid)
		}
		ctx := metadata.NewIncomingContext(context.Background(), md)
		tok, perr := grpcjwt.ParseBearer(value)
		// The oracle is the Gate itself: seeds made in one process are
		// replayed in others, with other tokens.
		wantOK := false
		if !twice && perr == nil && tok != "" {
			_, verr := e.Gate.VerifyToken(context.Background(), tok, jwtgate.RouteOptions{})
			wantOK = verr == nil
		}

		var seen *jwtgate.Token
		_, err := in.Unary(ctx, nil, unaryInfo, func(ctx context.Context, _ any) (any, error) {
			seen, _ = jwtgate.TokenFrom(ctx)
			return nil, nil
		})
		check(t, "unary", value, err, wantOK, seen)

		seen = nil
		err = in.Stream(nil, fakeStream{ctx: ctx}, streamInfo, func(_ any, ss grpc.ServerStream) error {
			seen, _ = jwtgate.TokenFrom(ss.Context())
			return nil
		})
		check(t, "stream", value, err, wantOK, seen)
	})
}

func check(t *testing.T, kind, value string, err error, wantOK bool, seen *jwtgate.Token) {
	t.Helper()
	adaptertest.CheckCall(t, kind, value, "alice", wantOK, err, status.Code(err) == codes.Unauthenticated, seen)
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }
