package grpcjwt_test

import (
	"context"
	"strings"
	"sync"
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
// middleware. DPoP proofs are for POST to the origin and the full
// method: Options.Origin for the unary interceptor, the :authority
// (plaintext, so http) for the stream interceptor and the server.
func TestConformance(t *testing.T) {
	code := func(sentinel error) any { return grpcjwt.Code(sentinel) }
	codeOf := func(err error) any { return status.Code(err) }
	interceptor := func(t testing.TB, g *jwtgate.Gate, opts grpcjwt.Options) *grpcjwt.Interceptor {
		in, err := grpcjwt.New(g, opts)
		if err != nil {
			t.Fatalf("New refuses options the Gate accepts: %v", err)
		}
		return in
	}
	incoming := func(md adaptertest.Metadata, kv ...string) context.Context {
		in := metadata.MD{}
		for k, vs := range md {
			in[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			in[kv[i]] = []string{kv[i+1]}
		}
		return metadata.NewIncomingContext(context.Background(), in)
	}
	t.Run("unary", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "grpcjwt unary", Code: code, CodeOf: codeOf, URL: "https://api.example" + svc + "Hello",
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md adaptertest.Metadata) (*adaptertest.Seen, adaptertest.Metadata, error) {
				var seen *adaptertest.Seen
				sts := &transportStream{}
				ctx := grpc.NewContextWithServerTransportStream(incoming(md), sts)
				in := interceptor(t, g, grpcjwt.Options{Default: opts, Origin: "https://api.example"})
				_, err := in.Unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: svc + "Hello"},
					func(ctx context.Context, _ any) (any, error) {
						s := adaptertest.SeenFrom(ctx, nil)
						seen = &s
						return nil, nil
					})
				return seen, sts.answer(), err
			}})
	})
	t.Run("stream", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "grpcjwt stream", Code: code, CodeOf: codeOf, URL: "http://api.example" + svc + "Count",
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md adaptertest.Metadata) (*adaptertest.Seen, adaptertest.Metadata, error) {
				var seen *adaptertest.Seen
				sts := &transportStream{}
				ctx := grpc.NewContextWithServerTransportStream(incoming(md, ":authority", "api.example"), sts)
				err := interceptor(t, g, grpcjwt.Options{Default: opts}).Stream(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{FullMethod: svc + "Count"},
					func(_ any, ss grpc.ServerStream) error {
						s := adaptertest.SeenFrom(ss.Context(), nil)
						seen = &s
						return nil
					})
				return seen, sts.answer(), err
			}})
	})
	t.Run("bufconn", func(t *testing.T) {
		adaptertest.RunRPC(t, adaptertest.RPC{Name: "grpcjwt over bufconn", Code: code, CodeOf: codeOf, URL: "http://bufnet" + svc + "Hello",
			Call: func(t testing.TB, g *jwtgate.Gate, opts jwtgate.RouteOptions, md adaptertest.Metadata) (*adaptertest.Seen, adaptertest.Metadata, error) {
				var seen *adaptertest.Seen
				in := interceptor(t, g, grpcjwt.Options{Default: opts})
				record := grpc.ChainUnaryInterceptor(in.Unary, func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
					s := adaptertest.SeenFrom(ctx, nil)
					seen = &s
					return h(ctx, req)
				})
				conn := serveWith(t, record, nil)
				ctx := context.Background()
				for k, vs := range md {
					for _, v := range vs {
						ctx = metadata.AppendToOutgoingContext(ctx, k, v)
					}
				}
				var header, trailer metadata.MD
				err := conn.Invoke(ctx, svc+"Hello", wrapperspb.String("hi"), new(wrapperspb.StringValue), grpc.Header(&header), grpc.Trailer(&trailer))
				if seen == nil && err == nil {
					err = status.Error(codes.Internal, "the call succeeded without reaching the handler")
				}
				return seen, adaptertest.Metadata(metadata.Join(header, trailer)), err
			}})
	})
}

// transportStream records the headers and trailers an interceptor sets
// (grpc.SetHeader, grpc.SetTrailer) on a call that it runs outside a
// server.
type transportStream struct {
	mu sync.Mutex
	md metadata.MD
}

func (s *transportStream) Method() string { return "" }

func (s *transportStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.md = metadata.Join(s.md, md)
	return nil
}

func (s *transportStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *transportStream) SetTrailer(md metadata.MD) error { return s.SetHeader(md) }

// answer returns the metadata set, with lower-case keys.
func (s *transportStream) answer() adaptertest.Metadata {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := adaptertest.Metadata{}
	for k, vs := range s.md {
		out[strings.ToLower(k)] = vs
	}
	return out
}
