package connectjwt_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
)

// The test service, a Greeter over well-known types: unary procedures
// that answer "hello <identity>" (or "hello anonymous") and a server
// stream, Count, that sends three messages.
const svc = adaptertest.GreeterService

var unaryNames = []string{"Hello", "Fresh", "Orders", "Public", "Maybe", "Lenient", "Refresh", "Unchecked"}

// reply is what every handler answers: who the context says the caller
// is, with the loaded user if any.
var reply = adaptertest.Greeting

// testPolicy protects Greeter as adaptertest.GreeterPolicy says.
var testPolicy = options(adaptertest.GreeterPolicy())

// options maps the shared tests' options onto the interceptor's.
func options(o adaptertest.RPCOptions) connectjwt.Options {
	opts := connectjwt.Options{Default: o.Default, Procedures: o.Methods, Public: o.Public, Origin: o.Origin}
	if o.Token {
		opts.Token = func(context.Context, string, http.Header) (string, error) { return "", nil }
	}
	return opts
}

// handler serves Greeter behind the interceptor; every response says the
// HTTP version it came over in X-Proto.
func handler(in connect.Interceptor) http.Handler {
	mux := http.NewServeMux()
	for _, name := range unaryNames {
		mux.Handle(svc+name, connect.NewUnaryHandler(svc+name,
			func(ctx context.Context, _ *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
				return connect.NewResponse(wrapperspb.String(reply(ctx))), nil
			}, connect.WithInterceptors(in)))
	}
	mux.Handle(svc+"Count", connect.NewServerStreamHandler(svc+"Count",
		func(ctx context.Context, _ *connect.Request[wrapperspb.StringValue], s *connect.ServerStream[wrapperspb.StringValue]) error {
			for i := range 3 {
				if err := s.Send(wrapperspb.String(fmt.Sprintf("%s %d", reply(ctx), i))); err != nil {
					return err
				}
			}
			return nil
		}, connect.WithInterceptors(in)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		mux.ServeHTTP(w, r)
	})
}

// transport is one way a client reaches the server.
type transport struct {
	name   string
	h2c    bool // HTTP/2 without TLS (prior knowledge), else HTTP/1.1
	proto  string
	option connect.ClientOption
}

var transports = []transport{
	{"connect over HTTP/1.1", false, "HTTP/1.1", connect.WithProtoJSON()},
	{"connect over h2c", true, "HTTP/2.0", nil},
	{"grpc over h2c", true, "HTTP/2.0", connect.WithGRPC()},
	{"grpc-web over HTTP/1.1", false, "HTTP/1.1", connect.WithGRPCWeb()},
}

// server serves h on loopback, speaking HTTP/1.1 and h2c, and returns its
// URL and a client for the transport.
func server(t testing.TB, h http.Handler, tr transport) (string, *http.Client) {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetHTTP1(true)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	p := new(http.Protocols)
	if tr.h2c {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	return s.URL, &http.Client{Transport: &http.Transport{Protocols: p}}
}

func clientOptions(tr transport) []connect.ClientOption {
	if tr.option == nil {
		return nil
	}
	return []connect.ClientOption{tr.option}
}

func mustNew(t testing.TB, g *jwtgate.Gate, opts connectjwt.Options) *connectjwt.Interceptor {
	t.Helper()
	in, err := connectjwt.New(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

var secret = []byte("a secret of at least thirty-two bytes!")

// env is the adapters' shared HookEnv.
type env = adaptertest.HookEnv

func newEnv(t testing.TB) *env { return adaptertest.NewHookEnv(t, secret) }
