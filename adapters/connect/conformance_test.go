package connectjwt_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
)

// The conformance suite: every scenario that applies to RPCs, through the
// unary and streaming interceptors called as a Connect handler calls
// them, and through a real Connect client and server over h2c, against
// the Gate's own middleware.
func TestConformance(t *testing.T) {
	code := func(sentinel error) any { return connectjwt.Code(sentinel) }
	codeOf := func(err error) any { return connect.CodeOf(err) }
	interceptor := func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions) *connectjwt.Interceptor {
		in, err := connectjwt.New(g, connectjwt.Options{Default: opts})
		if err != nil {
			t.Fatalf("New refuses options the Gate accepts: %v", err)
		}
		return in
	}
	t.Run("unary", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "connectjwt unary", Code: code, CodeOf: codeOf,
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, auth []string) (*adaptertest.Seen, error) {
				var seen *adaptertest.Seen
				f := interceptor(t, g, opts).WrapUnary(func(ctx context.Context, _ connect.AnyRequest) (connect.AnyResponse, error) {
					s := adaptertest.SeenFrom(ctx, nil)
					seen = &s
					return connect.NewResponse(&emptypb.Empty{}), nil
				})
				req := connect.NewRequest(&emptypb.Empty{})
				for _, a := range auth {
					req.Header().Add("Authorization", a)
				}
				_, err := f(context.Background(), req)
				return seen, err
			}})
	})
	t.Run("stream", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "connectjwt stream", Code: code, CodeOf: codeOf,
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, auth []string) (*adaptertest.Seen, error) {
				var seen *adaptertest.Seen
				f := interceptor(t, g, opts).WrapStreamingHandler(func(ctx context.Context, _ connect.StreamingHandlerConn) error {
					s := adaptertest.SeenFrom(ctx, nil)
					seen = &s
					return nil
				})
				h := http.Header{}
				for _, a := range auth {
					h.Add("Authorization", a)
				}
				return seen, f(context.Background(), fakeConn{header: h})
			}})
	})
	t.Run("h2c", func(t *testing.T) {
		tr := transports[1]
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "connectjwt over h2c", Code: code, CodeOf: codeOf,
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, auth []string) (*adaptertest.Seen, error) {
				var seen *adaptertest.Seen
				mux := http.NewServeMux()
				mux.Handle(svc+"Hello", connect.NewUnaryHandler(svc+"Hello",
					func(ctx context.Context, _ *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
						s := adaptertest.SeenFrom(ctx, nil)
						seen = &s
						return connect.NewResponse(wrapperspb.String("hello")), nil
					}, connect.WithInterceptors(interceptor(t, g, opts))))
				url, hc := server(t, mux, tr)
				c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+"Hello")
				req := connect.NewRequest(wrapperspb.String("hi"))
				for _, a := range auth {
					req.Header().Add("Authorization", a)
				}
				_, err := c.CallUnary(context.Background(), req)
				if seen == nil && err == nil {
					err = connect.NewError(connect.CodeInternal, errors.New("the call succeeded without reaching the handler"))
				}
				return seen, err
			}})
	})
}
