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
// unary and streaming interceptors: never a panic; a call passes only
// with a token the Gate accepts, and every refusal is
// CodeUnauthenticated.
func FuzzInterceptor(f *testing.F) {
	e := newEnv(f)
	valid := e.Access(f, "alice")
	in := mustNew(f, e.Gate, connectjwt.Options{})
	for _, seed := range adaptertest.RPCSeeds(valid) {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	var seen *jwtgate.Token
	unary := in.WrapUnary(func(ctx context.Context, _ connect.AnyRequest) (connect.AnyResponse, error) {
		seen, _ = jwtgate.TokenFrom(ctx)
		return connect.NewResponse(&emptypb.Empty{}), nil
	})
	stream := in.WrapStreamingHandler(func(ctx context.Context, _ connect.StreamingHandlerConn) error {
		seen, _ = jwtgate.TokenFrom(ctx)
		return nil
	})
	f.Fuzz(func(t *testing.T, value string, twice bool) {
		h := http.Header{"Authorization": {value}}
		if twice {
			h.Add("Authorization", "Bearer "+valid)
		}
		// The oracle is the Gate itself: seeds made in one process are
		// replayed in others, with other tokens.
		wantOK := false
		if tok, err := connectjwt.BearerToken(h); err == nil && tok != "" {
			_, verr := e.Gate.VerifyToken(context.Background(), tok, jwtgate.RouteOptions{})
			wantOK = verr == nil
		}

		req := connect.NewRequest(&emptypb.Empty{})
		for k, v := range h {
			req.Header()[k] = v
		}
		seen = nil
		_, err := unary(context.Background(), req)
		check(t, "unary", value, err, wantOK, seen)

		seen = nil
		err = stream(context.Background(), fakeConn{header: h})
		check(t, "stream", value, err, wantOK, seen)
	})
}

func check(t *testing.T, kind, value string, err error, wantOK bool, seen *jwtgate.Token) {
	t.Helper()
	adaptertest.CheckCall(t, kind, value, "alice", wantOK, err, connect.CodeOf(err) == connect.CodeUnauthenticated, seen)
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
