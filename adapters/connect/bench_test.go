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

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
	"github.com/jwtgate/jwtgate/jwt"
)

// The root package's benchmark token: HS256 over the JOSE core's
// benchmark claims, verified at a fixed time.
const benchPayload = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

var (
	benchSecret = []byte("0123456789abcdef0123456789abcdef")
	benchNow    = time.Unix(1767227400, 0)
)

// claimsKey carries golang-jwt's claims in the peer's context.
type claimsKey struct{}

// peer is the interceptor Connect users write by hand (Connect has no
// JWT interceptor of its own; connectrpc.com/authn is not on the module
// proxy): the Authorization header, golang-jwt v5 with the algorithm
// pinned, the claims in the context.
type peer struct{ parser *golangjwt.Parser }

func (p peer) authenticate(ctx context.Context, h http.Header) (context.Context, error) {
	raw, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no token"))
	}
	t, err := p.parser.Parse(raw, func(*golangjwt.Token) (any, error) { return benchSecret, nil })
	if err != nil {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("invalid token"))
	}
	return context.WithValue(ctx, claimsKey{}, t.Claims), nil
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
	gate   *jwtgate.Gate
	token  string
	icpts  map[string]connect.Interceptor
	header http.Header
}

func newBench(b *testing.B) *bench {
	key, err := jwt.NewHMACKey(benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, Clock: func() time.Time { return benchNow }})
	if err != nil {
		b.Fatal(err)
	}
	s, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := s.Sign([]byte(benchPayload))
	if err != nil {
		b.Fatal(err)
	}
	in, err := connectjwt.New(g, connectjwt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return &bench{
		gate:  g,
		token: tok,
		icpts: map[string]connect.Interceptor{
			"unprotected": passThrough{},
			"connectjwt":  in,
			"golang-jwt-interceptor": peer{golangjwt.NewParser(golangjwt.WithValidMethods([]string{"HS256"}),
				golangjwt.WithTimeFunc(func() time.Time { return benchNow }))},
		},
		header: http.Header{"Authorization": {"Bearer " + tok}},
	}
}

// authenticated reports whether a handler's context carries the caller,
// whichever implementation put it there.
func authenticated(ctx context.Context) bool {
	if t, ok := jwtgate.TokenFrom(ctx); ok {
		return t.Identity == "user-12345"
	}
	if c, ok := ctx.Value(claimsKey{}).(golangjwt.MapClaims); ok {
		return c["sub"] == "user-12345"
	}
	return false
}

var impls = []string{"unprotected", "connectjwt", "required", "golang-jwt-interceptor"}

// benchRequired measures the Gate's own Required on net/http with the
// same token and handler work: the baseline the adapters are held to.
func benchRequired(b *testing.B, bb *bench) {
	adaptertest.BenchRequired(b, bb.gate, bb.token, authenticated)
}

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
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			if impl == "required" {
				benchRequired(b, bb)
				return
			}
			f := bb.icpts[impl].WrapUnary(func(ctx context.Context, _ connect.AnyRequest) (connect.AnyResponse, error) {
				if impl != "unprotected" && !authenticated(ctx) {
					panic("not authenticated")
				}
				return res, nil
			})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStream calls each interceptor's streaming handler function
// directly.
func BenchmarkStream(b *testing.B) {
	bb := newBench(b)
	conn := fakeConn{header: bb.header}
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			if impl == "required" {
				benchRequired(b, bb)
				return
			}
			f := bb.icpts[impl].WrapStreamingHandler(func(ctx context.Context, _ connect.StreamingHandlerConn) error {
				if impl != "unprotected" && !authenticated(ctx) {
					panic("not authenticated")
				}
				return nil
			})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := f(ctx, conn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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
			req.Header().Set("Authorization", "Bearer "+bb.token)
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
