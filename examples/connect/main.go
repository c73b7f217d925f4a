// Command connect is a Connect service protected by jwtgate, beside a
// plain net/http login route on the same server.
//
// Routes and procedures (Connect, gRPC and gRPC-Web protocols, over
// HTTP/1.1 or HTTP/2 without TLS):
//
//	POST /login {"username", "password"} -> {"access_token", "refresh_token"}  net/http, public
//	POST /refresh                        -> {"access_token"}    net/http, a refresh token
//	/demo.Greeter/Status(Empty) -> StringValue                  public
//	/demo.Greeter/Hello(Empty) -> StringValue                   an access token
//	/demo.Greeter/Countdown(Int32Value) -> stream StringValue   an access token
//	/demo.Greeter/Admin(Empty) -> StringValue                   a fresh access token with the scope "admin"
//
// The procedures are written without generated code, over well-known
// types. Users: alice (password alice-pw, scope admin) and bob (bob-pw,
// no scope). /login gives a fresh access token, /refresh one that is not
// fresh, so Admin refuses it. Refusals are unauthenticated (no, bad,
// expired token), permission_denied (not fresh, no scope) or
// unavailable.
//
// Try it (Connect's protocol is plain HTTP with JSON):
//
//	go run ./examples/connect -addr 127.0.0.1:8000
//	curl -s localhost:8000/login -d '{"username":"alice","password":"alice-pw"}'
//	curl -s localhost:8000/demo.Greeter/Hello -H 'Content-Type: application/json' -d '{}' \
//	  -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:8000/demo.Greeter/Hello -H 'Content-Type: application/json' -d '{}'
//	  {"code":"unauthenticated","message":"Request does not contain an access token"}
//
// The secret comes from JWT_SECRET_KEY (at least 32 bytes); without it a
// random one is made.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
	"github.com/jwtgate/jwtgate/examples/internal/demo"
	"github.com/jwtgate/jwtgate/jwt"
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

func checkPassword(username, password string) bool {
	a, found := accounts[username]
	got := sha256.Sum256([]byte(password))
	ok := subtle.ConstantTimeCompare(got[:], a.password[:]) == 1
	return found && ok
}

func main() {
	fs := flag.NewFlagSet("connect", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "`host:port` to listen on (port 0 picks a free port)")
	_ = fs.Parse(os.Args[1:])
	log := demo.NewLogger()
	var err error
	if fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	} else {
		err = run(*addr, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
}

func run(addr string, log *slog.Logger) error {
	secret, err := demo.Secret(log, "JWT_SECRET_KEY", false)
	if err != nil {
		return err
	}
	key, err := jwt.NewHMACKey(secret, jwt.HS256)
	if err != nil {
		return err
	}
	gate, err := jwtgate.New(jwtgate.Config{
		SigningKey: key,
		Logger:     log,
		ExtraClaims: func(_ context.Context, identity any) (map[string]any, error) {
			name, _ := identity.(string)
			if s := accounts[name].scope; s != "" {
				return map[string]any{"scope": s}, nil
			}
			return nil, nil
		},
	})
	if err != nil {
		return err
	}
	h, err := routes(gate, log)
	if err != nil {
		return err
	}
	ctx, stop := demo.SignalContext()
	defer stop()
	return demo.Run(ctx, demo.Server{Addr: addr, Handler: h, Logger: log, H2C: true})
}

// policy is who may call what; /login and /refresh are net/http routes
// outside it.
var policy = connectjwt.Options{
	Procedures: map[string]jwtgate.RouteOptions{
		service + "Admin": {Fresh: true, Scopes: []string{"admin"}},
	},
	Public: []string{service + "Status"},
}

func routes(gate *jwtgate.Gate, log *slog.Logger) (http.Handler, error) {
	in, err := connectjwt.New(gate, policy)
	if err != nil {
		return nil, err
	}
	opts := connect.WithInterceptors(in)
	mux := http.NewServeMux()

	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Username, Password string }
		if !demo.IsJSON(r.Header.Get("Content-Type")) && r.Header.Get("Content-Type") != "" ||
			json.NewDecoder(r.Body).Decode(&body) != nil {
			demo.WriteJSON(w, http.StatusBadRequest, map[string]string{"msg": "Send JSON: {\"username\", \"password\"}"})
			return
		}
		if !checkPassword(body.Username, body.Password) {
			demo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"msg": "Bad username or password"})
			return
		}
		access, err := gate.CreateAccessToken(r.Context(), body.Username, jwtgate.Fresh())
		if err == nil {
			var refresh string
			if refresh, err = gate.CreateRefreshToken(r.Context(), body.Username); err == nil {
				demo.WriteJSON(w, http.StatusOK, map[string]string{"access_token": access, "refresh_token": refresh})
				return
			}
		}
		log.ErrorContext(r.Context(), "creating a token", "error", err)
		demo.WriteJSON(w, http.StatusInternalServerError, map[string]string{"msg": "Internal Server Error"})
	})
	mux.Handle("POST /refresh", gate.Refresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := jwtgate.TokenFrom(r.Context())
		access, err := gate.CreateAccessToken(r.Context(), t.Identity)
		if err != nil {
			log.ErrorContext(r.Context(), "creating a token", "error", err)
			demo.WriteJSON(w, http.StatusInternalServerError, map[string]string{"msg": "Internal Server Error"})
			return
		}
		demo.WriteJSON(w, http.StatusOK, map[string]string{"access_token": access})
	})))

	unary := func(name string, answer func(t *jwtgate.Token) string) {
		mux.Handle(service+name, connect.NewUnaryHandler(service+name,
			func(ctx context.Context, _ *connect.Request[emptypb.Empty]) (*connect.Response[wrapperspb.StringValue], error) {
				t, _ := jwtgate.TokenFrom(ctx) // nil on a public procedure
				return connect.NewResponse(wrapperspb.String(answer(t))), nil
			}, opts))
	}
	unary("Status", func(*jwtgate.Token) string { return "OK" })
	unary("Hello", func(t *jwtgate.Token) string { return "Hello, " + t.Identity })
	unary("Admin", func(t *jwtgate.Token) string { return "Welcome to the admin area, " + t.Identity })
	mux.Handle(service+"Countdown", connect.NewServerStreamHandler(service+"Countdown",
		func(ctx context.Context, req *connect.Request[wrapperspb.Int32Value], s *connect.ServerStream[wrapperspb.StringValue]) error {
			n := req.Msg.GetValue()
			if n < 0 || n > 100 {
				return connect.NewError(connect.CodeInvalidArgument, errors.New("count from 0 to 100"))
			}
			t, _ := jwtgate.TokenFrom(ctx)
			for i := n; i > 0; i-- {
				if err := s.Send(wrapperspb.String(fmt.Sprintf("%s: %d", t.Identity, i))); err != nil {
					return err
				}
			}
			return nil
		}, opts))
	return mux, nil
}
