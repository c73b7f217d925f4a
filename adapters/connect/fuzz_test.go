package connectjwt_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
)

// FuzzInterceptor sends malformed Authorization headers through the
// unary and streaming interceptors, as adaptertest.FuzzRPC says.
func FuzzInterceptor(f *testing.F) {
	e := newEnv(f)
	in := mustNew(f, e.Gate, connectjwt.Options{})
	var seen *jwtgate.Token
	unary := in.WrapUnary(func(ctx context.Context, _ connect.AnyRequest) (connect.AnyResponse, error) {
		seen, _ = jwtgate.TokenFrom(ctx)
		return connect.NewResponse(&emptypb.Empty{}), nil
	})
	stream := in.WrapStreamingHandler(func(ctx context.Context, _ connect.StreamingHandlerConn) error {
		seen, _ = jwtgate.TokenFrom(ctx)
		return nil
	})
	read := func(vals []string) (string, error) { return connectjwt.BearerToken(http.Header{"Authorization": vals}) }
	adaptertest.FuzzRPC(f, e.Gate, e.Access(f, "alice"), read, func(t *testing.T, vals []string, check func(string, error, adaptertest.RPCCode, *jwtgate.Token)) {
		req := connect.NewRequest(&emptypb.Empty{})
		req.Header()["Authorization"] = vals
		seen = nil
		_, err := unary(context.Background(), req)
		check("unary", err, adaptertest.RPCCode(connect.CodeOf(err)), seen)

		seen = nil
		err = stream(context.Background(), fakeConn{header: http.Header{"Authorization": vals}})
		check("stream", err, adaptertest.RPCCode(connect.CodeOf(err)), seen)
	})
}

// fakeConn is the handler side of a stream, with only its request
// header and spec.
type fakeConn struct {
	connect.StreamingHandlerConn
	header http.Header
}

func (c fakeConn) Spec() connect.Spec {
	return connect.Spec{Procedure: svc + "Count", StreamType: connect.StreamTypeServer}
}
func (c fakeConn) RequestHeader() http.Header { return c.header }
