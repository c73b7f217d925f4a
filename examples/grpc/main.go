// Command grpc is a gRPC service protected by jwtgate, and a client that
// calls it with per-RPC credentials.
//
// The service, demo.Greeter, is written by hand over well-known types (no
// generated code):
//
//	Login(Struct{username, password}) -> Struct{access_token, refresh_token}  public
//	Refresh(Empty) -> Struct{access_token}      a refresh token
//	Hello(Empty) -> StringValue                 an access token
//	Countdown(Int32Value) -> stream StringValue an access token
//	Admin(Empty) -> StringValue                 a fresh access token with the scope "admin"
//
// and grpc.health.v1.Health is public. Users: alice (password alice-pw,
// scope admin) and bob (bob-pw, no scope). Login gives a fresh access
// token; Refresh a token that is not fresh, so Admin refuses it.
// Refusals are Unauthenticated (no, bad, expired token), PermissionDenied
// (not fresh, no scope) or Unavailable.
//
// Run the server, then the client against it:
//
//	go run ./examples/grpc -addr 127.0.0.1:8000
//	go run ./examples/grpc -call 127.0.0.1:8000 -user alice -password alice-pw
//	go run ./examples/grpc -call 127.0.0.1:8000 -dpop
//
// The service also takes DPoP-bound tokens (RFC 9449): a Login or
// Refresh call that carries a DPoP proof in its dpop metadata (for POST
// to http://<authority>/demo.Greeter/Login or .../Refresh) gets an access
// token bound to the proof's key, which the other methods take only as
// "authorization: DPoP <token>" with a new proof by that key for each
// call, and refuse as a bearer token: a stolen token is no use without
// the key. With -dpop the client makes a key, proves it at login, and its
// credentials sign a proof for every call (CredentialsOptions.DPoP).
//
// The client's credentials log in on the first call, send the access
// token with every call, and, when it is about to expire or the server
// refuses it, get a new one with the refresh token (logging in again if
// that fails). It talks without TLS to a local server only because this
// is a demonstration (CredentialsOptions.AllowInsecure); anywhere else,
// use TLS (grpc/credentials.NewTLS).
//
// The secret comes from JWT_SECRET_KEY (at least 32 bytes); without it a
// random one is made.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

const service = "/demo.Greeter/"

type account struct {
	password [sha256.Size]byte // a digest; a real service uses a slow password hash
	scope    string
}

var accounts = map[string]account{
	"alice": {sha256.Sum256([]byte("alice-pw")), "admin"},
	"bob":   {sha256.Sum256([]byte("bob-pw")), ""},
}

func checkPassword(username, password string) (account, bool) {
	a, found := accounts[username]
	got := sha256.Sum256([]byte(password))
	ok := subtle.ConstantTimeCompare(got[:], a.password[:]) == 1
	return a, found && ok
}

func main() {
	fs := flag.NewFlagSet("grpc", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "`host:port` to listen on (port 0 picks a free port)")
	call := fs.String("call", "", "run the client against the server at `host:port` instead of serving")
	user := fs.String("user", "alice", "the client's user name")
	password := fs.String("password", "alice-pw", "the client's password")
	useDPoP := fs.Bool("dpop", false, "make the client use DPoP-bound tokens")
	_ = fs.Parse(os.Args[1:])
	log := demo.NewLogger()
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case *call != "":
		err = client(context.Background(), *call, *user, *password, *useDPoP, os.Stdout)
	default:
		err = serve(*addr, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc:", err)
		os.Exit(1)
	}
}

// newGate returns the service's Gate and the DPoP verifier it uses, for
// the proofs of Login and Refresh.
func newGate(log *slog.Logger) (*jwtgate.Gate, *dpop.Verifier, error) {
	secret, err := demo.Secret(log, "JWT_SECRET_KEY", false)
	if err != nil {
		return nil, nil, err
	}
	key, err := jwt.NewHMACKey(secret, jwt.HS256)
	if err != nil {
		return nil, nil, err
	}
	// DPoP proofs are used once: a store of every proof's jti (memory on
	// one instance; a shared store of package revoke on several).
	proofs, err := dpop.NewVerifier(dpop.Options{Replay: revoke.NewMemory(revoke.MemoryOptions{})})
	if err != nil {
		return nil, nil, err
	}
	gate, err := jwtgate.New(jwtgate.Config{
		SigningKey: key,
		Logger:     log,
		DPoP:       proofs,
		ExtraClaims: func(_ context.Context, identity any) (map[string]any, error) {
			name, _ := identity.(string)
			if s := accounts[name].scope; s != "" {
				return map[string]any{"scope": s}, nil
			}
			return nil, nil
		},
	})
	return gate, proofs, err
}

