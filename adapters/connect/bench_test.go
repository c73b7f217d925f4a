package connectjwt_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	golangjwt "github.com/golang-jwt/jwt/v5"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
)

// peer is the interceptor Connect users write by hand (Connect has no
// JWT interceptor of its own; connectrpc.com/authn is not on the module
// proxy): the Authorization header, golang-jwt v5 with the algorithm
// pinned, the claims in the context.
type peer struct {
	parser *golangjwt.Parser
	secret []byte
}

func (p peer) authenticate(ctx context.Context, h http.Header) (context.Context, error) {
	raw, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no token"))
	}
	t, err := p.parser.Parse(raw, func(*golangjwt.Token) (any, error) { return p.secret, nil })
	if err != nil {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("invalid token"))
	}
	claims, _ := t.Claims.(golangjwt.MapClaims)
	return context.WithValue(ctx, adaptertest.PeerClaimsKey{}, map[string]any(claims)), nil
}

func (p peer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := p.authenticate(ctx, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (p peer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (p peer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := p.authenticate(ctx, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// passThrough is the unprotected chain: an interceptor that does nothing.
type passThrough struct{}

func (passThrough) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc { return next }
func (passThrough) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}
func (passThrough) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

type bench struct {
	adaptertest.RPCBench
	icpts  map[string]connect.Interceptor
	header http.Header
}

func newBench(b *testing.B) *bench {
	rb := adaptertest.NewRPCBench(b)
	in, err := connectjwt.New(rb.Gate, connectjwt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return &bench{
		RPCBench: rb,
		icpts: map[string]connect.Interceptor{
			"unprotected": passThrough{},
			"connectjwt":  in,
			"golang-jwt-interceptor": peer{golangjwt.NewParser(golangjwt.WithValidMethods([]string{"HS256"}),
				golangjwt.WithTimeFunc(func() time.Time { return rb.Now })), rb.Secret},
		},
		header: http.Header{"Authorization": {"Bearer " + rb.Token}},
	}
}

var impls = []string{"unprotected", "connectjwt", "required", "golang-jwt-interceptor"}

// BenchmarkUnary calls each interceptor's unary function directly, with
// the request a Connect handler would give it and a handler that checks
// the caller; "required" is the Gate's Required on net/http.
func BenchmarkUnary(b *testing.B) {
	bb := newBench(b)
	req := connect.NewRequest(wrapperspb.String("hi"))
	for k, v := range bb.header {
		req.Header()[k] = v
	}
	res := connect.NewResponse(wrapperspb.String("hello"))
	adaptertest.BenchRPC(b, bb.RPCBench, impls, func(impl string, check func(context.Context)) func() error {
		f := bb.icpts[impl].WrapUnary(func(ctx context.Context, _ connect.AnyRequest) (connect.AnyResponse, error) {
			check(ctx)
			return res, nil
		})
		ctx := context.Background()
		return func() error {
			_, err := f(ctx, req)
			return err
		}
	})
}

// BenchmarkStream calls each interceptor's streaming handler function
// directly.
func BenchmarkStream(b *testing.B) {
	bb := newBench(b)
	conn := fakeConn{header: bb.header}
	adaptertest.BenchRPC(b, bb.RPCBench, impls, func(impl string, check func(context.Context)) func() error {
		f := bb.icpts[impl].WrapStreamingHandler(func(ctx context.Context, _ connect.StreamingHandlerConn) error {
			check(ctx)
			return nil
		})
		ctx := context.Background()
		return func() error { return f(ctx, conn) }
	})
}

// BenchmarkH2C makes whole unary calls with a Connect client over h2c on
// loopback, for context: the interceptor's share of a real call.
func BenchmarkH2C(b *testing.B) {
	bb := newBench(b)
	tr := transports[1]
	for _, impl := range impls {
		if impl == "required" {
			continue
		}
		b.Run("impl="+impl, func(b *testing.B) {
			url, hc := server(b, handler(bb.icpts[impl]), tr)
			c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+"Hello")
			req := connect.NewRequest(wrapperspb.String("hi"))
			req.Header().Set("Authorization", "Bearer "+bb.Token)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.CallUnary(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
