package connectjwt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
	"github.com/jwtgate/jwtgate/jwt"
)

// The test service, a Greeter over well-known types: unary procedures
// that answer "hello <identity>" (or "hello anonymous") and a server
// stream, Count, that sends three messages.
const svc = "/jwtgate.test.Greeter/"

var unaryNames = []string{"Hello", "Fresh", "Orders", "Public", "Maybe", "Lenient", "Refresh", "Unchecked"}

type user struct{ Name string }

// reply is what every handler answers: who the context says the caller
// is, with the loaded user if any.
func reply(ctx context.Context) string {
	t, ok := jwtgate.TokenFrom(ctx)
	if !ok {
		return "hello anonymous"
	}
	if u, ok := jwtgate.User[*user](ctx); ok {
		return "hello " + t.Identity + " (user " + u.Name + ")"
	}
	return "hello " + t.Identity
}

// testPolicy protects Greeter: Hello and Count with the default (an
// access token), Fresh a fresh one, Orders the scope orders:write, Maybe
// optional, Lenient optional ignoring invalid tokens, Refresh a refresh
// token, Unchecked without revocation check; Public is public.
var testPolicy = connectjwt.Options{
	Procedures: map[string]jwtgate.RouteOptions{
		svc + "Fresh":     {Fresh: true},
		svc + "Orders":    {Scopes: []string{"orders:write"}},
		svc + "Maybe":     {Optional: true},
		svc + "Lenient":   {Optional: true, IgnoreInvalid: true},
		svc + "Refresh":   {Refresh: true},
		svc + "Unchecked": {SkipRevocation: true},
	},
	Public: []string{svc + "Public"},
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

// env is a Gate with revocation, a claims hook and a user loader whose
// behaviour tests can change, and a Gate with the same key whose clock is
// two hours behind, for expired tokens.
type env struct {
	gate, past *jwtgate.Gate
	revoked    sync.Map // jti -> true
	storeDown  atomic.Bool
	usersDown  atomic.Bool
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{}
	key, err := jwt.NewHMACKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	cfg := jwtgate.Config{
		SigningKey: key,
		IsRevoked: func(_ context.Context, tok *jwtgate.Token) (bool, error) {
			if e.storeDown.Load() {
				return false, errors.New("revocation store: connection refused")
			}
			_, ok := e.revoked.Load(tok.Claims.ID)
			return ok, nil
		},
		VerifyClaims: func(_ context.Context, tok *jwtgate.Token) error {
			if tok.Identity == "mallory" {
				return errors.New("mallory is banned")
			}
			return nil
		},
		LoadUser: func(_ context.Context, tok *jwtgate.Token) (any, error) {
			switch {
			case e.usersDown.Load():
				return nil, errors.New("user store: timeout")
			case tok.Identity == "ghost":
				return nil, nil
			case tok.Identity == "bob":
				return &user{Name: "Bob"}, nil
			}
			return tok.Identity, nil
		},
	}
	if e.gate, err = jwtgate.New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Clock = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	if e.past, err = jwtgate.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) access(t testing.TB, who string, opts ...jwtgate.TokenOption) string {
	t.Helper()
	tok, err := e.gate.CreateAccessToken(context.Background(), who, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *env) refresh(t testing.TB, who string) string {
	t.Helper()
	tok, err := e.gate.CreateRefreshToken(context.Background(), who)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *env) expired(t testing.TB, who string) string {
	t.Helper()
	tok, err := e.past.CreateAccessToken(context.Background(), who, jwtgate.Fresh())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