// policy is who may call what.
var policy = grpcjwt.Options{
	Methods: map[string]jwtgate.RouteOptions{
		service + "Refresh": {Refresh: true},
		service + "Admin":   {Fresh: true, Scopes: []string{"admin"}},
	},
	Public: []string{service + "Login", "/grpc.health.v1.Health/"},
}

func serve(addr string, log *slog.Logger) error {
	gate, proofs, err := newGate(log)
	if err != nil {
		return err
	}
	in, err := grpcjwt.New(gate, policy)
	if err != nil {
		return err
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(logUnary(log), in.Unary),
		grpc.ChainStreamInterceptor(logStream(log), in.Stream),
	)
	srv.RegisterService(greeterDesc(gate, proofs), nil)
	healthpb.RegisterHealthServer(srv, health.NewServer())

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := demo.SignalContext()
	defer stop()
	log.Info("listening", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.GracefulStop()
	if err := <-done; err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// logUnary and logStream log each call: its method and status code,
// never its metadata (which holds the token).
func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		res, err := h(ctx, req)
		log.InfoContext(ctx, "call", "method", info.FullMethod, "code", status.Code(err))
		return res, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		err := h(srv, ss)
		log.InfoContext(ss.Context(), "call", "method", info.FullMethod, "code", status.Code(err))
		return err
	}
}

// greeterDesc is demo.Greeter, whose handlers find the caller with
// jwtgate.TokenFrom; Login and Refresh check DPoP proofs with proofs.
func greeterDesc(gate *jwtgate.Gate, proofs *dpop.Verifier) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "demo.Greeter",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("Login", new(structpb.Struct), func(ctx context.Context, in *structpb.Struct) (any, error) {
				f := in.GetFields()
				name, password := f["username"].GetStringValue(), f["password"].GetStringValue()
				if _, ok := checkPassword(name, password); !ok {
					return nil, status.Error(codes.Unauthenticated, "Bad username or password")
				}
				bind, err := proofKey(ctx, proofs, "Login")
				if err != nil {
					return nil, err
				}
				access, err := gate.CreateAccessToken(ctx, name, append(bind, jwtgate.Fresh())...)
				if err != nil {
					return nil, status.Error(codes.Internal, "could not create a token")
				}
				refresh, err := gate.CreateRefreshToken(ctx, name)
				if err != nil {
					return nil, status.Error(codes.Internal, "could not create a token")
				}
				return structpb.NewStruct(map[string]any{"access_token": access, "refresh_token": refresh})
			}),
			unary("Refresh", new(emptypb.Empty), func(ctx context.Context, _ *emptypb.Empty) (any, error) {
				t, _ := jwtgate.TokenFrom(ctx)
				bind, err := proofKey(ctx, proofs, "Refresh")
				if err != nil {
					return nil, err
				}
				access, err := gate.CreateAccessToken(ctx, t.Identity, bind...)
				if err != nil {
					return nil, status.Error(codes.Internal, "could not create a token")
				}
				return structpb.NewStruct(map[string]any{"access_token": access})
			}),
			unary("Hello", new(emptypb.Empty), func(ctx context.Context, _ *emptypb.Empty) (any, error) {
				t, _ := jwtgate.TokenFrom(ctx)
				if t.Thumbprint() != "" {
					return wrapperspb.String("Hello, " + t.Identity + " (DPoP-bound token)"), nil
				}
				return wrapperspb.String("Hello, " + t.Identity), nil
			}),
			unary("Admin", new(emptypb.Empty), func(ctx context.Context, _ *emptypb.Empty) (any, error) {
				t, _ := jwtgate.TokenFrom(ctx)
				return wrapperspb.String("Welcome to the admin area, " + t.Identity), nil
			}),
		},
		Streams: []grpc.StreamDesc{{
			StreamName:    "Countdown",
			ServerStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				in := new(wrapperspb.Int32Value)
				if err := stream.RecvMsg(in); err != nil {
					return err
				}
				n := in.GetValue()
				if n < 0 || n > 100 {
					return status.Error(codes.InvalidArgument, "count from 0 to 100")
				}
				t, _ := jwtgate.TokenFrom(stream.Context())
				for i := n; i > 0; i-- {
					if err := stream.SendMsg(wrapperspb.String(fmt.Sprintf("%s: %d", t.Identity, i))); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		Metadata: "demo.proto",
	}
}

// proofKey checks the DPoP proof of a Login or Refresh call, if it has
// one, and returns the option that binds the access token to the proof's
// key (no option without a proof). The proof is for POST to the URL the
// client addressed: http (this demonstration serves without TLS), the
// call's :authority without a port 443 (as gRPC clients sign it) and the
// method's path, as the Interceptor computes it for the other methods.
func proofKey(ctx context.Context, proofs *dpop.Verifier, method string) ([]jwtgate.TokenOption, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get("dpop")
	if len(vs) == 0 {
		return nil, nil
	}
	proof, err := dpop.OneProof(vs)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	authority := md.Get(":authority")
	if len(authority) != 1 {
		return nil, status.Error(codes.Unauthenticated, "no :authority to check the DPoP proof against")
	}
	u := &url.URL{Scheme: "http", Host: strings.TrimSuffix(authority[0], ":443"), Path: service + method}
	p, err := proofs.Verify(ctx, proof, dpop.Request{Method: "POST", URL: u})
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, "Invalid DPoP proof: "+err.Error())
	}
	return []jwtgate.TokenOption{jwtgate.BindTo(p.Thumbprint)}, nil
}

