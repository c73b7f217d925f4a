package connectjwt_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
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
// the Gate's own middleware. DPoP proofs are for POST to the origin and
// the procedure: Options.Origin for the interceptors called directly, the
// Host header (taken as https) over h2c.
func TestConformance(t *testing.T) {
	code := func(sentinel error) any { return connectjwt.Code(sentinel) }
	codeOf := func(err error) any { return connect.CodeOf(err) }
	interceptor := func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, origin string) *connectjwt.Interceptor {
		in, err := connectjwt.New(g, connectjwt.Options{Default: opts, Origin: origin})
		if err != nil {
			t.Fatalf("New refuses options the Gate accepts: %v", err)
		}
		return in
	}
	t.Run("unary", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "connectjwt unary", Code: code, CodeOf: codeOf, URL: "https://api.example", // connect.NewRequest's Spec has no procedure
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md adaptertest.Metadata) (*adaptertest.Seen, adaptertest.Metadata, error) {
				var seen *adaptertest.Seen
				f := interceptor(t, g, opts, "https://api.example").WrapUnary(func(ctx context.Context, _ connect.AnyRequest) (connect.AnyResponse, error) {
					s := adaptertest.SeenFrom(ctx, nil)
					seen = &s
					return connect.NewResponse(&emptypb.Empty{}), nil
				})
				req := connect.NewRequest(&emptypb.Empty{})
				addHeaders(req.Header(), md)
				_, err := f(context.Background(), req)
				return seen, answer(nil, err), err
			}})
	})
	t.Run("stream", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "connectjwt stream", Code: code, CodeOf: codeOf, URL: "https://api.example" + svc + "Count",
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md adaptertest.Metadata) (*adaptertest.Seen, adaptertest.Metadata, error) {
				var seen *adaptertest.Seen
				f := interceptor(t, g, opts, "https://api.example").WrapStreamingHandler(func(ctx context.Context, _ connect.StreamingHandlerConn) error {
					s := adaptertest.SeenFrom(ctx, nil)
					seen = &s
					return nil
				})
				conn := answeringConn{fakeConn: fakeConn{header: http.Header{}}, response: http.Header{}}
				addHeaders(conn.header, md)
				err := f(context.Background(), conn)
				return seen, answer(conn.response, err), err
			}})
	})
	t.Run("h2c", func(t *testing.T) {
		tr := transports[1]
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "connectjwt over h2c", Code: code, CodeOf: codeOf, URL: "https://api.example" + svc + "Hello",
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md adaptertest.Metadata) (*adaptertest.Seen, adaptertest.Metadata, error) {
				var seen *adaptertest.Seen
				mux := http.NewServeMux()
				mux.Handle(svc+"Hello", connect.NewUnaryHandler(svc+"Hello",
					func(ctx context.Context, _ *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
						s := adaptertest.SeenFrom(ctx, nil)
						seen = &s
						return connect.NewResponse(wrapperspb.String("hello")), nil
					}, connect.WithInterceptors(interceptor(t, g, opts, ""))))
				url, hc := server(t, mux, tr)
				c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+"Hello")
				req := connect.NewRequest(wrapperspb.String("hi"))
				addHeaders(req.Header(), md)
				req.Header().Set("Host", "api.example")
				res, err := c.CallUnary(context.Background(), req)
				if seen == nil && err == nil {
					err = connect.NewError(connect.CodeInternal, errors.New("the call succeeded without reaching the handler"))
				}
				var h http.Header
				if res != nil {
					h = res.Header()
				}
				return seen, answer(h, err), err
			}})
	})
}

// addHeaders adds the values of md to h.
func addHeaders(h http.Header, md adaptertest.Metadata) {
	for k, vs := range md {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
}

// answer returns the metadata of an answer: the response header h and
// the metadata of err (a *connect.Error), with lower-case keys; a value
// in both (the DPoP nonce of a unary refusal) is given once.
func answer(h http.Header, err error) adaptertest.Metadata {
	md := adaptertest.Metadata{}
	add := func(h http.Header) {
		for k, vs := range h {
			k = strings.ToLower(k)
			for _, v := range vs {
				if !slices.Contains(md[k], v) {
					md[k] = append(md[k], v)
				}
			}
		}
	}
	add(h)
	if ce := (*connect.Error)(nil); errors.As(err, &ce) {
		add(ce.Meta())
	}
	return md
}

// answeringConn is a fakeConn with a response header.
type answeringConn struct {
	fakeConn
	response http.Header
}

func (c answeringConn) ResponseHeader() http.Header { return c.response }
