package grpcjwt_test

import (
	"context"
	"net"
	"testing"
	"time"

	golangjwt "github.com/golang-jwt/jwt/v5"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
	"github.com/jwtgate/jwtgate/jwt"
)

// The root package's benchmark token: HS256 over the JOSE core's
// benchmark claims, verified at a fixed time.
const benchPayload = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

var (
	benchSecret = []byte("0123456789abcdef0123456789abcdef")
	benchNow    = time.Unix(1767227400, 0)
)

// bench is what every implementation shares: a Gate, the token, the
// unary interceptor of each implementation.
type bench struct {
	gate  *jwtgate.Gate
	token string
	unary map[string]grpc.UnaryServerInterceptor
	strm  map[string]grpc.StreamServerInterceptor
}

// claimsKey carries golang-jwt's claims in the peer's context.
type claimsKey struct{}

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
	in, err := grpcjwt.New(g, grpcjwt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// go-grpc-middleware's auth interceptor with golang-jwt v5, as its
	// documentation shows it: the token from AuthFromMD, verified with
	// the algorithm pinned, the claims in the context.
	parser := golangjwt.NewParser(golangjwt.WithValidMethods([]string{"HS256"}), golangjwt.WithTimeFunc(func() time.Time { return benchNow }))
	keyFunc := func(*golangjwt.Token) (any, error) { return benchSecret, nil }
	authFunc := func(ctx context.Context) (context.Context, error) {
		raw, err := auth.AuthFromMD(ctx, "bearer")
		if err != nil {
			return nil, err
		}
		t, err := parser.Parse(raw, keyFunc)
		if err != nil {
			return nil, status.Error(codes.Unauthenticated, "invalid token")
		}
		return context.WithValue(ctx, claimsKey{}, t.Claims), nil
	}
	return &bench{
		gate:  g,
		token: tok,
		unary: map[string]grpc.UnaryServerInterceptor{
			"unprotected": func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				return h(ctx, req)
			},
			"grpcjwt":            in.Unary,
			"go-grpc-middleware": auth.UnaryServerInterceptor(authFunc),
		},
		strm: map[string]grpc.StreamServerInterceptor{
			"unprotected": func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				return h(srv, ss)
			},
			"grpcjwt":            in.Stream,
			"go-grpc-middleware": auth.StreamServerInterceptor(authFunc),
		},
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

var impls = []string{"unprotected", "grpcjwt", "required", "go-grpc-middleware"}

// benchRequired measures the Gate's own Required on net/http with the
// same token and handler work: the baseline the adapters are held to.
func benchRequired(b *testing.B, bb *bench) {
	adaptertest.BenchRequired(b, bb.gate, bb.token, authenticated)
}

// BenchmarkUnary calls each unary interceptor directly, with the
// metadata a gRPC server would give it and a handler that checks the
// caller; "required" is the Gate's Required on net/http.
func BenchmarkUnary(b *testing.B) {
	bb := newBench(b)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+bb.token))
	info := &grpc.UnaryServerInfo{FullMethod: svc + "Hello"}
	req := wrapperspb.String("hi")
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			if impl == "required" {
				benchRequired(b, bb)
				return
			}
			icpt := bb.unary[impl]
			handler := func(ctx context.Context, req any) (any, error) {
				if impl != "unprotected" && !authenticated(ctx) {
					panic("not authenticated")
				}
				return req, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := icpt(ctx, req, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStream calls each stream interceptor directly.
func BenchmarkStream(b *testing.B) {
	bb := newBench(b)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+bb.token))
	ss := fakeStream{ctx: ctx}
	info := &grpc.StreamServerInfo{FullMethod: svc + "Count", IsServerStream: true}
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			if impl == "required" {
				benchRequired(b, bb)
				return
			}
			icpt := bb.strm[impl]
			handler := func(_ any, ss grpc.ServerStream) error {
				if impl != "unprotected" && !authenticated(ss.Context()) {
					panic("not authenticated")
				}
				return nil
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := icpt(nil, ss, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBufconn makes whole unary calls over bufconn, for context: the
// interceptor's share of a real call.
func BenchmarkBufconn(b *testing.B) {
	bb := newBench(b)
	for _, impl := range impls {
		if impl == "required" {
			continue
		}
		b.Run("impl="+impl, func(b *testing.B) {
			lis := bufconn.Listen(1 << 20)
			srv := grpc.NewServer(grpc.UnaryInterceptor(bb.unary[impl]))
			srv.RegisterService(&greeterDesc, struct{}{})
			go func() { _ = srv.Serve(lis) }()
			defer srv.Stop()
			conn, err := grpc.NewClient("passthrough:///bufnet",
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+bb.token)
			in, out := wrapperspb.String("hi"), new(wrapperspb.StringValue)
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.Invoke(ctx, svc+"Hello", in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