// unary makes the method descriptor of a unary method whose request is
// a Req.
func unary[Req any](name string, _ *Req, f func(context.Context, *Req) (any, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(Req)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) { return f(ctx, req.(*Req)) }
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: service + name}, h)
		},
	}
}

// tokens is the client's side of the login: the fetch callback of its
// credentials. It logs in once, then gets new access tokens with the
// refresh token, logging in again if the refresh token is refused. With
// a prover, Login and Refresh carry a DPoP proof by its key, for POST to
// origin and the method, so that the access tokens are bound to it.
type tokens struct {
	conn               *grpc.ClientConn // without credentials: Login and Refresh send their own
	username, password string
	prover             *dpop.Prover // nil for bearer tokens
	origin             string       // "http://host:port", the server's origin

	mu      sync.Mutex
	refresh string
}

func (t *tokens) fetch(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refresh != "" {
		out := new(structpb.Struct)
		rctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+t.refresh)
		rctx, err := t.prove(rctx, "Refresh")
		if err != nil {
			return "", err
		}
		err = t.conn.Invoke(rctx, service+"Refresh", &emptypb.Empty{}, out)
		if err == nil {
			return out.GetFields()["access_token"].GetStringValue(), nil
		}
		if status.Code(err) != codes.Unauthenticated {
			return "", err
		}
		t.refresh = "" // expired or revoked: log in again
	}
	in, err := structpb.NewStruct(map[string]any{"username": t.username, "password": t.password})
	if err != nil {
		return "", err
	}
	out := new(structpb.Struct)
	lctx, err := t.prove(ctx, "Login")
	if err != nil {
		return "", err
	}
	if err := t.conn.Invoke(lctx, service+"Login", in, out); err != nil {
		return "", err
	}
	t.refresh = out.GetFields()["refresh_token"].GetStringValue()
	return out.GetFields()["access_token"].GetStringValue(), nil
}

// prove returns ctx with a DPoP proof for a call to method in its
// outgoing metadata, or ctx itself without a prover.
func (t *tokens) prove(ctx context.Context, method string) (context.Context, error) {
	if t.prover == nil {
		return ctx, nil
	}
	u, err := url.Parse(t.origin + service + method)
	if err != nil {
		return nil, err
	}
	proof, err := t.prover.Proof("POST", u, "", "")
	if err != nil {
		return nil, err
	}
	return metadata.AppendToOutgoingContext(ctx, "dpop", proof), nil
}

// client calls every method of the server at addr as username and
// prints what it got; with useDPoP, with DPoP-bound tokens.
func client(ctx context.Context, addr, username, password string, useDPoP bool, w io.Writer) error {
	plain := grpc.WithTransportCredentials(insecure.NewCredentials())
	loginConn, err := grpc.NewClient(addr, plain)
	if err != nil {
		return err
	}
	defer loginConn.Close()
	tok := &tokens{conn: loginConn, username: username, password: password}
	opts := grpcjwt.CredentialsOptions{AllowInsecure: true}
	if useDPoP {
		// The client's key: in a real client, made once and kept with
		// the tokens bound to it.
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		if tok.prover, err = dpop.NewProver(key, jwt.ES256, nil); err != nil {
			return err
		}
		// Plaintext, and no port 443 in the URL: what the credentials
		// sign too (gRPC leaves it out).
		tok.origin = "http://" + strings.TrimSuffix(addr, ":443")
		opts.DPoP = tok.prover
	}
	creds := grpcjwt.NewCredentials(tok.fetch, opts)
	conn, err := grpc.NewClient(addr, plain, grpc.WithPerRPCCredentials(creds),
		grpc.WithChainUnaryInterceptor(creds.RetryUnary), grpc.WithChainStreamInterceptor(creds.StreamNonces))
	if err != nil {
		return err
	}
	defer conn.Close()

	out := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, service+"Hello", &emptypb.Empty{}, out); err != nil {
		return fmt.Errorf("calling Hello: %w", err)
	}
	fmt.Fprintln(w, "Hello:", out.GetValue())
	if useDPoP {
		// A bound token is no use to whoever takes it without the key:
		// sent as a bearer token, it is refused.
		stolen := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+mustToken(ctx, creds))
		err := loginConn.Invoke(stolen, service+"Hello", &emptypb.Empty{}, out)
		st := status.Convert(err)
		fmt.Fprintf(w, "Hello with the token as a bearer token: %s: %s\n", st.Code(), st.Message())
	}

	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, service+"Countdown")
	if err != nil {
		return fmt.Errorf("calling Countdown: %w", err)
	}
	if err := cs.SendMsg(wrapperspb.Int32(3)); err != nil {
		return fmt.Errorf("calling Countdown: %w", err)
	}
	if err := cs.CloseSend(); err != nil {
		return fmt.Errorf("calling Countdown: %w", err)
	}
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		if err := cs.RecvMsg(m); err != nil {
			if !errors.Is(err, io.EOF) {
				return fmt.Errorf("calling Countdown: %w", err)
			}
			break
		}
		got = append(got, m.GetValue())
	}
	fmt.Fprintln(w, "Countdown:", strings.Join(got, ", "))

	// Admin needs a fresh token with the scope admin: the token from the
	// login is fresh, so alice gets in and bob is refused.
	if err := conn.Invoke(ctx, service+"Admin", &emptypb.Empty{}, out); err != nil {
		st := status.Convert(err)
		fmt.Fprintf(w, "Admin: refused: %s: %s\n", st.Code(), st.Message())
	} else {
		fmt.Fprintln(w, "Admin:", out.GetValue())
	}

	// Drop the cached token, as RetryUnary does when the server refuses
	// one: the next call gets a new one with the refresh token, which is
	// not fresh.
	creds.Invalidate(mustToken(ctx, creds))
	if err := conn.Invoke(ctx, service+"Hello", &emptypb.Empty{}, out); err != nil {
		return fmt.Errorf("calling Hello after refresh: %w", err)
	}
	fmt.Fprintln(w, "Hello after refresh:", out.GetValue())
	if err := conn.Invoke(ctx, service+"Admin", &emptypb.Empty{}, out); err != nil {
		st := status.Convert(err)
		fmt.Fprintf(w, "Admin after refresh: refused: %s: %s\n", st.Code(), st.Message())
	}
	return nil
}

func mustToken(ctx context.Context, c *grpcjwt.Credentials) string {
	t, _ := c.Token(ctx)
	return t
}
